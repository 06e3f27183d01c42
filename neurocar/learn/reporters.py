"""Reporters for training runs, evolution and reinforcement learning alike: console progress, the CSV log,
checkpoints and the best model, the fitness chart.

Each is a passive `Reporter` hook: whoever steps the run (the headless command, the window) tells them what happened;
the run itself never prints. They read the run through `neurocar.learn.runs.TrainingRun`, so the same four serve
both teachers; only the checkpoint writer is the teacher's own (`save_checkpoint` of its checkpoint module).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from neurocar.chart import Marker, first_lap_markers, write_line_chart
from neurocar.learn.model_file import save_model
from neurocar.learn.run_directory import BEST_MODEL_FILE, CsvLog
from neurocar.learn.runs import Reporter, RunOutcome, RunResult, TrainingRun
from neurocar.paths import display_path

BAR_WIDTH = 24
FITNESS_CHART_FILE = "fitness.png"

# Writes a run's checkpoint into a folder: `save_checkpoint` of `neurocar.learn.checkpoint` (evolution) or of
# `neurocar.learn.reinforcement_checkpoint`.
SaveCheckpoint = Callable[[Path, Any], Path]


def progress_bar(done: int, total: int) -> str:
    """A text progress bar such as `[=========>          ]  12/100`."""
    total = max(total, 1)
    filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
    arrow = ">" if filled < BAR_WIDTH else ""
    return f"[{'=' * filled}{arrow}{' ' * (BAR_WIDTH - filled - len(arrow))}] {done:>{len(str(total))}}/{total}"


class ConsoleReporter(Reporter):
    """One line per generation (or update) on stdout, and a progress bar on stderr when it is a terminal."""

    def __init__(self, output: TextIO | None = None, errors: TextIO | None = None) -> None:
        self.output = output or sys.stdout
        self.errors = errors or sys.stderr
        self.interactive = bool(getattr(self.errors, "isatty", lambda: False)())

    def on_run_start(self, run: TrainingRun) -> None:
        """Say what is being trained."""
        print(run.heading(), file=self.output, flush=True)

    def on_result(self, run: TrainingRun, result: RunResult) -> None:
        """Print the result's line and redraw the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
        print(result.console_line(run.total), file=self.output, flush=True)
        if self.interactive:
            self.errors.write(progress_bar(run.completed, run.total))
            self.errors.flush()

    def on_run_end(self, run: TrainingRun, outcome: RunOutcome) -> None:
        """Clear the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
            self.errors.flush()


class CsvLogReporter(Reporter):
    """Appends one row per generation (or update) to the run's log.csv (rewritten from the run's history on
    resume)."""

    def __init__(self, path: Path, columns: list[str] | None = None) -> None:
        self.path = path
        self.columns = columns
        self.log: CsvLog | None = None

    def on_run_start(self, run: TrainingRun) -> None:
        """Make the log match the run's history exactly (drops rows of a generation that was cut short)."""
        self.log = CsvLog(self.path, self.columns or run.log_columns)
        self.log.rewrite(run.history)

    def on_result(self, run: TrainingRun, result: RunResult) -> None:
        """Log the result."""
        if self.log is None:
            self.log = CsvLog(self.path, self.columns or run.log_columns)
        self.log.append(result.log_row())


class CheckpointReporter(Reporter):
    """Writes checkpoint.pt after every generation (or update) and best.pt (and `--out`) whenever the kept best
    changes; at the end of the run both once more, and after Ctrl-C or a closed window it says where they are."""

    def __init__(
        self, folder: Path, save_checkpoint: SaveCheckpoint, out: Path | None = None, output: TextIO | None = None
    ) -> None:
        self.folder = folder
        self.save_checkpoint = save_checkpoint
        self.out = out
        self.output = output or sys.stdout
        self.saved_best_at = -1

    def save_best(self, run: TrainingRun) -> None:
        """Write the best model so far to best.pt and to `--out`."""
        network = run.best_state_dict()
        training = run.training_info()
        save_model(self.folder / BEST_MODEL_FILE, network, run.config, training)
        if self.out is not None:
            save_model(self.out, network, run.config, training)
        self.saved_best_at = run.best_at

    def on_run_start(self, run: TrainingRun) -> None:
        """Checkpoint the starting state, so even a run stopped in its first generation can be resumed."""
        self.save_checkpoint(self.folder, run)

    def on_result(self, run: TrainingRun, result: RunResult) -> None:
        """Checkpoint, and save the best model if it changed."""
        self.save_checkpoint(self.folder, run)
        if run.best_vector is not None and run.best_at != self.saved_best_at:
            self.save_best(run)

    def on_run_end(self, run: TrainingRun, outcome: RunOutcome) -> None:
        """Make sure the checkpoint (of the last whole generation or update) and the best model are on disk, and say
        where things are."""
        self.save_checkpoint(self.folder, run)
        if run.best_vector is not None:
            self.save_best(run)
        if outcome in (RunOutcome.INTERRUPTED, RunOutcome.CLOSED):
            saved = (
                f"best model saved to {display_path(self.folder / BEST_MODEL_FILE)}"
                if run.best_vector is not None
                else f"no {run.unit} finished yet, so there is no model"
            )
            stopped = "interrupted" if outcome is RunOutcome.INTERRUPTED else "window closed"
            print(
                f"{stopped}: {saved}, resume with: neurocar train {run.command} --resume {display_path(self.folder)}",
                file=self.output,
                flush=True,
            )


# The log column that counts a run's laps, and how its chart names the first one.
FIRST_LAP = {"generation": ("best_laps", "first lap"), "update": ("greedy_laps", "first greedy lap")}


def chart_markers(run: TrainingRun) -> list[Marker]:
    """The chart's markers for a run: the generation (or update) of its first lap, if it has one."""
    column, label = FIRST_LAP.get(run.unit, ("", ""))
    return first_lap_markers(run.history, run.unit, column, label) if column else []


class ChartReporter(Reporter):
    """Draws fitness.png (the run's fitness per generation or update) when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_run_end(self, run: TrainingRun, outcome: RunOutcome) -> None:
        """Write the chart from the run's whole history."""
        title, series = run.chart_series()
        write_line_chart(
            self.path,
            series,
            title=title,
            x_label=run.unit,
            y_label="fitness",
            x_values=[int(row[run.unit]) for row in run.history],
            markers=chart_markers(run),
        )
