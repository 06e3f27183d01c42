"""The window shell: every window's help is its bindings, each binding does what its help line says, notices stay in
their strip, and text stays in its box at 1280x800 and 800x600 (SDL's dummy driver, no screen needed)."""

from __future__ import annotations

import dataclasses
import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest

from neurocar.config import Config, load_config
from neurocar.learn.evaluation import time_for_laps
from neurocar.learn.model_file import load_model
from neurocar.paths import SHIPPED_DRIVER
from neurocar.sim.car import STRAIGHT
from neurocar.sim.race import Race
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui.drive_app import DriveApp, last_checkpoint_progress
from neurocar.ui.help_overlay import HelpOverlay
from neurocar.ui.hud import Hud
from neurocar.ui.notices import NOTICE_SECONDS, Notices
from neurocar.ui.pacing import MAX_SPEED_SLICE_LIMIT_SECONDS, MAX_SPEED_SLICE_SECONDS, Pacer
from neurocar.ui.race_app import RaceApp
from neurocar.ui.reinforcement_app import ReinforcementApp
from neurocar.ui.shell import HEADER_TEXT_SIZE, ShellLayout, WindowClosed, WindowShell, scaled
from neurocar.ui.sim_app import SimApp
from neurocar.ui.standings_view import RaceEntry
from neurocar.ui.text_layout import text_width
from neurocar.ui.theme import TextCache
from neurocar.ui.watch_app import WatchApp

LONG_NAME = "The Long and Winding Circuit of the Northern Hills, Version2"
SIZES = [(1280, 800), (800, 600)]


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)


def small(config: Config, size: tuple[int, int] = (1280, 800)) -> Config:
    window = dataclasses.replace(config.window, width=size[0], height=size[1])
    evolution = dataclasses.replace(config.evolution, population=6, elite=1)
    return dataclasses.replace(config, window=window, evolution=evolution)


def long_named(track: Track) -> Track:
    return dataclasses.replace(track, name=LONG_NAME)


def race_app(track: Track, config: Config, person: bool) -> RaceApp:
    episode = dataclasses.replace(config.episode, max_seconds=time_for_laps(track, config.physics, 1))
    world = World(track, config.physics, config.sensors, episode, population=2)
    race = Race(world, 1, lambda current: np.full(current.population, STRAIGHT))
    entries = [RaceEntry("you", (255, 196, 64), "person"), RaceEntry("model", (64, 200, 226), "model")]
    return RaceApp(config, track, race, entries, person=0 if person else None)


def windows(config: Config, track: Track) -> dict[str, object]:
    model = load_model(SHIPPED_DRIVER)
    return {
        "sim": SimApp(config, track, seed=0),
        "rl": ReinforcementApp(config, track, seed=0),
        "watch": WatchApp(config, track, [model], 1),
        "drive": DriveApp(config, track),
        "drive with a model": DriveApp(config, track, model=model),
        "race": race_app(track, config, person=True),
        "replay": race_app(track, config, person=False),
    }


EXPECTED_KEYS = {
    "sim": ["Space", "+ / -", "F", "T", "R", "N", "S", "Click", "H or F1", "Esc"],
    "rl": ["Space", "+ / -", "F", "T", "R", "S", "Click", "H or F1", "Esc"],
    "watch": ["Space", "+ / -", "F", "T", "R", "Click", "H or F1", "Esc"],
    "drive": ["Left / Right", "R", "Backspace", "Space", "+ / -", "F", "H or F1", "Esc"],
    "drive with a model": ["Left / Right", "R", "Backspace", "Space", "+ / -", "F", "H or F1", "Esc"],
    "race": ["Left / Right", "R", "Space", "+ / -", "F", "T", "Click", "H or F1", "Esc"],
    "replay": ["R", "Space", "+ / -", "F", "T", "Click", "H or F1", "Esc"],
}


