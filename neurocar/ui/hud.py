"""The heads-up display: a titled box of labelled values (generation, alive, fitness, speed, FPS, ...).

Sizes follow the window's scale (1.0 at 1280x800). A value that is too long for its row (a 60-character track
name) is elided with an ellipsis, and so is a label, so nothing leaves the box.
"""

from __future__ import annotations

import pygame

from neurocar.ui import theme
from neurocar.ui.text_layout import fit_text
from neurocar.ui.theme import TextCache

ROW_HEIGHT = 28  # at scale 1
LABEL_SIZE = 24
VALUE_SIZE = 26
TITLE_SIZE = 32


class Hud:
    """Draws (label, value) rows; unchanged text comes from the text cache, so a still HUD costs only blits."""

    def __init__(self, texts: TextCache) -> None:
        self.texts = texts

    def height(self, rows: int, title: bool = True, scale: float = 1.0) -> int:
        """Pixel height of a HUD with this many rows."""
        return round((16 + ROW_HEIGHT * rows + (38 if title else 0)) * scale)

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        title: str,
        rows: list[tuple[str, str]],
        value_colours: dict[str, tuple[int, int, int]] | None = None,
        scale: float = 1.0,
    ) -> None:
        """A panel with a title and label/value rows, every text fitted to the panel's width."""
        texts = self.texts
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        padding = round(12 * scale)
        room = rect.width - 2 * padding
        title_size = round(TITLE_SIZE * scale)
        heading = texts.render(fit_text(texts, title, title_size, room), title_size, theme.ACCENT)
        surface.blit(heading, (rect.left + padding, rect.top + round(10 * scale)))
        label_size, value_size = round(LABEL_SIZE * scale), round(VALUE_SIZE * scale)
        y = rect.top + round(48 * scale)
        label_font, value_font = texts.font(label_size), texts.font(value_size)
        for label, value in rows:
            # A short value leaves the label its room; a long one (a name) gets at least two fifths of the row.
            value_width = min(value_font.size(value)[0], room * 2 // 5)
            label_text = fit_text(texts, label, label_size, room - value_width - padding)
            surface.blit(texts.render(label_text, label_size, theme.TEXT_DIM), (rect.left + padding, y))
            value_room = room - label_font.size(label_text)[0] - padding
            colour = (value_colours or {}).get(label, theme.TEXT)
            text = texts.render(fit_text(texts, value, value_size, value_room), value_size, colour)
            surface.blit(text, (rect.right - padding - text.get_width(), y - round(2 * scale)))
            y += round(ROW_HEIGHT * scale)
