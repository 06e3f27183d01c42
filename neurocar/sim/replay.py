"""Replays: a drive saved as its start and its actions, re-simulated to play it back exactly.

The simulation is deterministic, so the track, the physics, sensor and episode settings, each car's action at each
step and the few interventions (a car put back on the road, a car parked at the finish) are the whole drive. A
replay file is YAML, like the other files people keep: it can be read and compared in a text editor, and the
loader is the strict one the config uses. The actions, one small integer per car per step, are run-length
encoded (`"1*40 0*3 2"` is forty times straight, three times left, once right): a minute of driving is a few
hundred characters, and a straight is a single token. Floats are written with Python's shortest round-trip
representation, so a value read back is the value written, bit for bit.

| key              | value                                                                                   |
|------------------|-----------------------------------------------------------------------------------------|
| format, version  | "neurocar-replay", 1                                                                    |
| neurocar_version | the version that saved it; date (ISO 8601); kind (drive, watch, race or evaluate)     |
| track            | name, file (the absolute path driven), sha256 (of the text), text (the track YAML)      |
| physics, sensors | the whole config sections the drive ran with                                            |
| episode          | max_seconds, stall_seconds (as the drive used them)                                     |
| laps             | laps each car was to drive (a car is parked when it has driven them), or null           |
| steps            | world steps driven                                                                      |
| cars             | per car: label (the person's name or the model file), driver (person, model, autopilot) |
|                  | and actions (run-length, one per step: 0 left, 1 straight, 2 right)                     |
| events           | after_step, car and either place_m (put back on the centre line at this net progress)   |
|                  | or stop (parked); applied after that many steps                                         |
| final            | sha256 of the final state (positions, headings, progress, laps, flags), laps, progress  |
| start (lap)      | a lap file's one car as the lap began: step (world steps before it), position, heading, |
|                  | progress, laps, segment and its clocks, every float exact                               |
| lap (lap)        | number (1 = the first lap of the drive it came from), time_s (its lap time)             |

A lap file (version 2) holds one lap of one car: the state it crossed the line in, then its actions until it crossed
the line again. Because the state is exact and the simulation deterministic, playing it drives the lap again in the
very same time. Whole drives stay version 1 (every version of neurocar that reads replays reads them).

Playing a replay rebuilds the world from the file and steps it with the saved actions; the final state's checksum
then says whether the simulation reproduced the drive. A replay plays only on its own track and physics: loading
it against a changed track file or other physics is a `NeuroCarError` saying what differs.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import math
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from neurocar import __version__
from neurocar.config import EpisodeConfig, PhysicsConfig, SensorConfig, load_yaml, parse_yaml
from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import display_path, resolve_track_path
from neurocar.schema import MAX_YAML_BYTES, read_text_file
from neurocar.sim.track import Track, track_from_data
from neurocar.sim.world import World

REPLAY_FORMAT = "neurocar-replay"
REPLAY_VERSION = 1
LAP_VERSION = 2  # a replay that starts from a saved state (a lap) instead of the start line
MAX_REPLAY_STEPS = 10_000_000  # more than a day of driving at the default dt: anything longer is a damaged file
KINDS = ("drive", "watch", "race", "evaluate")
DRIVERS = ("person", "model", "autopilot")


@dataclass(frozen=True)
class ReplayCar:
    """One car of a replay: who drove it and its actions (one per world step)."""

    label: str
    driver: str
    actions: np.ndarray


@dataclass(frozen=True)
class ReplayEvent:
    """An intervention after `after_step` steps: the car put back on the road at `place_m`, or parked (`stop`)."""

    after_step: int
    car: int
    place_m: float | None = None
    stop: bool = False


@dataclass(frozen=True)
class CarStart:
    """One car's whole state at the moment a lap began, and the world's step count then (see `World`)."""

    step: int
    position: tuple[float, float]
    heading_rad: float
    progress_m: float
    best_progress_m: float
    laps: int
    segment: int
    time_s: float
    episode_start_s: float
    last_improvement_s: float
    lap_start_s: float

    @classmethod
    def of(cls, world: World, car: int) -> CarStart:
        """The state of `car` in `world` now."""
        state = world.state
        return cls(
            step=world.steps,
            position=(float(state.positions[car, 0]), float(state.positions[car, 1])),
            heading_rad=float(state.headings[car]),
            progress_m=float(state.progress_m[car]),
            best_progress_m=float(state.best_progress_m[car]),
            laps=int(state.laps[car]),
            segment=int(state.segment[car]),
            time_s=float(state.time_s[car]),
            episode_start_s=float(state.episode_start_s[car]),
            last_improvement_s=float(state.last_improvement_s[car]),
            lap_start_s=float(state.lap_start_s[car]),
        )

    def apply(self, world: World, car: int = 0) -> None:
        """Put `car` of a freshly reset `world` in this state, the world's clock at `step` (bit for bit)."""
        state = world.state
        world.steps = self.step
        world.time_s = self.step * world.physics.dt_s
        state.positions[car] = self.position
        state.headings[car] = self.heading_rad
        state.progress_m[car] = self.progress_m
        state.best_progress_m[car] = self.best_progress_m
        state.laps[car] = self.laps
        state.segment[car] = self.segment
        state.time_s[car] = self.time_s
        state.episode_start_s[car] = self.episode_start_s
        state.last_improvement_s[car] = self.last_improvement_s
        state.lap_start_s[car] = self.lap_start_s
        world.observe_cars(np.array([car]))