def test_each_window_helps_with_exactly_the_keys_it_binds(config: Config, oval: Track) -> None:
    for name, app in windows(small(config), oval).items():
        listed = [label for label, _text in app.help_keys()]
        assert listed == EXPECTED_KEYS[name], name
        bound = [binding.label for binding in app.shell.bindings if binding.label]
        assert bound == listed, name
        texts = dict(app.help_keys())
        assert all(texts.values()), name
    drive = windows(small(config), oval)["drive"]
    assert "T" not in dict(drive.help_keys()) and "Click" not in dict(drive.help_keys())
    assert (
        "takes over from the model"
        in dict(windows(small(config), oval)["drive with a model"].help_keys())["Left / Right"]
    )


def test_the_speed_and_help_bindings_change_what_they_say(config: Config, oval: Track) -> None:
    for name, app in windows(small(config), oval).items():
        shell, pacer = app.shell, app.pacer
        assert shell.press(pygame.K_SPACE) and pacer.paused, name
        assert shell.notices.current()[-1] == "paused"
        shell.press(pygame.K_SPACE)
        assert not pacer.paused and shell.notices.current()[-1] == "running"
        shell.press(pygame.K_PLUS)
        assert pacer.multiplier == 2.0 and shell.notices.current()[-1] == "speed 2x"
        shell.press(pygame.K_MINUS)
        shell.press(pygame.K_KP_MINUS)
        assert pacer.multiplier == 0.5
        shell.press(pygame.K_f)
        assert math.isinf(pacer.multiplier) and pacer.label() == "max"
        shell.press(pygame.K_f)
        assert pacer.multiplier == 0.5
        shell.press(pygame.K_F1)
        assert shell.show_help
        shell.press(pygame.K_h)
        assert not shell.show_help
        assert not shell.press(pygame.K_q)  # an unbound key does nothing
        with pytest.raises(WindowClosed):
            shell.press(pygame.K_ESCAPE)
        assert shell.closed


def test_the_windows_own_keys_do_what_their_help_says(config: Config, oval: Track, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    apps = windows(small(config), oval)

    sim = apps["sim"]
    sim.shell.press(pygame.K_t)
    assert sim.rays_all and sim.notices.current()[-1] == "rays: all cars"
    sim.shell.press(pygame.K_r)
    assert sim.pending_track is oval
    sim.shell.press(pygame.K_n)
    assert sim.pending_track is not oval and sim.pending_track.name != oval.name
    sim.shell.press(pygame.K_s)
    assert sim.last_saved is None and sim.notices.current()[-1].startswith("nothing to save yet")

    rl = apps["rl"]
    assert not rl.shell.press(pygame.K_n)  # PPO has no next-track key
    rl.shell.press(pygame.K_r)
    assert rl.pending_track is oval

    watch = apps["watch"]
    for _step in range(30):
        watch.step()
    watch.shell.press(pygame.K_r)
    assert watch.world.steps == 0 and watch.notices.current()[-1] == "race restarted"

    drive = apps["drive"]
    for _step in range(40):
        drive.step()
    driven = float(drive.world.state.progress_m[0])
    gate = last_checkpoint_progress(oval, driven)
    assert 0 < gate < driven
    drive.shell.press(pygame.K_r)
    assert drive.world.state.progress_m[0] == pytest.approx(gate)
    assert drive.notices.current()[-1] == f"back to the checkpoint at {gate:.0f} m"
    drive.shell.press(pygame.K_BACKSPACE)
    assert drive.notices.current()[-1] == "not recording: nothing to remove"
    assert not drive.shell.press(pygame.K_t) and not drive.rays_all  # no ray toggle in the drive window

    race = apps["race"]
    for _step in range(10):
        race.tick()
    race.shell.press(pygame.K_r)
    assert race.race.world.steps == 0 and race.notices.current()[-1] == "race restarted"


def test_the_steering_keys_are_held_not_pressed(config: Config, oval: Track) -> None:
    drive = windows(small(config), oval)["drive"]
    pygame.display.init()
    try:
        pygame.event.clear()
        pygame.event.post(key(pygame.K_LEFT))
        drive.shell.handle_events()
        assert drive.steering.pressing
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_LEFT, mod=0, unicode="", scancode=0))
        drive.shell.handle_events()
        assert not drive.steering.pressing
    finally:
        pygame.display.quit()


