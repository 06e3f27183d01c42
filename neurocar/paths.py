"""Where the shipped tracks, configs and assets live: next to the package, never the working directory."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRACKS_DIR = PROJECT_ROOT / "tracks"
CONFIGS_DIR = PROJECT_ROOT / "configs"
ASSETS_DIR = PROJECT_ROOT / "assets"
DEFAULT_CONFIG = CONFIGS_DIR / "default.yaml"


def resolve_track_path(name_or_path: str | Path) -> Path:
    """Return a track file: an existing path as given, else a shipped track by file name or stem."""
    path = Path(name_or_path)
    if path.exists():
        return path
    for candidate in (TRACKS_DIR / path, TRACKS_DIR / f"{path}.yaml"):
        if candidate.exists():
            return candidate
    return path


def display_path(path: Path) -> str:
    """A short, stable name for a file: relative to the working directory or the project when possible."""
    resolved = Path(path).resolve()
    for base in (Path.cwd().resolve(), PROJECT_ROOT):
        try:
            return str(resolved.relative_to(base))
        except ValueError:
            continue
    return str(path)
