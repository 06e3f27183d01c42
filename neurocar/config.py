"""The configuration: one declaration per section, loaded strictly into frozen dataclasses, with `--set` overrides.

Every key is declared once, below, with its type, bounds and unit (`neurocar.schema`). An unknown key, a missing
key or section, a value of the wrong type or out of bounds is a `NeuroCarError` naming the file (or the `--set`
option) and the key. Bounds are what the program survives: a window a display can show, a population and a network
that fit in memory, fitness that stays finite. Angles are degrees in YAML (`angles_deg`) and are converted to
radians by the code that uses them. Every NeuroCar YAML file is read by `neurocar.schema`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neurocar.errors import NeuroCarError
from neurocar.paths import DEFAULT_CONFIG, display_path
from neurocar.schema import (
    Boolean,
    Choice,
    ListOf,
    Number,
    Text,
    Whole,
    build,
    dataclass_rules,
    declare,
    excerpt,
    load_yaml,
    parse_yaml,
    printable,
    read_yaml_file,
    suggestion,
)

__all__ = ["load_yaml", "parse_yaml"]  # re-exported: older callers read YAML through this module

ACTIVATIONS = ("sigmoid", "tanh", "relu")
# Bounds that keep the simulation meaningful: a step so long the car jumps or spins through a wall, or sizes that
# would make one run last for hours or the sensors' grid huge.
MIN_DT_S = 0.001
MAX_DT_S = 0.5
MAX_TURN_PER_STEP_DEG = 15.0
MAX_MOVE_PER_STEP_M = 5.0
MAX_SENSOR_RANGE_M = 1000.0
MAX_SENSORS = 64
MAX_EPISODE_SECONDS = 3600.0
# Sizes that fit in memory: the population's weights are one (P, parameters) float32 tensor, copied a few times
# per generation, so their product is bounded too (80 MB a copy).
MAX_POPULATION = 100_000
MAX_HIDDEN_SIZE = 256
MAX_HIDDEN_LAYERS = 4
MAX_POPULATION_WEIGHTS = 20_000_000
# |weight| * the largest term (laps and metres of a longest episode) stays far below the float range.
MAX_FITNESS_WEIGHT = 1e6
MAX_LEARNING_RATE = 1.0
# What a display can show (8K) and a frame rate a screen can pace.
MIN_WINDOW = (320, 240)
MAX_WINDOW = (7680, 4320)
MAX_FPS = 240


@dataclass(frozen=True)
class TrackConfig:
    """Which track commands use when none is given."""

    default: str = declare(Text(max_length=4096, required=True), "a file in tracks/, a shipped name or a path")


@dataclass(frozen=True)
class PhysicsConfig:
    """Car physics. Kinematic model at constant cruise speed; `dt_s` is the fixed step [s]."""

    dt_s: float = declare(Number(MIN_DT_S, MAX_DT_S, "s"), "the fixed simulation step")
    cruise_speed_mps: float = declare(Number(0.1, 100.0, "m/s"), "every car drives at this speed")
    turn_rate_deg_per_s: float = declare(Number(1.0, 3600.0, "deg/s"), "steering turns this fast")
    car_length_m: float = declare(Number(0.1, 20.0, "m"), "length of the drawn car")
    car_width_m: float = declare(Number(0.1, 20.0, "m"), "width of the car's body")
    collision_radius_m: float = declare(Number(0.1, 10.0, "m"), "the car collides as a disc of this radius")

    @property
    def turn_rate_rad_per_s(self) -> float:
        """Turn rate [rad/s]."""
        return math.radians(self.turn_rate_deg_per_s)

    @property
    def min_turn_radius_m(self) -> float:
        """Radius of the tightest circle the car can drive [m]."""
        return self.cruise_speed_mps / self.turn_rate_rad_per_s


@dataclass(frozen=True)
class SensorConfig:
    """Ray-cast distance sensors: directions relative to the heading [deg, + = left] and range [m]."""

    angles_deg: tuple[float, ...] = declare(
        ListOf(Number(-180.0, 180.0, "deg"), min_items=1, max_items=MAX_SENSORS), "ray directions, + = left"
    )
    range_m: float = declare(Number(0.1, MAX_SENSOR_RANGE_M, "m"), "readings are distance / range")

    @property
    def angles_rad(self) -> tuple[float, ...]:
        """Ray directions relative to the heading [rad]."""
        return tuple(math.radians(angle) for angle in self.angles_deg)


@dataclass(frozen=True)
class EpisodeConfig:
    """How long one drive lasts [s], and when a car that stopped making progress is stopped [s]."""

    max_seconds: float = declare(Number(MIN_DT_S, MAX_EPISODE_SECONDS, "s"), "a drive ends after this long")
    stall_seconds: float = declare(Number(MIN_DT_S, MAX_EPISODE_SECONDS, "s"), "no new progress for this long stops")


_WEIGHT = Number(-MAX_FITNESS_WEIGHT, MAX_FITNESS_WEIGHT)


@dataclass(frozen=True)
class FitnessConfig:
    """Weights of the named fitness terms: fitness = sum(weight * term)."""

    progress: float = declare(_WEIGHT, "per metre of net progress")
    lap: float = declare(_WEIGHT, "per completed lap")
    crash: float = declare(_WEIGHT, "once, if the car hit a wall")
    time: float = declare(_WEIGHT, "per second driven")


@dataclass(frozen=True)
class PolicyConfig:
    """Hidden layer sizes and activation of the policy network."""

    hidden_sizes: tuple[int, ...] = declare(
        ListOf(Whole(1, MAX_HIDDEN_SIZE), max_items=MAX_HIDDEN_LAYERS), "neurons per hidden layer"
    )
    activation: str = declare(Choice(ACTIVATIONS), "the hidden layers' activation")


@dataclass(frozen=True)
class EvolutionConfig:
    """Genetic algorithm hyperparameters."""

    population: int = declare(Whole(2, MAX_POPULATION), "cars per generation")
    generations: int = declare(Whole(1, 1_000_000), "generations of a run")
    elite: int = declare(Whole(1, MAX_POPULATION), "the best, copied unchanged (fewer than the population)")
    tournament_size: int = declare(Whole(1, MAX_POPULATION), "cars per parent tournament (at most the population)")
    crossover_rate: float = declare(Number(0.0, 1.0), "chance a child mixes two parents")
    mutation_rate: float = declare(Number(0.0, 1.0), "chance each weight is mutated")
    mutation_sigma: float = declare(Number(0.0, 100.0), "standard deviation of a mutation")
    init_sigma: float = declare(Number(1e-6, 100.0), "standard deviation of the first weights")
    stagnation_generations: int = declare(Whole(1, 1_000_000), "generations without a new best before mutations grow")


@dataclass(frozen=True)
class SupervisedConfig:
    """Behaviour-cloning hyperparameters."""

    epochs: int = declare(Whole(1, 1_000_000), "most epochs")
    batch_size: int = declare(Whole(1, 10_000_000), "frames per Adam step")
    learning_rate: float = declare(Number(1e-9, MAX_LEARNING_RATE), "Adam's step size")
    validation_fraction: float = declare(Number(0.0, 0.95), "share of frames held out")
    patience: int = declare(Whole(1, 1_000_000), "epochs without a better validation loss before stopping")


@dataclass(frozen=True)
class ReinforcementConfig:
    """Reinforcement-learning (PPO) hyperparameters: `cars` drive at once, `rollout_steps` each per update."""

    cars: int = declare(Whole(1, 100_000), "cars driving at once")
    rollout_steps: int = declare(Whole(1, 100_000), "steps each car drives per update")
    updates: int = declare(Whole(1, 1_000_000), "most updates of a run")
    learning_rate: float = declare(Number(1e-9, MAX_LEARNING_RATE), "Adam's step size")
    discount: float = declare(Number(0.0, 1.0), "gamma: how much later reward counts")
    gae_lambda: float = declare(Number(0.0, 1.0), "generalised advantage estimation's lambda")
    clip_range: float = declare(Number(1e-6, 10.0), "how far one update may move the policy")
    epochs: int = declare(Whole(1, 1_000), "passes over each rollout")
    minibatches: int = declare(Whole(1, 100_000), "minibatches per pass")
    entropy_coefficient: float = declare(Number(0.0, 100.0), "weight of the entropy bonus")
    value_coefficient: float = declare(Number(0.0, 100.0), "weight of the critic's loss")
    max_gradient_norm: float = declare(Number(1e-9, 1e9), "gradients are clipped to this norm")
    critic_hidden_sizes: tuple[int, ...] = declare(
        ListOf(Whole(1, MAX_HIDDEN_SIZE), max_items=MAX_HIDDEN_LAYERS), "the critic's neurons per hidden layer"
    )
    reward_scale: float = declare(Number(1e-9, 1e9), "rewards are multiplied by this for learning")
    random_start: bool = declare(Boolean(), "episodes start at random places along the track")


@dataclass(frozen=True)
class WindowConfig:
    """Window size [pixels] and frame rate [frames/s]."""

    width: int = declare(Whole(MIN_WINDOW[0], MAX_WINDOW[0], "pixels"), "window width")
    height: int = declare(Whole(MIN_WINDOW[1], MAX_WINDOW[1], "pixels"), "window height")
    fps: int = declare(Whole(1, MAX_FPS, "frames/s"), "frames per second")


@dataclass(frozen=True)
class Config:
    """The whole configuration, one frozen dataclass per YAML section."""

    track: TrackConfig
    physics: PhysicsConfig
    sensors: SensorConfig
    episode: EpisodeConfig
    fitness: FitnessConfig
    policy: PolicyConfig
    evolution: EvolutionConfig
    supervised: SupervisedConfig
    reinforcement: ReinforcementConfig
    window: WindowConfig
    source: str = "default.yaml"

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain YAML-ready data (lists, not tuples), without `source`."""
        data = dataclasses.asdict(self)
        data.pop("source")
        return _plain(data)

    def replace(self, section: str, **changes: Any) -> Config:
        """A copy with some keys of one section changed."""
        return dataclasses.replace(self, **{section: dataclasses.replace(getattr(self, section), **changes)})


