"""`neurocar sim`: a population evolves live in the window.

The window is one more caller of the same run state the headless command steps (`Neuroevolution`), so a windowed
run and a headless run with the same seed and config give the same numbers. Each frame it handles the keys, draws,
and then advances the run by as many simulation steps as the frame's budget allows (the current speed), or, at max
speed, for a slice of time between rare frames. Pausing simply runs no steps. Restart (R) and next track (N) end
the current run and start a fresh one with the same seed; closing the window ends the run as CLOSED, so the run
folder (with `--run-dir`) keeps the best model and the checkpoint.
"""

from __future__ import annotations

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
from neurocar.learn.neuroevolution import (
    UNLIMITED_GENERATIONS,
    GenerationResult,
    Neuroevolution,
    Reporter,
    RunOutcome,
)
from neurocar.learn.policy import build_network
from neurocar.learn.run_directory import BEST_MODEL_FILE
from neurocar.paths import TRACKS_DIR, display_path, resolve_track_path
from neurocar.sim.track import Track, load_track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed, leading_car
from neurocar.ui.fitness_chart import FitnessChart
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot, layer_values, network_weights

MODELS_DIR = Path("models")

# Makes the run folder of the n-th run (1 = the first) and the reporters that write into it.
RunFiles = Callable[[Neuroevolution, int], tuple[Path, list[Reporter]]]


def new_model_path(track: Track, folder: Path = MODELS_DIR) -> Path:
    """models/<track>-<date>-<time>.pt, with a counter if that name is taken: a save never overwrites."""
    slug = "".join(character if character.isalnum() else "-" for character in track.name.lower()).strip("-")
    base = f"{slug or 'track'}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in range(1, 1000):
        path = folder / (f"{base}.pt" if attempt == 1 else f"{base}-{attempt}.pt")
        if not path.exists():
            return path
    raise NeuroCarError(f"{display_path(folder)}: too many models saved this second")


class SimApp(WindowApp):
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
        self.reporters: list[Reporter] = []
        self.last_result: GenerationResult | None = None
        self.runs_started = 0
        self.outcome: RunOutcome | None = None
        self.pending_track: Track | None = None
        self.last_saved: Path | None = None
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    def key_bindings(self) -> list[Binding]:
        """Speed and rays, restart, next track and save, and the click that picks the car shown."""
        return [
            *self.speed_bindings(),
            self.rays_binding(),
            Binding("R", "restart evolution (same seed)", self.ask_restart, (pygame.K_r,)),
            Binding("N", "next track (restarts evolution)", self.ask_next_track, (pygame.K_n,)),
            Binding("S", "save the best model so far", self.save_best, (pygame.K_s,)),
            self.select_binding(),
        ]

    @property
    def world(self) -> World | None:
        """The world the current generation drives in."""
        return self.evolution.world if self.evolution is not None else None

    # --- the run -----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and evolve until it is closed (or the run ends by itself); returns the exit code."""
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
                if self.evolution is not None and self.evolution.outcome is not None:
                    return 0
        except KeyboardInterrupt:
            # Ctrl-C in the terminal: save through the reporters, then let the command line say it stopped.
            self.end_run(RunOutcome.INTERRUPTED)
            raise
        finally:
            self.close_window()

    def start_run(self, track: Track) -> None:
        """A fresh evolution on `track` (with a run folder: the log and checkpoint reporters too)."""
        self.evolution = Neuroevolution(self.config, [track], self.seed, generations=self.generations)
        self.last_result = None
        self.selected = None
        self.outcome = None
        self.chart.set_history([], [])
        self.runs_started += 1
        self.reporters = []
        if self.run_files is not None:
            self.run_folder, self.reporters = self.run_files(self.evolution, self.runs_started)
            if self.runs_started > 1:
                self.notices.show(f"new run folder {display_path(self.run_folder)}")
        for reporter in self.reporters:
            reporter.on_run_start(self.evolution)
        self.evolution.start_drive()
        assert self.world is not None
        self.reset_poses(self.world)

    def end_run(self, outcome: RunOutcome) -> None:
        """End the current run (once) and let the reporters save."""
        evolution = self.evolution
        if evolution is None or self.outcome is not None:
            return
        if evolution.outcome is None:
            evolution.stop(outcome)
        self.outcome = evolution.outcome
        for reporter in self.reporters:
            reporter.on_run_end(evolution, evolution.outcome)

    def restart(self, track: Track) -> None:
        """End the current run and start a new one on `track` (R: the same track, N: the next one)."""
        self.pending_track = None
        self.end_run(RunOutcome.RESTARTED)
        if track is not self.track:
            self.set_track(track)
        self.start_run(track)

    def advance(self) -> None:
        """Run the simulation steps this frame allows (the pacer's budget, or a slice of time at max speed)."""
        evolution = self.evolution
        if evolution is None:
            return
        self.pacer.run_steps(self.step, lambda: evolution.outcome is None)

    def step(self) -> None:
        """One simulation step; at the end of a generation, the chart, the HUD and the reporters learn of it."""
        evolution = self.evolution
        assert evolution is not None
        result = evolution.step()
        world = self.world
        assert world is not None
        if result is None:
            self.record_pose(world)
            return
        self.last_result = result
        history = evolution.history
        self.chart.set_history([row["best_fitness"] for row in history], [row["mean_fitness"] for row in history])
        for reporter in self.reporters:
            reporter.on_generation(evolution, result)
        if evolution.outcome is not None:
            self.end_run(evolution.outcome)
            return
        evolution.start_drive()  # the next generation is on the start line: follow its leader
        self.selected = None
        self.reset_poses(world)

    def idle(self) -> bool:
        """Nothing to simulate once the run has ended."""
        return self.evolution is None or self.evolution.outcome is not None

    # --- keys --------------------------------------------------------------------------------------------------

    def ask_restart(self) -> None:
        """R: a new run on the same track, started before the next steps."""
        self.notices.show("restarting evolution")
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

    def save_best(self) -> Path | None:
        """Save the best model so far (the same format as training) and say where; never overwrites in models/.
        With a run folder, the model goes to its best.pt and the checkpoint is brought up to date."""
        evolution = self.evolution
        if evolution is None or evolution.best_vector is None:
            self.notices.show("nothing to save yet: wait for the first generation to finish")
            return None
        if self.run_folder is not None:
            path = self.run_folder / BEST_MODEL_FILE
        else:
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            path = new_model_path(self.track)
        try:
            save_model(path, evolution.best_network(), evolution.config, evolution.training_info())
            if self.run_folder is not None:
                save_checkpoint(self.run_folder, evolution)
        except (NeuroCarError, OSError) as error:
            self.notices.show(f"not saved: {error}")
            return None
        self.notices.show(f"saved best model (fitness {evolution.best_fitness:.0f}) to {display_path(path)}")
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
        rows = [
            ("Track", self.track.name),
            ("Generation", str(generation)),
            ("Alive", f"{alive} / {population}"),
            ("Best fitness (last gen)", f"{result.best_fitness:.1f}" if result else "-"),
            ("Mean fitness (last gen)", f"{result.mean_fitness:.1f}" if result else "-"),
            ("Best laps (last gen)", str(result.best_laps) if result else "-"),
            ("Simulated time", f"{world.time_s:5.1f} s" if world is not None else "-"),
            ("Speed", self.pacer.label()),
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
