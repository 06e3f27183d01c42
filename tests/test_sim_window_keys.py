"""Every key of the evolution window, pressed in one session, with and without a run folder: each changes what the
help says it changes in the window's state and in the run it steps (no display needed)."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest

from neurocar.commands.common import load_tracks
from neurocar.commands.windowed import _run_files
from neurocar.config import load_config
from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.model_file import load_model
from neurocar.learn.neuroevolution import RunOutcome
from neurocar.learn.run_directory import new_run_directory
from neurocar.paths import TRACKS_DIR, display_path
from neurocar.sim.track import load_track
from neurocar.ui.sim_app import SimApp


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)


def next_track_name(name: str) -> str:
    shipped = sorted(TRACKS_DIR.glob("*.yaml"))
    names = [path.name for path in shipped]
    return load_track(shipped[(names.index(name) + 1) % len(shipped)]).name


class Script:
    """Steps run one after another, one per frame at most: (what to do, the condition to wait for first)."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.done = []

    def __call__(self, app: SimApp) -> None:
        if not self.steps:
            return
        name, ready, action = self.steps[0]
        if ready(app):
            self.steps.pop(0)
            action(app)
            self.done.append(name)


@pytest.mark.parametrize("with_run_dir", [False, True], ids=["no-run-dir", "run-dir"])
def test_every_sim_key_changes_the_state_it_names(tmp_path, monkeypatch, capsys, with_run_dir):
    monkeypatch.chdir(tmp_path)
    config = load_config(None, ["evolution.population=6", "evolution.elite=1", "episode.max_seconds=3"])
    track = load_tracks(["oval"], config)[0]
    folder = new_run_directory(tmp_path / "run", "sim") if with_run_dir else None
    app = SimApp(config, track, seed=0, run_files=_run_files(folder) if folder else None, speed=1.0, max_frames=5000)
    seen: dict = {}

    def post(*codes):
        def action(_app):
            for code in codes:
                pygame.event.post(key(code))

        return action

    def remember(name, value):
        def action(current):
            seen[name] = value(current)

        return action

    def always(_app):
        return True

    def click_a_car(current: SimApp) -> None:
        positions, _ = current.scene.drawn_poses(current.world, current.pacer.fraction)
        car = int(np.argmin(current.world.state.progress_m))
        point = tuple(int(value) for value in np.round(current.scene.camera.to_screen(positions[car])))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=point))

    script = Script(
        [
            ("help", always, post(pygame.K_h)),
            ("help shown", always, remember("help", lambda a: a.shell.show_help)),
            ("help hidden", always, post(pygame.K_F1)),
            ("after F1", always, remember("help_after", lambda a: a.shell.show_help)),
            ("pause", lambda a: a.world.steps > 0, post(pygame.K_SPACE)),
            (
                "paused at",
                always,
                remember("paused_at", lambda a: (a.pacer.paused, a.evolution.generation, a.world.steps)),
            ),
            ("still paused", lambda a: a.shell.frame_count > 20, remember("paused_later", lambda a: a.world.steps)),
            ("faster", always, post(pygame.K_PLUS)),
            ("speed up", always, remember("faster", lambda a: a.pacer.multiplier)),
            ("slower", always, post(pygame.K_MINUS, pygame.K_MINUS)),
            ("speed down", always, remember("slower", lambda a: a.pacer.multiplier)),
            ("rays", always, post(pygame.K_t)),
            ("rays all", always, remember("rays", lambda a: a.rays_all)),
            ("click", always, click_a_car),
            ("selected", always, remember("selected", lambda a: a.selected)),
            ("resume and max speed", always, post(pygame.K_SPACE, pygame.K_f)),
            ("max speed", always, remember("max_speed", lambda a: (a.pacer.max_speed, a.pacer.paused))),
            ("save", lambda a: a.evolution.generation >= 2, post(pygame.K_s)),
            ("saved", always, remember("saved", lambda a: (a.last_saved, a.evolution.generation))),
            ("restart", always, post(pygame.K_r)),
            (
                "restarted",
                always,
                remember("restart", lambda a: (a.runs_started, a.evolution is first_run["evolution"])),
            ),
            ("next track", lambda a: a.evolution.generation >= 1, post(pygame.K_n)),
            ("on next track", always, remember("next", lambda a: (a.runs_started, a.track.name))),
            ("quit", lambda a: a.evolution.generation >= 1, post(pygame.K_ESCAPE)),
        ]
    )
    first_run = {}

    def before(current: SimApp) -> None:
        if current.runs_started == 1:
            first_run["evolution"] = current.evolution
        script(current)

    app.shell.before_frame = lambda: before(app)
    assert app.run() == 0
    assert script.steps == [], script.done

    assert seen["help"] is True and seen["help_after"] is False
    paused, generation, step = seen["paused_at"]
    assert paused and seen["paused_later"] == step and generation == 0
    assert seen["faster"] == 2.0 and seen["slower"] == 0.5
    assert seen["rays"] is True
    assert seen["selected"] is not None
    assert seen["max_speed"] == (True, False)
    assert seen["restart"] == (2, False)  # a new run (at max speed it may be generations in by the next frame)
    assert seen["next"] == (3, next_track_name("oval.yaml"))
    assert app.shell.closed and app.outcome is RunOutcome.CLOSED
    # R started a fresh run with the same seed: its first generations are the first run's again.
    assert app.runs_started == 3
    first = first_run["evolution"]
    assert first.outcome is RunOutcome.RESTARTED and first.generation >= 2

    saved, saved_generation = seen["saved"]
    model = load_model(saved)
    assert model.training["method"] == "neuroevolution" and model.training["track_names"] == ["Oval"]
    out = capsys.readouterr().out
    if not with_run_dir:
        assert saved.parent.name == "models" and len(list((tmp_path / "models").glob("*.pt"))) == 1
        assert not (tmp_path / "run").exists()
        assert "window closed" not in out
        return
    # With a run folder, S wrote best.pt there and brought the checkpoint up to date.
    assert saved == folder / "best.pt"
    # Each run kept its own folder: the first (restarted) one, DIR-2 (restarted by N), DIR-3 (closed).
    second, third = tmp_path / "run-2", tmp_path / "run-3"
    for run_folder, evolution in ((folder, first), (third, app.evolution)):
        resumed = load_checkpoint(run_folder)
        assert resumed.generation == evolution.generation
        assert resumed.history == evolution.history
        assert len((run_folder / "log.csv").read_text().splitlines()) == 1 + evolution.generation
    assert load_checkpoint(second).tracks[0].name == "Oval"
    assert load_checkpoint(third).tracks[0].name == next_track_name("oval.yaml")
    assert load_checkpoint(folder).generation >= saved_generation
    assert f"window closed: best model saved to {display_path(third / 'best.pt')}" in out
    assert out.count("window closed") == 1
