"""The windowed commands through `neurocar.cli.main`: --frames/--screenshot, bad input before the window opens,
closing a run with --run-dir keeps what was learned."""

from __future__ import annotations

import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame
import pytest
import torch

from neurocar.cli import main
from neurocar.commands.common import load_tracks
from neurocar.commands.windowed import _run_files
from neurocar.config import load_config
from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.model_file import load_model, save_model
from neurocar.learn.policy import build_network
from neurocar.learn.run_directory import new_run_directory
from neurocar.ui.sim_app import SimApp

QUICK = ["--set", "episode.max_seconds=3", "--population", "4"]


def write_model(path, config_overrides=(), seed=0):
    config = load_config(None, list(config_overrides))
    torch.manual_seed(seed)  # test-only weights; the library never uses the global generator
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    save_model(path, network, config, {"method": "test"})
    return path


@pytest.fixture
def no_window(monkeypatch):
    """Fail the test if a window is opened."""

    def refuse(*args, **kwargs):
        raise AssertionError("the window was opened before the input was checked")

    monkeypatch.setattr(pygame.display, "set_mode", refuse)


def test_sim_frames_and_screenshot(tmp_path):
    shot = tmp_path / "sim.png"
    assert main(["sim", "--track", "oval", *QUICK, "--frames", "4", "--screenshot", str(shot)]) == 0
    image = pygame.image.load(str(shot))
    assert image.get_size() == (1280, 800)


def test_default_command_is_sim(tmp_path):
    shot = tmp_path / "default.png"
    assert main(["--frames", "2", "--population", "3", "--screenshot", str(shot)]) == 0
    assert shot.exists()


def test_watch_frames_and_screenshot(tmp_path):
    model = write_model(tmp_path / "a.pt")
    other = write_model(tmp_path / "b.pt", seed=1)
    shot = tmp_path / "watch.png"
    code = main(
        [
            "watch",
            "--model",
            str(model),
            "--model",
            str(other),
            "--track",
            "oval",
            "--frames",
            "3",
            "--screenshot",
            str(shot),
        ]
    )
    assert code == 0
    assert pygame.image.load(str(shot)).get_size() == (1280, 800)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("neurocar: error: ")
    return err[0]


def test_bad_track_fails_before_the_window(no_window, capsys):
    assert main(["sim", "--track", "no_such_track.yaml", "--frames", "1"]) == 2
    assert "no_such_track.yaml: track file not found" in one_error_line(capsys)
    model = write_model_in_tmp()
    assert main(["watch", "--model", str(model), "--track", "no_such_track.yaml"]) == 2
    assert "no_such_track.yaml: track file not found" in one_error_line(capsys)


def write_model_in_tmp():
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    return write_model(folder / "m.pt")


def test_bad_model_fails_before_the_window(no_window, tmp_path, capsys):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a model")
    good = write_model(tmp_path / "good.pt")
    assert main(["watch", "--model", str(good), "--model", str(broken)]) == 2
    assert "broken.pt: not a NeuroCar model file" in one_error_line(capsys)
    assert main(["watch", "--model", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt: model file not found" in one_error_line(capsys)


def test_models_with_other_sensors_cannot_race_together(no_window, tmp_path, capsys):
    first = write_model(tmp_path / "three.pt")
    other = write_model(tmp_path / "wide.pt", ["sensors.range_m=60"])
    assert main(["watch", "--model", str(first), "--model", str(other)]) == 2
    line = one_error_line(capsys)
    assert "wide.pt: trained with other sensors or physics" in line and "sensors.range_m" in line


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["sim", "--population", "1"], "--population 1: must be at least 2"),
        (["sim", "--frames", "0"], "--frames 0: must be at least 1"),
        (["sim", "--screenshot", "shot.jpg"], "--screenshot shot.jpg: give a file name ending in .png"),
        (["sim", "--speed", "3"], "argument --speed: invalid choice"),
        (["sim", "--set", "physics.nope=1"], "nope"),
    ],
)
def test_bad_options_fail_before_the_window(no_window, capsys, arguments, message):
    assert main(arguments) == 2
    assert message in one_error_line(capsys)


def test_closing_the_window_keeps_best_model_and_checkpoint(tmp_path, capsys):
    config = load_config(None, ["evolution.population=4", "evolution.elite=1", "episode.max_seconds=2"])
    track = load_tracks(["oval"], config)[0]
    folder = new_run_directory(tmp_path / "run", "sim")
    app = SimApp(config, track, seed=5, run_files=_run_files(folder), speed=math.inf, max_frames=10_000)

    def close_after_two_generations(current: SimApp) -> None:
        if current.evolution.generation >= 2:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.shell.before_frame = lambda: close_after_two_generations(app)
    assert app.run() == 0
    assert app.shell.closed
    assert "window closed: best model saved" in capsys.readouterr().out
    model = load_model(folder / "best.pt")
    assert model.training["method"] == "neuroevolution"
    resumed = load_checkpoint(folder)
    assert resumed.generation == app.evolution.generation >= 2
    assert resumed.history == app.evolution.history
    log_rows = (folder / "log.csv").read_text().strip().splitlines()
    assert len(log_rows) == 1 + app.evolution.generation


def test_watch_without_a_model_shows_the_shipped_driver(monkeypatch):
    from neurocar.ui import watch_app

    shown = {}

    class FakeWatch:
        def __init__(self, config, track, models, laps, **options):
            shown.update(track=track.name, models=[model.path for model in models])

        def run(self):
            return 0

    monkeypatch.setattr(watch_app, "WatchApp", FakeWatch)
    assert main(["watch", "--track", "old_town"]) == 0
    assert shown["track"] == "Old Town"
    assert len(shown["models"]) == 1 and shown["models"][0].endswith("driver.pt")


@pytest.mark.parametrize("command", [["sim"], ["watch"], ["drive"]])
def test_one_track_windows_refuse_a_folder(no_window, capsys, tmp_path, command):
    assert main([*command, "--track", str(tmp_path), "--frames", "1"]) == 2
    assert one_error_line(capsys) == (
        f"neurocar: error: --track {tmp_path}: is a folder; this command drives one track "
        "(folders work with train evolve and evaluate)"
    )
