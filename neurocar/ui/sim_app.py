"""`neurocar sim`: a population evolves live in the window.

The window is one more `Reporter` of the same `run_evolution` loop that headless training uses, so a windowed run
and a headless run with the same seed and config give the same numbers. `on_step` decides when to draw (a frame
whenever the step budget of the current speed is spent, or a few times a second at max speed) and handles the keys;
pausing simply keeps drawing frames inside `on_step`. Restart (R) and next track (N) abort the run with
`RestartRun` and build a fresh one with the same seed; closing the window is Ctrl-C for the loop, so the run
folder (with `--run-dir`) keeps the best model and the checkpoint.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import torch

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.checkpoint import save_checkpoint
from neurocar.learn.model_file import save_model
from neurocar.learn.neuroevolution import GenerationResult, Neuroevolution, Reporter, run_evolution
from neurocar.learn.policy import build_network
from neurocar.learn.run_directory import BEST_MODEL_FILE
from neurocar.paths import TRACKS_DIR, display_path, resolve_track_path
from neurocar.sim.track import Track, load_track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, leading_car, speed_label
from neurocar.ui.fitness_chart import FitnessChart
from neurocar.ui.network_view import NetworkSnapshot, layer_values, network_weights

MODELS_DIR = Path("models")
UNLIMITED_GENERATIONS = sys.maxsize


# Makes the run folder of the n-th run (1 = the first) and the reporters that write into it.
RunFiles = Callable[[Neuroevolution, int], tuple[Path, list[Reporter]]]


class RestartRun(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Abort the current run and start a new one (R: same track, N: the next shipped track)."""

    def __init__(self, track: Track) -> None:
        super().__init__(track.name)
        self.track = track


def new_model_path(track: Track, folder: Path = MODELS_DIR) -> Path:
    """models/<track>-<date>-<time>.pt, with a counter if that name is taken: a save never overwrites."""
    slug = "".join(character if character.isalnum() else "-" for character in track.name.lower()).strip("-")
    base = f"{slug or 'track'}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in range(1, 1000):
        path = folder / (f"{base}.pt" if attempt == 1 else f"{base}-{attempt}.pt")
        if not path.exists():
            return path
    raise NeuroCarError(f"{display_path(folder)}: too many models saved this second")


