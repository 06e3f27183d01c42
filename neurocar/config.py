"""The configuration: YAML loaded strictly into frozen dataclasses, with `section.key=value` overrides.

Every section and key is declared here with its type. An unknown key, a missing key or section, or a value of the
wrong type is a `NeuroCarError` naming the file and the key. Angles are degrees in YAML (`angles_deg`) and are
converted to radians by the code that uses them. Every NeuroCar YAML file is read with `load_yaml`, which also
takes `1e9`-style numbers as floats (YAML 1.2), as people write them.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neurocar.errors import NeuroCarError
from neurocar.paths import DEFAULT_CONFIG, display_path


@dataclass(frozen=True)
class TrackConfig:
    """Which track commands use when none is given."""

    default: str


@dataclass(frozen=True)
class PhysicsConfig:
    """Car physics. Kinematic model at constant cruise speed; `dt_s` is the fixed step [s]."""

    dt_s: float
    cruise_speed_mps: float
    turn_rate_deg_per_s: float
    car_length_m: float
    car_width_m: float
    collision_radius_m: float

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

    angles_deg: tuple[float, ...]
    range_m: float

    @property
    def angles_rad(self) -> tuple[float, ...]:
        """Ray directions relative to the heading [rad]."""
        return tuple(math.radians(angle) for angle in self.angles_deg)


@dataclass(frozen=True)
class EpisodeConfig:
    """How long one drive lasts [s], and when a car that stopped making progress is stopped [s]."""

    max_seconds: float
    stall_seconds: float


@dataclass(frozen=True)
class FitnessConfig:
    """Weights of the named fitness terms: fitness = sum(weight * term)."""

    progress: float
    lap: float
    crash: float
    time: float


@dataclass(frozen=True)
class PolicyConfig:
    """Hidden layer sizes and activation of the policy network."""

    hidden_sizes: tuple[int, ...]
    activation: str


@dataclass(frozen=True)
class EvolutionConfig:
    """Genetic algorithm hyperparameters."""

    population: int
    generations: int
    elite: int
    tournament_size: int
    crossover_rate: float
    mutation_rate: float
    mutation_sigma: float
    init_sigma: float
    stagnation_generations: int


@dataclass(frozen=True)
class SupervisedConfig:
    """Behaviour-cloning hyperparameters."""

    epochs: int
    batch_size: int
    learning_rate: float
    validation_fraction: float
    patience: int


@dataclass(frozen=True)
class ReinforcementConfig:
    """Reinforcement-learning (PPO) hyperparameters: `cars` drive at once, `rollout_steps` each per update."""

    cars: int
    rollout_steps: int
    updates: int
    learning_rate: float
    discount: float
    gae_lambda: float
    clip_range: float
    epochs: int
    minibatches: int
    entropy_coefficient: float
    value_coefficient: float
    max_gradient_norm: float
    critic_hidden_sizes: tuple[int, ...]
    reward_scale: float
    random_start: bool


@dataclass(frozen=True)
class WindowConfig:
    """Window size [pixels] and frame rate [frames/s]."""

    width: int
    height: int
    fps: int


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


ACTIVATIONS = ("sigmoid", "tanh", "relu")
# Bounds that keep the simulation meaningful: a step so long the car jumps or spins through a wall, or sizes that
# would make one run last for hours or the sensors' grid huge.
MIN_DT_S = 0.001
MAX_DT_S = 0.5
MAX_TURN_PER_STEP_DEG = 15.0
MAX_MOVE_PER_STEP_M = 5.0
MAX_SENSOR_RANGE_M = 1000.0
MAX_EPISODE_SECONDS = 3600.0

_FLOAT_TAG = "tag:yaml.org,2002:float"
# YAML 1.2 floats: PyYAML's YAML 1.1 rules read `1e9` and `1e-3` (no point, or no exponent sign) as text.
# `.inf` and `.nan` stay floats, so the validators can reject them as non-finite with a clear message.
_FLOAT_PATTERN = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 float resolution."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _FLOAT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_PATTERN, list("-+0123456789."))


def parse_yaml(text: str, file_name: str, hint: str = "") -> Any:
    """Parse a file's YAML text; a syntax error is a `NeuroCarError` naming the file and the line (then `hint`)."""
    try:
        return load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise NeuroCarError(f"{file_name}: not valid YAML{where}{hint}") from None


def load_yaml(text: str) -> Any:
    """Parse YAML text safely, reading `1e9`, `1E-3`, `+1.5e+2` and `.5` as floats; raises `yaml.YAMLError`."""
    return yaml.load(text, Loader=_Loader)


