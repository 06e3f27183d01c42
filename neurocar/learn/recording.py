"""Driving recordings: one folder per session, written as it goes, loaded strictly for training.

A session is a new folder `DIR/session-YYYYmmdd-HHMMSS[-N]` (created exclusively: an old session is never
overwritten or appended to) holding two plain-text files:

| file       | content                                                                                    |
|------------|--------------------------------------------------------------------------------------------|
| meta.yaml  | format ("neurocar-recording"), version (1), neurocar_version, date (ISO 8601), driver      |
|            | (person, model or autopilot: who started the session), driver_name (--driver, or null),   |
|            | track (name, path, text: the track YAML as driven), sensors (angles_deg, range_m), dt_s,  |
|            | config (the whole config)                                                                  |
| frames.csv | one row per simulation step that was driven, with the header below                         |

| frames.csv column      | meaning                                                                    |
|------------------------|----------------------------------------------------------------------------|
| step                   | the world's step count after this step (whole number)                      |
| time_s                 | simulated time after this step [s]                                         |
| sensor_0 .. sensor_R-1 | the readings the driver saw before choosing the action (in [0, 1])         |
| action                 | 0 steer left, 1 straight, 2 steer right                                    |
| x_m, y_m, heading_rad  | the car's pose before the step [m, m, rad]                                 |
| progress_m             | net progress along the centre line before the step [m]                     |
| lap                    | completed laps before the step                                             |
| driver                 | who chose the action: person, model or autopilot                           |

Every row is handed to the operating system as it is written and forced to disk (fsync) at least once per second,
so a killed process loses at most the row it was writing. Removing the last seconds (Backspace in the drive
window) rewrites frames.csv atomically (temporary file + rename). On load, a damaged last row (a partial write) is
skipped with a warning; any other problem is a `NeuroCarError` naming the session, file, line and field.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from neurocar import __version__
from neurocar.config import Config, PhysicsConfig, SensorConfig
from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import display_path
from neurocar.schema import (
    AnyValue,
    Choice,
    Fields,
    Number,
    Optional,
    Rule,
    SchemaError,
    Text,
    Whole,
    build,
    dataclass_rules,
    excerpt,
    printable,
    read_file_bytes,
    read_yaml_file,
    yaml_text,
)
from neurocar.sim.track import MAX_COORDINATE_M, MAX_TRACK_FILE_BYTES, Track

RECORDING_FORMAT = "neurocar-recording"
RECORDING_VERSION = 1
META_FILE = "meta.yaml"
FRAMES_FILE = "frames.csv"
SESSION_PREFIX = "session-"
DRIVERS = ("person", "model", "autopilot")
SYNC_INTERVAL_S = 1.0
POSE_COLUMNS = ("x_m", "y_m", "heading_rad", "progress_m", "lap", "driver")
MAX_META_BYTES = MAX_TRACK_FILE_BYTES + 1024 * 1024
MAX_FRAMES_BYTES = 1024 * 1024 * 1024

# meta.yaml: one declaration, used to check what is written and what is read.
META = Fields(
    {
        "format": Choice((RECORDING_FORMAT,)),
        "version": Choice((RECORDING_VERSION,)),
        "neurocar_version": Optional(Text(100)),
        "date": AnyValue(),  # information only (text, or a date if someone edited it)
        "driver": Optional(Choice(DRIVERS)),
        "driver_name": Optional(Text(200)),
        "track": Fields(
            {
                "name": Text(200, required=True),
                "path": Optional(Text(4096), ""),
                "text": Optional(Text(MAX_TRACK_FILE_BYTES), ""),
            },
            optional={"path": "", "text": ""},
        ),
        "sensors": Fields(dataclass_rules(SensorConfig)),
        "dt_s": dataclass_rules(PhysicsConfig)["dt_s"],
        "config": Optional(AnyValue()),  # information only: training uses its own config
    },
    optional={"neurocar_version": None, "date": None, "driver": None, "driver_name": None, "config": None},
    strict=False,  # newer sessions may say more
)
# frames.csv: the rule of each column but the sensors (one SENSOR_READING each) and the driver.
FRAME_COLUMN_RULES: dict[str, Rule] = {
    "step": Whole(0, 10**12),
    "time_s": Number(0.0, 1e9, "s"),
    "action": Whole(0, 2),
    "x_m": Number(-2 * MAX_COORDINATE_M, 2 * MAX_COORDINATE_M, "m"),
    "y_m": Number(-2 * MAX_COORDINATE_M, 2 * MAX_COORDINATE_M, "m"),
    "heading_rad": Number(-1e7, 1e7, "rad"),
    "progress_m": Number(-1e9, 1e9, "m"),
    "lap": Whole(-(10**6), 10**6),
}
SENSOR_READING = Number(0.0, 1.0)


def frame_columns(sensor_count: int) -> list[str]:
    """The frames.csv header for `sensor_count` sensors."""
    return ["step", "time_s", *[f"sensor_{index}" for index in range(sensor_count)], "action", *POSE_COLUMNS]


class SessionWriter:
    """Records one driving session into a new folder; `write` one frame per step, `close` at the end."""

    def __init__(
        self, directory: str | Path, track: Track, config: Config, driver: str, driver_name: str | None = None
    ) -> None:
        self.folder = create_session_folder(Path(directory))
        self._stream: TextIO | None = None
        try:
            self._start(track, config, driver, driver_name)
        except BaseException:
            # A session that cannot start (a full disk, a read-only folder) leaves nothing behind.
            self._remove_files()
            raise

    def _start(self, track: Track, config: Config, driver: str, driver_name: str | None) -> None:
        self.sensor_count = len(config.sensors.angles_deg)
        self.dt_s = config.physics.dt_s
        meta = {
            "format": RECORDING_FORMAT,
            "version": RECORDING_VERSION,
            "neurocar_version": __version__,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "driver": driver,
            "driver_name": driver_name,
            "track": {"name": track.name, "path": track.path, "text": track.source_text},
            "sensors": {"angles_deg": list(config.sensors.angles_deg), "range_m": config.sensors.range_m},
            "dt_s": config.physics.dt_s,
            "config": config.to_dict(),
        }
        META.check(meta, "")  # what is written is what loading accepts
        atomic_write_text(self.folder / META_FILE, yaml_text(meta))
        self.path = self.folder / FRAMES_FILE
        # Rows are kept in memory too, so removing the last seconds can rewrite the file without reading it back.
        self.rows: list[str] = []
        self.actions: list[int] = []
        self.header = ",".join(frame_columns(self.sensor_count)) + "\n"
        try:
            self._stream = self.path.open("x", encoding="utf-8", newline="")
            self._stream.write(self.header)
            self._sync()
        except OSError as error:
            raise NeuroCarError(
                f"{display_path(self.path)}: cannot start the recording ({error.strerror or error})"
            ) from None

    def _remove_files(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
            self._stream = None
        for name in (FRAMES_FILE, META_FILE):
            with contextlib.suppress(OSError):
                (self.folder / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()

    @property
    def frame_count(self) -> int:
        """Frames recorded so far (after any removals)."""
        return len(self.rows)

    @property
    def action_histogram(self) -> list[int]:
        """How many recorded frames chose each action (left, straight, right), after any removals."""
        return np.bincount(np.asarray(self.actions, dtype=np.int64), minlength=3)[:3].tolist()

    def write(
        self,
        step: int,
        time_s: float,
        observation: Sequence[float],
        action: int,
        pose: tuple[float, float, float],
        progress_m: float,
        lap: int,
        driver: str,
    ) -> None:
        """Append one frame (see the module docstring for the columns)."""
        if self._stream is None:
            raise ValueError("the session is closed")
        sensors = ",".join(f"{float(value):.6f}" for value in observation)
        x, y, heading = pose
        row = (
            f"{int(step)},{time_s:.3f},{sensors},{int(action)},{x:.4f},{y:.4f},{heading:.6f},"
            f"{progress_m:.4f},{int(lap)},{driver}\n"
        )
        self.rows.append(row)
        self.actions.append(int(action))
        self._stream.write(row)
        self._stream.flush()
        if time.monotonic() - self._last_sync >= SYNC_INTERVAL_S:
            self._sync()

    def remove_last(self, seconds: float) -> int:
        """Drop the frames of the last `seconds` of driving (seconds / dt frames); returns how many were removed."""
        count = min(len(self.rows), round(seconds / self.dt_s))
        if count == 0 or self._stream is None:
            return 0
        del self.rows[len(self.rows) - count :]
        del self.actions[len(self.actions) - count :]
        self._stream.close()
        atomic_write_text(self.path, self.header + "".join(self.rows))
        self._stream = self.path.open("a", encoding="utf-8", newline="")
        self._last_sync = time.monotonic()
        return count

    def _sync(self) -> None:
        assert self._stream is not None
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Flush everything to disk; a session with no frames is removed again (it holds nothing to keep)."""
        if self._stream is None:
            return
        self._sync()
        self._stream.close()
        self._stream = None
        if not self.rows:
            self.path.unlink(missing_ok=True)
            (self.folder / META_FILE).unlink(missing_ok=True)
            self.folder.rmdir()


