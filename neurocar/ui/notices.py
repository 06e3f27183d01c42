"""Notices: short messages ("saved to ...", "speed 4x") queued in one strip the window keeps free for them.

The shell reserves a strip at the bottom of the track view (`ShellLayout.notice_rect`) and fits the track above
it, so a notice never covers the track, its start line or the cars. The newest notice is drawn lowest; each is
wrapped to the strip's width (at most `MAX_LINES_PER_NOTICE` lines, then elided), and older ones that no longer fit
above it are not drawn. A notice lasts `NOTICE_SECONDS`; showing the same text again renews it instead of
stacking a copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pygame

from neurocar.ui import theme
from neurocar.ui.text_layout import wrap_text
from neurocar.ui.theme import TextCache

NOTICE_SECONDS = 4.0
MAX_NOTICES = 4
MAX_LINES_PER_NOTICE = 2
NOTICE_TEXT_SIZE = 22  # at scale 1 (a 1280x800 window)


def notice_strip_height(scale: float, notices: int = 2) -> int:
    """Pixel height of a strip that holds `notices` one-line notices (or one of two lines) at `scale`."""
    box = round((NOTICE_TEXT_SIZE + 4) * scale) + round(8 * scale)
    return notices * box + (notices + 1) * round(4 * scale)


class Notices:
    """The queue of messages and its drawing into the notice strip."""

    def __init__(self, texts: TextCache, clock: Callable[[], float] = time.perf_counter) -> None:
        self.texts = texts
        self.clock = clock
        self.messages: list[tuple[str, float]] = []
        self._drawn = False

    def show(self, message: str) -> None:
        """Queue a message now (a repeat of a shown message renews it)."""
        self.messages = [(text, until) for text, until in self.messages if text != message]
        self.messages.append((message, self.clock() + NOTICE_SECONDS))
        self.messages = self.messages[-MAX_NOTICES:]

    def current(self) -> list[str]:
        """The messages still due, oldest first."""
        now = self.clock()
        self.messages = [(text, until) for text, until in self.messages if until > now]
        return [text for text, _until in self.messages]

    def draw(self, surface: pygame.Surface, strip: pygame.Rect, scale: float = 1.0) -> list[pygame.Rect]:
        """Draw the due messages inside `strip`, newest lowest; returns the rectangles to update (the strip while
        something is or was just shown there)."""
        messages = self.current()
        if not messages:
            was_drawn, self._drawn = self._drawn, False
            return [strip] if was_drawn else []
        size = max(14, round(NOTICE_TEXT_SIZE * scale))
        line_height = size + round(4 * scale)
        padding = round(8 * scale)
        room = strip.width - 4 * padding
        bottom = strip.bottom - round(4 * scale)
        with_clip = surface.get_clip()
        surface.set_clip(strip)
        for message in reversed(messages):
            lines = wrap_text(self.texts, message, size, room, MAX_LINES_PER_NOTICE)
            rendered = [self.texts.render(line, size, theme.TEXT) for line in lines]
            width = max(text.get_width() for text in rendered) + 2 * padding
            height = line_height * len(rendered) + padding
            box = pygame.Rect(0, 0, width, height)
            box.midbottom = (strip.centerx, bottom)
            if box.top < strip.top:
                break
            pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
            pygame.draw.rect(surface, theme.ACCENT, box, 1, border_radius=8)
            y = box.top + padding // 2 + round(2 * scale)
            for text in rendered:
                surface.blit(text, text.get_rect(midtop=(box.centerx, y)))
                y += line_height
            bottom = box.top - round(4 * scale)
        surface.set_clip(with_clip)
        self._drawn = True
        return [strip]
