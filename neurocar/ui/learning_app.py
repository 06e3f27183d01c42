"""The learning window (`neurocar sim`, `neurocar sim --teacher rl`): cars learn live, one learner at a time.

One window for every learner. What differs between evolution and PPO is a `Learning` (`EvolutionLearning` in
`sim_app`, `ReinforcementLearning` in `reinforcement_app`): it starts a fresh run on a track (with its run folder
and file reporters), drives it with the window until the run ends or a restart is asked, and says what the HUD,
the chart and the network view show. Everything else is the window's own and written once: the keys (speed, rays,
R restart, N next track where the learner can change tracks, S save, click a car), the restart loop (R and N end
the current run and start a fresh one with the same seed; each new run gets a new run folder), saving the best
model (`models/<track>-<date>-<time>.pt`, never overwriting, or the run folder's best.pt), the fitness chart and
the panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pygame
from torch import nn

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import save_model
from neurocar.learn.run_directory import BEST_MODEL_FILE
from neurocar.paths import TRACKS_DIR, display_path, resolve_track_path
from neurocar.sim.track import Track, load_track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp
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
    chart_labels: tuple[str, tuple[str, str], str]  # the chart's title, its two series, its step name
    changes_track: bool  # N (next track) restarts it on another track
    learner: Any  # the run being shown (None before the first start)

    @property
    def world(self) -> World | None: ...

    def start(self, track: Track) -> None: ...

    def drive(self, window: LearningApp) -> None: ...

    def hud_rows(self, window: LearningApp) -> list[tuple[str, str]]: ...

    def leader(self, world: World) -> int: ...

    def stopped(self, world: World) -> np.ndarray: ...

    def snapshot(self, car: int) -> NetworkSnapshot | None: ...

    def best_model(self) -> tuple[nn.Sequential, Config, dict[str, Any], str] | None: ...

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
        self.pending_track: Track | None = None
        self.last_saved: Path | None = None
        title, names, step_name = learning.chart_labels
        self.chart = FitnessChart(self.texts, title, names, step_name)

    def key_bindings(self) -> list[Binding]:
        """Speed and rays, restart (and next track), save, and the click that picks the car shown."""
        keys = [*self.speed_bindings(), self.rays_binding()]
        keys.append(Binding("R", self.learning.restart_text, self.ask_restart, (pygame.K_r,)))
        if self.learning.changes_track:
            keys.append(Binding("N", "next track (restarts learning)", self.ask_next_track, (pygame.K_n,)))
        keys.append(Binding("S", "save the best model so far", self.save_best, (pygame.K_s,)))
        return [*keys, self.select_binding()]

    # --- the runs ----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and learn until it is closed (or the run ends by itself); returns the exit code."""
        self.open_window()
        try:
            track = self.track
            while True:
                self.pending_track = None
                if track is not self.track:
                    self.set_track(track)
                self.start_run(track)
                self.learning.drive(self)
                if self.pending_track is None:
                    return 0
                track = self.pending_track
        finally:
            self.close_window()

    def start_run(self, track: Track) -> None:
        """A fresh run on `track`; with a run folder, the file reporters of a new folder for it."""
        self.learning.start(track)
        self.selected = None
        self.chart.set_history([], [])
        self.runs_started += 1
        self.reporters = []
        if self.run_files is not None:
            self.run_folder, self.reporters = self.run_files(self.learning.learner, self.runs_started)
            if self.runs_started > 1:
                self.notices.show(f"new run folder {display_path(self.run_folder)}")
        world = self.learning.world
        if world is not None:
            self.reset_poses(world)

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

    def show_history(self, best: list[float], mean: list[float]) -> None:
        """A learner finished a generation or an update: the chart shows the new history."""
        self.chart.set_history(best, mean)

    def save_best(self) -> Path | None:
        """Save the best model so far (the same format as training) and say where; never overwrites in models/.
        With a run folder, the model goes to its best.pt (and the learner brings its checkpoint up to date)."""
        best = self.learning.best_model()
        if best is None:
            self.notices.show("nothing to save yet: wait for the first result")
            return None
        network, config, info, description = best
        if self.run_folder is not None:
            path = self.run_folder / BEST_MODEL_FILE
        else:
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            path = new_model_path(self.track)
        try:
            save_model(path, network, config, info)
            self.learning.after_save(self.run_folder)
        except (NeuroCarError, OSError) as error:
            self.notices.show(f"not saved: {error}")
            return None
        self.notices.show(f"saved the best model ({description}) to {display_path(path)}")
        self.last_saved = path
        return path

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World | None:
        """The world the cars are learning in."""
        return self.learning.world

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
            *self.learning.hud_rows(self),
            ("Speed", self.pacer.label()),
            ("FPS", self.fps_label()),
        ]
        return self.learning.hud_title, rows

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """The shown car's network with its live values."""
        return self.learning.snapshot(car)

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The fitness chart (changes once per generation or update)."""
        return self.chart.draw(surface, rect)
