"""A screenshot shows the track and the cars where the world says they are (camera transform, colours)."""

from __future__ import annotations

import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest
import torch

from neurocar.commands.common import load_tracks
from neurocar.config import load_config
from neurocar.learn.model_file import load_model, save_model
from neurocar.learn.policy import build_network
from neurocar.ui import theme
from neurocar.ui.app import leading_car
from neurocar.ui.camera import Camera
from neurocar.ui.sim_app import SimApp
from neurocar.ui.watch_app import WatchApp

TOLERANCE = 12  # sprites are smoothed when scaled and rotated; the middle of the roof keeps its colour


def pixel(image: pygame.Surface, point: np.ndarray) -> tuple[int, int, int]:
    x, y = (int(value) for value in np.round(point))
    return tuple(image.get_at((x, y)))[:3]


def close_to(colour, reference) -> bool:
    return all(abs(int(a) - int(b)) <= TOLERANCE for a, b in zip(colour, reference, strict=True))


def test_sim_screenshot_shows_cars_and_road_where_the_world_says(tmp_path):
    config = load_config(None, ["evolution.population=20", "evolution.elite=2", "episode.max_seconds=30"])
    track = load_tracks(["classic"], config)[0]
    shot = tmp_path / "shot.png"
    # At max speed a frame draws the world exactly as it is after the step (no interpolation).
    app = SimApp(config, track, seed=1, speed=math.inf, max_frames=3, screenshot=shot)
    assert app.run() == 0
    image = pygame.image.load(str(shot))
    world, camera = app.world, app.scene.camera
    state = world.state
    driving = np.nonzero(state.driving)[0]
    assert len(driving) > 0
    leader = leading_car(world)
    assert close_to(pixel(image, camera.to_screen(state.positions[leader])), theme.LEADER)
    car_colours = (theme.CAR, theme.LEADER)
    # How far the cars got depends on the frames' timing at max speed; a car drawn over another's centre is no
    # fault, so only cars with no other car near them are checked.
    positions = state.positions[driving]
    gaps = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=2) + np.eye(len(driving)) * 1e9
    alone = driving[gaps.min(axis=1) > config.physics.car_length_m + 1.0]
    shown = [
        any(close_to(pixel(image, camera.to_screen(state.positions[car])), colour) for colour in car_colours)
        for car in alone
    ]
    assert not shown or np.mean(shown) >= 0.8  # rotated sprites cover most centres, not quite all

    # Road: centre-line points far from every car, its rays and the start line are plain road colour.
    far_from_cars = (
        np.min(np.linalg.norm(track.centerline[:, None, :] - state.positions[None, :, :], axis=2), axis=1) > 6.0
    )
    far_from_rays = np.linalg.norm(track.centerline - state.positions[leader], axis=1) > config.sensors.range_m + 3
    arc = track.arc_m[:-1]
    off_start = (arc > 8.0) & (arc < track.length_m - 8.0)
    candidates = np.nonzero(far_from_cars & far_from_rays & off_start)[0]
    assert len(candidates) > 50
    for index in candidates[:: max(1, len(candidates) // 25)]:
        assert pixel(image, camera.to_screen(track.centerline[index])) == theme.ROAD

    # Background: a point well outside the road.
    corner = np.array([app.view_rect.left + 4, app.view_rect.bottom - 4], dtype=np.float64)
    distance = np.min(np.linalg.norm(track.centerline - camera.to_world(corner), axis=1))
    assert distance > track.width_m
    assert pixel(image, corner) == theme.BACKGROUND


def test_watch_screenshot_shows_the_model_car_in_its_colour(tmp_path):
    config = load_config()
    torch.manual_seed(3)  # test-only weights
    network = build_network(3, (6,), "sigmoid")
    save_model(tmp_path / "m.pt", network, config, {"method": "test"})
    model = load_model(tmp_path / "m.pt")
    track = load_tracks(["oval"], config)[0]
    shot = tmp_path / "watch.png"
    app = WatchApp(config, track, [model], laps=1, speed=1.0, max_frames=1, screenshot=shot)
    assert app.run() == 0
    image = pygame.image.load(str(shot))
    position = app.scene.camera.to_screen(app.world.state.positions[0])
    assert app.world.steps == 0  # the first frame at 1x comes before the first step: the car on the grid
    assert close_to(pixel(image, position), theme.MODEL_COLOURS[0])


def test_camera_keeps_the_aspect_ratio_and_round_trips():
    points = np.array([[0.0, 0.0], [200.0, 100.0]])
    camera = Camera.fit(points, (10, 20, 400, 400))
    screen = camera.to_screen(points)
    width, height = np.abs(screen[1] - screen[0])
    assert width / height == pytest.approx(2.0)
    assert np.allclose(camera.to_world(screen), points)
    assert screen[0][1] > screen[1][1]  # world y up is screen y down
    assert screen[:, 0].min() >= 10 and screen[:, 0].max() <= 410
    assert abs((screen[:, 1].min() + screen[:, 1].max()) / 2 - 220) < 1e-9  # centred vertically
