"""Best laps: kept as they are driven, saved as lap files that drive again in exactly their lap time, raced as a
ghost that starts every lap with you, and `drive --race`, the race started from the drive command."""

from __future__ import annotations

import os
import re

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.evaluation import evaluate_network, time_for_laps
from neurocar.learn.model_file import load_model
from neurocar.paths import SHIPPED_DRIVER
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.race import Race
from neurocar.sim.replay import CarStart, ReplayPlayer, load_replay, replay_text, replay_track, save_replay
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui.ghosts import GhostCars
from neurocar.ui.race_app import RaceApp
from neurocar.ui.standings_view import RaceEntry

FIXTURES = Path(__file__).parent / "fixtures" / "replays"


def drive_laps(track: Track, config: Config, steps: int, wobble_seed: int = 0) -> tuple[World, BestLapRecorder]:
    """Two autopilot cars, the second steered at random now and then (so its laps differ), watched for laps."""
    world = World(track, config.physics, config.sensors, config.episode, population=2)
    world.reset()
    best = BestLapRecorder(
        "drive", track, config.physics, config.sensors, config.episode, ["steady", "wobbly"], ["autopilot"] * 2
    )
    best.restart(world)
    autopilot = Autopilot(track, config.physics)
    rng = np.random.default_rng(wobble_seed)
    for _ in range(steps):
        state = world.state
        actions = autopilot.actions(state.positions, state.headings, state.progress_m)
        if rng.random() < 0.05:
            actions[1] = rng.integers(0, 3)
        world.step(actions)
        best.step(world, actions)
    return world, best


def test_the_fastest_lap_is_kept_and_drives_again_in_exactly_its_time(
    oval: Track, config: Config, tmp_path: Path
) -> None:
    world, best = drive_laps(oval, config, 2000)
    laps = [(event.lap_time_s, event.car, event.lap) for event in world.state.lap_events]
    assert len(laps) >= 4  # both cars lapped at least twice
    fastest_time, fastest_car, fastest_lap = min(laps)
    lap = best.best
    assert lap is not None and best.not_reproduced == 0
    assert (lap.lap_time_s, best.best_car, lap.lap_number) == (fastest_time, fastest_car, fastest_lap)
    assert lap.cars[0].label == ["steady", "wobbly"][fastest_car] and lap.population == 1
    path = tmp_path / "best.lap"
    save_replay(path, lap, force=False)
    loaded = load_replay(path)
    assert loaded.start == lap.start and loaded.lap_time_s == fastest_time  # every float read back exactly
    player = ReplayPlayer(loaded, replay_track(loaded, None, loaded.physics))
    assert player.play_to_end()
    assert player.played_lap_time_s() == fastest_time  # exactly, not approximately
    assert "version: 2" in path.read_text()


def test_a_lap_in_which_the_car_was_moved_does_not_count(oval: Track, config: Config) -> None:
    world = World(oval, config.physics, config.sensors, config.episode, population=1)
    world.reset()
    best = BestLapRecorder("drive", oval, config.physics, config.sensors, config.episode, ["me"], ["autopilot"])
    best.restart(world)
    autopilot = Autopilot(oval, config.physics)
    for step in range(1400):
        state = world.state
        actions = autopilot.actions(state.positions, state.headings, state.progress_m)
        world.step(actions)
        best.step(world, actions)
        if step == 100:  # R in the first lap: put back on the centre line where it is
            world.place(np.array([0]), state.progress_m[:1].copy())
            best.spoil(0)
    times = world.lap_times(0)
    assert len(times) == 2
    assert best.best is not None and best.best.lap_number == 2 and best.best.lap_time_s == times[1]


def test_a_car_that_stopped_holds_back_no_actions(oval: Track, config: Config) -> None:
    world, best = drive_laps(oval, config, 10)
    world.state.driving[1] = False  # the second car is out of the race; the first drives on
    world.driving_count = int(world.state.driving.sum())
    autopilot = Autopilot(oval, config.physics)
    for _ in range(3000):
        state = world.state
        actions = autopilot.actions(state.positions, state.headings, state.progress_m)
        world.step(actions)
        best.step(world, actions)
    assert len(world.lap_times(0)) >= 2 and best.best is not None and best.best_car == 0
    assert len(best._history) < 2000  # not all 3,010 steps: the stopped car's unfinished lap is let go


