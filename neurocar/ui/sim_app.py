"""`neurocar sim`: a population evolves live in the learning window (`LearningApp`).

`EvolutionLearning` is what the window needs to know of `Neuroevolution`: how to start a run, what the HUD and the
network view show (the live values of the car's own genome), and that after each generation the next one is put
on the start line, so the window follows its leader from the start.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurocar.config import Config
from neurocar.learn.checkpoint import save_checkpoint
from neurocar.learn.neuroevolution import UNLIMITED_GENERATIONS, GenerationResult, Neuroevolution
from neurocar.learn.policy import build_network
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui.app import leading_car
from neurocar.ui.learning_app import MODELS_DIR, LearningApp, RunFiles, new_model_path
from neurocar.ui.network_view import NetworkSnapshot, network_snapshot

__all__ = ["MODELS_DIR", "EvolutionLearning", "SimApp", "new_model_path"]


class EvolutionLearning:
    """Neuroevolution as the learning window shows it."""

    help_title = "NeuroCar - evolution"
    hud_title = "Evolution"
    restart_text = "restart evolution (same seed)"
    unit = "generation"
    chart_labels = ("Fitness per generation", ("best", "mean"), "generation")
    changes_track = True

    def __init__(self, config: Config, seed: int, generations: int | None = None) -> None:
        self.config = config
        self.seed = seed
        self.generations = generations or UNLIMITED_GENERATIONS
        self.learner: Neuroevolution | None = None
        self.last_result: GenerationResult | None = None
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    @property
    def world(self) -> World | None:
        """The world the current generation drives in."""
        return self.learner.world if self.learner is not None else None

    def create(self, track: Track) -> Neuroevolution:
        """A fresh evolution on `track`, its first generation on the start line."""
        self.learner = Neuroevolution(self.config, [track], self.seed, generations=self.generations)
        self.learner.start_drive()
        self.last_result = None
        return self.learner

    def after_result(self, window: LearningApp, result: GenerationResult) -> None:
        """The next generation is on the start line: follow its leader."""
        assert self.learner is not None and self.learner.world is not None
        self.learner.start_drive()
        window.selected = None
        window.reset_poses(self.learner.world)

    # --- what the window shows ---------------------------------------------------------------------------------

    def hud_rows(self) -> list[tuple[str, str]]:
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
        return network_snapshot(self._scratch_network, world.observations[car], evolution.population[car])

    def best_description(self) -> str:
        """A few words on the best model so far."""
        assert self.learner is not None
        return f"fitness {self.learner.best_fitness:.0f}"

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
