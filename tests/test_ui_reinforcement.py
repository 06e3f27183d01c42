"""The learning window (`neurocar sim --teacher rl`): it draws, it is the same run as headless training, and closing
it keeps the best model and a checkpoint that `neurocar train rl --resume` continues."""

from __future__ import annotations

import math
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from neurocar.cli import main
from neurocar.commands.common import load_tracks
from neurocar.commands.windowed import _run_files
from neurocar.config import load_config
from neurocar.learn.model_file import load_model
from neurocar.learn.reinforcement import Reinforcement, run_reinforcement
from neurocar.learn.reinforcement_checkpoint import load_checkpoint
from neurocar.learn.run_directory import new_run_directory
from neurocar.learn.runs import RunOutcome
from neurocar.ui.reinforcement_app import ReinforcementApp

SMALL = ["reinforcement.cars=6", "reinforcement.rollout_steps=12"]


def test_sim_teacher_rl_frames_and_screenshot(tmp_path):
    shot = tmp_path / "rl.png"
    arguments = ["sim", "--teacher", "rl", "--track", "oval", "--population", "5", "--frames", "3"]
    assert main([*arguments, "--screenshot", str(shot)]) == 0
    assert pygame.image.load(str(shot)).get_size() == (1280, 800)


def test_the_window_learns_exactly_like_headless_training_and_closing_keeps_the_run(tmp_path, capsys, run_cli):
    config = load_config(None, SMALL)
    track = load_tracks(["oval"], config)[0]
    folder = new_run_directory(tmp_path / "run", "rl")
    app = ReinforcementApp(config, track, seed=2, run_files=_run_files(folder, teacher="rl"), speed=math.inf)

    def close_after_two_updates(current: ReinforcementApp) -> None:
        if current.learner.update >= 2:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.shell.before_frame = lambda: close_after_two_updates(app)
    assert app.run() == 0 and app.shell.closed
    assert "window closed: best model saved" in capsys.readouterr().out
    assert load_model(folder / "best.pt").training["method"] == "reinforcement"
    resumed = load_checkpoint(folder)
    assert resumed.update == app.learner.update >= 2 and app.outcome is RunOutcome.CLOSED
    headless = Reinforcement(config, [track], seed=2, updates=resumed.update)
    run_reinforcement(headless)
    assert resumed.history == headless.history  # the window changed nothing about the learning
    assert len((folder / "log.csv").read_text().strip().splitlines()) == 1 + resumed.update
    assert run_cli("train", "rl", "--resume", folder, "--updates", str(resumed.update + 1)).code == 0


def test_bad_options_fail_before_the_window(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("the window was opened before the input was checked")

    monkeypatch.setattr(pygame.display, "set_mode", refuse)
    assert main(["sim", "--teacher", "rl", "--population", "0"]) == 2
    assert capsys.readouterr().err == "neurocar: error: --population 0: must be at least 1\n"
    assert main(["sim", "--teacher", "ga"]) == 2
    assert "argument --teacher: invalid choice: 'ga'" in capsys.readouterr().err


def test_r_restarts_learning_in_a_new_run_folder_and_the_first_run_keeps_its_files(tmp_path):
    config = load_config(None, SMALL)
    track = load_tracks(["oval"], config)[0]
    folder = new_run_directory(tmp_path / "run", "rl")
    app = ReinforcementApp(config, track, seed=1, run_files=_run_files(folder, teacher="rl"), speed=math.inf)
    first: list[Reinforcement] = []

    def press_keys(current: ReinforcementApp) -> None:
        if current.runs_started == 1 and current.learner.update >= 1:
            first.append(current.learner)
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_r))
        elif current.runs_started == 2 and current.learner.update >= 1:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.shell.before_frame = lambda: press_keys(app)
    assert app.run() == 0 and app.runs_started == 2 and app.outcome is RunOutcome.CLOSED
    assert first[0].outcome is RunOutcome.RESTARTED
    assert load_checkpoint(folder).history == first[0].history  # the first run saved what it had learnt
    second = tmp_path / "run-2"
    assert load_checkpoint(second).update == app.learner.update
    assert load_checkpoint(second).history[0] == first[0].history[0]  # the same seed: the same first update
