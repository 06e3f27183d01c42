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
            seen["over"] = current.shell.frame_count
        elif "over" in seen and current.shell.frame_count > int(seen["over"]) + 1:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.shell.before_frame = lambda: before(app)
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
    driver_lap = evaluate_network(load_model(SHIPPED_DRIVER).network, config, oval, 1).lap_times_s[0]
    finishers = sorted([(31.68, "Ada   "), (round(driver_lap, 2), "driver")])  # the driver as fast as alone
    for place, (time_s, name) in enumerate(finishers, start=1):
        assert f" {place}. {name}  finished in {time_s:.2f}s" in result.out
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
        app.shell.handle_events()
        start = float(app.race.world.state.headings[0])
        for _ in range(app.race.countdown_steps):
            app.tick()
        assert app.race.world.steps == 0 and float(app.race.world.state.headings[0]) == start  # held at the line
        for _ in range(4):
            app.tick()
        assert float(app.race.world.state.headings[0]) > start  # left: anticlockwise
        assert app.laps_row() == ("Your lap", "1 / 1")
        pygame.event.post(key_event(pygame.KEYUP, pygame.K_LEFT))
        app.shell.handle_events()
        turned = float(app.race.world.state.headings[0])
        for _ in range(5):
            app.tick()
        assert float(app.race.world.state.headings[0]) == turned  # no key: straight on
        actions = np.stack(app.race.recorder._actions)[:, 0].tolist()
        assert actions == [STEER_LEFT] * 4 + [STRAIGHT] * 5
        pygame.event.post(key_event(pygame.KEYDOWN, pygame.K_r))
        app.shell.handle_events()
        assert app.race.counting_down and app.race.world.steps == 0 and app.race.recorder.steps == 0
    finally:
        app.close_window()


def view_pixels(app: RaceApp) -> np.ndarray:
    assert app.shell.screen is not None
    app.draw()
    return pygame.surfarray.array3d(app.shell.screen.subsurface(app.view_rect)).copy()


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
    assert rows["Ahead of ghost"] == f"{round(gap) + 0:+d} m"