@pytest.mark.parametrize("size", SIZES)
def test_the_track_is_fitted_clear_of_the_header_and_the_notices(config: Config, classic: Track, size) -> None:
    app = SimApp(small(config, size), long_named(classic), seed=0, max_frames=2)
    app.open_window()
    try:
        layout = app.shell.layout
        walls = np.concatenate([classic.left_wall, classic.right_wall])
        points = app.scene.camera.to_screen(walls)
        stage = layout.stage_rect
        assert points[:, 1].min() >= stage.top and points[:, 1].max() <= stage.bottom
        assert points[:, 0].min() >= stage.left and points[:, 0].max() <= stage.right
        assert not stage.colliderect(layout.notice_rect) and not stage.colliderect(layout.header_rect)
        assert layout.panel_rect.right == size[0] and layout.view_rect.right == layout.panel_rect.left
    finally:
        app.close_window()


def test_the_panel_and_text_scale_with_the_window() -> None:
    reference, small_window, large = (ShellLayout.for_size(size) for size in [(1280, 800), (800, 600), (1920, 1200)])
    assert reference.scale == 1.0 and small_window.scale < 1.0 < large.scale
    assert small_window.panel_rect.width < reference.panel_rect.width < large.panel_rect.width
    assert ShellLayout.for_size((1280, 800), panel=False).panel_rect.width == 0


@pytest.fixture
def texts() -> TextCache:
    pygame.font.init()
    return TextCache()


def drawn_outside(surface: pygame.Surface, rect: pygame.Rect) -> bool:
    pixels = pygame.surfarray.array3d(surface).copy()
    pixels[rect.left : rect.right, rect.top : rect.bottom] = 0
    return bool(pixels.any())


@pytest.mark.parametrize("scale", [0.75, 1.0])
def test_notices_wrap_inside_their_strip_newest_lowest(texts: TextCache, scale: float) -> None:
    now = [0.0]
    notices = Notices(texts, clock=lambda: now[0])
    surface = pygame.Surface((700, 300))
    strip = pygame.Rect(20, 200, 400, 80)
    notices.show("speed 2x")
    notices.show(f"not saved: {LONG_NAME} cannot be written, the folder is read-only")
    assert notices.draw(surface, strip, scale) == [strip]
    assert not drawn_outside(surface, strip)
    pixels = pygame.surfarray.array3d(surface)
    assert pixels[strip.left : strip.right, strip.bottom - 40 : strip.bottom].any()
    notices.show("speed 2x")  # shown again: renewed, not stacked twice
    assert notices.current().count("speed 2x") == 1 and notices.current()[-1] == "speed 2x"
    now[0] += NOTICE_SECONDS + 0.1
    surface.fill((0, 0, 0))
    assert notices.draw(surface, strip, scale) == [strip]  # the strip is cleared once after the last notice
    assert notices.draw(surface, strip, scale) == [] and notices.current() == []


@pytest.mark.parametrize("width", [250, 380])
def test_the_hud_elides_a_long_name_inside_its_box(texts: TextCache, width: int) -> None:
    surface = pygame.Surface((800, 400))
    rect = pygame.Rect(10, 10, width, Hud(texts).height(3))
    rows = [("Track", LONG_NAME), ("Mean fitness (last gen)", "-"), ("Generation", "12")]
    Hud(texts).draw(surface, rect, "Evolution", rows, None, 1.0)
    assert not drawn_outside(surface, rect)


@pytest.mark.parametrize("size", SIZES)
def test_the_help_overlay_fits_the_window(texts: TextCache, size: tuple[int, int]) -> None:
    lines = [("Space", "pause / resume")] * 18 + [("Backspace", "remove the last 3 s from the recording " * 3)]
    overlay = HelpOverlay(texts, "NeuroCar - " + LONG_NAME, lines)
    surface = pygame.Surface(size)
    overlay.draw(surface, ShellLayout.for_size(size).scale)
    pixels = pygame.surfarray.array3d(surface)
    border = np.argwhere(np.all(pixels == np.array([255, 196, 64]), axis=-1))
    assert len(border) and border[:, 0].min() >= 0 and border[:, 0].max() < size[0]
    assert border[:, 1].min() > 0 and border[:, 1].max() < size[1] - 1


