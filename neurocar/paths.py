"""Where the shipped tracks, configs and assets live: next to the package, never the working directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRACKS_DIR = PROJECT_ROOT / "tracks"
CONFIGS_DIR = PROJECT_ROOT / "configs"
ASSETS_DIR = PROJECT_ROOT / "assets"
DEFAULT_CONFIG = CONFIGS_DIR / "default.yaml"
# A general driver evolved on generated tracks only (the README shows the command); `neurocar watch` shows it.
SHIPPED_DRIVER = ASSETS_DIR / "driver.pt"


def resolve_track_path(name_or_path: str | Path) -> Path:
    """Return a track file: an existing path as given, else a shipped track by file name or stem."""
    path = Path(name_or_path)
    if path.exists():
        return path
    for candidate in (TRACKS_DIR / path, TRACKS_DIR / f"{path}.yaml"):
        if candidate.exists():
            return candidate
    return path


def track_files_in(folder: Path) -> list[Path]:
    """The track files of a folder (`*.yaml` and `*.yml` files, not folders), in name order."""
    return sorted(path for path in folder.iterdir() if path.suffix.lower() in (".yaml", ".yml") and path.is_file())


def display_path(path: str | Path) -> str:
    """A name for a file that works from the working directory: relative to it when inside it, else absolute."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop: name the path as given, made absolute
        resolved = Path(os.path.abspath(path))
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)