def test_the_replay_command_checks_a_lap_file(run_cli, oval: Track, config: Config, tmp_path: Path) -> None:
    _world, best = drive_laps(oval, config, 700)
    path = save_replay(tmp_path / "best.lap", best.best, force=False)
    result = run_cli("replay", path, "--check")
    assert result.code == 0, result.err
    assert f"lap 1 of steady (drive) on Oval in {best.best_time_s:.2f}s" in result.out
    assert "exactly the saved time" in result.out and "final state matches" in result.out
    shown = run_cli("replay", path, "--speed", "max", "--frames", "40")
    assert shown.code == 0 and f" 1. steady  finished in {best.best_time_s:.2f}s" in shown.out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.replace("version: 2", "version: 1"), "start: only a lap file (version 2) has one"),
        (lambda text: text.replace("  laps: 0\n", "  laps: -1\n"), "start.laps: expected a whole number"),
        (lambda text: text.replace("  segment: 0\n", "  segment: 99999\n"), "start.segment 99999 is past the track"),
        (lambda text: text.replace("heading_rad: 0.0", "heading_rad: .nan"), "start.heading_rad: expected a number"),
        (lambda text: text.replace("  number: 1\n", "  number: 3\n"), "lap: lap 3 in"),
        (lambda text: text.replace("position:\n  - 0.0", "position:\n  - 5000.0"), "is not on the track"),
        (lambda text: text.replace("lap:\n", "lapx:\n"), "lap: expected number"),
    ],
)
def test_broken_lap_files_are_refused_with_one_line(
    run_cli, oval: Track, config: Config, tmp_path: Path, change, message: str
) -> None:
    _world, best = drive_laps(oval, config, 700)
    text = replay_text(best.best)
    assert "  laps: 0\n" in text and "heading_rad: 0.0" in text and "position:\n  - 0.0" in text
    path = tmp_path / "broken.lap"
    path.write_text(change(text))
    result = run_cli("replay", path, "--check")
    assert result.code == 2, result.out
    assert result.err.startswith("neurocar: error: ") and result.err.count("\n") == 1
    assert message in result.err


def race_with_lap_ghost(track: Track, config: Config, lap_path: Path, laps: int = 2) -> RaceApp:
    episode = dataclasses.replace(config.episode, max_seconds=time_for_laps(track, config.physics, laps))
    world = World(track, config.physics, config.sensors, episode, population=1)
    race = Race(world, laps, countdown_s=0.0)
    lap = load_replay(lap_path)
    ghosts = GhostCars([ReplayPlayer(lap, replay_track(lap, None, lap.physics))])
    return RaceApp(
        config,
        track,
        race,
        [RaceEntry("you", (255, 196, 64), "autopilot")],
        person=0,
        autopilot=Autopilot(track, config.physics),
        ghosts=ghosts,
    )


def test_a_lap_ghost_starts_its_lap_with_each_of_yours(oval: Track, config: Config, tmp_path: Path) -> None:
    _world, best = drive_laps(oval, config, 700)
    assert best.best_car == 0 and best.best.lap_number == 1  # the steady car's first lap, from the start line
    path = save_replay(tmp_path / "best.lap", best.best, force=False)
    app = race_with_lap_ghost(oval, config, path)
    ghost = app.ghosts.players[0]
    world = app.race.world
    app.tick()
    while int(world.state.laps[0]) == 0:
        # The autopilot drives the lap the ghost drove: in the first lap they are one car.
        assert np.array_equal(ghost.world.state.positions[0], world.state.positions[0])
        lap_time = world.time_s - float(world.state.lap_start_s[0])
        assert abs(app.ghosts.lap_delta_s(float(world.state.progress_m[0]), lap_time, oval.length_m)) < 1e-9
        app.tick()
    # You crossed the line: the ghost starts its lap again, from where it began it.
    assert ghost.step_index == 0
    assert CarStart.of(ghost.world, 0) == best.best.start
    for _ in range(20):
        app.tick()
    assert ghost.step_index == 20
    gap = float(app.ghosts.gap_m(float(world.state.progress_m[0]), oval.length_m))
    assert abs(gap) < 5.0  # the same driver, one lap later: side by side
    lap_time = world.time_s - float(world.state.lap_start_s[0])
    assert abs(app.ghosts.lap_delta_s(float(world.state.progress_m[0]), lap_time, oval.length_m)) < 0.2
    app.open_window()
    try:
        rows = dict(app.hud_rows()[1])
    finally:
        app.close_window()
    assert rows["Ghost lap"] == f"{best.best_time_s:.2f}s (steady)" and rows["Ahead of ghost"].endswith(" m")
    assert rows["Lap vs ghost"].endswith((" behind", " ahead", " level"))
    assert app.ghosts.lap_delta_label(100.0, float("nan"), oval.length_m) == "-"  # you are out: no delta


