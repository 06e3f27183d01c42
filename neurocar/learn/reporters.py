"""Reporters for evolution runs: console progress, the CSV log, checkpoints and best model, the fitness chart.

Each is a passive `Reporter` hook: whoever steps the run (the headless command, the window) tells them what happened;
the run itself never prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from neurocar.chart import first_lap_markers, write_line_chart
from neurocar.learn.checkpoint import save_checkpoint
from neurocar.learn.model_file import save_model
from neurocar.learn.neuroevolution import LOG_COLUMNS, GenerationResult, Neuroevolution, Reporter, RunOutcome
from neurocar.learn.run_directory import BEST_MODEL_FILE, CsvLog
from neurocar.paths import display_path

BAR_WIDTH = 24


def progress_bar(done: int, total: int) -> str:
    """A text progress bar such as `[=========>          ]  12/100`."""
    total = max(total, 1)
    filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
    arrow = ">" if filled < BAR_WIDTH else ""
    return f"[{'=' * filled}{arrow}{' ' * (BAR_WIDTH - filled - len(arrow))}] {done:>{len(str(total))}}/{total}"


class ConsoleReporter(Reporter):
    """One line per generation on stdout, and a progress bar on stderr when it is a terminal."""

    def __init__(self, output: TextIO | None = None, errors: TextIO | None = None) -> None:
        self.output = output or sys.stdout
        self.errors = errors or sys.stderr
        self.interactive = bool(getattr(self.errors, "isatty", lambda: False)())

    def on_run_start(self, evolution: Neuroevolution) -> None:
        """Say what is being trained."""
        tracks = ", ".join([track.name for track in evolution.tracks] + evolution.random_tracks.describe())
        resumed = f", resuming after generation {evolution.generation}" if evolution.generation else ""
        target = f", until {evolution.target_laps} lap(s)" if evolution.target_laps else ""
        print(
            f"evolving {evolution.config.evolution.population} cars on {tracks} (seed {evolution.seed}"
            f"{target}{resumed})",
            file=self.output,
            flush=True,
        )

    def on_generation(self, evolution: Neuroevolution, result: GenerationResult) -> None:
        """Print the generation's line and redraw the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
        population = evolution.config.evolution.population
        # With several tracks it is the mean over the tracks.
        alive = f"{result.alive_at_end:g}" if result.alive_at_end.is_integer() else f"{result.alive_at_end:.1f}"
        print(
            f"gen {result.generation:>4}/{evolution.generations}  best {result.best_fitness:9.1f}  "
            f"mean {result.mean_fitness:9.1f}  laps {result.best_laps}  "
            f"alive {alive}/{population}  {result.car_steps_per_second:>9,.0f} car-steps/s",
            file=self.output,
            flush=True,
        )
        if self.interactive:
            self.errors.write(progress_bar(result.generation, evolution.generations))
            self.errors.flush()

    def on_run_end(self, evolution: Neuroevolution, outcome: RunOutcome) -> None:
        """Clear the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
            self.errors.flush()


class CsvLogReporter(Reporter):
    """Appends one row per generation to the run's log.csv (rewritten from the run's history on resume)."""

    def __init__(self, path: Path) -> None:
        self.log = CsvLog(path, LOG_COLUMNS)

    def on_run_start(self, evolution: Neuroevolution) -> None:
        """Make the log match the run's history exactly (drops rows of a generation that was cut short)."""
        self.log.rewrite(evolution.history)

    def on_generation(self, evolution: Neuroevolution, result: GenerationResult) -> None:
        """Log the generation."""
        self.log.append(result.log_row())


class CheckpointReporter(Reporter):
    """Writes checkpoint.pt every generation and best.pt (and `--out`) whenever the kept best changes."""

    def __init__(self, folder: Path, out: Path | None = None, output: TextIO | None = None) -> None:
        self.folder = folder
        self.out = out
        self.output = output or sys.stdout
        self.saved_generation = -1

    def save_best(self, evolution: Neuroevolution) -> None:
        """Write the best model so far to best.pt and to `--out`."""
        network = evolution.best_network()
        training = evolution.training_info()
        save_model(self.folder / BEST_MODEL_FILE, network, evolution.config, training)
        if self.out is not None:
            save_model(self.out, network, evolution.config, training)
        self.saved_generation = evolution.best_generation

    def on_run_start(self, evolution: Neuroevolution) -> None:
        """Checkpoint the starting state, so even a run stopped in its first generation can be resumed."""
        save_checkpoint(self.folder, evolution)

    def on_generation(self, evolution: Neuroevolution, result: GenerationResult) -> None:
        """Checkpoint, and save the best model if it improved."""
        save_checkpoint(self.folder, evolution)
        if evolution.best_vector is not None and evolution.best_generation != self.saved_generation:
            self.save_best(evolution)

    def on_run_end(self, evolution: Neuroevolution, outcome: RunOutcome) -> None:
        """Make sure the checkpoint and the best model are on disk (with the final generation count) and say where
        things are."""
        save_checkpoint(self.folder, evolution)
        if evolution.best_vector is not None:
            self.save_best(evolution)
        where = display_path(self.folder)
        if outcome in (RunOutcome.INTERRUPTED, RunOutcome.CLOSED):
            saved = (
                f"best model saved to {display_path(self.folder / BEST_MODEL_FILE)}"
                if evolution.best_vector is not None
                else "no generation finished yet, so there is no model"
            )
            stopped = "interrupted" if outcome is RunOutcome.INTERRUPTED else "window closed"
            print(
                f"{stopped}: {saved}, resume with: neurocar train evolve --resume {where}",
                file=self.output,
                flush=True,
            )


class ChartReporter(Reporter):
    """Draws fitness.png (best and mean fitness per generation) when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_run_end(self, evolution: Neuroevolution, outcome: RunOutcome) -> None:
        """Write the chart from the run's whole history."""
        history = evolution.history
        write_line_chart(
            self.path,
            {
                "best": [float(row["best_fitness"]) for row in history],
                "mean": [float(row["mean_fitness"]) for row in history],
            },
            title=f"Fitness per generation - {', '.join(track.name for track in evolution.tracks)}",
            x_label="generation",
            y_label="fitness",
            x_values=[int(row["generation"]) for row in history],
            markers=first_lap_markers(history, "generation", "best_laps"),
        )
