"""Every key of the window does what the help overlay says (events injected frame by frame, no display needed)."""

from __future__ import annotations

import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest

from neurocar.commands.common import load_tracks
from neurocar.config import load_config
from neurocar.learn.model_file import load_model
from neurocar.paths import TRACKS_DIR
from neurocar.sim.track import load_track
from neurocar.ui.app import SPEEDS
from neurocar.ui.sim_app import SimApp

KEY_NAMES = ["Space", "+ / -", "F", "T", "R", "N", "S", "Click", "H or F1", "Esc"]


def small_config(*overrides: str):
    return load_config(None, ["evolution.population=6", "evolution.elite=1", "episode.max_seconds=3", *overrides])


def make_app(track_name: str = "oval", speed: float = 4.0, max_frames: int = 40, **overrides) -> SimApp:
    config = small_config()
    track = load_tracks([track_name], config)[0]
    return SimApp(config, track, seed=0, max_frames=max_frames, speed=speed, **overrides)


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)


def drive(app: SimApp, script: dict[int, list], watch=None) -> list:
    """Run the app, posting `script[frame]` events before that frame; `watch(app)` is recorded every frame."""
    seen = []

    def before(current: SimApp) -> None:
        for event in script.get(current.shell.frame_count, []):
            pygame.event.post(event() if callable(event) else event)
        seen.append(watch(current) if watch else None)

    app.shell.before_frame = lambda: before(app)
    assert app.run() == 0
    return seen


def test_help_lists_every_key():
    app = make_app()
    listed = [name for name, _action in app.help_keys()]
    assert listed == [name for name in listed if name in KEY_NAMES]
    assert sorted(listed) == sorted(KEY_NAMES)


def test_h_and_f1_toggle_the_help_overlay():
    app = make_app(max_frames=8)
    shown = drive(app, {2: [key(pygame.K_h)], 5: [key(pygame.K_F1)]}, watch=lambda app: app.shell.show_help)
    assert shown[2] is False and shown[3] is True and shown[5] is True and shown[6] is False


def test_space_pauses_and_resumes_the_simulation():
    app = make_app(max_frames=36)
    # (generation, step): a new generation starts its drive at step 0 again.
    steps = drive(
        app,
        {6: [key(pygame.K_SPACE)], 24: [key(pygame.K_SPACE)]},
        watch=lambda app: (app.evolution.generation, app.world.steps),
    )
    assert steps[6] > steps[1]
    assert steps[8] == steps[24]  # paused: frames go on, the world does not move
    assert steps[35] > steps[24]


def test_plus_and_minus_change_the_speed_within_its_range():
    app = make_app(speed=1.0, max_frames=40)
    plus, minus = key(pygame.K_PLUS), key(pygame.K_MINUS)
    speeds = drive(
        app,
        {2: [plus], 4: [plus], 6: [minus, minus, minus], 8: [minus] * 10, 10: [key(pygame.K_EQUALS)] * 20},
        watch=lambda app: app.pacer.multiplier,
    )
    assert speeds[1] == 1.0 and speeds[3] == 2.0 and speeds[5] == 4.0 and speeds[7] == 0.5
    assert speeds[9] == SPEEDS[0] == 0.25
    assert speeds[11] == SPEEDS[-1] == 64.0
    assert app.world.physics.dt_s == small_config().physics.dt_s


def test_f_toggles_max_speed():
    app = make_app(speed=1.0, max_frames=10)
    state = drive(
        app,
        {2: [key(pygame.K_f)], 6: [key(pygame.K_f)]},
        watch=lambda app: (app.pacer.max_speed, app.hud_rows()[1][7][1]),
    )
    assert state[1] == (False, "1x")
    assert state[3] == (True, "max") and math.isinf(app_multiplier_at_max())
    assert state[7] == (False, "1x")


def app_multiplier_at_max() -> float:
    app = make_app(speed=math.inf)
    return app.pacer.multiplier


def test_t_toggles_rays_between_the_leader_and_all_cars():
    app = make_app(max_frames=8)
    rays = drive(app, {2: [key(pygame.K_t)], 4: [key(pygame.K_t)]}, watch=lambda app: app.rays_all)
    assert rays[1] is False and rays[3] is True and rays[5] is False


def test_escape_quits_at_once():
    app = make_app(max_frames=50)
    drive(app, {3: [key(pygame.K_ESCAPE)]})
    assert app.shell.closed and app.shell.frame_count == 4


def test_r_restarts_evolution_with_the_same_seed():
    app = make_app(speed=math.inf, max_frames=400)
    runs = {}

    def before(current: SimApp) -> None:
        runs.setdefault(current.runs_started, current.evolution)
        if current.runs_started == 1 and current.evolution.generation >= 2:
            pygame.event.post(key(pygame.K_r))
        if current.runs_started == 2 and current.evolution.generation >= 2:
            pygame.event.post(key(pygame.K_ESCAPE))

    app.shell.before_frame = lambda: before(app)
    app.run()
    first, second = runs[1], runs[2]
    assert second is not first and second is app.evolution
    # A fresh run with the same seed: the same generations again, from the first.
    assert second.history[:2] == first.history[:2]
    assert [row["generation"] for row in second.history][:2] == [1, 2]


