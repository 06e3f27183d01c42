"""Recording sessions: the writer's folder and files, removing the last seconds, and the strict loader."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from recording_cases import BROKEN_SESSIONS, RECORDINGS

from neurocar.config import Config, SensorConfig
from neurocar.errors import NeuroCarError
from neurocar.learn.recording import (
    FRAMES_FILE,
    META_FILE,
    SessionWriter,
    check_sensors,
    find_sessions,
    frame_columns,
    load_session,
    load_sessions,
)
from neurocar.sim.track import Track


def write_frames(writer: SessionWriter, count: int, start: int = 0) -> None:
    """Write `count` made-up frames whose step numbers follow `start`."""
    for index in range(start, start + count):
        writer.write(
            index + 1,
            (index + 1) * 0.05,
            [0.25, 1.0, index / 1000],
            index % 3,
            (float(index), 2.0, 0.5),
            float(index) * 0.75,
            0,
            "person",
        )


def test_writer_makes_a_new_session_folder_with_meta_and_frames(tmp_path: Path, classic: Track, config: Config):
    writer = SessionWriter(tmp_path / "recordings", classic, config, "person", "Ada")
    second = SessionWriter(tmp_path / "recordings", classic, config, "autopilot")
    assert writer.folder != second.folder
    assert writer.folder.name.startswith("session-") and second.folder.name.startswith(writer.folder.name)
    write_frames(writer, 5)
    write_frames(second, 2)
    writer.close()
    second.close()
    meta = yaml.safe_load((writer.folder / META_FILE).read_text(encoding="utf-8"))
    assert meta["format"] == "neurocar-recording" and meta["version"] == 1
    assert meta["driver"] == "person" and meta["driver_name"] == "Ada"
    assert meta["track"]["name"] == "Classic" and meta["track"]["text"] == classic.source_text
    assert meta["sensors"] == {"angles_deg": [-45.0, 0.0, 45.0], "range_m": 40.0}
    assert meta["dt_s"] == 0.05 and meta["config"] == config.to_dict()
    lines = (writer.folder / FRAMES_FILE).read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == frame_columns(3)
    assert lines[1] == "1,0.050,0.250000,1.000000,0.000000,0,0.0000,2.0000,0.500000,0.0000,0,person"
    session = load_session(writer.folder)
    assert session.frame_count == 5 and session.track_name == "Classic"
    assert session.actions.tolist() == [0, 1, 2, 0, 1]
    assert session.observations[4].tolist() == pytest.approx([0.25, 1.0, 0.004])
    assert session.drivers.tolist() == ["person"] * 5
    assert session.poses[3].tolist() == pytest.approx([3.0, 2.0, 0.5])


def test_every_frame_reaches_the_file_before_close(tmp_path: Path, classic: Track, config: Config) -> None:
    writer = SessionWriter(tmp_path, classic, config, "person")
    write_frames(writer, 3)
    # Read by another handle while the writer is still open: what a kill -9 would leave behind.
    assert len((writer.folder / FRAMES_FILE).read_text(encoding="utf-8").splitlines()) == 1 + 3
    writer.close()


def test_remove_last_rewrites_the_frames_without_the_last_seconds(tmp_path: Path, classic: Track, config: Config):
    writer = SessionWriter(tmp_path, classic, config, "person")
    write_frames(writer, 100)
    assert writer.remove_last(3.0) == 60
    write_frames(writer, 10, start=100)
    assert writer.remove_last(3.0) == 50
    assert writer.remove_last(3.0) == 0
    write_frames(writer, 4, start=200)
    writer.close()
    session = load_session(writer.folder)
    assert session.steps.tolist() == [201, 202, 203, 204]
    assert not [name for name in os.listdir(writer.folder) if name.endswith(".tmp")]


def test_a_session_without_frames_is_not_kept(tmp_path: Path, classic: Track, config: Config) -> None:
    writer = SessionWriter(tmp_path, classic, config, "person")
    writer.close()
    assert list(tmp_path.iterdir()) == []


def test_record_folder_that_is_a_file_is_refused(tmp_path: Path, classic: Track, config: Config) -> None:
    target = tmp_path / "taken"
    target.write_text("", encoding="utf-8")
    with pytest.raises(NeuroCarError, match="is a file, not a folder"):
        SessionWriter(target, classic, config, "person")


def test_damaged_last_line_is_skipped_with_a_warning() -> None:
    warnings = io.StringIO()
    session = load_session(RECORDINGS / "damaged_last_line", warnings)
    assert session.frame_count == 4
    assert warnings.getvalue() == (
        "neurocar: warning: tests/fixtures/recordings/damaged_last_line/frames.csv line 6: damaged last line "
        "ignored (expected 12 columns, found 4)\n"
    )


@pytest.mark.parametrize(("folder", "message"), BROKEN_SESSIONS)
def test_broken_sessions_are_errors_naming_the_session(folder: str, message: str) -> None:
    with pytest.raises(NeuroCarError) as error:
        load_session(RECORDINGS / folder)
    assert str(error.value) == message


def test_meta_problems_name_the_field(tmp_path: Path) -> None:
    session = tmp_path / "session-1"
    session.mkdir()
    meta = yaml.safe_load((RECORDINGS / "meta_only" / META_FILE).read_text(encoding="utf-8"))
    meta["sensors"]["range_m"] = "far"
    (session / META_FILE).write_text(yaml.safe_dump(meta), encoding="utf-8")
    (session / FRAMES_FILE).write_text(",".join(frame_columns(3)) + "\n", encoding="utf-8")
    with pytest.raises(NeuroCarError, match=r"session-1: meta.yaml: sensors.range_m: expected a number, got 'far'$"):
        load_session(session)


def good_session(tmp_path: Path) -> Path:
    session = tmp_path / "session-20261126-190000"
    shutil.copytree(RECORDINGS / "good" / "session-20261126-190000", session)
    return session


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda meta: meta["track"].update(path=[1, 2]), "meta.yaml: track.path: expected text, got [1, 2]"),
        (lambda meta: meta["track"].update(name=None), "meta.yaml: track.name: expected text, got None"),
        (lambda meta: meta.update(dt_s=0), "meta.yaml: dt_s must be at least 0.001 s, got 0"),
        (
            lambda meta: meta["sensors"].update(angles_deg=[1e300]),
            "meta.yaml: sensors.angles_deg[0] must be at most 180 deg, got 1e+300",
        ),
        (lambda meta: meta.update(version=2), "meta.yaml: version must be one of 1, got 2"),
        (lambda meta: meta.pop("sensors"), "meta.yaml: missing key 'sensors'"),
    ],
)
def test_meta_values_go_through_the_declaration(tmp_path: Path, change, message) -> None:
    session = good_session(tmp_path)
    meta = yaml.safe_load((session / META_FILE).read_text(encoding="utf-8"))
    change(meta)
    (session / META_FILE).write_text(yaml.safe_dump(meta), encoding="utf-8")
    with pytest.raises(NeuroCarError) as error:
        load_session(session)
    assert str(error.value) == f"{session}: {message}"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (0, "1e300", "column 'step': expected a whole number, got 1e+300"),
        (0, "2.5", "column 'step': expected a whole number, got 2.5"),
        (2, "5.0", "column 'sensor_0' must be at most 1, got 5"),
        (3, "-0.5", "column 'sensor_1' must be at least 0, got -0.5"),
        (5, "3", "column 'action' must be at most 2, got 3"),
        (6, "1e30", "column 'x_m' must be at most 2e+06 m, got 1e+30"),
        (6, "nan", "column 'x_m' is not a finite number ('nan')"),
        (11, "robot", "column 'driver' must be one of person, model, autopilot, got 'robot'"),
    ],
)
def test_frame_values_in_range(tmp_path: Path, column: int, value: str, message: str, recwarn) -> None:
    session = good_session(tmp_path)
    frames = session / FRAMES_FILE
    lines = frames.read_text(encoding="utf-8").splitlines()
    fields = lines[2].split(",")
    fields[column] = value
    lines[2] = ",".join(fields)
    frames.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(NeuroCarError) as error:
        load_session(session)
    assert str(error.value) == f"{session}/frames.csv line 3: {message}"
    assert not [warning for warning in recwarn if issubclass(warning.category, RuntimeWarning)]


def test_find_sessions_accepts_a_session_or_a_folder_of_sessions() -> None:
    good = RECORDINGS / "good"
    assert find_sessions([good]) == find_sessions([good / "session-20261126-190000"])
    with pytest.raises(NeuroCarError, match="no recording sessions in this folder"):
        find_sessions([RECORDINGS / "no_sessions"])
    with pytest.raises(NeuroCarError, match="folder not found"):
        find_sessions([RECORDINGS / "missing"])


def test_sensor_layout_must_match_the_policy() -> None:
    (session,) = load_sessions([RECORDINGS / "other_sensors"])
    assert session.observations.shape == (1, 5)
    check_sensors(session, SensorConfig((-60.0, -30.0, 0.0, 30.0, 60.0), 40.0), "the policy")
    with pytest.raises(NeuroCarError, match=r"recorded with sensors angles_deg \[-60, -30, 0, 30, 60\]"):
        check_sensors(session, SensorConfig((-45.0, 0.0, 45.0), 40.0), "the policy")
    np.testing.assert_array_equal(session.actions, [1])


def test_removing_frames_also_removes_their_actions_from_the_histogram(tmp_path, classic, config) -> None:
    writer = SessionWriter(tmp_path, classic, config, "person")
    for step, action in enumerate([0] * 30 + [1] * 30 + [2] * 60, start=1):
        writer.write(step, step * 0.05, [0.5, 0.5, 0.5], action, (0.0, 0.0, 0.0), 0.0, 0, "person")
    assert writer.action_histogram == [30, 30, 60]
    assert writer.remove_last(3.0) == 60  # 3 s at dt 0.05: exactly the right turns
    assert writer.action_histogram == [30, 30, 0]
    writer.close()
    assert load_session(writer.folder).actions.tolist() == [0] * 30 + [1] * 30