def create_session_folder(directory: Path) -> Path:
    """Make a new, empty session folder inside `directory` (created if missing), named after the time."""
    name = display_path(directory)
    if directory.exists() and not directory.is_dir():
        raise NeuroCarError(f"--record {name}: is a file, not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NeuroCarError(f"--record {name}: cannot create the folder ({error.strerror or error})") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise NeuroCarError(f"--record {name}: cannot write in this folder (permission denied)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        folder = directory / (f"{SESSION_PREFIX}{stamp}" + ("" if attempt == 1 else f"-{attempt}"))
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as error:
            raise NeuroCarError(
                f"--record {name}: cannot create a session folder ({error.strerror or error})"
            ) from None
    raise NeuroCarError(f"--record {name}: too many sessions started this second")


@dataclass(frozen=True)
class Session:
    """A loaded session. Arrays have one entry per frame; `observations` is (F, R)."""

    path: str
    track_name: str
    sensors: SensorConfig
    dt_s: float
    meta: dict[str, Any]
    steps: np.ndarray
    time_s: np.ndarray
    observations: np.ndarray
    actions: np.ndarray
    poses: np.ndarray
    progress_m: np.ndarray
    laps: np.ndarray
    drivers: np.ndarray

    @property
    def frame_count(self) -> int:
        """Number of frames."""
        return len(self.actions)


def _read_meta(folder: Path, name: str) -> dict[str, Any]:
    meta_path = folder / META_FILE
    if not meta_path.exists():
        raise NeuroCarError(f"{name}: no {META_FILE}; this is not a complete recording session (delete the folder)")
    meta_name = f"{name}: {META_FILE}"
    data, _text = read_yaml_file(meta_path, meta_name, "recording metadata", MAX_META_BYTES)
    if not isinstance(data, dict):
        raise NeuroCarError(f"{meta_name}: expected a mapping of fields")
    try:
        checked = META.check(data, "")
        checked["sensors"] = build(SensorConfig, data["sensors"], "sensors")
    except SchemaError as error:
        raise NeuroCarError(f"{meta_name}: {error}") from None
    return checked


def _column_rules(columns: list[str]) -> list[Rule]:
    return [FRAME_COLUMN_RULES.get(column, SENSOR_READING) for column in columns[:-1]]


def _parse_row(fields: list[str], columns: list[str]) -> tuple[list[float], str]:
    """The numbers of one row and its driver; raises ValueError naming the bad column."""
    if len(fields) != len(columns):
        raise ValueError(f"expected {len(columns)} columns, found {len(fields)}")
    numbers: list[float] = []
    for column, text in zip(columns[:-1], fields[:-1], strict=True):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"column '{column}' is not a number ({excerpt(text)})") from None
        if not math.isfinite(value):
            raise ValueError(f"column '{column}' is not a finite number ({excerpt(text)})")
        numbers.append(value)
    driver = fields[-1].strip()
    if driver not in DRIVERS:
        raise ValueError(f"column 'driver' must be one of {', '.join(DRIVERS)}, got {excerpt(driver)}")
    return numbers, driver


