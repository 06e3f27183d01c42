"""Training run folders: where a run keeps its log, best model and checkpoint, never overwriting another run.

| file            | what                                                                      |
|-----------------|---------------------------------------------------------------------------|
| log.csv         | one row per generation (or epoch), every fitness term                     |
| best.pt         | the best model so far (a model file)                                      |
| checkpoint.pt   | everything needed to resume exactly, written atomically every generation  |
| fitness.png     | the fitness chart (loss.png for supervised training)                      |
| run.lock        | present while a process writes the run: its process id                    |

A run folder has one writer at a time: `RunLock` holds an exclusive lock on `run.lock` (fcntl on POSIX, msvcrt on
Windows) for as long as a run or a resume writes the folder, and removes the file when it ends. The operating
system drops the lock when its process dies, so a killed run never blocks the folder.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import display_path

RUNS_DIR = Path("runs")
LOG_FILE = "log.csv"
BEST_MODEL_FILE = "best.pt"
CHECKPOINT_FILE = "checkpoint.pt"
LOCK_FILE = "run.lock"
# Runs that can be continued, and the command that continues them.
RESUME_COMMANDS = {"evolve": "neurocar train evolve", "sim": "neurocar train evolve", "rl": "neurocar train rl"}


def _try_lock(descriptor: int) -> bool:
    """Take the exclusive lock of an open file without waiting; False if another process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


class RunLock:
    """The one-writer lock of a run folder; a second writer is refused with a one-line error."""

    def __init__(self, folder: Path, require_empty: bool = False) -> None:
        """Lock `folder` (which must exist); with `require_empty`, also refuse a folder that holds anything else."""
        self.folder = folder
        self.path = folder / LOCK_FILE
        self._descriptor: int | None = None
        while True:
            try:
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as error:
                raise NeuroCarError(
                    f"{display_path(folder)}: cannot lock the run folder ({error.strerror or error})"
                ) from None
            if not _try_lock(descriptor):
                os.close(descriptor)
                raise NeuroCarError(
                    f"{display_path(folder)}: another neurocar run is writing this folder{self._holder()}; "
                    "wait for it to finish or stop it, or choose another folder"
                )
            # The holder before us may have removed the file between our open and our lock: then start over.
            try:
                same = os.path.samestat(os.fstat(descriptor), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(descriptor)
        self._descriptor = descriptor
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        if require_empty and any(child.name != LOCK_FILE for child in folder.iterdir()):
            self.release()
            raise NeuroCarError(f"--run-dir {display_path(folder)}: already holds files; choose a new folder")

    def _holder(self) -> str:
        """(process N)" from the lock file, if it can be read."""
        with contextlib.suppress(OSError, ValueError):
            return f" (process {int(self.path.read_text(encoding='ascii').split()[0])})"
        return ""

    def release(self) -> None:
        """Remove the lock file and drop the lock (removing first, so no other process locks a stale file)."""
        if self._descriptor is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._descriptor)
        self._descriptor = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def new_run_directory(requested: str | Path | None, prefix: str) -> Path:
    """Create the run folder: `requested` if given (it must be new or empty), else runs/PREFIX-DATE-TIME."""
    if requested is not None:
        folder = Path(requested)
        if folder.exists() and not folder.is_dir():
            raise NeuroCarError(f"--run-dir {display_path(folder)}: is a file, not a folder")
        if folder.exists() and any(child.name != LOCK_FILE for child in folder.iterdir()):
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


def claim_run_directory(requested: str | Path | None, prefix: str) -> tuple[Path, RunLock]:
    """`new_run_directory`, locked for this process: a folder another run is writing is refused.

    The caller releases the lock when the run ends (`RunLock.release`, or `with`).
    """
    if requested is not None and Path(requested).is_dir():
        lock = RunLock(Path(requested))
        try:
            return new_run_directory(requested, prefix), lock
        except BaseException:
            lock.release()
            raise
    folder = new_run_directory(requested, prefix)
    return folder, RunLock(folder, require_empty=True)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NeuroCarError(f"{display_path(folder)}: cannot create the run folder ({error.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise NeuroCarError(f"{display_path(folder)}: cannot write in the run folder (permission denied)")


def csv_value(value: Any) -> str:
    """How a log writes one value: floats exactly (`repr`, so reading the log back gives the same number)."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class CsvLog:
    """An append-only CSV log with a fixed header, flushed after every row; rows hold numbers, written here."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns

    def rewrite(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the whole log (atomically) with these rows."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: csv_value(value) for key, value in row.items()} for row in rows)
        atomic_write_text(self.path, buffer.getvalue())

    def append(self, row: dict[str, Any]) -> None:
        """Add one row (writing the header first if the file is new)."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=self.columns, lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerow({key: csv_value(value) for key, value in row.items()})
            stream.flush()


Loaded = TypeVar("Loaded")


def resume_locked(folder: Path, load: Callable[[Path], Loaded]) -> tuple[Loaded, RunLock]:
    """Lock a run folder, then load its checkpoint with `load`; the lock is released if loading fails.

    Locked before the checkpoint is read, so two resumes of one run never both continue it.
    """
    lock = RunLock(folder) if (folder / CHECKPOINT_FILE).is_file() else None
    try:
        loaded = load(folder)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    assert lock is not None  # `load` refuses a folder without a checkpoint
    return loaded, lock