_SECTION_TYPES: dict[str, type] = {
    name: hint for name, hint in typing.get_type_hints(Config).items() if name != "source"
}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _convert(value: Any, expected: Any, where: str) -> Any:
    """Check one YAML value against a declared type and return it converted (lists become tuples)."""
    origin = typing.get_origin(expected)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(expected)
        if not isinstance(value, list):
            raise NeuroCarError(f"{where}: expected a list, got {value!r}")
        return tuple(_convert(item, item_type, f"{where}[{index}]") for index, item in enumerate(value))
    if expected is bool:
        if not isinstance(value, bool):
            raise NeuroCarError(f"{where}: expected true or false, got {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise NeuroCarError(f"{where}: expected a whole number, got {value!r}")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise NeuroCarError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise NeuroCarError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise NeuroCarError(f"{where}: expected text, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {expected!r}")  # a bug in this module, not bad input


def _build_section(section: str, values: Any, file_name: str, overridden: dict[str, str]) -> Any:
    section_type = _SECTION_TYPES[section]
    if not isinstance(values, dict):
        raise NeuroCarError(f"{file_name}: section '{section}' must be a mapping of keys to values")
    hints = typing.get_type_hints(section_type)
    declared = [field.name for field in dataclasses.fields(section_type)]
    for key in values:
        if key not in declared:
            raise NeuroCarError(
                f"{file_name}: unknown key '{section}.{key}' (known keys in '{section}': {', '.join(declared)})"
            )
    missing = [key for key in declared if key not in values]
    if missing:
        raise NeuroCarError(f"{file_name}: missing key '{section}.{missing[0]}'")
    converted = {
        key: _convert(values[key], hints[key], f"{_origin(f'{section}.{key}', file_name, overridden)}: {section}.{key}")
        for key in declared
    }
    return section_type(**converted)


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split `section.key=value` into its parts; the value is read as YAML (`12`, `[1, 2]`, `tanh`)."""
    name, separator, raw_value = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not separator or not dot or not section or not key:
        raise NeuroCarError(f"--set {text!r}: expected section.key=value, for example physics.dt_s=0.05")
    try:
        value = load_yaml(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError:
        value = raw_value
    return section, key, value


def config_from_dict(data: Any, file_name: str, overrides: Iterable[str] = ()) -> Config:
    """Build a validated `Config` from parsed YAML data and `section.key=value` overrides."""
    if not isinstance(data, dict):
        raise NeuroCarError(f"{file_name}: expected a mapping of sections (track, physics, ...) at the top level")
    merged = {section: dict(values) if isinstance(values, dict) else values for section, values in data.items()}
    overridden: dict[str, str] = {}  # section.key -> the --set that chose its value, to blame the right place
    for override in overrides:
        section, key, value = parse_override(override)
        if section not in _SECTION_TYPES:
            raise NeuroCarError(
                f"--set {override}: unknown section '{section}' (sections: {', '.join(_SECTION_TYPES)})"
            )
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise NeuroCarError(f"{file_name}: section '{section}' must be a mapping of keys to values")
        if key not in {field.name for field in dataclasses.fields(_SECTION_TYPES[section])}:
            raise NeuroCarError(f"--set {override}: unknown key '{section}.{key}'")
        target[key] = value
        overridden[f"{section}.{key}"] = override
    for section in merged:
        if section not in _SECTION_TYPES:
            raise NeuroCarError(f"{file_name}: unknown section '{section}' (sections: {', '.join(_SECTION_TYPES)})")
    for section in _SECTION_TYPES:
        if section not in merged:
            raise NeuroCarError(f"{file_name}: missing section '{section}'")
    sections = {section: _build_section(section, merged[section], file_name, overridden) for section in _SECTION_TYPES}
    config = Config(**sections, source=file_name)
    validate_config(config, overridden)
    return config


def _origin(key: str, file_name: str, overridden: dict[str, str]) -> str:
    """Where a key's value came from: its `--set` option if it was overridden, else the file."""
    return f"--set {overridden[key]}" if key in overridden else file_name


def validate_config(config: Config, overridden: dict[str, str] | None = None) -> None:
    """Reject values that parse but make no sense (a negative speed, an empty sensor list, ...).

    `overridden` maps `section.key` to the `--set` option that chose it, so the error names that option.
    """
    name = config.source
    physics = config.physics
    turn_per_step_deg = physics.turn_rate_deg_per_s * physics.dt_s
    move_per_step_m = physics.cruise_speed_mps * physics.dt_s
    checks: list[tuple[bool, str]] = [
        (physics.dt_s > 0, "physics.dt_s must be greater than 0"),
        (physics.dt_s >= MIN_DT_S, f"physics.dt_s must be at least {MIN_DT_S:g} s, got {physics.dt_s:g}"),
        (physics.dt_s <= MAX_DT_S, f"physics.dt_s must be at most {MAX_DT_S:g} s, got {physics.dt_s:g}"),
        (config.physics.cruise_speed_mps > 0, "physics.cruise_speed_mps must be greater than 0"),
        (config.physics.turn_rate_deg_per_s > 0, "physics.turn_rate_deg_per_s must be greater than 0"),
        (config.physics.car_length_m > 0, "physics.car_length_m must be greater than 0"),
        (config.physics.car_width_m > 0, "physics.car_width_m must be greater than 0"),
        (config.physics.collision_radius_m > 0, "physics.collision_radius_m must be greater than 0"),
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
        (len(config.sensors.angles_deg) >= 1, "sensors.angles_deg needs at least one angle"),
        (
            all(-180 <= a <= 180 for a in config.sensors.angles_deg),
            "sensors.angles_deg must be in [-180, 180]",
        ),
        (config.sensors.range_m > 0, "sensors.range_m must be greater than 0"),
        (
            config.sensors.range_m <= MAX_SENSOR_RANGE_M,
            f"sensors.range_m must be at most {MAX_SENSOR_RANGE_M:g} m, got {config.sensors.range_m:g}",
        ),
        (config.episode.max_seconds > 0, "episode.max_seconds must be greater than 0"),
        (
            config.episode.max_seconds <= MAX_EPISODE_SECONDS,
            f"episode.max_seconds must be at most {MAX_EPISODE_SECONDS:g} s, got {config.episode.max_seconds:g}",
        ),
        (config.episode.stall_seconds > 0, "episode.stall_seconds must be greater than 0"),
        (
            config.episode.stall_seconds >= physics.dt_s,
            f"episode.stall_seconds must be at least one step (physics.dt_s {physics.dt_s:g} s), "
            f"got {config.episode.stall_seconds:g}",
        ),
        (all(size >= 1 for size in config.policy.hidden_sizes), "policy.hidden_sizes must all be at least 1"),
        (
            config.policy.activation in ACTIVATIONS,
            f"policy.activation must be one of {', '.join(ACTIVATIONS)}, got '{config.policy.activation}'",
        ),
        (config.evolution.population >= 2, "evolution.population must be at least 2"),
        (config.evolution.generations >= 1, "evolution.generations must be at least 1"),
        (config.evolution.elite >= 1, "evolution.elite must be at least 1"),
        (
            config.evolution.elite < config.evolution.population,
            "evolution.elite must be smaller than evolution.population",
        ),
        (config.evolution.tournament_size >= 1, "evolution.tournament_size must be at least 1"),
        (0 <= config.evolution.crossover_rate <= 1, "evolution.crossover_rate must be in [0, 1]"),
        (0 <= config.evolution.mutation_rate <= 1, "evolution.mutation_rate must be in [0, 1]"),
        (config.evolution.mutation_sigma >= 0, "evolution.mutation_sigma must be at least 0"),
        (config.evolution.init_sigma > 0, "evolution.init_sigma must be greater than 0"),
        (config.evolution.stagnation_generations >= 1, "evolution.stagnation_generations must be at least 1"),
        (config.supervised.epochs >= 1, "supervised.epochs must be at least 1"),
        (config.supervised.batch_size >= 1, "supervised.batch_size must be at least 1"),
        (config.supervised.learning_rate > 0, "supervised.learning_rate must be greater than 0"),
        (0 <= config.supervised.validation_fraction < 1, "supervised.validation_fraction must be in [0, 1)"),
        (config.supervised.patience >= 1, "supervised.patience must be at least 1"),
        *_reinforcement_checks(config.reinforcement),
        (config.window.width >= 320 and config.window.height >= 240, "window size must be at least 320x240"),
        (config.window.fps >= 1, "window.fps must be at least 1"),
    ]
    for passed, message in checks:
        if not passed:
            blamed = [key for key in overridden or {} if key in message]
            raise NeuroCarError(f"{_origin(blamed[0], name, overridden) if blamed else name}: {message}")


def _reinforcement_checks(settings: ReinforcementConfig) -> list[tuple[bool, str]]:
    return [
        (settings.cars >= 1, "reinforcement.cars must be at least 1"),
        (settings.rollout_steps >= 1, "reinforcement.rollout_steps must be at least 1"),
        (settings.updates >= 1, "reinforcement.updates must be at least 1"),
        (settings.learning_rate > 0, "reinforcement.learning_rate must be greater than 0"),
        (0 <= settings.discount <= 1, "reinforcement.discount must be in [0, 1]"),
        (0 <= settings.gae_lambda <= 1, "reinforcement.gae_lambda must be in [0, 1]"),
        (settings.clip_range > 0, "reinforcement.clip_range must be greater than 0"),
        (settings.epochs >= 1, "reinforcement.epochs must be at least 1"),
        (
            1 <= settings.minibatches <= settings.cars * settings.rollout_steps,
            "reinforcement.minibatches must be from 1 to reinforcement.cars * reinforcement.rollout_steps",
        ),
        (settings.entropy_coefficient >= 0, "reinforcement.entropy_coefficient must be at least 0"),
        (settings.value_coefficient >= 0, "reinforcement.value_coefficient must be at least 0"),
        (settings.max_gradient_norm > 0, "reinforcement.max_gradient_norm must be greater than 0"),
        (
            all(size >= 1 for size in settings.critic_hidden_sizes),
            "reinforcement.critic_hidden_sizes must all be at least 1",
        ),
        (settings.reward_scale > 0, "reinforcement.reward_scale must be greater than 0"),
    ]


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """Load a config file (default: configs/default.yaml) strictly, then apply `section.key=value` overrides."""
    config_path = Path(path) if path is not None else DEFAULT_CONFIG
    file_name = display_path(config_path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NeuroCarError(f"{file_name}: config file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise NeuroCarError(f"{file_name}: cannot read config file ({error})") from None
    return config_from_dict(parse_yaml(text, file_name), file_name, overrides)