def test_n_switches_to_the_next_shipped_track():
    shipped = sorted(TRACKS_DIR.glob("*.yaml"))
    names = [path.name for path in shipped]
    expected = load_track(shipped[(names.index("oval.yaml") + 1) % len(shipped)]).name
    app = make_app(max_frames=12)
    seen = drive(
        app,
        {3: [key(pygame.K_n)]},
        watch=lambda app: (app.track.name, app.evolution.tracks[0].name, pygame.display.get_caption()[0]),
    )
    assert seen[2] == ("Oval", "Oval", "NeuroCar - Oval")
    assert seen[5] == (expected, expected, f"NeuroCar - {expected}")


def test_s_saves_the_best_model_in_training_format_without_overwriting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(speed=math.inf, max_frames=400)
    saved = []

    def before(current: SimApp) -> None:
        if current.shell.frame_count == 0:
            pygame.event.post(key(pygame.K_s))  # nothing learned yet: nothing written
        elif current.evolution.generation >= 1 and len(saved) < 2:
            current.shell.press(pygame.K_s)
            saved.append((current.last_saved, current.evolution.best_vector.copy()))
        elif len(saved) == 2:
            pygame.event.post(key(pygame.K_ESCAPE))

    app.shell.before_frame = lambda: before(app)
    app.run()
    files = sorted((tmp_path / "models").glob("*.pt"))
    assert len(files) == 2 and saved[0][0] != saved[1][0]
    for path, vector in saved:
        model = load_model(tmp_path / path)
        assert model.training["method"] == "neuroevolution"
        assert model.training["track_names"] == ["Oval"]
        assert np.array_equal(model.vector.numpy(), vector)


def test_clicking_a_car_selects_it_for_the_network_view():
    app = make_app(speed=4.0, max_frames=60)
    clicked = {}

    def before(current: SimApp) -> None:
        if current.shell.frame_count == 30:
            current.pacer.paused = True
        if current.shell.frame_count == 32:
            positions, _ = current.scene.drawn_poses(current.world, current.pacer.fraction)
            car = int(np.argmin(current.world.state.progress_m))  # a car that is not the leader
            point = tuple(int(value) for value in np.round(current.scene.camera.to_screen(positions[car])))
            clicked["point"] = point
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=point))
        if current.shell.frame_count == 34:
            clicked["selected"] = current.selected
            clicked["focus"] = current.focus_car(current.world)
            positions, _ = current.scene.drawn_poses(current.world, current.pacer.fraction)
            clicked["selected_point"] = current.scene.camera.to_screen(positions[current.selected])
            corner = (current.view_rect.left + 3, current.view_rect.bottom - 3)
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=corner))
        if current.shell.frame_count == 36:
            clicked["after_background_click"] = current.selected

    app.shell.before_frame = lambda: before(app)
    app.run()
    assert clicked["selected"] is not None and clicked["focus"] == clicked["selected"]
    assert np.hypot(*(clicked["selected_point"] - np.array(clicked["point"]))) <= 1.0
    assert clicked["after_background_click"] is None


@pytest.mark.parametrize("code", [pygame.K_KP_PLUS, pygame.K_KP_MINUS])
def test_keypad_plus_and_minus_work_too(code):
    app = make_app(speed=1.0, max_frames=4)
    speeds = drive(app, {1: [key(code)]}, watch=lambda app: app.pacer.multiplier)
    assert speeds[2] == (2.0 if code == pygame.K_KP_PLUS else 0.5)


def test_resizing_the_window_refits_the_track_keeping_its_aspect_ratio():
    app = make_app(max_frames=6)
    cameras = []

    def before(current: SimApp) -> None:
        if current.shell.frame_count == 2:
            pygame.display.set_mode((700, 600), pygame.RESIZABLE)
            pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, size=(700, 600), w=700, h=600))
        cameras.append((current.scene.camera, current.view_rect.copy(), current.shell.screen.get_size()))

    app.shell.before_frame = lambda: before(app)
    app.run()
    (before_camera, before_view, before_size), (after_camera, after_view, after_size) = cameras[1], cameras[4]
    assert before_size == (1280, 800) and after_size == (700, 600)
    assert after_camera.scale < before_camera.scale
    walls = np.concatenate([app.track.left_wall, app.track.right_wall])
    for camera, view in ((before_camera, before_view), (after_camera, after_view)):
        screen = camera.to_screen(walls)
        world_span = walls.max(axis=0) - walls.min(axis=0)
        screen_span = screen.max(axis=0) - screen.min(axis=0)
        assert screen_span[0] / screen_span[1] == pytest.approx(world_span[0] / world_span[1])
        assert view.contains(pygame.Rect(*screen.min(axis=0), *screen_span))
