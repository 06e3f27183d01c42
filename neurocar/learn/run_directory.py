"""Training run folders: where a run keeps its log, best model and checkpoint, never overwriting another run.

| file            | what                                                                      |
|-----------------|---------------------------------------------------------------------------|
| log.csv         | one row per generation (or epoch), every fitness term                     |
| best.pt         | the best model so far (a model file)                                      |
| checkpoint.pt   | everything needed to resume exactly, written atomically every generation  |
| fitness.png     | the fitness chart (loss.png for supervised training)                      |
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import display_path

RUNS_DIR = Path("runs")
LOG_FILE = "log.csv"
BEST_MODEL_FILE = "best.pt"
CHECKPOINT_FILE = "checkpoint.pt"
# Runs that can be continued, and the command that continues them.
RESUME_COMMANDS = {"evolve": "neurocar train evolve", "sim": "neurocar train evolve", "rl": "neurocar train rl"}


def new_run_directory(requested: str | Path | None, prefix: str) -> Path:
    """Create the run folder: `requested` if given (it must be new or empty), else runs/PREFIX-DATE-TIME."""
    if requested is not None:
        folder = Path(requested)
        if folder.exists() and not folder.is_dir():
            raise NeuroCarError(f"--run-dir {display_path(folder)}: is a file, not a folder")
        if folder.exists() and any(folder.iterdir()):
            # Evolution and reinforcement-learning runs can be continued; other runs only started afresh elsewhere.
            hint = (
                f"use `{RESUME_COMMANDS[prefix]} --resume {display_path(folder)}` to continue that run, or "
                if prefix in RESUME_COMMANDS
                else ""
            )
            raise NeuroCarError(f"--run-dir {display_path(folder)}: already holds files; {hint}choose a new folder")
        _make_folder(folder)
        return folder
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = RUNS_DIR / f"{prefix}-{stamp}"
    for attempt in range(1, 1000):
        folder = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as error:
            raise NeuroCarError(f"{display_path(folder)}: cannot create the run folder ({error.strerror})") from None
    raise NeuroCarError(f"{display_path(base)}: too many runs started this second")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NeuroCarError(f"{display_path(folder)}: cannot create the run folder ({error.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise NeuroCarError(f"{display_path(folder)}: cannot write in the run folder (permission denied)")


class CsvLog:
    """An append-only CSV log with a fixed header, flushed after every row."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns

    def rewrite(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the whole log (atomically) with these rows."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())

    def append(self, row: dict[str, Any]) -> None:
        """Add one row (writing the header first if the file is new)."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=self.columns, lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerow(row)
            stream.flush()