def _first_out_of_bounds(table: np.ndarray, columns: list[str]) -> tuple[int, str] | None:
    """(row index, problem) of the first value that breaks its column's rule, checked a column at a time."""
    worst: tuple[int, str] | None = None
    for index, rule in enumerate(_column_rules(columns)):
        values = table[:, index]
        bad = np.zeros(len(values), dtype=bool)
        if rule.minimum is not None:  # type: ignore[attr-defined]
            bad |= values < rule.minimum  # type: ignore[attr-defined]
        if rule.maximum is not None:  # type: ignore[attr-defined]
            bad |= values > rule.maximum  # type: ignore[attr-defined]
        if isinstance(rule, Whole):
            bad |= values != np.floor(values)
        if not bad.any():
            continue
        row = int(np.argmax(bad))
        if worst is not None and worst[0] <= row:
            continue
        value = float(values[row])
        shown: float | int = (
            int(value) if isinstance(rule, Whole) and value.is_integer() and abs(value) < 1e15 else value
        )
        try:
            rule.check(shown, f"column '{columns[index]}'")
        except SchemaError as error:
            worst = (row, str(error))
    return worst


def load_session(folder: str | Path, warnings: TextIO | None = None) -> Session:
    """Load and check one session folder; a damaged last row is skipped with a warning on `warnings` (stderr)."""
    folder = Path(folder)
    name = display_path(folder)
    warnings = warnings or sys.stderr
    frames_path = folder / FRAMES_FILE
    if not frames_path.exists():
        if not (folder / META_FILE).exists():
            raise NeuroCarError(f"{name}: empty session folder (no {META_FILE}, no {FRAMES_FILE}); delete it")
        raise NeuroCarError(f"{name}: has {META_FILE} but no {FRAMES_FILE}; the session recorded nothing (delete it)")
    meta = _read_meta(folder, name)
    sensor_count = len(meta["sensors"].angles_deg)
    columns = frame_columns(sensor_count)
    frames_name = f"{name}/{FRAMES_FILE}"
    data = read_file_bytes(frames_path, frames_name, "frames file", MAX_FRAMES_BYTES)
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise NeuroCarError(f"{frames_name}: not UTF-8 text (byte {error.start})") from None
    if not lines or not lines[0].strip():
        raise NeuroCarError(f"{frames_name}: empty file (no header); the session recorded nothing (delete it)")
    header = [column.strip() for column in lines[0].split(",")]
    missing = [column for column in columns if column not in header]
    if missing:
        raise NeuroCarError(
            f"{frames_name} line 1: missing column '{missing[0]}' (a recording with {sensor_count} sensors "
            f"has the columns {','.join(columns)})"
        )
    if header != columns:
        raise NeuroCarError(f"{frames_name} line 1: unexpected columns; expected exactly {','.join(columns)}")
    rows: list[list[float]] = []
    drivers: list[str] = []
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    for index, line in enumerate(body):
        line_number = index + 2
        try:
            numbers, driver = _parse_row(line.split(","), columns)
        except ValueError as problem:
            if index == len(body) - 1:
                warning = f"{frames_name} line {line_number}: damaged last line ignored ({problem})"
                print(f"neurocar: warning: {printable(warning)}", file=warnings)
                break
            raise NeuroCarError(f"{frames_name} line {line_number}: {problem}") from None
        rows.append(numbers)
        drivers.append(driver)
    table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns) - 1)
    problem = _first_out_of_bounds(table, columns)
    if problem is not None:
        row, message = problem
        if row == len(body) - 1:
            warning = f"{frames_name} line {row + 2}: damaged last line ignored ({message})"
            print(f"neurocar: warning: {printable(warning)}", file=warnings)
            table, drivers = table[:-1], drivers[:-1]
        else:
            raise NeuroCarError(f"{frames_name} line {row + 2}: {message}")
    if not len(table):
        raise NeuroCarError(f"{name}: empty session (no frames in {FRAMES_FILE}); delete it or record again")
    sensor_end = 2 + sensor_count
    return Session(
        path=name,
        track_name=meta["track"]["name"],
        sensors=meta["sensors"],
        dt_s=meta["dt_s"],
        meta=meta,
        steps=table[:, 0].astype(np.int64),
        time_s=table[:, 1],
        observations=table[:, 2:sensor_end],
        actions=table[:, sensor_end].astype(np.int64),
        poses=table[:, sensor_end + 1 : sensor_end + 4],
        progress_m=table[:, sensor_end + 4],
        laps=table[:, sensor_end + 5].astype(np.int64),
        drivers=np.asarray(drivers),
    )


