"""`neurocar sim --teacher rl`: PPO learns live in the learning window.

The window is one more `Reporter` of the same `run_reinforcement` loop that `neurocar train rl` runs, so a windowed
run and a headless run with the same seed and config give the same numbers. Every car of the rollout drives with
the one policy being learned, sampling its actions; a car that crashes or stalls starts again at once somewhere
along the track. `on_step` spends the step budget of the current speed and draws frames as it runs out, like the
evolution window. R restarts the run with the same seed; S saves the best greedy model so far; closing the window
is Ctrl-C for the loop, so the run folder (with `--run-dir`) keeps the best model and the checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocar.config import Config
from neurocar.learn.policy import build_network, network_vector
from neurocar.learn.reinforcement import Reinforcement, Reporter, UpdateResult, run_reinforcement
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui.app import WindowClosed
from neurocar.ui.learning_app import LearningApp, RunFiles
from neurocar.ui.network_view import NetworkSnapshot, layer_values, network_weights

UNLIMITED_UPDATES = sys.maxsize


class RestartLearning(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Abort the current run so the window can start a new one with the same seed (R)."""


class LearningWindowClosed(KeyboardInterrupt):
    """The window closed while PPO was stepping: PPO's loop ends as on Ctrl-C, with the outcome 'closed', and its
    reporters save."""

    outcome = "closed"


class ReinforcementLearning(Reporter):
    """PPO as the learning window drives it: PPO's own loop runs, and the window draws from its step hook."""

    help_title = "NeuroCar - reinforcement learning"
    hud_title = "Reinforcement learning"
    restart_text = "restart learning (same seed)"
    chart_labels = ("Fitness per update", ("greedy", "sampled"), "update")
    changes_track = False

    def __init__(self, config: Config, seed: int, updates: int | None = None) -> None:
        self.config = config
        self.seed = seed
        self.updates = updates or UNLIMITED_UPDATES
        self.learner: Reinforcement | None = None
        self.last_result: UpdateResult | None = None
        self.outcome: str | None = None
        self.window: LearningApp | None = None
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    @property
    def world(self) -> World | None:
        """The world the cars are learning in."""
        return self.learner.world if self.learner is not None else None

    def start(self, track: Track) -> None:
        """A fresh PPO run on `track`."""
        self.learner = Reinforcement(self.config, [track], self.seed)
        self.last_result = None

    def drive(self, window: LearningApp) -> None:
        """PPO's loop with the window (and the run folder's reporters) until it ends, the window closes or a
        restart is asked."""
        assert self.learner is not None
        self.window = window
        try:
            self.outcome = run_reinforcement(self.learner, self.updates, [self, *window.reporters])
        except RestartLearning:
            return
        if self.outcome == "interrupted" and not window.shell.closed:
            raise KeyboardInterrupt  # a real Ctrl-C in the terminal: the reporters have saved, now stop

    # --- Reporter hooks ----------------------------------------------------------------------------------------

    def on_step(self, learner: Reinforcement, world: World, actions: np.ndarray) -> None:
        """Spend one step of the budget; when it runs out, draw frames (and handle keys) until there is more."""
        window = self.window
        assert window is not None
        window.record_pose(world)
        window.pacer.spend_step()
        try:
            if window.pacer.frame_due():
                window.frame()
            while window.pacer.budget < 1:
                window.frame()
        except WindowClosed:
            raise LearningWindowClosed from None
        if window.pending_track is not None:
            raise RestartLearning

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """Update the chart (greedy drive and sampled episodes) and the HUD's numbers."""
        window = self.window
        assert window is not None
        self.last_result = result
        history = learner.history
        window.show_history(
            [float(row["greedy_fitness"]) for row in history],
            [float(row["mean_episode_fitness"]) for row in history],
        )
        if result.greedy_laps >= 1 and (len(history) < 2 or int(history[-2]["greedy_laps"]) < 1):
            window.notices.show(f"update {result.update}: the greedy policy drives a whole lap")

    # --- what the window shows ---------------------------------------------------------------------------------

    def hud_rows(self, window: LearningApp) -> list[tuple[str, str]]:
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
        observation = torch.from_numpy(learner.world.observations[car : car + 1]).to(torch.float32)
        outputs = []
        values = observation
        with torch.no_grad():
            for module in learner.actor:
                values = module(values)
                outputs.append(values[0].numpy())
        layers = layer_values(learner.actor, learner.world.observations[car], outputs)
        weights = network_weights(self._scratch_network, network_vector(learner.actor))
        return NetworkSnapshot(layers, weights, int(np.argmax(layers[-1])))

    def best_model(self) -> tuple[nn.Sequential, Config, dict[str, Any], str] | None:
        """The best greedy network so far (None before the first update ends)."""
        learner = self.learner
        if learner is None or learner.best_vector is None:
            return None
        description = f"greedy, update {learner.best_update}"
        return learner.best_network(), learner.config, learner.training_info(), description

    def after_save(self, folder: Path | None) -> None:
        """Nothing more: PPO's checkpoint reporter keeps the run folder's checkpoint."""


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

    @property
    def learner(self) -> Reinforcement | None:
        """The run being shown."""
        return self.learning.learner

    @property
    def outcome(self) -> str | None:
        """How the last run ended."""
        return self.learning.outcome
