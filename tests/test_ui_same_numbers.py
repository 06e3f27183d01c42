"""The windowed evolution is the headless loop with one more reporter: same seed and config, same numbers."""

from __future__ import annotations

import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from neurocar.cli import main
from neurocar.commands.common import load_tracks
from neurocar.commands.windowed import _run_files
from neurocar.config import load_config
from neurocar.learn.run_directory import new_run_directory
from neurocar.ui.sim_app import SimApp

OVERRIDES = ["evolution.population=8", "evolution.elite=2", "episode.max_seconds=4"]


def test_window_at_max_speed_logs_the_same_generations_as_train_evolve(tmp_path, capsys):
    headless = tmp_path / "headless"
    sets = [item for override in OVERRIDES for item in ("--set", override)]
    code = main(
        ["train", "evolve", "--track", "oval", "--generations", "3", "--seed", "7", "--run-dir", str(headless), *sets]
    )
    assert code == 0
    capsys.readouterr()

    config = load_config(None, OVERRIDES)
    track = load_tracks(["oval"], config)[0]
    windowed = new_run_directory(tmp_path / "windowed", "sim")
    app = SimApp(config, track, seed=7, run_files=_run_files(windowed), generations=3, speed=math.inf)
    assert app.run() == 0
    assert app.evolution.generation == 3
    assert app.shell.frame_count >= 1  # the window really drew while evolving
    assert (windowed / "log.csv").read_text() == (headless / "log.csv").read_text()
    assert len(app.evolution.history) == 3