@dataclass(frozen=True)
class Replay:
    """A loaded (or just recorded) replay; see the module docstring for the fields."""

    kind: str
    track_name: str
    track_file: str
    track_sha256: str
    track_text: str
    physics: PhysicsConfig
    sensors: SensorConfig
    episode: EpisodeConfig
    laps: int | None
    steps: int
    cars: tuple[ReplayCar, ...]
    events: tuple[ReplayEvent, ...]
    final_sha256: str
    final_laps: tuple[int, ...] = ()
    final_progress_m: tuple[float, ...] = ()
    neurocar_version: str = __version__
    date: str = ""
    path: str = ""
    start: CarStart | None = None  # a lap: where its one car began
    lap_number: int | None = None
    lap_time_s: float | None = None

    @property
    def is_lap(self) -> bool:
        """A single lap (started from a saved state), not a drive from the start line."""
        return self.start is not None

    @property
    def population(self) -> int:
        """Number of cars."""
        return len(self.cars)

    @property
    def duration_s(self) -> float:
        """Simulated time the replay covers [s]."""
        return self.steps * self.physics.dt_s


def text_sha256(text: str) -> str:
    """The hex SHA-256 of a text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_sha256(world: World) -> str:
    """A checksum of everything that says where the cars are and what they did (bit-exact)."""
    state = world.state
    digest = hashlib.sha256()
    for array, kind in (
        (state.positions, np.float64),
        (state.headings, np.float64),
        (state.progress_m, np.float64),
        (state.laps, np.int64),
        (state.driving, np.bool_),
        (state.crashed, np.bool_),
        (state.stalled, np.bool_),
    ):
        digest.update(np.ascontiguousarray(array[: world.population]).astype(kind).tobytes())
    digest.update(str(world.steps).encode())
    return digest.hexdigest()


# --- run-length actions ----------------------------------------------------------------------------------------


def encode_actions(actions: np.ndarray) -> str:
    """Run-length text of an action sequence: "1*40 0*3 2" (a run of one is written alone)."""
    values = np.asarray(actions, dtype=np.int64)
    if len(values) == 0:
        return ""
    boundaries = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate([[0], boundaries])
    lengths = np.diff(np.concatenate([starts, [len(values)]]))
    return " ".join(
        f"{value}" if length == 1 else f"{value}*{length}"
        for value, length in zip(values[starts].tolist(), lengths.tolist(), strict=True)
    )


def decode_actions(text: str, limit: int = MAX_REPLAY_STEPS) -> np.ndarray:
    """The actions of a run-length text; raises ValueError naming the bad token, or when they add up to more than
    `limit` actions (a damaged count must not fill the memory)."""
    runs: list[tuple[int, int]] = []
    total = 0
    for token in text.split():
        value_text, _star, count_text = token.partition("*")
        if value_text not in ("0", "1", "2") or (_star and not count_text.isdigit()) or count_text == "0":
            raise ValueError(f"bad run {token!r} (expected an action 0, 1 or 2, optionally *count)")
        count = int(count_text) if _star else 1
        total += count
        if total > limit:
            raise ValueError(f"more than {limit} actions (expected one per step)")
        runs.append((int(value_text), count))
    if not runs:
        return np.zeros(0, dtype=np.int8)
    values, counts = zip(*runs, strict=True)
    return np.repeat(np.array(values, dtype=np.int8), np.array(counts, dtype=np.int64))


# --- recording -------------------------------------------------------------------------------------------------


@dataclass
class ReplayRecorder:
    """Collects a drive's actions and interventions as it happens; `replay(world)` makes the Replay at the end.

    Call `step(actions)` with every world step's actions, `place`/`stop` when a car is moved or parked by the
    program, and `restart()` when the world is reset (a replay holds the latest drive only).
    """

    kind: str
    track: Track
    physics: PhysicsConfig
    sensors: SensorConfig
    episode: EpisodeConfig
    labels: Sequence[str]
    drivers: Sequence[str]
    laps: int | None = None
    _actions: list[np.ndarray] = field(default_factory=list)
    _events: list[ReplayEvent] = field(default_factory=list)
    _kept: Replay | None = None

    def restart(self, world: World | None = None) -> None:
        """The world starts again: record afresh. Given the `world` as it ended, the drive so far is kept, so
        a restart that drives nothing before the end does not lose it (see `latest`)."""
        if world is not None and self._actions:
            self._kept = self.replay(world)
        self._actions.clear()
        self._events.clear()

    def latest(self, world: World) -> Replay | None:
        """The replay to save: the drive going on now, else the one before the last restart, else None."""
        return self.replay(world) if self._actions else self._kept

    def step(self, actions: np.ndarray) -> None:
        """Record one world step's actions (one per car)."""
        self._actions.append(np.asarray(actions, dtype=np.int8).reshape(len(self.labels)).copy())

    def place(self, car: int, progress_m: float) -> None:
        """Record that a car was put back on the centre line at this net progress [m]."""
        self._events.append(ReplayEvent(len(self._actions), int(car), place_m=float(progress_m)))

    def stop(self, cars: Sequence[int] | np.ndarray) -> None:
        """Record that cars were parked."""
        self._events.extend(ReplayEvent(len(self._actions), int(car), stop=True) for car in np.asarray(cars).tolist())

    @property
    def steps(self) -> int:
        """World steps recorded so far."""
        return len(self._actions)

    def replay(self, world: World) -> Replay:
        """The replay of what was recorded, with the checksum of `world`'s state now (the end of the drive)."""
        table = np.stack(self._actions) if self._actions else np.zeros((0, len(self.labels)), dtype=np.int8)
        state = world.state
        population = len(self.labels)
        return Replay(
            kind=self.kind,
            track_name=self.track.name,
            track_file=str(Path(self.track.path).resolve()) if self.track.path else "",
            track_sha256=text_sha256(self.track.source_text),
            track_text=self.track.source_text,
            physics=self.physics,
            sensors=self.sensors,
            episode=self.episode,
            laps=self.laps,
            steps=len(self._actions),
            cars=tuple(
                ReplayCar(label, driver, table[:, car].copy())
                for car, (label, driver) in enumerate(zip(self.labels, self.drivers, strict=True))
            ),
            events=tuple(self._events),
            final_sha256=state_sha256(world),
            final_laps=tuple(int(lap) for lap in state.laps[:population]),
            final_progress_m=tuple(float(progress) for progress in state.progress_m[:population]),
            date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        )


