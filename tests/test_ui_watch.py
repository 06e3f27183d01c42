"""`neurocar watch`: cars park when they have driven the laps, the race idles on its results, R races again."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import math

import pygame
import torch

from neurocar.commands.common import load_tracks
from neurocar.config import load_config
from neurocar.learn.model_file import load_model, save_model
from neurocar.learn.policy import build_network
from neurocar.ui.watch_app import WatchApp, model_names


def make_app(tmp_path, count=2, **options) -> WatchApp:
    config = load_config()
    models = []
    for index in range(count):
        torch.manual_seed(index)  # test-only weights
        save_model(tmp_path / f"m{index}.pt", build_network(3, (6,), "sigmoid"), config, {"method": "test"})
        models.append(load_model(tmp_path / f"m{index}.pt"))
    track = load_tracks(["oval"], config)[0]
    return WatchApp(config, track, models, laps=2, **options)


def test_a_car_that_drove_its_laps_is_parked_as_finished(tmp_path):
    app = make_app(tmp_path)
    app.world.state.laps[0] = 2  # as if car 0 had just crossed the line for the second time
    app.step()
    assert app.finished[0] and not app.world.state.driving[0]
    assert app.status(0)[0] == "finished"
    assert app.status(1)[0] != "finished"


def test_the_race_idles_on_its_results_and_r_restarts_it(tmp_path):
    app = make_app(tmp_path, speed=math.inf, max_frames=400)
    seen = {}

    def before(current: WatchApp) -> None:
        if current.world.done and "done_at" not in seen:
            seen["done_at"] = current.shell.frame_count
            seen["steps_when_done"] = current.world.steps
            seen["statuses"] = [current.status(car)[0] for car in range(2)]
        elif "done_at" in seen and current.shell.frame_count == seen["done_at"] + 3 and "restart" not in seen:
            seen["steps_idle"] = current.world.steps
            seen["restart"] = True
            for code in (pygame.K_SPACE, pygame.K_r):  # pause, so the restarted race is seen before it moves
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0))
        elif seen.get("restart") and current.shell.frame_count == seen["done_at"] + 4:
            seen["steps_after_restart"] = current.world.steps
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.shell.before_frame = lambda: before(app)
    assert app.run() == 0
    assert seen["steps_idle"] == seen["steps_when_done"]  # nothing moves once every car stopped
    assert all(status in ("crashed", "stalled", "out of time", "finished") for status in seen["statuses"])
    assert seen["steps_when_done"] > 0 and seen["steps_after_restart"] == 0
    assert not app.world.done
    assert app.shell.closed


def test_model_names_are_short_and_distinct():
    assert model_names(["runs/a/best.pt", "runs/b/best.pt", "models/fast.pt"]) == ["a/best", "b/best", "fast"]
