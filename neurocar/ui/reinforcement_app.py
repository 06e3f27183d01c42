"""`neurocar sim --teacher rl`: PPO learns live in the window.

The window is one more `Reporter` of the same `run_reinforcement` loop that `neurocar train rl` runs, so a windowed
run and a headless run with the same seed and config give the same numbers. Every car of the rollout drives with
the one policy being learned, sampling its actions; a car that crashes or stalls starts again at once somewhere
along the track. `on_step` spends the step budget of the current speed and draws frames as it runs out, like the
evolution window. R restarts the run with the same seed; S saves the best greedy model so far; closing the window
is Ctrl-C for the loop, so the run folder (with `--run-dir`) keeps the best model and the checkpoint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import torch

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import save_model
from neurocar.learn.policy import build_network, network_vector
from neurocar.learn.reinforcement import Reinforcement, Reporter, UpdateResult, run_reinforcement
from neurocar.learn.run_directory import BEST_MODEL_FILE
from neurocar.paths import display_path
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed
from neurocar.ui.fitness_chart import FitnessChart
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot, layer_values, network_weights
from neurocar.ui.sim_app import MODELS_DIR, new_model_path

UNLIMITED_UPDATES = sys.maxsize

# Makes the run folder of the n-th run (1 = the first) and the reporters that write into it.
RunFiles = Callable[[Reinforcement, int], tuple[Path, list[Reporter]]]


class RestartLearning(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Abort the current run and start a new one with the same seed (R)."""


class LearningWindowClosed(KeyboardInterrupt):
    """The window closed while PPO was stepping: PPO's loop ends as on Ctrl-C, with the outcome 'closed', and its
    reporters save."""

    outcome = "closed"