# --- files -----------------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """The safe dumper, writing texts of several lines (the track) as literal blocks a person can read."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def replay_text(replay: Replay) -> str:
    """The YAML text of a replay file."""
    data: dict[str, Any] = {
        "format": REPLAY_FORMAT,
        "version": LAP_VERSION if replay.is_lap else REPLAY_VERSION,
        "neurocar_version": replay.neurocar_version,
        "date": replay.date,
        "kind": replay.kind,
        "track": {
            "name": replay.track_name,
            "file": replay.track_file,
            "sha256": replay.track_sha256,
            "text": replay.track_text,
        },
        "physics": dataclasses.asdict(replay.physics),
        "sensors": {"angles_deg": list(replay.sensors.angles_deg), "range_m": replay.sensors.range_m},
        "episode": dataclasses.asdict(replay.episode),
        "laps": replay.laps,
        "steps": replay.steps,
        "cars": [
            {"label": car.label, "driver": car.driver, "actions": encode_actions(car.actions)} for car in replay.cars
        ],
        "events": [
            {"after_step": event.after_step, "car": event.car, "place_m": event.place_m}
            if event.place_m is not None
            else {"after_step": event.after_step, "car": event.car, "stop": True}
            for event in replay.events
        ],
        "final": {
            "sha256": replay.final_sha256,
            "laps": list(replay.final_laps),
            "progress_m": list(replay.final_progress_m),
        },
    }
    if replay.start is not None:
        start = dataclasses.asdict(replay.start)
        start["position"] = list(replay.start.position)
        data["start"] = start
        data["lap"] = {"number": replay.lap_number, "time_s": replay.lap_time_s}
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def check_replay_destination(
    path: str | Path, force: bool, option: str = "--replay-out", example: str = "drive.replay"
) -> None:
    """Fail before any driving if the replay cannot be written to `path` (or exists and `force` is not set)."""
    target = Path(path)
    name = display_path(target)
    if target.is_dir():
        raise NeuroCarError(f"{option} {name}: is a folder; give a file name such as {target / example}")
    if target.exists() and not force:
        raise NeuroCarError(f"{option} {name}: exists; choose another file name (or add --force to replace it)")
    folder = target.parent if str(target.parent) else Path(".")
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise NeuroCarError(f"{option} {name}: cannot write in {display_path(folder)}")


