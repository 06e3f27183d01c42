"""`neurocar sim --teacher rl`: PPO learns live in the window.

The window is one more caller of the same run state `neurocar train rl` steps (`Reinforcement`), so a windowed run
and a headless run with the same seed and config give the same numbers. Every car of the rollout drives with the
one policy being learned, sampling its actions; a car that crashes or stalls starts again at once somewhere along
the track. Each frame spends the step budget of the current speed on `Reinforcement.step()`, like the evolution
window. R restarts the run with the same seed; S saves the best greedy model so far; closing the window ends the run
as CLOSED, so the run folder (with `--run-dir`) keeps the best model and the checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import torch

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import save_model
from neurocar.learn.policy import build_network, network_vector
from neurocar.learn.reinforcement import UNLIMITED_UPDATES, Reinforcement, UpdateResult
from neurocar.learn.run_directory import BEST_MODEL_FILE
from neurocar.learn.runs import Reporter, RunOutcome
from neurocar.paths import display_path
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed, speed_label
from neurocar.ui.fitness_chart import FitnessChart
from neurocar.ui.network_view import NetworkSnapshot, layer_values, network_weights
from neurocar.ui.sim_app import MODELS_DIR, new_model_path

# Makes the run folder of the n-th run (1 = the first) and the reporters that write into it.
RunFiles = Callable[[Reinforcement, int], tuple[Path, list[Reporter]]]


class ReinforcementApp(WindowApp):
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
        self.reporters: list[Reporter] = []
        self.last_result: UpdateResult | None = None
        self.runs_started = 0
        self.outcome: RunOutcome | None = None
        self.restart_requested = False
        self.last_saved: Path | None = None
        self._scratch_network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )

    def help_keys(self) -> list[tuple[str, str]]:
        """The common keys plus restart and save."""
        keys = super().help_keys()
        return [*keys[:4], ("R", "restart learning (same seed)"), ("S", "save the best model so far"), *keys[4:]]

    # --- the run -----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and learn until it is closed (or the updates are done); returns the exit code."""
        self.open_window()
        try:
            self.start_run()
            while True:
                try:
                    self.frame()
                    if self.restart_requested:
                        self.restart()
                    self.advance()
                except WindowClosed:
                    self.end_run(RunOutcome.CLOSED)
                    return 0
                if self.learner is not None and self.learner.outcome is not None:
                    return 0
        except KeyboardInterrupt:
            # Ctrl-C in the terminal: save through the reporters, then let the command line say it stopped.
            self.end_run(RunOutcome.INTERRUPTED)
            raise
        finally:
            self.close_window()

    def start_run(self) -> None:
        """A fresh PPO run (with a run folder: the log and checkpoint reporters too)."""
        self.learner = Reinforcement(self.config, [self.track], self.seed, updates=self.updates)
        self.last_result = None
        self.selected = None
        self.outcome = None
        self.chart.set_history([], [])
        self.runs_started += 1
        self.reset_poses(self.learner.world)
        self.reporters = []
        if self.run_files is not None:
            self.run_folder, self.reporters = self.run_files(self.learner, self.runs_started)
            if self.runs_started > 1:
                self.toasts.show(f"new run folder {display_path(self.run_folder)}")
        for reporter in self.reporters:
            reporter.on_run_start(self.learner)

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

    def restart(self) -> None:
        """End the current run and start a new one with the same seed (R)."""
        self.restart_requested = False
        self.end_run(RunOutcome.RESTARTED)
        self.start_run()

    def advance(self) -> None:
        """Run the simulation steps this frame allows: the budget's whole steps, or at max speed until the next
        frame is due."""
        learner = self.learner
        if learner is None or self.paused:
            return
        while learner.outcome is None:
            if self.max_speed:
                if self.max_speed_draw_due():
                    return
            elif self.budget < 1:
                return
            self.budget -= 1
            result = learner.step()
            self.record_pose(learner.world)
            if result is not None:
                self.on_update(learner, result)

    def idle(self) -> bool:
        """Nothing to simulate once the run has ended."""
        return self.learner is None or self.learner.outcome is not None

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """An update finished: tell the reporters, update the chart (greedy drive and sampled episodes) and the
        HUD's numbers; at the end of the run, let the reporters save."""
        self.last_result = result
        for reporter in self.reporters:
            reporter.on_result(learner, result)
        history = learner.history
        self.chart.set_history(
            [float(row["greedy_fitness"]) for row in history],
            [float(row["mean_episode_fitness"]) for row in history],
        )
        if result.greedy_laps >= 1 and (len(history) < 2 or int(history[-2]["greedy_laps"]) < 1):
            self.toasts.show(f"update {result.update}: the greedy policy drives a whole lap")
        if learner.outcome is not None:
            self.end_run(learner.outcome)

    # --- keys --------------------------------------------------------------------------------------------------

    def on_key(self, key: int) -> None:
        """R restart, S save."""
        if key == pygame.K_r:
            self.toasts.show("restarting learning")
            self.restart_requested = True
        if key == pygame.K_s:
            self.save_best()

    def save_best(self) -> Path | None:
        """Save the best greedy model so far (the same format as training); never overwrites in models/."""
        learner = self.learner
        if learner is None or learner.best_vector is None:
            self.toasts.show("nothing to save yet: wait for the first update to finish")
            return None
        if self.run_folder is not None:
            path = self.run_folder / BEST_MODEL_FILE
        else:
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            path = new_model_path(self.track)
        try:
            save_model(path, learner.best_network(), learner.config, learner.training_info())
        except (NeuroCarError, OSError) as error:
            self.toasts.show(f"not saved: {error}")
            return None
        self.toasts.show(f"saved the best greedy model (update {learner.best_update}) to {display_path(path)}")
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
        speed = "paused" if self.paused else speed_label(self.multiplier)
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
            ("Speed", speed),
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
