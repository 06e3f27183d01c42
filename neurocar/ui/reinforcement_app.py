"""`neurocar sim --teacher rl`: PPO learns live in the learning window (`LearningApp`).

`ReinforcementLearning` is what the window needs to know of `Reinforcement`: how to start a run, what the HUD and
the network view show (the one policy being learned, with the shown car's live values), and which car leads.
Every car of the rollout drives with that policy, sampling its actions; a car that crashes or stalls starts again
at once somewhere along the track, so no car is ever shown stopped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurocar.config import Config
from neurocar.learn.reinforcement import UNLIMITED_UPDATES, Reinforcement, UpdateResult
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui.learning_app import LearningApp, RunFiles
from neurocar.ui.network_view import NetworkSnapshot, network_snapshot


class ReinforcementLearning:
    """PPO as the learning window shows it."""

    help_title = "NeuroCar - reinforcement learning"
    hud_title = "Reinforcement learning"
    restart_text = "restart learning (same seed)"
    unit = "update"
    chart_labels = ("Fitness per update", ("greedy", "sampled"), "update")
    changes_track = False

    def __init__(self, config: Config, seed: int, updates: int | None = None) -> None:
        self.config = config
        self.seed = seed
        self.updates = updates or UNLIMITED_UPDATES
        self.learner: Reinforcement | None = None
        self.last_result: UpdateResult | None = None

    def create(self, track: Track) -> Reinforcement:
        """A fresh PPO run on `track`."""
        self.learner = Reinforcement(self.config, [track], self.seed, updates=self.updates)
        self.last_result = None
        return self.learner

    def after_result(self, window: LearningApp, result: UpdateResult) -> None:
        """Say so when the greedy policy drives its first whole lap."""
        assert self.learner is not None
        history = self.learner.history
        if result.greedy_laps >= 1 and (len(history) < 2 or int(history[-2]["greedy_laps"]) < 1):
            window.notices.show(f"update {result.update}: the greedy policy drives a whole lap")

    # --- what the window shows ---------------------------------------------------------------------------------

    def hud_rows(self) -> list[tuple[str, str]]:
        """Update, car-steps, the last update's episodes and greedy drive."""
        learner, result = self.learner, self.last_result
        update = learner.update + 1 if learner is not None else 1
        episode_fitness = (
            "-" if result is None or np.isnan(result.mean_episode_fitness) else f"{result.mean_episode_fitness:.1f}"
        )
        return [
            ("Update", str(update)),
            ("Car-steps", f"{learner.car_steps:,}" if learner is not None else "0"),
            ("Episode fitness (last)", episode_fitness),
            ("Greedy laps (last)", str(result.greedy_laps) if result else "-"),
            ("Greedy progress (last)", f"{result.greedy_progress_percent:.1f}%" if result else "-"),
            ("Entropy", f"{result.entropy:.2f}" if result else "-"),
        ]

    def leader(self, world: World) -> int:
        """The car that has come furthest in its current episode (cars start at different places)."""
        if self.learner is None:
            return 0
        return int(np.argmax(self.learner.episodes.terms()["progress"]))

    def stopped(self, world: World) -> np.ndarray:
        """None: a car that ends an episode starts the next at once."""
        return np.zeros(world.car_count, dtype=bool)

    def snapshot(self, car: int) -> NetworkSnapshot | None:
        """The shown car's live layer values through the policy being learned, and its weights."""
        learner = self.learner
        if learner is None:
            return None
        return network_snapshot(learner.actor, learner.world.observations[car])

    def best_description(self) -> str:
        """A few words on the best model so far."""
        assert self.learner is not None
        return f"greedy, update {self.learner.best_update}"

    def after_save(self, folder: Path | None) -> None:
        """Nothing more: the checkpoint reporter keeps the run folder's checkpoint at every update."""


class ReinforcementApp(LearningApp):
    """The learning window with PPO."""

    def __init__(
        self,
        config: Config,
        track: Track,
        seed: int,
        *,
        run_files: RunFiles | None = None,
        updates: int | None = None,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        super().__init__(
            config,
            track,
            ReinforcementLearning(config, seed, updates),
            run_files=run_files,
            max_frames=max_frames,
            screenshot=screenshot,
            speed=speed,
        )