def test_the_header_elides_the_track_name_before_the_help_hint(config: Config, classic: Track) -> None:
    shell = WindowShell(small(config, (800, 600)), "NeuroCar")
    shell.open("test")
    try:
        assert shell.screen is not None
        shell.screen.fill((0, 0, 0))
        header = shell.draw_header(shell.screen, LONG_NAME * 2)
        hint_width = text_width(shell.texts, "H: help", scaled(HEADER_TEXT_SIZE, shell.layout.scale))
        pixels = pygame.surfarray.array3d(shell.screen)
        gap = pixels[header.right - hint_width - 18 : header.right - hint_width - 14, header.top : header.bottom]
        assert not gap.any()  # the title stops before the hint
        assert not drawn_outside(shell.screen, header)
    finally:
        shell.close_window()


def test_the_pacer_runs_the_budget_and_at_max_speed_a_slice_of_time() -> None:
    now = [0.0]
    pacer = Pacer(0.05, 1.0, clock=lambda: now[0])
    now[0] = 0.1  # a frame of 0.1 s at 1x: two steps
    pacer.after_frame()
    steps = []
    assert pacer.run_steps(lambda: steps.append(1)) == 2 and 0 <= pacer.budget < 1
    pacer.toggle_pause()
    now[0] = 0.2
    pacer.after_frame()
    assert pacer.run_steps(lambda: steps.append(1)) == 0 and pacer.budget < 1
    pacer.toggle_pause()
    pacer.toggle_max_speed()

    def step() -> None:
        now[0] += 0.01

    assert pacer.run_steps(step) == math.ceil(MAX_SPEED_SLICE_SECONDS / 0.01)  # steps until the slice is spent
    assert pacer.run_steps(step, lambda: False) == 0  # nothing left to simulate
    assert pacer.frame_rate(60, idle=False) == 0 and pacer.frame_rate(60, idle=True) == 60
    assert pacer.frame_due() and not pacer.frame_due()  # a loop it does not own: one frame per slice
    now[0] += MAX_SPEED_SLICE_SECONDS
    assert pacer.frame_due()


def test_at_max_speed_a_slow_frame_lengthens_the_slice_so_drawing_stays_a_tenth() -> None:
    now = [0.0]
    pacer = Pacer(0.05, math.inf, clock=lambda: now[0])

    def step() -> None:
        now[0] += 0.01

    assert pacer.run_steps(step) == math.ceil(MAX_SPEED_SLICE_SECONDS / 0.01)
    now[0] += 0.005  # a quick frame keeps the shortest slice
    pacer.after_frame()
    assert pacer.slice_seconds == MAX_SPEED_SLICE_SECONDS
    pacer.run_steps(step)
    now[0] += 0.05  # a 50 ms frame: step 0.45 s, so drawing is a tenth of the time
    pacer.after_frame()
    assert math.isclose(pacer.slice_seconds, 0.45)
    assert pacer.run_steps(step) == 45
    now[0] += 2.0  # a very slow frame never keeps the window from its keys for more than the limit
    pacer.after_frame()
    assert pacer.slice_seconds == MAX_SPEED_SLICE_LIMIT_SECONDS


def test_a_learning_window_draws_its_whole_frame_at_800x600(tmp_path) -> None:
    config = load_config(None, ["evolution.population=6", "window.width=800", "window.height=600"])
    from neurocar.commands.common import load_tracks

    track = long_named(load_tracks(["classic"], config)[0])
    shot = tmp_path / "sim.png"
    app = SimApp(config, track, seed=0, max_frames=3, screenshot=shot)
    app.shell.before_frame = lambda: app.notices.show(f"track: {LONG_NAME}, a notice long enough to wrap twice")
    assert app.run() == 0
    image = pygame.image.load(str(shot))
    assert image.get_size() == (800, 600)
    pixels = pygame.surfarray.array3d(image)
    strip = app.shell.layout.notice_rect
    assert pixels[strip.left : strip.right, strip.top : strip.bottom].any()  # the notice is there, in its strip