class ReinforcementApp(WindowApp, Reporter):
    """The cars of a PPO run in a window, with the greedy drive's fitness charted per update."""

    help_title = "NeuroCar - reinforcement learning"

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
        super().__init__(config, track, max_frames=max_frames, screenshot=screenshot, speed=speed)
        self.seed = seed
        self.run_files = run_files
        self.run_folder: Path | None = None
        self.updates = updates or UNLIMITED_UPDATES
        self.chart = FitnessChart(self.texts, "Fitness per update", ("greedy", "sampled"), "update")
        self.learner: Reinforcement | None = None
        self.last_result: UpdateResult | None = None
        self.runs_started = 0
        self.outcome: str | None = None
        self.last_saved: Path | None = None
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    def key_bindings(self) -> list[Binding]:
        """Speed and rays, restart and save, and the click that picks the car shown."""
        return [
            *self.speed_bindings(),
            self.rays_binding(),
            Binding("R", "restart learning (same seed)", self.restart_by_key, (pygame.K_r,)),
            Binding("S", "save the best model so far", self.save_best, (pygame.K_s,)),
            self.select_binding(),
        ]

    # --- the run -----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and learn until it is closed (or the updates are done); returns the exit code."""
        self.open_window()
        try:
            while True:
                try:
                    self.outcome = self.learn()
                    return 0
                except RestartLearning:
                    continue
        finally:
            self.close_window()

    def learn(self) -> str:
        """One PPO run with the window and (with a run folder) the log and checkpoint reporters."""
        self.learner = Reinforcement(self.config, [self.track], self.seed)
        self.last_result = None
        self.selected = None
        self.chart.set_history([], [])
        self.runs_started += 1
        self.reset_poses(self.learner.world)
        reporters: list[Reporter] = [self]
        if self.run_files is not None:
            self.run_folder, file_reporters = self.run_files(self.learner, self.runs_started)
            reporters += file_reporters
            if self.runs_started > 1:
                self.notices.show(f"new run folder {display_path(self.run_folder)}")
        outcome = run_reinforcement(self.learner, self.updates, reporters)
        if outcome == "interrupted" and not self.shell.closed:
            raise KeyboardInterrupt  # a real Ctrl-C in the terminal: the reporters have saved, now stop
        return outcome

    # --- Reporter hooks ----------------------------------------------------------------------------------------

    def on_step(self, learner: Reinforcement, world: World, actions: np.ndarray) -> None:
        """Spend one step of the budget; when it runs out, draw frames (and handle keys) until there is more."""
        self.record_pose(world)
        self.pacer.spend_step()
        try:
            if self.pacer.frame_due():
                self.frame()
            while self.pacer.budget < 1:
                self.frame()
        except WindowClosed:
            raise LearningWindowClosed from None

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """Update the chart (greedy drive and sampled episodes) and the HUD's numbers."""
        self.last_result = result
        history = learner.history
        self.chart.set_history(
            [float(row["greedy_fitness"]) for row in history],
            [float(row["mean_episode_fitness"]) for row in history],
        )
        if result.greedy_laps >= 1 and (len(history) < 2 or int(history[-2]["greedy_laps"]) < 1):
            self.notices.show(f"update {result.update}: the greedy policy drives a whole lap")

    # --- keys --------------------------------------------------------------------------------------------------

    def restart_by_key(self) -> None:
        """R: end this run and start a new one with the same seed."""
        self.notices.show("restarting learning")
        raise RestartLearning

    def save_best(self) -> Path | None:
        """Save the best greedy model so far (the same format as training); never overwrites in models/."""
        learner = self.learner
        if learner is None or learner.best_vector is None:
            self.notices.show("nothing to save yet: wait for the first update to finish")
            return None
        if self.run_folder is not None:
            path = self.run_folder / BEST_MODEL_FILE
        else:
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            path = new_model_path(self.track)
        try:
            save_model(path, learner.best_network(), learner.config, learner.training_info())
        except (NeuroCarError, OSError) as error:
            self.notices.show(f"not saved: {error}")
            return None
        self.notices.show(f"saved the best greedy model (update {learner.best_update}) to {display_path(path)}")
        self.last_saved = path
        return path

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World | None:
        """The world the cars are learning in."""
        return self.learner.world if self.learner is not None else None

    def leader(self, world: World) -> int:
        """The car that has come furthest in its current episode (cars start at different places)."""
        if self.learner is None:
            return 0
        return int(np.argmax(self.learner.episodes.terms()["progress"]))

    def focus_car(self, world: World) -> int:
        """The selected car, else the leader."""
        if self.selected is not None and self.selected < world.car_count:
            return self.selected
        return self.leader(world)

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """Every car (they all drive), then the leader and the selected car on top."""
        groups = [(np.arange(world.car_count), theme.CAR, 255), (np.array([self.leader(world)]), theme.LEADER, 255)]
        if self.selected is not None and self.selected < world.car_count:
            groups.append((np.array([self.selected]), theme.SELECTED, 255))
        return groups

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """Update, car-steps, the last update's episodes and greedy drive, speed, FPS, track."""
        learner, result = self.learner, self.last_result
        update = learner.update + 1 if learner is not None else 1
        episode_fitness = (
            "-" if result is None or np.isnan(result.mean_episode_fitness) else (f"{result.mean_episode_fitness:.1f}")
        )
        rows = [
            ("Track", self.track.name),
            ("Update", str(update)),
            ("Car-steps", f"{learner.car_steps:,}" if learner is not None else "0"),
            ("Episode fitness (last)", episode_fitness),
            ("Greedy laps (last)", str(result.greedy_laps) if result else "-"),
            ("Greedy progress (last)", f"{result.greedy_progress_percent:.1f}%" if result else "-"),
            ("Entropy", f"{result.entropy:.2f}" if result else "-"),
            ("Speed", self.pacer.label()),
            ("FPS", self.fps_label()),
        ]
        return "Reinforcement learning", rows

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
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

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The fitness chart (changes once per update)."""
        return self.chart.draw(surface, rect)