def _is_session(folder: Path) -> bool:
    return (folder / META_FILE).exists() or (folder / FRAMES_FILE).exists() or folder.name.startswith(SESSION_PREFIX)


def find_sessions(folders: Iterable[str | Path]) -> list[Path]:
    """Every session folder under the given folders (a folder may itself be a session), in name order."""
    found: list[Path] = []
    for given in folders:
        folder = Path(given)
        name = display_path(folder)
        if not folder.exists():
            raise NeuroCarError(f"--data {name}: folder not found")
        if not folder.is_dir():
            raise NeuroCarError(f"--data {name}: is a file; give the recording folder (or a session folder)")
        if _is_session(folder):
            found.append(folder)
            continue
        sessions = sorted(child for child in folder.iterdir() if child.is_dir() and _is_session(child))
        if not sessions:
            raise NeuroCarError(
                f"--data {name}: no recording sessions in this folder (record one with: neurocar drive --record {name})"
            )
        found.extend(sessions)
    return found


def load_sessions(folders: Iterable[str | Path], warnings: TextIO | None = None) -> list[Session]:
    """Load every session under the given folders.

    A session folder named on its own must load. Inside a folder of sessions, an empty or damaged session is named
    in one warning line and skipped, so it never blocks training on the good ones; a folder with no usable session
    at all is an error.
    """
    warnings = warnings or sys.stderr
    sessions: list[Session] = []
    for given in folders:
        folder = Path(given)
        found = find_sessions([folder])
        if found == [folder]:
            sessions.append(load_session(folder, warnings))
            continue
        problems: list[str] = []
        for session_folder in found:
            try:
                sessions.append(load_session(session_folder, warnings))
            except NeuroCarError as error:
                problems.append(str(error))
                print(f"neurocar: warning: {error}; skipped", file=warnings)
        if len(problems) == len(found):
            raise NeuroCarError(
                f"--data {display_path(folder)}: no usable recording session ({len(found)} skipped; the first: "
                f"{problems[0]})"
            )
    return sessions


def check_sensors(session: Session, sensors: SensorConfig, policy: str) -> None:
    """Fail, naming the session, if it was recorded with other sensors than `policy` uses."""
    same_angles = len(session.sensors.angles_deg) == len(sensors.angles_deg) and all(
        math.isclose(recorded, wanted, abs_tol=1e-9)
        for recorded, wanted in zip(session.sensors.angles_deg, sensors.angles_deg, strict=True)
    )
    if not same_angles or not math.isclose(session.sensors.range_m, sensors.range_m, abs_tol=1e-9):
        recorded = f"angles_deg {_angles(session.sensors.angles_deg)}, range_m {session.sensors.range_m:g}"
        wanted = f"angles_deg {_angles(sensors.angles_deg)}, range_m {sensors.range_m:g}"
        raise NeuroCarError(
            f"{session.path}: recorded with sensors {recorded}, but {policy} uses {wanted}; "
            "train on recordings made with the same sensors (or leave this session out)"
        )


def _angles(angles: Sequence[float]) -> str:
    return "[" + ", ".join(f"{angle:g}" for angle in angles) + "]"