SECTIONS: dict[str, type] = {
    "track": TrackConfig,
    "physics": PhysicsConfig,
    "sensors": SensorConfig,
    "episode": EpisodeConfig,
    "fitness": FitnessConfig,
    "policy": PolicyConfig,
    "evolution": EvolutionConfig,
    "supervised": SupervisedConfig,
    "reinforcement": ReinforcementConfig,
    "window": WindowConfig,
}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def parameter_count(input_size: int, hidden_sizes: Iterable[int], output_size: int = 3) -> int:
    """Weights and biases of the policy network with these layer sizes."""
    sizes = [input_size, *hidden_sizes, output_size]
    return sum((inputs + 1) * outputs for inputs, outputs in itertools.pairwise(sizes))


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split `section.key=value` into its parts; the value is read as YAML (`12`, `[1, 2]`, `tanh`)."""
    name, separator, raw_value = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not separator or not dot or not section or not key:
        raise NeuroCarError(f"--set {excerpt(text)}: expected section.key=value, for example physics.dt_s=0.05")
    try:
        value = load_yaml(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError:
        value = raw_value
    return section, key, value


def _set_name(override: str) -> str:
    """An override as errors quote it: one line, at most a short excerpt."""
    shown = printable(override)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def check_override_key(override: str, section: str, key: str) -> None:
    """Fail, with a 'did you mean', if `section.key` is not a config key."""
    if section not in SECTIONS:
        hint = suggestion(section, SECTIONS) or f" (sections: {', '.join(SECTIONS)})"
        raise NeuroCarError(f"--set {_set_name(override)}: unknown section '{printable(section)[:60]}'{hint}")
    keys = dataclass_rules(SECTIONS[section])
    if key not in keys:
        hint = suggestion(key, keys).replace("'", f"'{section}.", 1)
        elsewhere = [f"{name}.{key}" for name, kind in SECTIONS.items() if key in dataclass_rules(kind)]
        hint = hint or (f"; did you mean '{elsewhere[0]}'?" if elsewhere else "")
        hint = hint or f" (known keys in '{section}': {', '.join(keys)})"
        raise NeuroCarError(
            f"--set {_set_name(override)}: unknown key '{printable(section)}.{printable(key)[:60]}'{hint}"
        )


def config_from_dict(data: Any, file_name: str, overrides: Iterable[str] = ()) -> Config:
    """Build a validated `Config` from parsed YAML data and `section.key=value` overrides."""
    if not isinstance(data, dict):
        raise NeuroCarError(f"{file_name}: expected a mapping of sections (track, physics, ...) at the top level")
    merged = {section: dict(values) if isinstance(values, dict) else values for section, values in data.items()}
    overridden: dict[str, str] = {}  # section.key -> the --set that chose its value, to blame the right place
    for override in overrides:
        section, key, value = parse_override(override)
        check_override_key(override, section, key)
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise NeuroCarError(f"{file_name}: section '{section}' must be a mapping of keys to values")
        target[key] = value
        overridden[f"{section}.{key}"] = _set_name(override)
    for section in merged:
        if not isinstance(section, str) or section not in SECTIONS:
            shown = printable(str(section))[:60]
            hint = suggestion(shown, SECTIONS) or f" (sections: {', '.join(SECTIONS)})"
            raise NeuroCarError(f"{file_name}: unknown section '{shown}'{hint}")
    for section in SECTIONS:
        if section not in merged:
            raise NeuroCarError(f"{file_name}: missing section '{section}'")

    def origin(key: str) -> str:
        return f"--set {overridden[key]}" if key in overridden else file_name

    sections = {}
    for section, section_type in SECTIONS.items():
        if not isinstance(merged[section], dict):
            raise NeuroCarError(f"{file_name}: section '{section}' must be a mapping of keys to values")
        sections[section] = build(section_type, merged[section], section, origin)
    config = Config(**sections, source=file_name)
    validate_config(config, overridden)
    return config


def check_physics(physics: PhysicsConfig) -> list[tuple[bool, str]]:
    """The checks across physics keys: how far a car may turn and move in one step."""
    turn_per_step_deg = physics.turn_rate_deg_per_s * physics.dt_s
    move_per_step_m = physics.cruise_speed_mps * physics.dt_s
    return [
        (
            turn_per_step_deg <= MAX_TURN_PER_STEP_DEG,
            f"physics.turn_rate_deg_per_s * physics.dt_s must be at most {MAX_TURN_PER_STEP_DEG:g} degrees per step, "
            f"got {turn_per_step_deg:g}; lower physics.dt_s or physics.turn_rate_deg_per_s",
        ),
        (
            move_per_step_m <= MAX_MOVE_PER_STEP_M,
            f"physics.cruise_speed_mps * physics.dt_s must be at most {MAX_MOVE_PER_STEP_M:g} m per step, "
            f"got {move_per_step_m:g}; lower physics.dt_s or physics.cruise_speed_mps",
        ),
    ]


def validate_config(config: Config, overridden: dict[str, str] | None = None) -> None:
    """Check what no single key's bounds can: how keys relate (elite below the population, a step's turn, ...).

    `overridden` maps `section.key` to the `--set` option that chose it, so the error names that option.
    """
    name = config.source
    evolution = config.evolution
    weights = evolution.population * parameter_count(len(config.sensors.angles_deg), config.policy.hidden_sizes)
    checks: list[tuple[bool, str]] = [
        *check_physics(config.physics),
        (
            config.episode.stall_seconds >= config.physics.dt_s,
            f"episode.stall_seconds must be at least one step (physics.dt_s {config.physics.dt_s:g} s), "
            f"got {config.episode.stall_seconds:g}",
        ),
        (evolution.elite < evolution.population, "evolution.elite must be smaller than evolution.population"),
        (
            evolution.tournament_size <= evolution.population,
            f"evolution.tournament_size must be at most evolution.population ({evolution.population}), "
            f"got {evolution.tournament_size}",
        ),
        (
            weights <= MAX_POPULATION_WEIGHTS,
            f"evolution.population * the policy's {weights // evolution.population:,} weights must be at most "
            f"{MAX_POPULATION_WEIGHTS:,}, got {weights:,}; lower evolution.population or policy.hidden_sizes",
        ),
        (
            config.reinforcement.minibatches <= config.reinforcement.cars * config.reinforcement.rollout_steps,
            "reinforcement.minibatches must be at most reinforcement.cars * reinforcement.rollout_steps",
        ),
    ]
    for passed, message in checks:
        if not passed:
            blamed = [key for key in overridden or {} if key in message]
            where = f"--set {(overridden or {})[blamed[0]]}" if blamed else name
            raise NeuroCarError(f"{where}: {message}")


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """Load a config file (default: configs/default.yaml) strictly, then apply `section.key=value` overrides."""
    config_path = Path(path) if path is not None else DEFAULT_CONFIG
    file_name = display_path(config_path)
    data, _text = read_yaml_file(config_path, file_name, "config file", 1024 * 1024, missing="config file not found")
    return config_from_dict(data, file_name, overrides)
