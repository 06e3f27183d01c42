"""`neurocar race`: the finishing order from lap events, the countdown that holds every car, a scripted person
against models in the real window (dummy video driver), the arrow keys, ghosts, and names that fit their panel."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import dataclasses
import math
from pathlib import Path

import numpy as np
import pygame
import pytest
import torch

from neurocar.config import Config
from neurocar.learn.evaluation import evaluate_network, time_for_laps
from neurocar.learn.model_file import load_model, save_model
from neurocar.learn.model_pilots import ModelPilots
from neurocar.learn.policy import build_network
from neurocar.paths import SHIPPED_DRIVER
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.car import STEER_LEFT, STRAIGHT
from neurocar.sim.race import Race, finishing_order, standings_lines
from neurocar.sim.replay import ReplayPlayer, ReplayRecorder, load_replay, replay_track
from neurocar.sim.track import Track
from neurocar.sim.world import LapEvent, World
from neurocar.ui import theme
from neurocar.ui.ghosts import GhostCars
from neurocar.ui.race_app import RaceApp
from neurocar.ui.standings_view import RaceEntry, draw_standings, fit_text
from neurocar.ui.theme import TextCache

FIXTURES = Path(__file__).parent / "fixtures" / "replays"


def test_finishing_order_from_lap_events() -> None:
    events = [
        LapEvent(car=2, lap=1, time_s=30.0, lap_time_s=30.0),
        LapEvent(car=0, lap=1, time_s=31.0, lap_time_s=31.0),
        LapEvent(car=1, lap=1, time_s=29.0, lap_time_s=29.0),
        LapEvent(car=0, lap=2, time_s=60.5, lap_time_s=29.5),
        LapEvent(car=2, lap=2, time_s=60.2, lap_time_s=30.2),
        LapEvent(car=3, lap=1, time_s=40.0, lap_time_s=40.0),
    ]
    progress = np.array([200.0, 150.0, 200.0, 120.0, 20.0])
    crashed = np.array([False, True, False, False, False])
    stalled = np.array([False, False, False, True, False])
    driving = np.array([False, False, False, False, True])
    standings = finishing_order(events, 2, progress, crashed, stalled, driving)
    # Car 2 finished first (60.2 s), then car 0 (60.5 s); car 1 led lap one but crashed in lap two; car 3 has one
    # lap too but less progress; car 4 is still on its first lap.
    assert [standing.car for standing in standings] == [2, 0, 1, 3, 4]
    assert [standing.status for standing in standings] == ["finished", "finished", "crashed", "stalled", "driving"]
    assert standings[0].finish_time_s == 60.2 and standings[0].lap_times_s == (30.0, 30.2)
    assert [standing.place for standing in standings] == [1, 2, 3, 4, 5]
    lines = standings_lines(standings, ["you", "a", "b", "c", "d"], 2)
    assert lines[0] == " 1. b    finished in 1:00.20  (laps: 30.00s, 30.20s)"
    assert lines[2] == " 3. a    crashed after 1/2 laps, 150 m  (laps: 29.00s)"


def straight_race(track: Track, config: Config, population: int, laps: int = 1) -> Race:
    episode = dataclasses.replace(config.episode, max_seconds=time_for_laps(track, config.physics, laps))
    world = World(track, config.physics, config.sensors, episode, population=population)
    return Race(world, laps, lambda current: np.full(current.population, STRAIGHT))


def test_the_countdown_holds_every_car_until_go(oval: Track, config: Config) -> None:
    race = straight_race(oval, config, 3)
    start = race.world.state.positions.copy()
    assert race.countdown_steps == round(3.0 / config.physics.dt_s)
    labels = []
    for _ in range(race.countdown_steps):
        assert race.counting_down
        labels.append(race.countdown_label)
        race.tick()
        assert race.world.steps == 0 and np.array_equal(race.world.state.positions, start)
    assert labels[0] == "3" and labels[-1] == "1" and set(labels) == {"3", "2", "1"}
    assert race.countdown_label == "GO!"
    race.tick()
    assert race.world.steps == 1 and not np.array_equal(race.world.state.positions, start)
    race.restart()
    assert race.counting_down and race.world.steps == 0 and np.array_equal(race.world.state.positions, start)


def random_model(path: Path, config: Config, seed: int):
    torch.manual_seed(seed)  # test-only weights
    save_model(path, build_network(3, (6,), "sigmoid"), config, {"method": "test"})
    return load_model(path)


def test_the_autopilot_races_models_and_the_order_follows_the_lap_events(
    oval: Track, config: Config, tmp_path: Path
) -> None:
    """A scripted person (the autopilot) against the shipped driver and a random network, in the window."""
    models = [load_model(SHIPPED_DRIVER), random_model(tmp_path / "random.pt", config, 3)]
    episode = dataclasses.replace(config.episode, max_seconds=time_for_laps(oval, config.physics, 1))
    world = World(oval, config.physics, config.sensors, episode, population=3)
    recorder = ReplayRecorder(
        "race",
        oval,
        config.physics,
        config.sensors,
        episode,
        ["you", "driver", "random"],
        ["autopilot", "model", "model"],
        1,
    )
    race = Race(world, 1, recorder=recorder)
    entries = [
        RaceEntry("you", (255, 196, 64), "autopilot"),
        RaceEntry("driver", (64, 200, 226), "model"),
        RaceEntry("random", (236, 96, 236), "model"),
    ]
    app = RaceApp(
        config,
        oval,
        race,
        entries,
        person=0,
        autopilot=Autopilot(oval, config.physics),
        pilots=ModelPilots(models).actions,
        speed=math.inf,
        max_frames=400,
    )
    seen: dict[str, object] = {}

    def before(current: RaceApp) -> None:
        if current.race.done and "over" not in seen:
            seen["over"] = current.frame_count
        elif "over" in seen and current.frame_count > int(seen["over"]) + 1:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.before_frame = before
    assert app.run() == 0
    assert race.done and app.results_printed
    standings = race.standings()
    finished = sorted(
        (event.time_s, event.car) for event in world.state.lap_events if event.lap == 1
    )  # who crossed the line for the last lap, in time order
    assert [standing.car for standing in standings[: len(finished)]] == [car for _time, car in finished]
    assert {standing.car for standing in standings if standing.status == "finished"} >= {0, 1}
    random_standing = next(standing for standing in standings if standing.car == 2)
    assert random_standing.status in ("crashed", "stalled") and random_standing.place == 3
    # The replay of the race plays back to the same end.
    replay = recorder.replay(world)
    player = ReplayPlayer(replay, oval)
    assert player.play_to_end()


def test_race_command_prints_the_order_and_saves_a_replay(run_cli, tmp_path: Path, config, oval) -> None:
    out = tmp_path / "race.replay"
    result = run_cli(
        "race", "--autopilot", "--name", "Ada", "--track", "oval", "--laps", "1", "--speed", "max",
        "--frames", "80", "--replay-out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "race on Oval, 1 lap(s): finishing order" in result.out
    assert " 1. Ada     finished in 31.68s" in result.out
    driver_lap = evaluate_network(load_model(SHIPPED_DRIVER).network, config, oval, 1).lap_times_s[0]
    assert f" 2. driver  finished in {driver_lap:.2f}s" in result.out  # as fast as it drives alone
    replay = load_replay(out)
    assert [car.label for car in replay.cars] == ["Ada", "driver"]
    assert [car.driver for car in replay.cars] == ["autopilot", "model"]


def make_key_race(track: Track, config: Config, **options) -> RaceApp:
    race = straight_race(track, config, 1, laps=1)
    race.choose = None
    return RaceApp(config, track, race, [RaceEntry("you", (255, 196, 64), "person")], person=0, **options)


def key_event(kind: int, key: int) -> pygame.event.Event:
    return pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0)


def test_the_arrow_keys_steer_your_car_after_the_countdown(oval: Track, config: Config) -> None:
    app = make_key_race(oval, config)
    app.race.recorder = ReplayRecorder(
        "race", oval, config.physics, config.sensors, app.race.world.episode, ["you"], ["person"], 1
    )
    app.open_window()
    try:
        pygame.event.post(key_event(pygame.KEYDOWN, pygame.K_LEFT))
        app.handle_events()
        start = float(app.race.world.state.headings[0])
        for _ in range(app.race.countdown_steps):
            app.tick()
        assert app.race.world.steps == 0 and float(app.race.world.state.headings[0]) == start  # held at the line
        for _ in range(4):
            app.tick()
        assert float(app.race.world.state.headings[0]) > start  # left: anticlockwise
        pygame.event.post(key_event(pygame.KEYUP, pygame.K_LEFT))
        app.handle_events()
        turned = float(app.race.world.state.headings[0])
        for _ in range(5):
            app.tick()
        assert float(app.race.world.state.headings[0]) == turned  # no key: straight on
        actions = np.stack(app.race.recorder._actions)[:, 0].tolist()
        assert actions == [STEER_LEFT] * 4 + [STRAIGHT] * 5
        pygame.event.post(key_event(pygame.KEYDOWN, pygame.K_r))
        app.handle_events()
        assert app.race.counting_down and app.race.world.steps == 0 and app.race.recorder.steps == 0
    finally:
        app.close_window()


def view_pixels(app: RaceApp) -> np.ndarray:
    assert app.screen is not None
    app.draw()
    return pygame.surfarray.array3d(app.screen.subsurface(app.view_rect)).copy()


def test_the_window_shows_the_countdown_then_moving_cars_then_the_result(oval: Track, config: Config) -> None:
    app = make_key_race(oval, config)
    app.open_window()
    try:
        countdown = view_pixels(app)
        for _ in range(app.race.countdown_steps + 60):
            app.tick()
        racing = view_pixels(app)
        while not app.race.done:
            app.tick()
        over = view_pixels(app)
    finally:
        app.close_window()
    centre = np.array(countdown.shape[:2]) // 2
    accent = np.array(theme.ACCENT)
    near_centre = countdown[centre[0] - 60 : centre[0] + 60, centre[1] - 60 : centre[1] + 60]
    assert (np.abs(near_centre - accent).sum(axis=2) < 30).any()  # the big "3" in the accent colour
    assert not (
        np.abs(racing[centre[0] - 60 : centre[0] + 60, centre[1] - 60 : centre[1] + 60] - accent).sum(axis=2) < 30
    ).any()
    assert app.race.standings()[0].status in ("crashed", "stalled", "out of time")  # straight on: into a wall
    assert not np.array_equal(racing, over)
    assert "You crashed: 1st of 1" in app.result_lines()


def test_a_ghost_drives_its_saved_drive_beside_you(oval: Track, config: Config) -> None:
    replay = load_replay(FIXTURES / "oval_race.replay")
    track = replay_track(replay, None, replay.physics)
    reference = ReplayPlayer(replay, track)
    ghosts = GhostCars([ReplayPlayer(replay, track)])
    assert ghosts.cars == [0]  # the winner of the saved race: the autopilot
    race = straight_race(track, config, 1)
    app = RaceApp(config, track, race, [RaceEntry("you", (255, 196, 64), "person")], person=0, ghosts=ghosts)
    race.countdown_left = 0
    for _ in range(50):
        app.tick()
        reference.step()
    assert np.array_equal(ghosts.players[0].world.state.positions, reference.world.state.positions)
    assert race.world.steps == 50


def test_a_ghost_from_another_track_or_physics_is_refused(run_cli) -> None:
    result = run_cli("race", "--ghost", FIXTURES / "oval_race.replay", "--track", "classic", "--frames", "1")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "was driven on the track 'Oval', not on the track of this race 'Classic'" in result.err
    result = run_cli(
        "race", "--ghost", FIXTURES / "oval_race.replay", "--track", "oval", "--set", "physics.turn_rate_deg_per_s=90"
    )
    assert result.code == 2 and "was driven with other physics" in result.err


def test_race_with_ghost_only_runs_in_the_window(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "race", "--autopilot", "--ghost", FIXTURES / "oval_race.replay", "--laps", "1", "--speed", "max",
        "--frames", "80", "--screenshot", tmp_path / "ghost.png",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert " 1. autopilot  finished in 31.68s" in result.out and (tmp_path / "ghost.png").exists()


@pytest.mark.parametrize("width", [120, 260])
def test_long_names_stay_inside_their_panel(width: int) -> None:
    pygame.font.init()
    texts = TextCache()
    name = "a very long model file name that goes on and on " * 2
    fitted = fit_text(texts, name, 20, width)
    assert fitted.endswith("…") and texts.font(20).size(fitted)[0] <= width
    both_ends = fit_text(texts, name + "number 10", 20, width, keep_end=True)
    assert both_ends.startswith("a v") and both_ends.endswith("number 10") and "…" in both_ends
    assert texts.font(20).size(both_ends)[0] <= width
    surface = pygame.Surface((600, 200))
    surface.fill((0, 0, 0))
    rect = pygame.Rect(10, 10, width + 120, 180)
    standings = finishing_order([], 1, np.zeros(2), np.zeros(2, bool), np.zeros(2, bool), np.ones(2, bool))
    draw_standings(surface, rect, texts, standings, [RaceEntry(name, (255, 0, 0), "person")] * 2, 1, "Order " + name)
    pixels = pygame.surfarray.array3d(surface)
    outside = pixels.copy()
    outside[rect.left : rect.right, rect.top : rect.bottom] = 0
    assert not outside.any()  # nothing drawn outside the panel
    assert pixels[rect.left : rect.right, rect.top : rect.bottom].any()


def test_drive_steps_a_ghost_with_every_step_and_shows_the_gap(config: Config) -> None:
    from neurocar.ui.drive_app import DriveApp

    replay = load_replay(FIXTURES / "oval_race.replay")
    track = replay_track(replay, None, replay.physics)
    player = ReplayPlayer(replay, track)
    app = DriveApp(config, track, autopilot=True, max_frames=80, ghosts=[player])
    assert app.run() == 0
    assert player.step_index == app.driven_steps == 80
    rows = dict(app.hud_rows()[1])
    gap = float(app.world.state.progress_m[0]) - float(player.world.state.progress_m[app.ghosts.cars[0]])
    assert rows["Ahead of ghost"] == f"{gap:+.0f} m"


def test_sigterm_during_a_race_still_saves_the_replay(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "stopped.replay"
    environment = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen(
        [sys.executable, "-m", "neurocar", "race", "--autopilot", "--track", "oval", "--speed", "max",
         "--replay-out", str(out)],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()  # printed when the window opens
    assert first.startswith("race on Oval: 2 cars, 3 lap(s)"), first + process.stderr.read()
    time.sleep(1.0)  # let it race (at max speed a few hundred steps, at least one)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr  # 128 + SIGTERM
    assert "replay saved to" in stdout and out.exists()
    assert load_replay(out).steps > 0


def test_cars_drive_through_each_other(oval: Track, config: Config) -> None:
    """Two copies of one model share every position, step after step, and both finish: no car-to-car contact."""
    pilots = ModelPilots([load_model(SHIPPED_DRIVER)] * 2)
    race = straight_race(oval, config, 2)
    race.choose = lambda world: pilots.actions(world.observations)
    race.countdown_left = 0
    while not race.done:
        race.tick()
        assert np.array_equal(race.world.state.positions[0], race.world.state.positions[1])
    assert [standing.status for standing in race.standings()] == ["finished", "finished"]


def test_the_help_lists_the_keys_each_race_window_has(oval: Track, config: Config) -> None:
    person = make_key_race(oval, config)
    keys = dict(person.help_keys())
    assert keys["Left / Right"].startswith("steer your car") and "countdown" in keys["R"]
    assert "back to yours" in keys["Click"] and "network" not in keys["Click"]
    replay = load_replay(FIXTURES / "oval_race.replay")
    from neurocar.ui.race_app import PlayedReplay

    track = replay_track(replay, None, replay.physics)
    played = RaceApp(config, track, PlayedReplay(ReplayPlayer(replay, track)), [RaceEntry("a", (1, 2, 3), "model")] * 2)
    keys = dict(played.help_keys())
    assert "Left / Right" not in keys and keys["R"] == "play again from the start"


def test_a_restart_that_drives_nothing_keeps_the_race_before_it(oval: Track, config: Config) -> None:
    race = straight_race(oval, config, 1)
    episode = race.world.episode
    race.recorder = ReplayRecorder("race", oval, config.physics, config.sensors, episode, ["you"], ["person"], 1)
    while race.tick():
        pass
    driven = race.world.steps
    assert driven > 0 and race.done
    race.restart()  # R, then the window is closed during the countdown
    replay = race.recorder.latest(race.world)
    assert replay is not None and replay.steps == driven
    assert ReplayPlayer(replay, oval).play_to_end()
    race.countdown_left = 0
    race.tick()  # racing again: the new drive is the one to keep
    assert race.recorder.latest(race.world).steps == 1
