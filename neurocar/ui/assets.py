"""The window's images, loaded from the project's `assets/` folder (never the working directory).

`assets/make_assets.py` draws them; if a file is missing the same drawing is done in memory, so the window still
opens from a bare checkout.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

import pygame

from neurocar.paths import ASSETS_DIR

CAR_FILE = "car.png"
ICON_FILE = "icon.png"


def _drawing_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("neurocar_make_assets", ASSETS_DIR / "make_assets.py")
    if spec is None or spec.loader is None:  # pragma: no cover - the script ships with the project
        raise FileNotFoundError(ASSETS_DIR / "make_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(name: str) -> pygame.Surface | None:
    path: Path = ASSETS_DIR / name
    if not path.exists():
        return None
    return pygame.image.load(str(path))


@cache
def car_sprite() -> pygame.Surface:
    """The car sprite: white body pointing right (+x), to be tinted by multiplication."""
    return _load(CAR_FILE) or _drawing_script().draw_car()


@cache
def window_icon() -> pygame.Surface:
    """The window icon."""
    return _load(ICON_FILE) or _drawing_script().draw_icon(car_sprite())