def test_race_saves_the_fastest_lap_and_races_it(run_cli, tmp_path: Path) -> None:
    lap_file = tmp_path / "best.lap"
    result = run_cli(
        "race", "--autopilot", "--track", "oval", "--laps", "2", "--speed", "max", "--frames", "100",
        "--best-lap-out", lap_file,
    )  # fmt: skip
    assert result.code == 0, result.err
    laps = [float(time) for time in re.findall(r"(\d+\.\d\d)s", result.out.split("best lap saved to")[0])]
    fastest = min(laps)  # every lap time of the finishing order, of both cars
    assert "best lap saved to" in result.out and f" in {fastest:.2f}s (race it:" in result.out
    lap = load_replay(lap_file)
    assert lap.is_lap and lap.lap_time_s == pytest.approx(fastest, abs=0.005)
    saved = lap_file.read_text()
    refused = run_cli("race", "--autopilot", "--track", "oval", "--frames", "1", "--best-lap-out", lap_file)
    assert refused.code == 2 and "--best-lap-out" in refused.err and "exists" in refused.err
    assert lap_file.read_text() == saved  # untouched
    ghost = run_cli("race", "--autopilot", "--ghost", lap_file, "--speed", "max", "--frames", "100")
    assert ghost.code == 0, ghost.err
    assert "race on Oval, 3 lap(s): finishing order" in ghost.out  # a lap ghost races the default laps
    other = run_cli("race", "--ghost", lap_file, "--track", "classic", "--frames", "1")
    assert other.code == 2 and other.err.count("\n") == 1 and "a ghost drives only on its own track" in other.err
    physics = run_cli("drive", "--ghost", lap_file, "--set", "physics.cruise_speed_mps=12", "--frames", "1")
    assert physics.code == 2 and physics.err.count("\n") == 1 and "was driven with other physics" in physics.err


def test_drive_keeps_your_best_lap_as_the_ghost_of_your_next_laps(oval: Track, config: Config) -> None:
    from neurocar.ui.drive_app import DriveApp

    app = DriveApp(config, oval, autopilot=True, max_frames=700)
    world = app.world
    best = BestLapRecorder("drive", oval, world.physics, world.sensors, world.episode, ["me"], ["autopilot"])
    app.keep_best_laps(best)
    assert len(app.ghosts) == 0
    assert app.run() == 0
    assert best.best is not None and best.best.lap_number == 1
    assert len(app.ghosts) == 1 and app.ghosts.laps == [True]
    ghost = app.ghosts.players[0]
    driven_since_lap = app.driven_steps - best.best.steps
    assert ghost.step_index == driven_since_lap  # it began with your second lap
    rows = dict(app.hud_rows()[1])
    assert rows["Best lap"] == f"{best.best_time_s:.2f} s" and "Ahead of ghost" in rows
    assert rows["Lap vs ghost"] == "0.00 s level"  # the autopilot drives every lap alike


def test_drive_race_is_the_race(run_cli, tmp_path: Path, config: Config, oval: Track) -> None:
    lap_file = tmp_path / "mine.lap"
    result = run_cli(
        "drive", "--race", "--autopilot", "--track", "oval", "--laps", "1", "--speed", "max", "--frames", "80",
        "--best-lap-out", lap_file,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "race on Oval, 1 lap(s): finishing order" in result.out
    driver_lap = evaluate_network(load_model(SHIPPED_DRIVER).network, config, oval, 1).lap_times_s[0]
    finishers = sorted([(31.68, "autopilot"), (round(driver_lap, 2), "driver   ")])  # the driver as fast as alone
    for place, (time_s, name) in enumerate(finishers, start=1):
        assert f" {place}. {name}  finished in {time_s:.2f}s" in result.out
    assert load_replay(lap_file).lap_time_s == pytest.approx(finishers[0][0], abs=0.005)
    several = run_cli(
        "drive", "--race", "--driver", "Ada", "--model", "driver", "--model", "driver", "--track", "oval",
        "--laps", "1", "--frames", "2",
    )  # fmt: skip
    assert several.code == 0, several.err
    assert "race on Oval: 3 cars, 1 lap(s)" in several.out and "Ada" in several.out
    assert "driver (2)" in several.out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--laps", "2"], "--laps counts the laps of a race; add --race (a drive has no end)"),
        (["--model", "driver", "--model", "driver"], "--model: one model drives the car; add --race to race several"),
        (["--autopilot", "--model", "driver"], "--autopilot and --model both drive the car: choose one"),
        (["--race", "--record", "recordings"], "--record records a drive alone; drop it with --race"),
        (["--race", "--laps", "0"], "--laps 0: must be at least 1"),
        (["--race", "--model", "missing.pt"], "--model missing.pt: model file not found"),
    ],
)
def test_bad_drive_race_input_fails_before_the_window(run_cli, arguments: list[str], message: str) -> None:
    import pygame

    result = run_cli("drive", *arguments, "--frames", "1")
    assert result.code == 2 and result.err.count("\n") == 1
    assert result.err.startswith("neurocar: error: ") and message in result.err
    assert not pygame.display.get_init()


def test_a_lap_must_start_on_its_track(oval: Track, config: Config) -> None:
    _world, best = drive_laps(oval, config, 700)
    moved = dataclasses.replace(best.best, start=dataclasses.replace(best.best.start, position=(1e6, 0.0)))
    with pytest.raises(NeuroCarError, match="is not on the track"):
        ReplayPlayer(moved, oval)
