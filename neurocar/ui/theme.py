"""The window's look in one place: colours, sizes, and fonts with a cache of rendered text.

Rendering text is the slowest thing pygame does per frame, so `TextCache` keeps every rendered string and only
renders text whose content, size or colour changed.
"""

from __future__ import annotations

import pygame

BACKGROUND = (18, 20, 26)
PANEL = (28, 31, 40)
PANEL_EDGE = (52, 57, 70)
ROAD = (196, 200, 208)
WALL = (240, 244, 250)
KERB = (226, 88, 76)
START_LINE = (30, 32, 38)
CHECKPOINT = (160, 166, 178)
TEXT = (230, 233, 240)
TEXT_DIM = (150, 156, 170)
ACCENT = (255, 196, 64)
POSITIVE = (80, 160, 255)
NEGATIVE = (255, 128, 56)
GOOD = (110, 220, 140)
BAD = (240, 90, 80)

CAR = (64, 200, 226)
LEADER = (255, 196, 64)
SELECTED = (236, 96, 236)
CRASHED = (110, 116, 130)
CRASHED_ALPHA = 120
# Colours of the cars in `neurocar watch`, one per model, distinct from each other and from the road.
MODEL_COLOURS = [
    (64, 200, 226),
    (255, 170, 40),
    (236, 96, 236),
    (120, 220, 110),
    (250, 90, 90),
    (150, 130, 255),
    (255, 230, 90),
    (60, 230, 190),
]

# The three actions on decision maps: steer left, straight, steer right.
ACTION_COLOURS = [(150, 112, 240), (90, 190, 120), (232, 88, 120)]

PANEL_WIDTH = 360
MARGIN = 12

# Text sizes in pixels of pygame's built-in font, large enough to read from the back of a classroom at 1280x800.
TITLE_SIZE = 24
LABEL_SIZE = 21
SMALL_SIZE = 19


def font(size: int) -> pygame.font.Font:
    """pygame's built-in font at `size` pixels (a system font if the built-in one is missing)."""
    try:
        return pygame.font.Font(None, size)
    except (OSError, FileNotFoundError):  # pragma: no cover - only on stripped-down pygame builds
        return pygame.font.SysFont("sans", size)


class TextCache:
    """Rendered text surfaces, reused while the text, size and colour stay the same."""

    def __init__(self, limit: int = 2000) -> None:
        self.limit = limit
        self._fonts: dict[int, pygame.font.Font] = {}
        self._surfaces: dict[tuple[str, int, tuple[int, int, int]], pygame.Surface] = {}

    def font(self, size: int) -> pygame.font.Font:
        """The font of this size (loaded once)."""
        if size not in self._fonts:
            self._fonts[size] = font(size)
        return self._fonts[size]

    def render(self, text: str, size: int, colour: tuple[int, int, int] = TEXT) -> pygame.Surface:
        """The text rendered antialiased, from the cache when possible."""
        key = (text, size, colour)
        surface = self._surfaces.get(key)
        if surface is None:
            if len(self._surfaces) >= self.limit:
                self._surfaces.clear()
            surface = self.font(size).render(text, True, colour)
            self._surfaces[key] = surface
        return surface