def test_sigterm_during_a_race_still_saves_the_replay(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "stopped.replay"
    lap_file = tmp_path / "stopped.lap"
    environment = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen(
        [sys.executable, "-m", "neurocar", "race", "--autopilot", "--track", "oval", "--speed", "max",
         "--replay-out", str(out), "--best-lap-out", str(lap_file)],
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
    replay = load_replay(out)
    assert replay.steps > 0
    # The best lap is saved too, if a lap was completed before the signal (the replay says whether one was).
    if any(replay.final_laps):
        assert "best lap saved to" in stdout and load_replay(lap_file).is_lap
    else:
        assert "no clean lap was completed; no best lap saved" in stdout and not lap_file.exists()


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


def lab(colour: tuple[int, int, int]) -> np.ndarray:
    """CIELAB of an sRGB colour (D65), to measure how different two colours look."""
    linear = np.array(colour, dtype=np.float64) / 255
    linear = np.where(linear > 0.04045, ((linear + 0.055) / 1.055) ** 2.4, linear / 12.92)
    matrix = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = matrix @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_ten_cars_get_colours_that_look_different() -> None:
    from neurocar.commands.race import PERSON_COLOUR, car_colours
    from neurocar.ui.ghosts import GHOST_COLOUR

    colours = car_colours(10)
    others = [PERSON_COLOUR, GHOST_COLOUR, theme.ROAD, theme.PANEL]
    for index, colour in enumerate(colours):
        for other in colours[index + 1 :]:
            assert np.linalg.norm(lab(colour) - lab(other)) >= 34, (colour, other)
        for other in others:
            assert np.linalg.norm(lab(colour) - lab(other)) >= 25, (colour, other)
    assert len(set(car_colours(16))) == 16 and car_colours(16)[:10] == colours


LONG_TRACK = "The Extraordinarily Long Classic Circuit of Northern Province"[:60]


def ten_model_race_app(track: Track, config: Config, size: tuple[int, int]) -> RaceApp:
    """You and ten models with long names, on a track with a 60-character name, in a window of `size`."""
    window = dataclasses.replace(config.window, width=size[0], height=size[1])
    sized = dataclasses.replace(config, window=window)
    named = dataclasses.replace(track, name=LONG_TRACK)
    race = straight_race(named, sized, 11)
    names = [f"a_rather_long_model_file_name_from_run_number_{index}" for index in range(1, 11)]
    from neurocar.commands.race import PERSON_COLOUR, car_colours

    entries = [RaceEntry("you", PERSON_COLOUR, "person")] + [
        RaceEntry(name, colour, "model") for name, colour in zip(names, car_colours(10), strict=True)
    ]
    return RaceApp(sized, named, race, entries, person=0)


@pytest.mark.parametrize("size", [(1280, 800), (800, 600)])
def test_ten_models_and_a_long_track_name_fit_the_race_window(oval: Track, config: Config, size) -> None:
    from neurocar.ui.standings_view import results_layout

    app = ten_model_race_app(oval, config, size)
    app.open_window()
    try:
        assert app.shell.screen.get_size() == size
        while not app.race.done:  # straight on: every car into the first bend
            app.tick()
        app.draw()
        standings = app.race.standings()
        heading = [line for line in app.result_lines() if not line.startswith("your laps")]
        layout = results_layout(app.view_rect, app.texts, standings, app.entries, app.race.laps, heading)
        rows = dict(app.hud_rows()[1])
    finally:
        app.close_window()
    assert layout.rows == 11  # every car in the finishing table over the track
    assert app.view_rect.contains(layout.box)
    assert layout.size >= (36 if size == (1280, 800) else 26)  # large type, readable across a room
    font = app.texts.font(layout.size)
    models = [(name, standing.car) for name, standing in zip(layout.names, standings, strict=True) if standing.car]
    for name, car in models:
        assert "…" in name and name.endswith(f"_{car}")  # shortened, yet each one distinct
        assert font.size(name)[0] < layout.box.width
    assert len({name for name, _car in models}) == 10
    assert rows["Track"].endswith("…") and app.texts.font(22).size(rows["Track"])[0] <= app.panel_rect.width - 110
    assert rows["Your lap"] == "crashed"  # straight on into the bend, like everyone


def test_the_results_table_is_drawn_only_inside_the_track_view() -> None:
    from neurocar.ui.standings_view import draw_results

    pygame.font.init()
    texts = TextCache()
    count = 11
    standings = finishing_order(
        [LapEvent(car, 1, 40.0 + car, 40.0 + car) for car in range(0, count, 2)],
        1,
        np.full(count, 100.0),
        np.ones(count, bool),
        np.zeros(count, bool),
        np.zeros(count, bool),
    )
    entries = [RaceEntry("n" * 80 + str(car), (200, 40, 40), "model") for car in range(count)]
    for area in (pygame.Rect(0, 0, 440, 600), pygame.Rect(0, 0, 920, 800), pygame.Rect(0, 0, 300, 200)):
        surface = pygame.Surface((area.width + 100, area.height + 100))
        surface.fill((0, 0, 0))
        box = draw_results(surface, area, texts, standings, entries, 1, ["Race over", "You finished " * 6], 0)
        assert area.contains(box)
        pixels = pygame.surfarray.array3d(surface)
        assert not pixels[area.right :].any() and not pixels[:, area.bottom :].any()
    # Too small for eleven rows even in the smallest type: the rest is summed up in the last line.
    from neurocar.ui.standings_view import results_layout

    small = results_layout(pygame.Rect(0, 0, 300, 200), texts, standings, entries, 1, ["Race over"])
    assert 0 < small.rows < count


def test_a_name_squeezed_into_a_narrow_panel_keeps_its_start_and_its_end() -> None:
    from neurocar.ui.standings_view import fit_name

    pygame.font.init()
    texts = TextCache()
    width = texts.font(20).size("evolved_se")[0]
    names = [fit_name(texts, f"evolved_seed_{number}", 20, width) for number in (1, 2, 10)]
    for name, number in zip(names, (1, 2, 10), strict=True):
        head, ellipsis, tail = name.partition("…")
        assert ellipsis and len(head) >= 3 and tail.endswith(str(number)), name
        assert texts.font(20).size(name)[0] <= width
    assert len(set(names)) == 3
    roomy = fit_name(texts, "a_rather_long_model_file_name_from_run_number_10", 20, 200)
    assert roomy.endswith("run_number_10") and roomy.startswith("a_r")  # room enough: the end stays whole