def save_replay(path: str | Path, replay: Replay, force: bool) -> Path:
    """Write the replay atomically; an existing file is replaced only with `force` (else a new name is chosen,
    `NAME-2.replay`, ..., so nothing saved is lost). Returns where it was written."""
    target = Path(path)
    if target.exists() and not force:
        for attempt in range(2, 1000):
            candidate = target.with_name(f"{target.stem}-{attempt}{target.suffix}")
            if not candidate.exists():
                target = candidate
                break
        else:
            raise NeuroCarError(f"{display_path(target)}: it and {target.stem}-2 to -999 exist; give another name")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, replay_text(replay))
    return target


def _field_error(name: str, key: str, message: str) -> NeuroCarError:
    return NeuroCarError(f"{name}: {key}: {message}")


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _section(data: dict[str, Any], key: str, kind: type, name: str) -> Any:
    """A dataclass section (physics, sensors, episode) with every field a number."""
    values = data.get(key)
    fields = [item.name for item in dataclasses.fields(kind)]
    if not isinstance(values, dict) or sorted(values) != sorted(fields):
        raise _field_error(name, key, f"expected the keys {', '.join(fields)}")
    converted: dict[str, Any] = {}
    for item in fields:
        value = values[item]
        if isinstance(value, list):
            if not value or not all(_number(entry) for entry in value):
                raise _field_error(name, f"{key}.{item}", f"expected a list of numbers, got {value!r}")
            converted[item] = tuple(float(entry) for entry in value)
        elif _number(value):
            converted[item] = float(value)
        else:
            raise _field_error(name, f"{key}.{item}", f"expected a number, got {value!r}")
    return kind(**converted)


