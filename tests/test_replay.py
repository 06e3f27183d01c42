"""Replays: the run-length actions, a bit-identical round trip, the commands that save and play them, and the
broken files and mismatched settings they refuse with one line."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.paths import SHIPPED_DRIVER, TRACKS_DIR
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.replay import (
    ReplayPlayer,
    ReplayRecorder,
    decode_actions,
    encode_actions,
    load_replay,
    replay_track,
    save_replay,
    state_sha256,
)
from neurocar.sim.track import Track
from neurocar.sim.world import World

FIXTURES = Path(__file__).parent / "fixtures" / "replays"


@given(st.lists(st.integers(0, 2), max_size=300))
def test_actions_run_length_round_trip(actions: list[int]) -> None:
    encoded = encode_actions(np.array(actions, dtype=np.int64))
    assert decode_actions(encoded).tolist() == actions
    assert len(encoded.split()) == (0 if not actions else 1 + int(np.count_nonzero(np.diff(actions))))


def test_run_length_text_is_short_and_readable() -> None:
    assert encode_actions(np.array([1] * 40 + [0] * 3 + [2])) == "1*40 0*3 2"
    with pytest.raises(ValueError, match="bad run '3\\*2'"):
        decode_actions("1*4 3*2")


def drive_autopilot(track: Track, config: Config, steps: int, tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """Two autopilot cars (one steered off now and then, so it crashes and is put back) recorded to a replay file;
    returns the file and the positions after every step."""
    world = World(track, config.physics, config.sensors, config.episode, population=2)
    world.reset()
    recorder = ReplayRecorder(
        "drive", track, config.physics, config.sensors, config.episode, ["pilot", "wobbly"], ["autopilot"] * 2
    )
    autopilot = Autopilot(track, config.physics)
    trajectory = []
    for step in range(steps):
        state = world.state
        actions = autopilot.actions(state.positions, state.headings, state.progress_m)
        if 40 <= step % 120 < 70:
            actions[1] = 0  # hard left for a while: into the wall
        world.step(actions)
        recorder.step(actions)
        if not world.state.driving[1]:
            back = float(world.state.progress_m[1])
            world.place(np.array([1]), np.array([back]))
            recorder.place(1, back)
        trajectory.append(world.state.positions.copy())
    path = tmp_path / "drive.replay"
    save_replay(path, recorder.replay(world), force=False)
    return path, trajectory


def test_a_replay_re_simulates_the_drive_bit_for_bit(oval: Track, config: Config, tmp_path: Path) -> None:
    path, trajectory = drive_autopilot(oval, config, 400, tmp_path)
    replay = load_replay(path)
    assert replay.steps == 400 and [car.label for car in replay.cars] == ["pilot", "wobbly"]
    assert any(event.place_m is not None for event in replay.events)  # the wobbly car was put back at least once
    player = ReplayPlayer(replay, replay_track(replay, None, replay.physics))
    for expected in trajectory:
        player.step()
        assert np.array_equal(player.world.state.positions, expected)  # exact, not approximately
    assert player.finished and player.matches()


def test_a_changed_action_no_longer_matches_the_checksum(oval: Track, config: Config, tmp_path: Path) -> None:
    path, _trajectory = drive_autopilot(oval, config, 200, tmp_path)
    replay = load_replay(path)
    actions = replay.cars[0].actions.copy()
    actions[10] = 2 if actions[10] != 2 else 0
    changed = dataclasses.replace(replay, cars=(dataclasses.replace(replay.cars[0], actions=actions), replay.cars[1]))
    player = ReplayPlayer(changed, replay_track(replay, None, replay.physics))
    assert player.play_to_end() is False
    assert state_sha256(player.world) != replay.final_sha256


def test_the_shipped_fixture_replays_and_matches(run_cli) -> None:
    result = run_cli("replay", FIXTURES / "oval_race.replay", "--check")
    assert result.code == 0, result.err
    assert "race on Oval, 2 car(s) (autopilot, driver), 648 steps" in result.out
    assert "final state matches the saved one" in result.out


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("truncated.replay", "truncated.replay: final: missing (the file is incomplete or truncated)"),
        ("wrong_version.replay", "wrong_version.replay: version: replay version 7 is not supported"),
    ],
)
def test_broken_replay_files_are_refused_with_one_line(run_cli, fixture: str, message: str) -> None:
    result = run_cli("replay", FIXTURES / fixture, "--check")
    assert result.code == 2
    assert result.err.startswith("neurocar: error: ") and message in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_a_file_that_is_not_a_replay_is_refused(run_cli) -> None:
    result = run_cli("replay", TRACKS_DIR / "oval.yaml", "--check")
    assert result.code == 2 and "not a NeuroCar replay file (no 'format: neurocar-replay')" in result.err


def test_other_physics_are_refused(run_cli) -> None:
    result = run_cli("replay", FIXTURES / "oval_race.replay", "--check", "--set", "physics.cruise_speed_mps=12")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "was driven with other physics: physics.cruise_speed_mps is 12.0, the replay has 15.0" in result.err


def test_a_changed_track_file_is_refused(run_cli, tmp_path: Path) -> None:
    track_file = tmp_path / "mine.yaml"
    shutil.copy(TRACKS_DIR / "oval.yaml", track_file)
    replay_file = tmp_path / "mine.replay"
    result = run_cli("evaluate", "--model", SHIPPED_DRIVER, "--track", track_file, "--replay-out", replay_file)
    assert result.code == 0, result.err
    assert run_cli("replay", replay_file, "--check").code == 0
    track_file.write_text(track_file.read_text().replace("width_m: 14", "width_m: 13"))
    result = run_cli("replay", replay_file, "--check")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "was driven on another version of the track 'Oval' than" in result.err
    assert "a replay plays only on its own track" in result.err
    # Another track given on purpose is refused the same way.
    result = run_cli("replay", FIXTURES / "oval_race.replay", "--check", "--track", "classic")
    assert result.code == 2 and "another version of the track 'Oval'" in result.err


def test_evaluate_replay_has_the_evaluated_lap_times(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "eval.replay"
    result = run_cli(
        "evaluate", "--model", SHIPPED_DRIVER, "--track", "oval", "--laps", "2", "--replay-out", out, "--json"
    )
    assert result.code == 0, result.err
    assert "replay saved to" in result.err  # stdout holds only the JSON
    evaluated = json.loads(result.out)["tracks"][0]["lap_times_s"]
    replay = load_replay(out)
    player = ReplayPlayer(replay, replay_track(replay, None, replay.physics))
    assert player.play_to_end()
    assert len(evaluated) == 2
    assert [round(lap, 3) for lap in player.world.lap_times(0)] == evaluated
    refused = run_cli("evaluate", "--model", SHIPPED_DRIVER, "--track", "oval", "--replay-out", out)
    assert refused.code == 2 and "exists; choose another file name (or add --force to replace it)" in refused.err
    several = run_cli(
        "evaluate", "--model", SHIPPED_DRIVER, "--track", "oval", "--track", "kidney", "--replay-out", tmp_path / "x"
    )
    assert several.code == 2 and "--replay-out saves the drive on one track; 2 tracks were given" in several.err
    forced = run_cli("evaluate", "--model", SHIPPED_DRIVER, "--track", "oval", "--replay-out", out, "--force")
    assert forced.code == 0 and load_replay(out).laps == 1


def test_drive_and_watch_save_replays_that_play_back(run_cli, tmp_path: Path) -> None:
    drive_file = tmp_path / "drive.replay"
    result = run_cli("drive", "--autopilot", "--track", "oval", "--frames", "150", "--replay-out", drive_file)
    assert result.code == 0, result.err
    assert "replay saved to" in result.out and "(150 steps, 7.5 s)" in result.out
    replay = load_replay(drive_file)
    assert replay.kind == "drive" and replay.cars[0].driver == "autopilot" and replay.steps == 150
    assert run_cli("replay", drive_file, "--check").code == 0

    watch_file = tmp_path / "watch.replay"
    result = run_cli(
        "watch", "--track", "oval", "--laps", "1", "--speed", "max", "--frames", "40", "--replay-out", watch_file
    )
    assert result.code == 0, result.err
    replay = load_replay(watch_file)
    assert replay.kind == "watch" and replay.laps == 1 and replay.steps > 0
    checked = run_cli("replay", watch_file, "--check")
    assert checked.code == 0 and "final state matches" in checked.out


def test_replay_window_plays_to_the_end_and_says_it_matches(run_cli, tmp_path: Path) -> None:
    picture = tmp_path / "replay.png"
    result = run_cli(
        "replay", FIXTURES / "oval_race.replay", "--speed", "max", "--frames", "60", "--screenshot", picture
    )
    assert result.code == 0, result.err
    assert "replay on Oval, 1 lap(s): finishing order" in result.out
    assert " 1. autopilot  finished in 31.68s" in result.out
    assert "final state matches the saved one" in result.out
    assert picture.exists()


def test_replay_out_refuses_an_existing_file_before_the_window_opens(run_cli, tmp_path: Path) -> None:
    existing = tmp_path / "kept.replay"
    existing.write_text("precious")
    for command in (["drive"], ["watch"], ["race", "--autopilot"]):
        result = run_cli(*command, "--frames", "1", "--replay-out", existing)
        assert result.code == 2 and "kept.replay: exists" in result.err
    assert existing.read_text() == "precious"


def test_save_never_replaces_a_file_that_appeared_meanwhile(oval: Track, config: Config, tmp_path: Path) -> None:
    world = World(oval, config.physics, config.sensors, config.episode, population=1)
    recorder = ReplayRecorder("drive", oval, config.physics, config.sensors, config.episode, ["me"], ["person"])
    world.step(np.array([1]))
    recorder.step(np.array([1]))
    target = tmp_path / "a.replay"
    target.write_text("someone else's")
    written = save_replay(target, recorder.replay(world), force=False)
    assert written == tmp_path / "a-2.replay" and target.read_text() == "someone else's"
    assert load_replay(written).steps == 1


def test_save_refuses_when_every_free_name_is_taken(oval: Track, config: Config, tmp_path: Path) -> None:
    world = World(oval, config.physics, config.sensors, config.episode, population=1)
    recorder = ReplayRecorder("drive", oval, config.physics, config.sensors, config.episode, ["me"], ["person"])
    target = tmp_path / "a.replay"
    for path in [target, *(tmp_path / f"a-{attempt}.replay" for attempt in range(2, 1000))]:
        path.write_text("kept")
    with pytest.raises(NeuroCarError, match="a-2 to -999 exist; give another name"):
        save_replay(target, recorder.replay(world), force=False)
    assert {path.read_text() for path in tmp_path.iterdir()} == {"kept"}


def test_load_errors_name_the_field(tmp_path: Path) -> None:
    text = (FIXTURES / "oval_race.replay").read_text()
    broken = tmp_path / "b.replay"
    broken.write_text(text.replace("driver: model", "driver: robot"))
    with pytest.raises(NeuroCarError, match=r"cars\[1\]\.driver: expected one of person, model, autopilot"):
        load_replay(broken)
    broken.write_text(text.replace("steps: 648", "steps: 649"))
    with pytest.raises(NeuroCarError, match=r"cars\[0\]\.actions: holds 648 actions, expected one per step \(649\)"):
        load_replay(broken)
    broken.write_text(text.replace("name: Oval\n    description", "name: Ovalish\n    description"))
    with pytest.raises(NeuroCarError, match=r"track\.text: does not match track\.sha256"):
        load_replay(broken)


def test_a_replay_that_no_longer_reproduces_says_so(run_cli, tmp_path: Path) -> None:
    text = (FIXTURES / "oval_race.replay").read_text()
    assert "actions: 2*3 0 2" in text
    changed = tmp_path / "changed.replay"
    changed.write_text(text.replace("actions: 2*3 0 2", "actions: 0*3 0 2", 1))  # the same count, other turns
    checked = run_cli("replay", changed, "--check")
    assert checked.code == 1 and "final state DIFFERS from the saved one" in checked.out
    shown = run_cli("replay", changed, "--speed", "max", "--frames", "60")
    assert shown.code == 0 and "final state DIFFERS from the saved one" in shown.out


def test_checking_a_replay_loads_neither_torch_nor_pygame() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from neurocar.cli import main; "
        f"code = main(['replay', {str(FIXTURES / 'oval_race.replay')!r}, '--check']); "
        "print(code, 'torch' in sys.modules, 'pygame' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines()[-1] == "0 False False", result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.replace("actions: 2*3 0 2", "actions: 2*99999999999999 0 2", 1), "more than 648 actions"),
        (lambda text: text.replace("label: driver", 'label: "\\e[31mred"'), "cars[1].label: expected a name of 1"),
        (lambda text: text.replace("steps: 648", "steps: 1" + "0" * 40), "steps: expected a whole number from 0"),
        (
            lambda text: text.replace("  progress_m:\n  - ", "  progress_m:\n  - 1" + "0" * 400 + "\n  - "),
            "final.progress_m",
        ),
        (lambda text: text.replace("version: 1", "version: true"), "version: replay version True is not supported"),
        (lambda text: text + "start: {}\n", "start: only a lap file (version 2) has one"),
    ],
)
def test_damaged_replays_are_refused_with_one_line_naming_the_field(
    run_cli, tmp_path: Path, change, message: str
) -> None:
    damaged = tmp_path / "damaged.replay"
    damaged.write_text(change((FIXTURES / "oval_race.replay").read_text()))
    result = run_cli("replay", damaged, "--check")
    assert result.code == 2, result.out
    assert result.err.startswith("neurocar: error: ") and result.err.count("\n") == 1
    assert message in result.err and "\x1b" not in result.err + result.out


def test_a_pipe_is_refused_without_waiting_for_it(run_cli, tmp_path: Path) -> None:
    import os

    pipe = tmp_path / "pipe.replay"
    os.mkfifo(pipe)
    result = run_cli("replay", pipe, "--check")
    assert result.code == 2 and "is not a regular file" in result.err


def test_the_lap_fixture_drives_its_lap_again_in_its_time(run_cli) -> None:
    result = run_cli("replay", FIXTURES / "oval_lap2.lap", "--check")
    assert result.code == 0, result.err
    assert "lap 2 of autopilot (drive) on Oval in 31.68s, 634 steps" in result.out
    assert "lap driven again in 31.68s, exactly the saved time" in result.out
    lap = load_replay(FIXTURES / "oval_lap2.lap")
    assert lap.start is not None and lap.start.step == 634 and lap.start.laps == 1


def test_the_replay_window_plays_back_the_same_drive_at_any_speed(run_cli) -> None:
    """Speed only decides how many saved steps a frame plays: slow, fast and max end in the same state."""
    results = []
    for speed in ("16", "max"):
        result = run_cli("replay", FIXTURES / "oval_race.replay", "--speed", speed, "--frames", "180")
        assert result.code == 0, result.err
        assert "final state matches the saved one" in result.out, speed
        results.append([line for line in result.out.splitlines() if line.startswith((" 1.", " 2."))])
    assert results[0] == results[1]
    assert results[0][0].startswith(" 1. autopilot  finished in 31.68s")
