"""The learning window (`neurocar sim`, `neurocar sim --teacher rl`): cars learn live, whichever learner teaches.

The window is one more caller of the same stepped run the headless command drives (`Neuroevolution` or
`Reinforcement`, both `step()` one simulation step and return a result when a generation or update ends), so a
windowed run and a headless run with the same seed and config give the same numbers. Each frame handles the keys,
draws, and then runs as many steps as the frame's budget allows (the current speed), or, at max speed, for a slice
of time between rare frames; pausing runs no steps. The reporters (with `--run-dir`: log, checkpoint, chart, best
model) hear of the run's start, every result and its end, whatever ends it: R and N end the run as RESTARTED and a
fresh one starts with the same seed (in a new run folder), closing the window ends it as CLOSED, Ctrl-C as
INTERRUPTED.

What differs between the learners is a `Learning` (`EvolutionLearning` in `sim_app`, `ReinforcementLearning` in
`reinforcement_app`): how it makes a run, what the HUD, the chart and the network view show, and what follows a
result. Everything else is written once here: the keys (speed, rays, R, N where the learner can change tracks, S,
click a car), saving the best model (`models/<track>-<date>-<time>.pt`, never overwriting, or the run folder's
best.pt), the fitness chart and the panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pygame

from neurocar.chart import Marker
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import save_model
from neurocar.learn.reporters import chart_markers
from neurocar.learn.run_directory import BEST_MODEL_FILE
from neurocar.learn.runs import RunOutcome
from neurocar.paths import TRACKS_DIR, display_path, resolve_track_path
from neurocar.sim.track import Track, load_track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed
from neurocar.ui.fitness_chart import FitnessChart
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot
from neurocar.ui.track_scene import CarGroups

MODELS_DIR = Path("models")

# Makes the run folder of the n-th run (1 = the first) of a learner and the reporters that write into it.
RunFiles = Callable[[Any, int], tuple[Path, list[Any]]]


def new_model_path(track: Track, folder: Path = MODELS_DIR) -> Path:
    """models/<track>-<date>-<time>.pt, with a counter if that name is taken: a save never overwrites."""
    slug = "".join(character if character.isalnum() else "-" for character in track.name.lower()).strip("-")
    base = f"{slug or 'track'}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in range(1, 1000):
        path = folder / (f"{base}.pt" if attempt == 1 else f"{base}-{attempt}.pt")
        if not path.exists():
            return path
    raise NeuroCarError(f"{display_path(folder)}: too many models saved this second")


class Learning(Protocol):
    """What the learning window needs from a learner (see `EvolutionLearning` and `ReinforcementLearning`)."""

    help_title: str  # the help overlay's title
    hud_title: str  # the HUD's title: "Evolution", "Reinforcement learning"
    restart_text: str  # R's help line
    unit: str  # what one result is: "generation", "update"
    chart_labels: tuple[str, tuple[str, str], str]  # the chart's title, its two series, its step name
    changes_track: bool  # N (next track) restarts it on another track
    learner: Any  # the run being shown (None before the first start)
    last_result: Any  # the latest generation's or update's result (None before the first)

    def create(self, track: Track) -> Any: ...

    def after_result(self, window: LearningApp, result: Any) -> None: ...

    def hud_rows(self) -> list[tuple[str, str]]: ...

    def leader(self, world: World) -> int: ...

    def stopped(self, world: World) -> np.ndarray: ...

    def snapshot(self, car: int) -> NetworkSnapshot | None: ...

    def best_description(self) -> str: ...

    def after_save(self, folder: Path | None) -> None: ...


class LearningApp(WindowApp):
    """Cars learning in a window, whichever learner teaches them."""

    def __init__(
        self,
        config: Config,
        track: Track,
        learning: Learning,
        *,
        run_files: RunFiles | None = None,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        self.help_title = learning.help_title
        self.learning = learning
        super().__init__(config, track, max_frames=max_frames, screenshot=screenshot, speed=speed)
        self.run_files = run_files
        self.run_folder: Path | None = None
        self.reporters: list[Any] = []
        self.runs_started = 0
        self.outcome: RunOutcome | None = None
        self.pending_track: Track | None = None
        self.last_saved: Path | None = None
        title, names, step_name = learning.chart_labels
        self.chart = FitnessChart(self.texts, title, names, step_name)

    def key_bindings(self) -> list[Binding]:
        """Speed and rays, restart (and next track), save, and the click that picks the car shown."""
        keys = [*self.speed_bindings(), self.rays_binding()]
        keys.append(Binding("R", self.learning.restart_text, self.ask_restart, (pygame.K_r,)))
        if self.learning.changes_track:
            keys.append(Binding("N", "next track (starts a new run there)", self.ask_next_track, (pygame.K_n,)))
        keys.append(Binding("S", "save the best model so far", self.save_best, (pygame.K_s,)))
        return [*keys, self.select_binding()]

    # --- the runs ----------------------------------------------------------------------------------------------

    @property
    def learner(self) -> Any:
        """The run being shown (a `Neuroevolution` or a `Reinforcement`)."""
        return self.learning.learner

    @property
    def world(self) -> World | None:
        """The world the cars are learning in."""
        return self.learner.world if self.learner is not None else None

    def run(self) -> int:
        """Open the window and learn until it is closed (or the run ends by itself); returns the exit code."""
        self.open_window()
        try:
            self.start_run(self.track)
            while True:
                try:
                    self.frame()
                    if self.pending_track is not None:
                        self.restart(self.pending_track)
                    self.advance()
                except WindowClosed:
                    self.end_run(RunOutcome.CLOSED)
                    return 0
                if self.learner.outcome is not None:
                    return 0
        except KeyboardInterrupt:
            # Ctrl-C in the terminal: save through the reporters, then let the command line say it stopped.
            self.end_run(RunOutcome.INTERRUPTED)
            raise
        finally:
            self.close_window()

    def start_run(self, track: Track) -> None:
        """A fresh run on `track`; with a run folder, the file reporters of a new folder for it."""
        learner = self.learning.create(track)
        self.outcome = None
        self.selected = None
        self.chart.set_history([], [])
        self.runs_started += 1
        self.reporters = []
        if self.run_files is not None:
            self.run_folder, self.reporters = self.run_files(learner, self.runs_started)
            if self.runs_started > 1:
                self.notices.show(f"new run folder {display_path(self.run_folder)}")
        for reporter in self.reporters:
            reporter.on_run_start(learner)
        if self.world is not None:
            self.reset_poses(self.world)

    def end_run(self, outcome: RunOutcome) -> None:
        """End the current run (once) and let the reporters save."""
        learner = self.learner
        if learner is None or self.outcome is not None:
            return
        if learner.outcome is None:
            learner.stop(outcome)
        self.outcome = learner.outcome
        for reporter in self.reporters:
            reporter.on_run_end(learner, learner.outcome)

    def restart(self, track: Track) -> None:
        """End the current run and start a new one on `track` (R: the same track, N: the next one)."""
        self.pending_track = None
        self.end_run(RunOutcome.RESTARTED)
        if track is not self.track:
            self.set_track(track)
        self.start_run(track)

    def advance(self) -> None:
        """Run the simulation steps this frame allows (the pacer's budget, or a slice of time at max speed)."""
        learner = self.learner
        self.pacer.run_steps(self.step, lambda: learner.outcome is None)

    def step(self) -> None:
        """One simulation step; at the end of a generation or update, the reporters, the chart and the HUD learn
        of it."""
        learner = self.learner
        result = learner.step()
        if result is None:
            self.record_pose(learner.world)
            return
        self.learning.last_result = result
        for reporter in self.reporters:
            reporter.on_result(learner, result)
        _title, series = learner.chart_series()
        self.show_history(*list(series.values())[:2], chart_markers(learner))
        if learner.outcome is not None:
            self.end_run(learner.outcome)
            return
        self.learning.after_result(self, result)

    def idle(self) -> bool:
        """Nothing to simulate once the run has ended."""
        return self.learner is None or self.learner.outcome is not None

    def ask_restart(self) -> None:
        """R: a new run on the same track (the current run ends at the next step)."""
        self.notices.show("restarting learning")
        self.pending_track = self.track

    def ask_next_track(self) -> None:
        """N: a new run on the next shipped track."""
        track = self.next_track()
        if track is not None:
            self.pending_track = track

    def next_track(self) -> Track | None:
        """The shipped track after the current one (alphabetical, wrapping round); None if it cannot load."""
        shipped = sorted(TRACKS_DIR.glob("*.yaml"))
        if not shipped:
            return None
        current = Path(self.track.path).name
        names = [path.name for path in shipped]
        following = shipped[(names.index(current) + 1) % len(shipped)] if current in names else shipped[0]
        physics = self.config.physics
        try:
            track = load_track(
                resolve_track_path(following),
                physics.min_turn_radius_m,
                physics.collision_radius_m,
                physics.car_width_m,
            )
        except NeuroCarError as error:
            self.notices.show(f"cannot load {following.name}: {error}")
            return None
        self.notices.show(f"track: {track.name}")
        return track

    def show_history(self, best: list[float], mean: list[float], markers: Sequence[Marker] = ()) -> None:
        """A generation or an update finished: the chart shows the run's history (its two series) and its markers
        (the first lap's)."""
        self.chart.set_history(best, mean, markers)

    def save_best(self) -> Path | None:
        """Save the best model so far (the same format as training) and say where; never overwrites in models/.
        With a run folder, the model goes to its best.pt (and the learner brings its checkpoint up to date)."""
        learner = self.learner
        if learner is None or learner.best_vector is None:
            self.notices.show(f"nothing to save yet: wait for the first {self.learning.unit} to finish")
            return None
        if self.run_folder is not None:
            path = self.run_folder / BEST_MODEL_FILE
        else:
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            path = new_model_path(self.track)
        try:
            save_model(path, learner.best_state_dict(), learner.config, learner.training_info())
            self.learning.after_save(self.run_folder)
        except (NeuroCarError, OSError) as error:
            self.notices.show(f"not saved: {error}")
            return None
        self.notices.show(f"saved the best model ({self.learning.best_description()}) to {display_path(path)}")
        self.last_saved = path
        return path

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World | None:
        """The world the cars are learning in."""
        return self.world

    def focus_car(self, world: World) -> int:
        """The selected car, else the learner's leader."""
        if self.selected is not None and self.selected < world.car_count:
            return self.selected
        return self.learning.leader(world)

    def car_colours(self, world: World) -> CarGroups:
        """Stopped cars dimmed, then driving cars, then the leader and the selected car on top."""
        stopped = self.learning.stopped(world)
        groups = [
            (np.nonzero(stopped)[0], theme.CRASHED, theme.CRASHED_ALPHA),
            (np.nonzero(~stopped)[0], theme.CAR, 255),
        ]
        if not stopped.all():
            groups.append((np.array([self.learning.leader(world)]), theme.LEADER, 255))
        if self.selected is not None and self.selected < world.car_count:
            groups.append((np.array([self.selected]), theme.SELECTED, 255))
        return groups

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """Track, the learner's numbers, speed and FPS."""
        rows = [
            ("Track", self.track.name),
            *self.learning.hud_rows(),
            ("Speed", self.pacer.label()),
            ("FPS", self.fps_label()),
        ]
        return self.learning.hud_title, rows

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """The shown car's network with its live values."""
        return self.learning.snapshot(car)

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The fitness chart (changes once per generation or update)."""
        return self.chart.draw(surface, rect, self.scale)
