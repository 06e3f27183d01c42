"""Atomic file writes: a crash or a full disk leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from neurocar.errors import NeuroCarError
from neurocar.paths import display_path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to a new temporary file next to `path`, force it to disk, then rename it over `path`.

    A failure to write (a full disk, a read-only folder) is a `NeuroCarError` naming `path`.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        raise NeuroCarError(f"{target}: cannot write ({error.strerror or error})") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise NeuroCarError(f"{target}: cannot write ({error.strerror or error})") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text (UTF-8, newlines as given) atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_writable(path: str | Path) -> None:
    """Fail early, before any work, if a file cannot be created at `path` (its folder is missing or read-only)."""
    target = Path(path)
    if target.is_dir():
        raise NeuroCarError(f"{display_path(target)}: is a folder; give a file name such as {target / 'model.pt'}")
    # Missing folders are created when saving, so what matters is the nearest one that exists.
    folder = target.parent if str(target.parent) else Path(".")
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        raise NeuroCarError(f"{display_path(target)}: {display_path(folder)} is not a folder")
    if not os.access(folder, os.W_OK):
        raise NeuroCarError(f"{display_path(target)}: cannot write in {display_path(folder)} (permission denied)")
