"""Reporters for reinforcement-learning runs: console progress, the CSV log, checkpoints and best model, the chart.

Each is a `Reporter` hook of `neurocar.learn.reinforcement`; the loop calls them and never prints itself.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TextIO

from neurocar.chart import first_lap_markers, write_line_chart
from neurocar.learn.model_file import save_model
from neurocar.learn.reinforcement import LOG_COLUMNS, Reinforcement, Reporter, UpdateResult
from neurocar.learn.reinforcement_checkpoint import save_checkpoint
from neurocar.learn.reporters import progress_bar
from neurocar.learn.run_directory import BEST_MODEL_FILE, CsvLog
from neurocar.paths import display_path

FITNESS_CHART_FILE = "fitness.png"


class ConsoleReporter(Reporter):
    """One line per update on stdout, and a progress bar on stderr when it is a terminal."""

    def __init__(self, updates: int, output: TextIO | None = None, errors: TextIO | None = None) -> None:
        self.updates = updates
        self.output = output or sys.stdout
        self.errors = errors or sys.stderr
        self.interactive = bool(getattr(self.errors, "isatty", lambda: False)())

    def on_run_start(self, learner: Reinforcement) -> None:
        """Say what is being trained."""
        settings = learner.config.reinforcement
        tracks = ", ".join(track.name for track in learner.tracks)
        resumed = f", resuming after update {learner.update}" if learner.update else ""
        target = f", until the greedy policy drives {learner.target_laps} lap(s)" if learner.target_laps else ""
        print(
            f"PPO with {learner.car_count} cars x {settings.rollout_steps} steps per update on {tracks} "
            f"(seed {learner.seed}{target}{resumed})",
            file=self.output,
            flush=True,
        )

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """Print the update's line and redraw the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
        fitness = "-" if math.isnan(result.mean_episode_fitness) else f"{result.mean_episode_fitness:7.1f}"
        print(
            f"update {result.update:>4}/{self.updates}  steps {result.car_steps:>9,}  episode fitness {fitness:>7}  "
            f"greedy laps {result.greedy_laps} progress {result.greedy_progress_percent:5.1f}%  "
            f"entropy {result.entropy:.2f}  kl {result.approx_kl:.4f}  {result.car_steps_per_second:>7,.0f} steps/s",
            file=self.output,
            flush=True,
        )
        if self.interactive:
            self.errors.write(progress_bar(result.update, self.updates))
            self.errors.flush()

    def on_run_end(self, learner: Reinforcement, outcome: str) -> None:
        """Clear the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
            self.errors.flush()


class CsvLogReporter(Reporter):
    """Appends one row per update to the run's log.csv (rewritten from the run's history on resume)."""

    def __init__(self, path: Path) -> None:
        self.log = CsvLog(path, LOG_COLUMNS)

    def on_run_start(self, learner: Reinforcement) -> None:
        """Make the log match the run's history exactly (drops rows of an update that was cut short)."""
        self.log.rewrite(learner.history)

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """Log the update."""
        self.log.append(result.log_row())


class CheckpointReporter(Reporter):
    """Writes checkpoint.pt after every update and best.pt (and `--out`) whenever the greedy best improves."""

    def __init__(self, folder: Path, out: Path | None, updates: int, output: TextIO | None = None) -> None:
        self.folder = folder
        self.out = out
        self.updates = updates
        self.output = output or sys.stdout
        self.saved_update = -1

    def save_best(self, learner: Reinforcement) -> None:
        """Write the best model so far to best.pt and to `--out`."""
        network = learner.best_network()
        training = learner.training_info()
        save_model(self.folder / BEST_MODEL_FILE, network, learner.config, training)
        if self.out is not None:
            save_model(self.out, network, learner.config, training)
        self.saved_update = learner.best_update

    def on_run_start(self, learner: Reinforcement) -> None:
        """Checkpoint the starting state, so even a run stopped in its first update can be resumed."""
        save_checkpoint(self.folder, learner, self.updates)

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """Checkpoint, and save the best model if it improved."""
        save_checkpoint(self.folder, learner, self.updates)
        if learner.best_vector is not None and learner.best_update != self.saved_update:
            self.save_best(learner)

    def on_run_end(self, learner: Reinforcement, outcome: str) -> None:
        """Make sure the best model is on disk (with the final update count) and say where things are.

        The checkpoint is not written here: after Ctrl-C the learner is part-way through an update, and the file
        from the last whole update is the one to resume from."""
        if learner.best_vector is not None:
            self.save_best(learner)
        if outcome in ("interrupted", "closed"):
            saved = (
                f"best model saved to {display_path(self.folder / BEST_MODEL_FILE)}"
                if learner.best_vector is not None
                else "no update finished yet, so there is no model"
            )
            stopped = "interrupted" if outcome == "interrupted" else "window closed"
            print(
                f"{stopped}: {saved}, resume with: neurocar train rl --resume {display_path(self.folder)}",
                file=self.output,
                flush=True,
            )


class ChartReporter(Reporter):
    """Draws fitness.png (mean episode fitness while learning, and the greedy drive's fitness) when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_run_end(self, learner: Reinforcement, outcome: str) -> None:
        """Write the chart from the run's whole history."""
        history = learner.history
        if not history:
            return
        write_line_chart(
            self.path,
            {
                "greedy": [float(row["greedy_fitness"]) for row in history],
                "sampled episodes": [float(row["mean_episode_fitness"]) for row in history],
            },
            title=f"Fitness per update - {', '.join(track.name for track in learner.tracks)}",
            x_label="update",
            y_label="fitness",
            x_values=[int(row["update"]) for row in history],
            markers=first_lap_markers(history, "update", "greedy_laps", "first greedy lap"),
        )
