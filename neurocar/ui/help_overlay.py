"""The help overlay (H or F1): every key of the window and what it does, over the dimmed window.

The lines come from the window's key bindings. The panel is sized to the window: its text scales with the window,
shrinks further when there are many lines, and each help text is wrapped to the room beside the key column, so the
overlay never runs off a small window.
"""

from __future__ import annotations

import pygame

from neurocar.ui import theme
from neurocar.ui.text_layout import fit_size, fit_text, wrap_text
from neurocar.ui.theme import TextCache

KEY_SIZE = 26  # at scale 1
TITLE_SIZE = 36
HINT_SIZE = 22
MIN_SIZE = 14


class HelpOverlay:
    """A centred panel listing (key, action) pairs; rendered once per window size."""

    def __init__(
        self, texts: TextCache, title: str, keys: list[tuple[str, str]], hint: str = "press H or F1 to close"
    ) -> None:
        self.texts = texts
        self.title = title
        self.keys = keys
        self.hint = hint
        self._surface: pygame.Surface | None = None
        self._scale = 1.0

    def draw(self, surface: pygame.Surface, scale: float = 1.0) -> None:
        """Dim the window and draw the key list in the middle."""
        if self._surface is None or self._surface.get_size() != surface.get_size() or self._scale != scale:
            self._surface = self._render(surface.get_size(), scale)
            self._scale = scale
        surface.blit(self._surface, (0, 0))

    def _lines(self, size: int, action_room: int) -> list[tuple[str, list[str]]]:
        return [(key, wrap_text(self.texts, action, size, action_room)) for key, action in self.keys]

    def _render(self, window: tuple[int, int], scale: float) -> pygame.Surface:
        overlay = pygame.Surface(window, pygame.SRCALPHA)
        overlay.fill((0, 0, 0, 170))
        margin = max(12, round(24 * scale))
        max_width, max_height = window[0] - 2 * margin, window[1] - 2 * margin
        size = max(MIN_SIZE, round(KEY_SIZE * scale))
        texts = self.texts
        while True:
            line_height = round(size * 1.25)
            title_size = max(size, fit_size(texts, self.title, round(TITLE_SIZE * size / KEY_SIZE), max_width - 40))
            key_width = max(texts.font(size).size(key)[0] for key, _ in self.keys) if self.keys else 0
            key_width = min(key_width, max_width // 3)
            action_room = max_width - key_width - 3 * margin
            lines = self._lines(size, action_room)
            rows = sum(len(wrapped) for _key, wrapped in lines)
            hint_size = max(MIN_SIZE, round(HINT_SIZE * size / KEY_SIZE))
            hint_height = texts.font(hint_size).get_height()
            height = margin + round(title_size * 1.6) + line_height * rows + 6 + hint_height + margin // 2
            if height <= max_height or size <= MIN_SIZE:
                break
            size -= 1
        widest = max((texts.font(size).size(line)[0] for _key, wrapped in lines for line in wrapped), default=0)
        title_width = texts.font(title_size).size(self.title)[0]
        width = min(max_width, max(key_width + widest + 3 * margin, title_width + 2 * margin))
        panel = pygame.Rect(0, 0, width, min(height, max_height))
        panel.center = (window[0] // 2, window[1] // 2)
        pygame.draw.rect(overlay, (*theme.PANEL, 255), panel, border_radius=12)
        pygame.draw.rect(overlay, theme.ACCENT, panel, 2, border_radius=12)
        title = texts.render(fit_text(texts, self.title, title_size, panel.width - 2 * margin), title_size, theme.TEXT)
        overlay.blit(title, (panel.centerx - title.get_width() // 2, panel.top + margin // 2 + 4))
        y = panel.top + margin // 2 + round(title_size * 1.6)
        for key, wrapped in lines:
            key_text = texts.render(fit_text(texts, key, size, key_width), size, theme.ACCENT)
            overlay.blit(key_text, (panel.left + margin, y))
            for line in wrapped:
                overlay.blit(texts.render(line, size, theme.TEXT), (panel.left + 2 * margin + key_width, y))
                y += line_height
        hint = texts.render(fit_text(texts, self.hint, hint_size, panel.width - 2 * margin), hint_size, theme.TEXT_DIM)
        overlay.blit(hint, (panel.centerx - hint.get_width() // 2, min(y + 6, panel.bottom - hint.get_height() - 6)))
        return overlay
