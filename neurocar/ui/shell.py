"""The window shell every NeuroCar window is built on: display, layout, keys, help, notices, frames, screenshot.

A window composes one `WindowShell` and keeps only what is its own (what it simulates, what its panel shows, its
keys). The shell gives it:

- `open(caption)` / `close_window()`: the resizable display (`open_display`, one-line error without a display) and, on
  closing, the `--screenshot` picture; `close()` ends the window by raising `WindowClosed`, which the window's own
  loop catches (Esc, the close button and the `--frames` limit all end this way).
- `layout`: a `ShellLayout` for the current size: `scale` (1.0 at 1280x800; text and panel sizes follow it),
  `panel_rect` (the side panel, about 30% of the width), `view_rect` (the rest), `header_rect` (a line at the top of
  the view for the title and the help hint), `notice_rect` (a strip at the bottom of the view kept for notices)
  and `stage_rect` (what remains between them: where a window fits its track, so nothing covers it).
  `on_resize` is called after every new layout.
- `set_bindings(bindings)`: the window's `Binding`s (key label, help text, action; see `key_bindings`). The shell
  adds H / F1 (help) and Esc (quit) at the end (their words: `help_label`, `help_text`, `quit_text`; the overlay's
  title and closing hint: `help_title`, `help_hint`), dispatches every key press (`press(key)`) and left click
  through them, and draws the help overlay from them (`help_lines()`), so the help lists exactly the window's keys.
  `event_filter(event) -> bool` sees each event first (held steering keys consume theirs there).
- `notices.show(text)`: a message in the notice strip (wrapped to it, newest lowest, a few seconds).
- `begin_frame()`: the test hook `before_frame()`, the frame count, the events. `draw_chrome(screen, title)`: the
  header line, the notices and (when shown) the help overlay, after the window drew its own content.
  `draw_panel_frame(screen)`: the side panel's background and edge; returns the inner rectangle to fill (None when
  the window is too narrow for a panel). `end_frame(dirty, frame_rate)`: send the picture to the screen (only the
  `dirty` rectangles unless `repaint()` was asked or the help is shown), wait for the frame rate, and close when
  the `--frames` limit is reached.
- `texts`: the shared text cache; `fps_label()`: the measured frame rate for a HUD row.

The speed, pause and step budget of windows that simulate are `neurocar.ui.pacing.Pacer`, a separate part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygame

from neurocar.config import Config
from neurocar.paths import display_path
from neurocar.ui import theme
from neurocar.ui.display import open_display, save_png
from neurocar.ui.help_overlay import HelpOverlay
from neurocar.ui.key_bindings import Binding, KeyBindings
from neurocar.ui.notices import Notices, notice_strip_height
from neurocar.ui.text_layout import fit_text
from neurocar.ui.theme import TextCache

REFERENCE_SIZE = (1280, 800)  # the window size at which `scale` is 1
MIN_SCALE, MAX_SCALE = 0.75, 2.0
PANEL_FRACTION = 0.3  # of the window's width
MIN_PANEL_WIDTH, MIN_VIEW_WIDTH = 250, 200
NARROWEST_PANEL = 120  # below this the panel is not drawn
HEADER_TEXT_SIZE = 22


class WindowClosed(Exception):  # noqa: N818 - the window's own signal to its loop, not an error
    """The window was closed (Esc, the close button or the frame limit): the app's loop ends where it catches it.
    It never leaves the view layer."""


def window_scale(size: tuple[int, int]) -> float:
    """How big text and panels are drawn: 1.0 at 1280x800, following the smaller of the two ratios."""
    ratio = min(size[0] / REFERENCE_SIZE[0], size[1] / REFERENCE_SIZE[1])
    return min(MAX_SCALE, max(MIN_SCALE, ratio))


def scaled(size: float, scale: float) -> int:
    """A pixel size at `scale`."""
    return max(1, round(size * scale))


@dataclass(frozen=True)
class ShellLayout:
    """Where things go in a window of `size` (see the module docstring)."""

    size: tuple[int, int]
    scale: float
    panel_rect: pygame.Rect
    view_rect: pygame.Rect
    header_rect: pygame.Rect
    notice_rect: pygame.Rect
    stage_rect: pygame.Rect

    @classmethod
    def for_size(cls, size: tuple[int, int], panel: bool = True) -> ShellLayout:
        """The layout of a window of `size` [px], with or without a side panel."""
        width, height = size
        scale = window_scale(size)
        panel_width = 0
        if panel:
            wanted = max(round(MIN_PANEL_WIDTH * scale), round(width * PANEL_FRACTION))
            panel_width = min(wanted, max(0, width - MIN_VIEW_WIDTH))
        panel_rect = pygame.Rect(width - panel_width, 0, panel_width, height)
        view_rect = pygame.Rect(0, 0, width - panel_width, height)
        header_height = scaled(HEADER_TEXT_SIZE + 14, scale)
        header_rect = pygame.Rect(0, 0, view_rect.width, header_height)
        notice_height = notice_strip_height(scale)
        notice_rect = pygame.Rect(0, height - notice_height, view_rect.width, notice_height)
        stage_rect = pygame.Rect(0, header_rect.bottom, view_rect.width, max(1, notice_rect.top - header_rect.bottom))
        return cls(size, scale, panel_rect, view_rect, header_rect, notice_rect, stage_rect)


class WindowShell:
    """The parts every window shares (see the module docstring for the API)."""

    def __init__(
        self,
        config: Config,
        help_title: str,
        bindings: list[Binding] | KeyBindings = (),
        *,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        panel: bool = True,
        texts: TextCache | None = None,
    ) -> None:
        self.config = config
        self.help_title = help_title
        self.max_frames = max_frames
        self.screenshot = screenshot
        self.panel = panel
        self.texts = texts or TextCache()
        self.notices = Notices(self.texts)
        self.help_label, self.help_text, self.quit_text = "H or F1", "this help", "quit"
        self.bindings = KeyBindings()
        self.set_bindings(bindings)
        self.frame_count = 0
        self.closed = False
        self.show_help = False
        self.help_hint = "press H or F1 to close"
        self.before_frame: Callable[[], None] | None = None  # tests post events from here
        self.event_filter: Callable[[pygame.event.Event], bool] | None = None
        self.on_resize: Callable[[], None] | None = None
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        self.layout = ShellLayout.for_size((config.window.width, config.window.height), panel)
        self._help: HelpOverlay | None = None
        self._full_update = True
        self._last_dirty: list[pygame.Rect] = []
        self._fps_text = "-"
        self._fps_refresh = 0.0

    # --- keys --------------------------------------------------------------------------------------------------

    def set_bindings(self, bindings: list[Binding] | KeyBindings) -> None:
        """The window's own bindings; the shell's help and quit keys are added after them."""
        self.bindings = KeyBindings(
            [
                *bindings,
                Binding(self.help_label, self.help_text, self.toggle_help, (pygame.K_h, pygame.K_F1)),
                Binding("Esc", self.quit_text, self.close, (pygame.K_ESCAPE,)),
            ]
        )
        self._help = None

    def help_lines(self) -> list[tuple[str, str]]:
        """The help overlay's (keys, what they do) lines: every binding that has a label."""
        return [(label, text) for label, text in self.bindings.help_lines() if label]

    def toggle_help(self) -> None:
        """Show or hide the help overlay."""
        self.show_help = not self.show_help
        self._full_update = True

    def help_overlay(self) -> HelpOverlay:
        """The overlay drawn from the bindings (made again when they change)."""
        if self._help is None:
            self._help = HelpOverlay(self.texts, self.help_title, self.help_lines(), self.help_hint)
        return self._help

    # --- the display -------------------------------------------------------------------------------------------

    def open(self, caption: str) -> None:
        """Open the resizable window (call only after every input was validated)."""
        self.screen = open_display(self.config)
        self.clock = pygame.time.Clock()
        pygame.display.set_caption(caption)
        self.relayout()

    def relayout(self) -> None:
        """A new layout for the current window size; the window is told through `on_resize`."""
        assert self.screen is not None
        self.layout = ShellLayout.for_size(self.screen.get_size(), self.panel)
        self._full_update = True
        if self.on_resize is not None:
            self.on_resize()

    def close_window(self) -> None:
        """Save the screenshot if asked, then close the display."""
        if self.screen is not None and self.screenshot is not None:
            save_png(self.screen, self.screenshot)
            print(f"screenshot saved to {display_path(Path(self.screenshot))}")
        pygame.display.quit()
        self.screen = None

    def close(self) -> None:
        """Quit: the window's loop unwinds through `WindowClosed`."""
        self.closed = True
        raise WindowClosed

    def repaint(self) -> None:
        """Send the whole window at the next frame (after a change outside the dirty rectangles)."""
        self._full_update = True

    # --- frames ------------------------------------------------------------------------------------------------

    def begin_frame(self) -> None:
        """The test hook, the frame count, the events (keys may end the frame by closing the window)."""
        if self.before_frame is not None:
            self.before_frame()
        self.frame_count += 1  # counted before the keys, which may abort the frame (Esc)
        self.handle_events()

    def handle_events(self) -> None:
        """Every pending event: the filter first, then closing, resizing, left clicks and key presses."""
        for event in pygame.event.get():
            if self.event_filter is not None and self.event_filter(event):
                continue
            if event.type == pygame.QUIT:
                self.close()
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.get_surface()
                self.relayout()
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                self.bindings.click(event.pos)
            elif event.type == pygame.KEYDOWN:
                self.press(event.key)

    def press(self, key: int) -> bool:
        """One key press through the bindings; returns False if the window has no such key."""
        return self.bindings.press(key)

    def draw_chrome(self, screen: pygame.Surface, title: str | None = None) -> list[pygame.Rect]:
        """The header line (title and help hint, fitted to the view), the notices and the help overlay; returns
        the rectangles that change."""
        layout = self.layout
        dirty = []
        if title is not None:
            dirty.append(self.draw_header(screen, title))
        dirty += self.notices.draw(screen, layout.notice_rect.inflate(-2 * theme.MARGIN, 0), layout.scale)
        if self.show_help:
            self.help_overlay().draw(screen, layout.scale)
        return dirty

    def draw_header(self, screen: pygame.Surface, title: str) -> pygame.Rect:
        """`title` and "H: help" on the header line, the title elided to the room it has."""
        layout = self.layout
        rect = layout.header_rect
        size = scaled(HEADER_TEXT_SIZE, layout.scale)
        hint = self.texts.render("H: help", size, theme.TEXT_DIM)
        left = rect.left + theme.MARGIN
        hint_left = rect.right - theme.MARGIN - hint.get_width()
        fitted = fit_text(self.texts, title, size, hint_left - left - theme.MARGIN)
        text = self.texts.render(fitted, size, theme.TEXT_DIM)
        screen.blit(text, (left, rect.centery - text.get_height() // 2))
        screen.blit(hint, (hint_left, rect.centery - hint.get_height() // 2))
        return rect

    def draw_panel_frame(self, screen: pygame.Surface) -> pygame.Rect | None:
        """Clear the side panel and draw its edge; returns its inner area, or None when it is too narrow."""
        panel = self.layout.panel_rect
        if panel.width < NARROWEST_PANEL:
            return None
        pygame.draw.rect(screen, theme.BACKGROUND, panel)
        pygame.draw.line(screen, theme.PANEL_EDGE, panel.topleft, panel.bottomleft)
        return panel.inflate(-2 * theme.MARGIN, -2 * theme.MARGIN)

    def end_frame(self, dirty: list[pygame.Rect] | None, frame_rate: int | None = None) -> None:
        """Show the frame (all of it, or only `dirty` and last frame's rectangles), wait for the frame rate, and
        close once the `--frames` limit is reached."""
        if dirty is None or self._full_update or self.show_help:
            pygame.display.flip()
            self._full_update = self.show_help  # the frame after the help closes repaints everything
        else:
            # Sending the whole window to the X server costs more than drawing it: send only what changed,
            # where things are now and where they were last frame.
            pygame.display.update(self._last_dirty + dirty)
        self._last_dirty = dirty or []
        assert self.clock is not None
        self.clock.tick(self.config.window.fps if frame_rate is None else frame_rate)
        if self.max_frames is not None and self.frame_count >= self.max_frames:
            self.close()

    def fps_label(self) -> str:
        """Frames per second as the clock measured them, refreshed twice a second so it stays readable."""
        now = time.perf_counter()
        if self.clock is not None and now >= self._fps_refresh:
            self._fps_text = f"{self.clock.get_fps():.0f}"
            self._fps_refresh = now + 0.5
        return self._fps_text