class SimApp(WindowApp, Reporter):
    """The evolving population in a window."""

    help_title = "NeuroCar - evolution"

    def __init__(
        self,
        config: Config,
        track: Track,
        seed: int,
        *,
        run_files: RunFiles | None = None,
        generations: int | None = None,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        super().__init__(config, track, max_frames=max_frames, screenshot=screenshot, speed=speed)
        self.seed = seed
        self.run_files = run_files
        self.run_folder: Path | None = None
        self.generations = generations or UNLIMITED_GENERATIONS
        self.chart = FitnessChart(self.texts)
        self.evolution: Neuroevolution | None = None
        self.world: World | None = None
        self.last_result: GenerationResult | None = None
        self.runs_started = 0
        self.outcome: str | None = None
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    def help_keys(self) -> list[tuple[str, str]]:
        """The common keys plus restart, next track and save."""
        keys = super().help_keys()
        return [
            *keys[:4],
            ("R", "restart evolution (same seed)"),
            ("N", "next track (restarts evolution)"),
            ("S", "save the best model so far"),
            *keys[4:],
        ]

    # --- the run -----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and evolve until it is closed (or the generations are done); returns the exit code."""
        self.open_window()
        try:
            track = self.track
            while True:
                try:
                    self.outcome = self.evolve(track)
                    return 0
                except RestartRun as restart:
                    track = restart.track
                    if track is not self.track:
                        self.set_track(track)
        finally:
            self.close_window()

    def evolve(self, track: Track) -> str:
        """One evolution run on `track` with the window and (with a run folder) the log and checkpoint reporters."""
        self.evolution = Neuroevolution(self.config, [track], self.seed)
        self.world = None
        self.last_result = None
        self.selected = None
        self.chart.set_history([], [])
        self.runs_started += 1
        reporters: list[Reporter] = [self]
        if self.run_files is not None:
            self.run_folder, file_reporters = self.run_files(self.evolution, self.runs_started)
            reporters += file_reporters
            if self.runs_started > 1:
                self.toasts.show(f"new run folder {display_path(self.run_folder)}")
        outcome = run_evolution(self.evolution, self.generations, reporters)
        if outcome == "interrupted" and not self.closed:
            raise KeyboardInterrupt  # a real Ctrl-C in the terminal: the reporters have saved, now stop
        return outcome

    # --- Reporter hooks ----------------------------------------------------------------------------------------

    def on_episode_start(self, evolution: Neuroevolution, world: World, track_index: int) -> None:
        """A new generation starts driving: follow the leader again."""
        self.world = world
        self.selected = None
        self.reset_poses(world)

    def on_step(self, evolution: Neuroevolution, world: World, actions: np.ndarray) -> None:
        """Spend one step of the budget; when it runs out, draw frames (and handle keys) until there is more."""
        self.record_pose(world)
        self.budget -= 1
        if self.max_speed and self.max_speed_draw_due():
            self.frame()
        while self.budget < 1:
            self.frame()

    def on_generation(self, evolution: Neuroevolution, result: GenerationResult) -> None:
        """Update the chart and the HUD's last-generation numbers."""
        self.last_result = result
        history = evolution.history
        self.chart.set_history(
            [float(row["best_fitness"]) for row in history], [float(row["mean_fitness"]) for row in history]
        )

    # --- keys --------------------------------------------------------------------------------------------------

    def on_key(self, key: int) -> None:
        """R restart, N next track, S save."""
        if key == pygame.K_r:
            self.toasts.show("restarting evolution")
            raise RestartRun(self.track)
        if key == pygame.K_n:
            track = self.next_track()
            if track is not None:
                raise RestartRun(track)
        elif key == pygame.K_s:
            self.save_best()

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
            self.toasts.show(f"cannot load {following.name}: {error}")
            return None
        self.toasts.show(f"track: {track.name}")
        return track

    def save_best(self) -> Path | None:
        """Save the best model so far (the same format as training) and say where; never overwrites in models/."""
        evolution = self.evolution
        if evolution is None or evolution.best_vector is None:
            self.toasts.show("nothing to save yet: wait for the first generation to finish")
            return None
        if self.run_folder is not None:
            path = self.run_folder / BEST_MODEL_FILE
        else:
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            path = new_model_path(self.track)
        try:
            save_model(path, evolution.best_network(), evolution.config, evolution.training_info())
            if self.run_folder is not None:
                # 0 total generations, like the window's checkpoint reporter: a resume then takes them from the config.
                save_checkpoint(self.run_folder, evolution, [track.source_text for track in evolution.tracks], 0)
        except (NeuroCarError, OSError) as error:
            self.toasts.show(f"not saved: {error}")
            return None
        self.toasts.show(f"saved best model (fitness {evolution.best_fitness:.0f}) to {display_path(path)}")
        self.last_saved = path
        return path

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World | None:
        """The world the population is driving in."""
        return self.world

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """Stopped cars dimmed, then driving cars, then the leader and the selected car on top."""
        state = world.state
        leader = leading_car(world) if state.driving.any() else None
        groups = [
            (np.nonzero(~state.driving)[0], theme.CRASHED, theme.CRASHED_ALPHA),
            (np.nonzero(state.driving)[0], theme.CAR, 255),
        ]
        if leader is not None:
            groups.append((np.array([leader]), theme.LEADER, 255))
        if self.selected is not None and self.selected < world.population:
            groups.append((np.array([self.selected]), theme.SELECTED, 255))
        return groups

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """Generation, alive, last generation's fitness and laps, speed, FPS, track."""
        evolution = self.evolution
        world = self.world
        population = self.config.evolution.population
        result = self.last_result
        alive = int(world.state.driving.sum()) if world is not None else population
        generation = evolution.generation + 1 if evolution is not None else 1
        speed = "paused" if self.paused else speed_label(self.multiplier)
        rows = [
            ("Track", self.track.name),
            ("Generation", str(generation)),
            ("Alive", f"{alive} / {population}"),
            ("Best fitness (last gen)", f"{result.best_fitness:.1f}" if result else "-"),
            ("Mean fitness (last gen)", f"{result.mean_fitness:.1f}" if result else "-"),
            ("Best laps (last gen)", str(result.best_laps) if result else "-"),
            ("Simulated time", f"{world.time_s:5.1f} s" if world is not None else "-"),
            ("Speed", speed),
            ("FPS", self.fps_label()),
        ]
        return "Evolution", rows

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """The shown car's live layer values (computed only when drawing) and its weights."""
        evolution, world = self.evolution, self.world
        if evolution is None or world is None:
            return None
        outputs = evolution.policy.activations(torch.from_numpy(world.observations))
        values = layer_values(
            self._scratch_network, world.observations[car], [output[car].numpy() for output in outputs]
        )
        weights = network_weights(self._scratch_network, evolution.population[car])
        return NetworkSnapshot(values, weights, int(np.argmax(values[-1])))

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The fitness chart (changes once per generation)."""
        return self.chart.draw(surface, rect)
