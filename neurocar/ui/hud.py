"""The heads-up display: labelled values in rows (generation, alive, fitness, speed, FPS, ...) and toast messages."""

from __future__ import annotations

import time

import pygame

from neurocar.ui import theme
from neurocar.ui.theme import TextCache

ROW_HEIGHT = 24
TOAST_SECONDS = 4.0


class Hud:
    """Draws (label, value) rows; unchanged text comes from the text cache, so a still HUD costs only blits."""

    def __init__(self, texts: TextCache) -> None:
        self.texts = texts

    def height(self, rows: int, title: bool = True) -> int:
        """Pixel height of a HUD with this many rows."""
        return 16 + ROW_HEIGHT * rows + (34 if title else 0)

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        title: str,
        rows: list[tuple[str, str]],
        value_colours: dict[str, tuple[int, int, int]] | None = None,
    ) -> None:
        """A panel with a title and label/value rows."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        surface.blit(self.texts.render(title, 28, theme.ACCENT), (rect.left + 10, rect.top + 10))
        y = rect.top + 44
        for label, value in rows:
            surface.blit(self.texts.render(label, 20, theme.TEXT_DIM), (rect.left + 12, y))
            colour = (value_colours or {}).get(label, theme.TEXT)
            text = self.texts.render(value, 22, colour)
            surface.blit(text, (rect.right - 12 - text.get_width(), y - 1))
            y += ROW_HEIGHT


class Toasts:
    """Short messages shown at the bottom of the track view for a few seconds."""

    def __init__(self, texts: TextCache) -> None:
        self.texts = texts
        self.messages: list[tuple[str, float]] = []

    def show(self, message: str) -> None:
        """Show a message now (the newest is drawn lowest)."""
        self.messages.append((message, time.perf_counter() + TOAST_SECONDS))
        self.messages = self.messages[-3:]

    def draw(self, surface: pygame.Surface, area: pygame.Rect) -> list[pygame.Rect]:
        """Draw the messages still due, centred at the bottom of `area`; returns the rectangles drawn on."""
        now = time.perf_counter()
        self.messages = [(message, until) for message, until in self.messages if until > now]
        dirty = []
        y = area.bottom - 16
        for message, _until in reversed(self.messages):
            text = self.texts.render(message, 22, theme.TEXT)
            box = text.get_rect(midbottom=(area.centerx, y)).inflate(24, 14)
            pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
            pygame.draw.rect(surface, theme.ACCENT, box, 1, border_radius=8)
            surface.blit(text, text.get_rect(center=box.center))
            dirty.append(box)
            y = box.top - 6
        return dirty