def load_replay(path: str | Path) -> Replay:
    """Load and check a replay file; every problem is a `NeuroCarError` naming the file and the field."""
    replay_path = Path(path)
    name = display_path(replay_path)
    text = read_text_file(
        replay_path, name, "replay file", MAX_YAML_BYTES, "replay file not found", "is a folder, not a replay file"
    )
    data = parse_yaml(text, name, " (a damaged or truncated replay file)")
    if not isinstance(data, dict) or data.get("format") != REPLAY_FORMAT:
        raise NeuroCarError(f"{name}: not a NeuroCar replay file (no 'format: {REPLAY_FORMAT}')")
    version = data.get("version")
    if version not in (REPLAY_VERSION, LAP_VERSION) or isinstance(version, bool):
        raise _field_error(
            name, "version", f"replay version {version!r} is not supported (this neurocar reads 1 and 2)"
        )
    missing = [
        key for key in ("kind", "track", "physics", "sensors", "episode", "steps", "cars", "final") if key not in data
    ]
    if missing:
        raise _field_error(name, missing[0], "missing (the file is incomplete or truncated)")
    if data["kind"] not in KINDS:
        raise _field_error(name, "kind", f"expected one of {', '.join(KINDS)}, got {data['kind']!r}")
    track = data["track"]
    if not isinstance(track, dict) or not all(isinstance(track.get(key), str) for key in ("name", "sha256", "text")):
        raise _field_error(name, "track", "expected name, file, sha256 and text")
    if not track["name"].isprintable() or not 0 < len(track["name"]) <= 200:
        raise _field_error(name, "track.name", "expected a name of 1 to 200 printable characters")
    if text_sha256(track["text"]) != track["sha256"]:
        raise _field_error(name, "track.text", "does not match track.sha256 (the file was damaged or edited)")
    physics = _section(data, "physics", PhysicsConfig, name)
    sensors = _section(data, "sensors", SensorConfig, name)
    episode = _section(data, "episode", EpisodeConfig, name)
    laps = data.get("laps")
    if laps is not None and (not isinstance(laps, int) or isinstance(laps, bool) or laps < 1):
        raise _field_error(name, "laps", f"expected a whole number of at least 1 or null, got {laps!r}")
    steps = data["steps"]
    if not _whole(steps) or not 0 <= steps <= MAX_REPLAY_STEPS:
        raise _field_error(name, "steps", f"expected a whole number from 0 to {MAX_REPLAY_STEPS}, got {steps!r}")
    cars_data = data["cars"]
    if not isinstance(cars_data, list) or not cars_data:
        raise _field_error(name, "cars", "expected a list of at least one car")
    cars = []
    for index, car in enumerate(cars_data):
        where = f"cars[{index}]"
        if not isinstance(car, dict) or not isinstance(car.get("label"), str):
            raise _field_error(name, where, "expected label, driver and actions")
        if not car["label"].isprintable() or not 0 < len(car["label"]) <= 200:
            raise _field_error(name, f"{where}.label", "expected a name of 1 to 200 printable characters")
        if car.get("driver") not in DRIVERS:
            raise _field_error(
                name, f"{where}.driver", f"expected one of {', '.join(DRIVERS)}, got {car.get('driver')!r}"
            )
        if not isinstance(car.get("actions"), str):
            raise _field_error(name, f"{where}.actions", "expected the run-length text of the actions")
        try:
            actions = decode_actions(car["actions"], limit=steps)
        except ValueError as problem:
            raise _field_error(name, f"{where}.actions", str(problem)) from None
        if len(actions) != steps:
            raise _field_error(
                name, f"{where}.actions", f"holds {len(actions)} actions, expected one per step ({steps}): truncated?"
            )
        cars.append(ReplayCar(car["label"], car["driver"], actions))
    events = []
    for index, event in enumerate(data.get("events") or []):
        where = f"events[{index}]"
        if (
            not isinstance(event, dict)
            or not _whole(event.get("after_step"))
            or not _whole(event.get("car"))
            or not 0 <= event["after_step"] <= steps
            or not 0 <= event["car"] < len(cars)
        ):
            raise _field_error(name, where, f"expected after_step (0 to {steps}) and car (0 to {len(cars) - 1})")
        if _number(event.get("place_m")):
            events.append(ReplayEvent(event["after_step"], event["car"], place_m=float(event["place_m"])))
        elif event.get("stop") is True:
            events.append(ReplayEvent(event["after_step"], event["car"], stop=True))
        else:
            raise _field_error(name, where, "expected place_m (a number) or stop: true")
    if sorted(events, key=lambda item: item.after_step) != events:
        raise _field_error(name, "events", "not in step order")
    final = data["final"]
    if not isinstance(final, dict) or not isinstance(final.get("sha256"), str):
        raise _field_error(name, "final.sha256", "missing (the file is incomplete or truncated)")
    final_laps = final.get("laps") or []
    final_progress = final.get("progress_m") or []
    if not isinstance(final_laps, list) or not all(_whole(lap) for lap in final_laps):
        raise _field_error(name, "final.laps", "expected a list of whole numbers")
    if not isinstance(final_progress, list) or not all(_number(value) for value in final_progress):
        raise _field_error(name, "final.progress_m", "expected a list of numbers")
    start, lap_number, lap_time_s = None, None, None
    if version == LAP_VERSION:
        start, lap_number, lap_time_s = _lap_fields(data, name, len(cars), events)
    elif "start" in data or "lap" in data:
        raise _field_error(name, "start" if "start" in data else "lap", "only a lap file (version 2) has one")
    return Replay(
        kind=data["kind"],
        track_name=track["name"],
        track_file=str(track.get("file") or ""),
        track_sha256=track["sha256"],
        track_text=track["text"],
        physics=physics,
        sensors=sensors,
        episode=episode,
        laps=laps,
        steps=steps,
        cars=tuple(cars),
        events=tuple(events),
        final_sha256=final["sha256"],
        final_laps=tuple(int(lap) for lap in final_laps),
        final_progress_m=tuple(float(progress) for progress in final_progress),
        neurocar_version=str(data.get("neurocar_version", "")),
        date=str(data.get("date", "")),
        path=name,
        start=start,
        lap_number=lap_number,
        lap_time_s=lap_time_s,
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


START_FLOATS = (
    "heading_rad", "progress_m", "best_progress_m", "time_s", "episode_start_s", "last_improvement_s", "lap_start_s"
)  # fmt: skip


def _lap_fields(
    data: dict[str, Any], name: str, cars: int, events: Sequence[ReplayEvent]
) -> tuple[CarStart, int, float]:
    """The `start` and `lap` sections of a lap file (version 2), checked."""
    if cars != 1:
        raise _field_error(name, "cars", f"a lap holds one car, this file has {cars}")
    if events:
        raise _field_error(name, "events", "a lap has no interventions")
    start = data.get("start")
    if not isinstance(start, dict):
        raise _field_error(name, "start", "missing (a lap file starts from a saved state)")
    expected = {item.name for item in dataclasses.fields(CarStart)}
    if set(start) != expected:
        raise _field_error(name, "start", f"expected the keys {', '.join(sorted(expected))}")
    for key in START_FLOATS:
        if not _number(start[key]):
            raise _field_error(name, f"start.{key}", f"expected a number, got {start[key]!r}")
    position = start["position"]
    if not isinstance(position, list) or len(position) != 2 or not all(_number(value) for value in position):
        raise _field_error(name, "start.position", f"expected [x, y] in metres, got {position!r}")
    for key in ("step", "laps", "segment"):
        if not _whole(start[key]) or not 0 <= start[key] <= MAX_REPLAY_STEPS:
            raise _field_error(name, f"start.{key}", f"expected a whole number of at least 0, got {start[key]!r}")
    lap = data.get("lap")
    if not isinstance(lap, dict) or not _whole(lap.get("number")) or not _number(lap.get("time_s")):
        raise _field_error(name, "lap", "expected number (a whole number) and time_s (seconds)")
    if lap["number"] != start["laps"] + 1 or lap["time_s"] <= 0:
        raise _field_error(name, "lap", f"lap {lap['number']} in {lap['time_s']} s does not follow start.laps")
    car_start = CarStart(
        step=start["step"],
        position=(float(position[0]), float(position[1])),
        laps=start["laps"],
        segment=start["segment"],
        **{key: float(start[key]) for key in START_FLOATS},
    )
    return car_start, lap["number"], float(lap["time_s"])


# --- checks against what the user asked for -------------------------------------------------------------------


def _physics_differences(replay: Replay, physics: PhysicsConfig, sensors: SensorConfig) -> list[tuple[str, str]]:
    differences = []
    for section, saved, current in (
        ("physics", dataclasses.asdict(replay.physics), dataclasses.asdict(physics)),
        ("sensors", dataclasses.asdict(replay.sensors), dataclasses.asdict(sensors)),
    ):
        for key, saved_value in saved.items():
            if saved_value != current[key]:
                differences.append(
                    (f"{section}.{key}", f"{section}.{key} is {current[key]}, the replay has {saved_value}")
                )
    return differences


def check_replay_settings(
    replay: Replay, physics: PhysicsConfig, sensors: SensorConfig, explicit_keys: Collection[str] | None
) -> None:
    """Refuse a replay whose physics or sensors differ from settings the user chose on purpose (`--set` keys, or
    every key with `--config`, as `explicit_keys` None); the replay otherwise plays with its own."""
    conflicts = [
        message
        for key, message in _physics_differences(replay, physics, sensors)
        if explicit_keys is None or key in explicit_keys
    ]
    if conflicts:
        raise NeuroCarError(
            f"{replay.path}: was driven with other physics: {'; '.join(conflicts)} "
            "(a replay plays only with its own; drop those settings)"
        )


def check_same_physics(replay: Replay, physics: PhysicsConfig, sensors: SensorConfig, what: str) -> None:
    """Refuse a replay (a ghost) that must drive beside cars with other physics or sensors."""
    differences = _physics_differences(replay, physics, sensors)
    if differences:
        raise NeuroCarError(f"{replay.path}: was driven with other physics than {what}: {differences[0][1]}")


def replay_track(replay: Replay, track_option: str | None, physics: PhysicsConfig) -> Track:
    """The track a replay plays on: `--track FILE` if given, else the file it was driven on if that still exists,
    else the copy inside the replay. A file whose text differs from the replay's track is refused."""
    candidate: Path | None = None
    if track_option is not None:
        candidate = resolve_track_path(track_option)
        if not candidate.is_file():
            raise NeuroCarError(f"--track {track_option}: track file not found")
    elif replay.track_file and Path(replay.track_file).is_file():
        candidate = Path(replay.track_file)
    if candidate is not None:
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise NeuroCarError(f"{display_path(candidate)}: cannot be read ({error.__class__.__name__})") from None
        if text_sha256(text) != replay.track_sha256:
            raise NeuroCarError(
                f"{replay.path}: was driven on another version of the track '{replay.track_name}' than "
                f"{display_path(candidate)} (the file changed since); a replay plays only on its own track"
            )
    return track_of(replay, physics)


def track_of(replay: Replay, physics: PhysicsConfig) -> Track:
    """The track saved inside the replay."""
    data = load_yaml(replay.track_text)
    where = f"{replay.path} (track '{replay.track_name}')"
    track = track_from_data(data, where, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m)
    return dataclasses.replace(
        track, source_text=replay.track_text, path=display_path(replay.track_file) if replay.track_file else where
    )


def check_same_track(replay: Replay, track: Track, what: str) -> None:
    """Refuse a replay (a ghost) driven on another track than `track`."""
    if text_sha256(track.source_text) != replay.track_sha256:
        raise NeuroCarError(
            f"{replay.path}: was driven on the track '{replay.track_name}', not on {what} '{track.name}' "
            f"({track.path}); a ghost drives only on its own track"
        )


# --- playing ---------------------------------------------------------------------------------------------------


def check_start_on_track(replay: Replay, track: Track) -> None:
    """Refuse a lap whose saved start cannot be on `track` (a damaged or edited file)."""
    start = replay.start
    assert start is not None
    walls = np.concatenate([track.left_wall, track.right_wall])
    low, high = walls.min(axis=0), walls.max(axis=0)
    if not (np.all(np.asarray(start.position) >= low) and np.all(np.asarray(start.position) <= high)):
        raise NeuroCarError(f"{replay.path}: start.position {list(start.position)} is not on the track")
    if start.segment >= len(track.centerline):
        raise NeuroCarError(
            f"{replay.path}: start.segment {start.segment} is past the track's {len(track.centerline)} segments"
        )


class ReplayPlayer:
    """Re-simulates a replay step by step in its own world (the same physics, track and episode)."""

    def __init__(self, replay: Replay, track: Track) -> None:
        self.replay = replay
        if replay.start is not None:
            check_start_on_track(replay, track)
        self.world = World(track, replay.physics, replay.sensors, replay.episode, population=replay.population)
        self._actions = np.stack([car.actions for car in replay.cars], axis=1).astype(np.int64)
        self.restart()

    def restart(self) -> None:
        """Back to the start of the replay (for a lap: its car where the lap began)."""
        self.world.reset()
        if self.replay.start is not None:
            self.replay.start.apply(self.world)
        self.step_index = 0
        self._next_event = 0
        self._apply_events()

    def played_lap_time_s(self) -> float | None:
        """For a lap: the lap time it drove when played to the end (None before, or if it never crossed)."""
        if self.replay.lap_number is None:
            return None
        times = [event.lap_time_s for event in self.world.state.lap_events if event.lap == self.replay.lap_number]
        return times[0] if times else None

    @property
    def finished(self) -> bool:
        """True when every saved step was played."""
        return self.step_index >= self.replay.steps

    def _apply_events(self) -> list[ReplayEvent]:
        applied = []
        events = self.replay.events
        while self._next_event < len(events) and events[self._next_event].after_step == self.step_index:
            event = events[self._next_event]
            if event.place_m is not None:
                self.world.place(np.array([event.car]), np.array([event.place_m]))
            else:
                self.world.stop(np.array([event.car]))
            applied.append(event)
            self._next_event += 1
        return applied

    def step(self) -> np.ndarray:
        """Play one saved step (and the events after it); returns the actions played."""
        if self.finished:
            raise ValueError("the replay has no more steps")
        actions = self._actions[self.step_index]
        self.world.step(actions)
        self.step_index += 1
        self._apply_events()
        return actions

    def play_to_end(self) -> bool:
        """Play every remaining step; returns whether the final state matches the saved checksum."""
        while not self.finished:
            self.step()
        return self.matches()

    def matches(self) -> bool:
        """Whether the current state is the saved final state (meaningful once `finished`)."""
        return state_sha256(self.world) == self.replay.final_sha256
