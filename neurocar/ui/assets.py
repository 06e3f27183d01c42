"""The window's images: the shipped `car.png` and `icon.png` (found by `neurocar.paths`, never the working folder).

They are the drawings of `neurocar.ui.sprites`; if a file is missing the same drawing is done in memory, so the
window still opens.
"""

from __future__ import annotations

from functools import cache

import pygame

from neurocar.paths import shipped_asset
from neurocar.ui.sprites import draw_car, draw_icon

CAR_FILE = "car.png"
ICON_FILE = "icon.png"


def _load(name: str) -> pygame.Surface | None:
    path = shipped_asset(name)
    if not path.is_file():
        return None
    return pygame.image.load(str(path))


@cache
def car_sprite() -> pygame.Surface:
    """The car sprite: white body pointing right (+x), to be tinted by multiplication."""
    return _load(CAR_FILE) or draw_car()


@cache
def window_icon() -> pygame.Surface:
    """The window icon."""
    return _load(ICON_FILE) or draw_icon(car_sprite())
