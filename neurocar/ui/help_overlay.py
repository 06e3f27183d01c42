"""The help overlay (H or F1): every key and what it does, over a dimmed window."""

from __future__ import annotations

import pygame

from neurocar.ui import theme
from neurocar.ui.theme import TextCache


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

    def draw(self, surface: pygame.Surface) -> None:
        """Dim the window and draw the key list in the middle."""
        if self._surface is None or self._surface.get_size() != surface.get_size():
            self._surface = self._render(surface.get_size())
        surface.blit(self._surface, (0, 0))

    def _render(self, size: tuple[int, int]) -> pygame.Surface:
        overlay = pygame.Surface(size, pygame.SRCALPHA)
        overlay.fill((0, 0, 0, 170))
        key_width = max(self.texts.render(key, 24, theme.ACCENT).get_width() for key, _ in self.keys)
        action_width = max(self.texts.render(action, 24).get_width() for _, action in self.keys)
        width = key_width + action_width + 80
        height = 90 + 30 * len(self.keys) + 30
        panel = pygame.Rect(0, 0, width, height)
        panel.center = (size[0] // 2, size[1] // 2)
        pygame.draw.rect(overlay, (*theme.PANEL, 255), panel, border_radius=12)
        pygame.draw.rect(overlay, theme.ACCENT, panel, 2, border_radius=12)
        title = self.texts.render(self.title, 34, theme.TEXT)
        overlay.blit(title, (panel.centerx - title.get_width() // 2, panel.top + 20))
        y = panel.top + 70
        for key, action in self.keys:
            overlay.blit(self.texts.render(key, 24, theme.ACCENT), (panel.left + 30, y))
            overlay.blit(self.texts.render(action, 24, theme.TEXT), (panel.left + 50 + key_width, y))
            y += 30
        hint = self.texts.render(self.hint, 20, theme.TEXT_DIM)
        overlay.blit(hint, (panel.centerx - hint.get_width() // 2, y + 6))
        return overlay
