"""Where the shipped tracks, configs and assets are, and the names that find them from any folder.

The top-level `tracks/`, `configs/` and `assets/` folders of the repository are part of the product. A wheel
carries them inside the package (`neurocar/tracks`, ...); a source checkout and an editable install keep them
beside the package folder. `shipped_folder` finds them the same way in all three, through `importlib.resources`
from wherever the package was imported, so nothing depends on the working folder.

Names that work from any folder (a path that exists always wins, because the user gave it):

| name                      | what                                        |
|---------------------------|---------------------------------------------|
| `--track NAME`            | the shipped track NAME.yaml (e.g. `oval`)   |
| `--track shipped`         | the folder of every shipped track           |
| `--model driver`          | the shipped general driver (`driver.pt`)    |
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

SHIPPED_TRACKS_NAME = "shipped"
SHIPPED_DRIVER_NAME = "driver"


def shipped_folder(kind: str) -> Path:
    """The folder of shipped files of one kind ("tracks", "configs" or "assets").

    Inside the installed package when it is there (a wheel), else the folder of that name beside the package
    folder (a source checkout or an editable install, where the package is imported from the checkout).
    """
    package = importlib.resources.files("neurocar")
    inside = package.joinpath(kind)
    if inside.is_dir():
        return Path(str(inside))
    return Path(str(package)).parent / kind


TRACKS_DIR = shipped_folder("tracks")
CONFIGS_DIR = shipped_folder("configs")
ASSETS_DIR = shipped_folder("assets")
DEFAULT_CONFIG = CONFIGS_DIR / "default.yaml"
# A general driver evolved on generated tracks only (the README shows the command); `neurocar watch` shows it.
SHIPPED_DRIVER = ASSETS_DIR / "driver.pt"


def shipped_asset(name: str) -> Path:
    """A file of the shipped assets (an image, the shipped driver)."""
    return ASSETS_DIR / name


def _is_bare_name(path: Path) -> bool:
    """A plain name such as `oval`, not a path into some folder (so `../x` never reaches the shipped folders)."""
    return len(path.parts) == 1 and path.name not in ("", ".", "..")


def resolve_track_path(name_or_path: str | Path) -> Path:
    """A track file or folder: an existing path as given, else `shipped` (the shipped tracks folder), else a shipped
    track by file name or stem; anything else is returned unchanged (the loader then says it is not found)."""
    path = Path(name_or_path)
    if path.exists() or not _is_bare_name(path):
        return path
    if str(name_or_path) == SHIPPED_TRACKS_NAME:
        return TRACKS_DIR
    for candidate in (TRACKS_DIR / path, TRACKS_DIR / f"{path}.yaml"):
        if candidate.exists():
            return candidate
    return path


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A model file: an existing path as given, else `driver` (the shipped general driver); anything else is
    returned unchanged (the loader then says it is not found)."""
    path = Path(name_or_path)
    if not path.exists() and str(name_or_path) == SHIPPED_DRIVER_NAME:
        return SHIPPED_DRIVER
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
