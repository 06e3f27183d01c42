"""`neurocar sim`: a population evolves live in the learning window.

The window is one more caller of the same run state the headless command steps (`Neuroevolution`), so a windowed
run and a headless run with the same seed and config give the same numbers. Each frame it handles the keys, draws,
and then advances the run by as many simulation steps as the frame's budget allows (the current speed), or, at max
speed, for a slice of time between rare frames. Pausing simply runs no steps. Restart (R) and next track (N) end
the current run as RESTARTED and the window starts a fresh one with the same seed; closing the window ends the run
as CLOSED, so the run folder (with `--run-dir`) keeps the best model and the checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocar.config import Config
from neurocar.learn.checkpoint import save_checkpoint
from neurocar.learn.neuroevolution import UNLIMITED_GENERATIONS, GenerationResult, Neuroevolution, RunOutcome
from neurocar.learn.policy import build_network
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui.app import WindowClosed, leading_car
from neurocar.ui.learning_app import MODELS_DIR, LearningApp, RunFiles, new_model_path
from neurocar.ui.network_view import NetworkSnapshot, layer_values, network_weights

__all__ = ["MODELS_DIR", "EvolutionLearning", "SimApp", "new_model_path"]


class EvolutionLearning:
    """Neuroevolution as the learning window drives it: one simulation step at a time, from the window's loop."""

    help_title = "NeuroCar - evolution"
    hud_title = "Evolution"
    restart_text = "restart evolution (same seed)"
    chart_labels = ("Fitness per generation", ("best", "mean"), "generation")
    changes_track = True

    def __init__(self, config: Config, seed: int, generations: int | None = None) -> None:
        self.config = config
        self.seed = seed
        self.generations = generations or UNLIMITED_GENERATIONS
        self.learner: Neuroevolution | None = None
        self.last_result: GenerationResult | None = None
        self.outcome: RunOutcome | None = None
        self.reporters: list[Any] = []
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    @property
    def world(self) -> World | None:
        """The world the current generation drives in."""
        return self.learner.world if self.learner is not None else None

    def start(self, track: Track) -> None:
        """A fresh evolution on `track`."""
        self.learner = Neuroevolution(self.config, [track], self.seed, generations=self.generations)
        self.last_result = None
        self.outcome = None

    def drive(self, window: LearningApp) -> None:
        """Frames and steps until the run ends, the window closes or a restart is asked; the reporters hear of
        the run's start, every generation and its end."""
        evolution = self.learner
        assert evolution is not None
        self.reporters = window.reporters
        for reporter in self.reporters:
            reporter.on_run_start(evolution)
        evolution.start_drive()
        window.reset_poses(evolution.world)
        try:
            while evolution.outcome is None:
                window.frame()
                if window.pending_track is not None:
                    self.end(RunOutcome.RESTARTED)
                    return
                window.pacer.run_steps(lambda: self.step(window), lambda: evolution.outcome is None)
            self.end(evolution.outcome)
        except WindowClosed:
            self.end(RunOutcome.CLOSED)
        except KeyboardInterrupt:
            # Ctrl-C in the terminal: save through the reporters, then let the command line say it stopped.
            self.end(RunOutcome.INTERRUPTED)
            raise

    def step(self, window: LearningApp) -> None:
        """One simulation step; at the end of a generation, the chart and the reporters learn of it."""
        evolution = self.learner
        assert evolution is not None
        result = evolution.step()
        world = evolution.world
        assert world is not None
        if result is None:
            window.record_pose(world)
            return
        self.last_result = result
        history = evolution.history
        window.show_history([row["best_fitness"] for row in history], [row["mean_fitness"] for row in history])
        for reporter in self.reporters:
            reporter.on_generation(evolution, result)
        if evolution.outcome is not None:
            return
        evolution.start_drive()  # the next generation is on the start line: follow its leader
        window.selected = None
        window.reset_poses(world)

    def end(self, outcome: RunOutcome) -> None:
        """End the run (once) and let the reporters save."""
        evolution = self.learner
        if evolution is None or self.outcome is not None:
            return
        if evolution.outcome is None:
            evolution.stop(outcome)
        self.outcome = evolution.outcome
        for reporter in self.reporters:
            reporter.on_run_end(evolution, evolution.outcome)

    # --- what the window shows ---------------------------------------------------------------------------------

    def hud_rows(self, window: LearningApp) -> list[tuple[str, str]]:
        """Generation, alive, last generation's fitness and laps, simulated time."""
        evolution, world, result = self.learner, self.world, self.last_result
        population = self.config.evolution.population
        alive = int(world.state.driving.sum()) if world is not None else population
        return [
            ("Generation", str(evolution.generation + 1 if evolution is not None else 1)),
            ("Alive", f"{alive} / {population}"),
            ("Best fitness (last gen)", f"{result.best_fitness:.1f}" if result else "-"),
            ("Mean fitness (last gen)", f"{result.mean_fitness:.1f}" if result else "-"),
            ("Best laps (last gen)", str(result.best_laps) if result else "-"),
            ("Simulated time", f"{world.time_s:5.1f} s" if world is not None else "-"),
        ]

    def leader(self, world: World) -> int:
        """The driving car with the most progress."""
        return leading_car(world)

    def stopped(self, world: World) -> np.ndarray:
        """Cars that crashed or stalled this generation."""
        return ~world.state.driving

    def snapshot(self, car: int) -> NetworkSnapshot | None:
        """The shown car's live layer values (computed only when drawing) and its weights."""
        evolution, world = self.learner, self.world
        if evolution is None or world is None:
            return None
        outputs = evolution.policy.activations(torch.from_numpy(world.observations))
        values = layer_values(
            self._scratch_network, world.observations[car], [output[car].numpy() for output in outputs]
        )
        weights = network_weights(self._scratch_network, evolution.population[car])
        return NetworkSnapshot(values, weights, int(np.argmax(values[-1])))

    def best_model(self) -> tuple[nn.Sequential, Config, dict[str, Any], str] | None:
        """The best network so far, its config, training info and a few words on it (None before the first
        generation ends)."""
        evolution = self.learner
        if evolution is None or evolution.best_vector is None:
            return None
        description = f"fitness {evolution.best_fitness:.0f}"
        return evolution.best_network(), evolution.config, evolution.training_info(), description

    def after_save(self, folder: Path | None) -> None:
        """With a run folder, the checkpoint is brought up to date with the saved model."""
        if folder is not None and self.learner is not None:
            save_checkpoint(folder, self.learner)


class SimApp(LearningApp):
    """The learning window with an evolving population."""

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
        super().__init__(
            config,
            track,
            EvolutionLearning(config, seed, generations),
            run_files=run_files,
            max_frames=max_frames,
            screenshot=screenshot,
            speed=speed,
        )

    @property
    def evolution(self) -> Neuroevolution | None:
        """The run being shown."""
        return self.learning.learner

    @property
    def world(self) -> World | None:
        """The world the current generation drives in."""
        return self.learning.world

    @property
    def outcome(self) -> RunOutcome | None:
        """How the last run ended (None while it runs)."""
        return self.learning.outcome
