"""`neurocar edit`: the track editor window, an `EditorController` and an `EditorView` on one window.

The controller turns the window's keys and mouse into commands on the `TrackDocument` (see
`neurocar.ui.editor_controller`), the view draws it (`neurocar.ui.editor_view`); this module only opens the window,
feeds it the events, paces the frames, shows the help (made from the key bindings) and the notices, and writes the
screenshot. When the editor ends with unsaved changes, other than by the user choosing to quit without saving (Esc
twice), those edits are kept in a recovery copy beside the track file: a closed window, Ctrl-C and a stop signal
(SIGTERM, SIGHUP) never lose them, and the track file itself is only ever written by Ctrl+S.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pygame

from neurocar.config import Config
from neurocar.paths import display_path
from neurocar.sim.track_document import TrackDocument
from neurocar.ui import theme
from neurocar.ui.display import open_display, save_png
from neurocar.ui.editor_controller import Binding, Chord, EditorController, keys
from neurocar.ui.editor_view import EditorLayout, EditorView, draw_notices, editor_layout
from neurocar.ui.help_overlay import HelpOverlay
from neurocar.ui.theme import TextCache

NOTICE_SECONDS = 5.0
MAX_NOTICES = 3


def help_lines(bindings: list[Binding]) -> list[tuple[str, str]]:
    """(key, what it does) for the help overlay: one line per binding that has help text."""
    return [(binding.label, binding.help) for binding in bindings if binding.help]


class EditorApp:
    """The editor window: the track view on the left under its header bar, the panel on the right."""

    help_title = "NeuroCar - track editor"

    def __init__(
        self,
        config: Config,
        document: TrackDocument,
        path: str | Path,
        *,
        choose_free_name: bool = False,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
    ) -> None:
        self.config = config
        self.max_frames = max_frames
        self.screenshot = screenshot
        self.frame_count = 0
        self.before_frame: Callable[[EditorApp], None] | None = None  # tests post events here
        self.show_help = False
        self.texts = TextCache()
        self.notices: list[tuple[str, float]] = []  # (message, shown until [perf_counter s])
        self.controller = EditorController(
            config, document, path, choose_free_name=choose_free_name, notify=self.notice
        )
        self.controller.caption_changed = self.update_caption
        self.view = EditorView(self.texts, config.physics)
        self.help = HelpOverlay(self.texts, self.help_title, help_lines(self.bindings))
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        self.layout: EditorLayout | None = None
        self._started = time.perf_counter()
        self._cursor: int | None = None

    @property
    def document(self) -> TrackDocument:
        """The track being edited."""
        return self.controller.document

    @property
    def closed(self) -> bool:
        """True once the editor was asked to close (or ran its frames)."""
        return self.controller.closed

    @property
    def bindings(self) -> list[Binding]:
        """The window's own keys, then the editor's (the help overlay lists them in this order)."""
        window = [Binding("H or F1", "this help", self.toggle_help, keys(pygame.K_h, pygame.K_F1))]
        return [*self.controller.bindings[:-1], *window, self.controller.bindings[-1]]

    def toggle_help(self) -> None:
        """H or F1."""
        self.show_help = not self.show_help

    def notice(self, message: str) -> None:
        """Show a message at the bottom of the track view for a few seconds (the newest lowest)."""
        self.notices.append((message, time.perf_counter() + NOTICE_SECONDS))
        del self.notices[:-MAX_NOTICES]

    # --- the window ---------------------------------------------------------------------------------------------

    def open_window(self) -> None:
        """Open the resizable window and fit the track in the view."""
        self.screen = open_display(self.config)
        self.clock = pygame.time.Clock()
        self.place(fit=True)
        self.update_caption()

    def place(self, fit: bool = False) -> None:
        """Lay the editor out for the current window size."""
        assert self.screen is not None
        self.layout = editor_layout(self.screen.get_size())
        self.controller.set_viewport(tuple(self.layout.view), fit=fit, fit_area=tuple(self.layout.stage))

    def update_caption(self) -> None:
        """The window title: the track's name, its file, and a star when there are unsaved changes."""
        if self.screen is None:
            return
        star = "*" if self.document.dirty else ""
        name = self.document.values.name
        pygame.display.set_caption(f"NeuroCar editor - {star}{name} ({self.controller.file_name})")

    def run(self) -> int:
        """Open the window and edit until it closes (or the frame limit); returns the exit code."""
        self.open_window()
        try:
            while not self.closed:
                self.frame()
        except KeyboardInterrupt:  # Ctrl-C or a stop signal: keep the edits, then let the command line say so
            self.keep_unsaved_edits()
            raise
        finally:
            if self.screen is not None and self.screenshot is not None:
                save_png(self.screen, self.screenshot)
                print(f"screenshot saved to {display_path(Path(self.screenshot))}")
            pygame.display.quit()
            self.screen = None
        if self.controller.discarded:
            print(f"quit without saving the changes: {self.controller.file_name} was not changed by them")
        else:
            self.keep_unsaved_edits()
        return 0

    def keep_unsaved_edits(self) -> None:
        """Write unsaved edits to the recovery copy and say where it is."""
        kept = self.controller.keep_unsaved_edits()
        if kept is not None:
            print(
                f"unsaved changes kept in {display_path(kept)} ({self.controller.file_name} was not changed by "
                f"them); open it with 'neurocar edit {display_path(kept)}'"
            )

    def frame(self) -> None:
        """One frame: the test hook, events, the controller's update, drawing, pacing."""
        if self.before_frame is not None:
            self.before_frame(self)
        self.frame_count += 1
        for event in pygame.event.get():
            self.handle_event(event)
        self.controller.update()
        self.update_cursor()
        self.draw()
        pygame.display.flip()
        assert self.clock is not None
        self.clock.tick(self.config.window.fps)
        if self.max_frames is not None and self.frame_count >= self.max_frames:
            self.controller.closed = True

    def handle_event(self, event: pygame.event.Event) -> None:
        """Hand one window event to the help overlay, the window's own keys or the controller."""
        controller = self.controller
        if event.type == pygame.QUIT:
            controller.close_window()
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self.screen = pygame.display.get_surface()
            self.place()
        elif event.type == pygame.KEYDOWN:
            self.key_down(event.key, event.mod, getattr(event, "unicode", ""))
        elif self.show_help:
            return  # the mouse does nothing while the help covers the window
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button in (1, 2, 3):
            controller.mouse_down(event.pos, event.button)
        elif event.type == pygame.MOUSEBUTTONUP and event.button in (1, 2, 3):
            controller.mouse_up(event.pos, event.button)
        elif event.type == pygame.MOUSEMOTION:
            controller.mouse_move(event.pos, event.rel)
        elif event.type == pygame.MOUSEWHEEL:
            controller.wheel(event.y)

    def key_down(self, key: int, modifiers: int, text: str) -> None:
        """The name field takes every key while it is open; Esc closes the help first."""
        if self.controller.name_field is None:
            if self.show_help and key == pygame.K_ESCAPE:
                self.show_help = False
                return
            if any(chord.matches(key, modifiers) for chord in (Chord(pygame.K_h), Chord(pygame.K_F1))):
                self.toggle_help()
                return
        self.controller.key_down(key, modifiers, text)

    def update_cursor(self) -> None:
        """The mouse pointer says what a click would do: a hand over a point, a cross where a click adds one, the
        move arrows while dragging or panning."""
        controller = self.controller
        if controller.dragging is not None or controller.panning_button is not None:
            cursor = pygame.SYSTEM_CURSOR_SIZEALL
        elif self.show_help or not controller.contains(controller.mouse_position):
            cursor = pygame.SYSTEM_CURSOR_ARROW
        elif controller.hovered is not None:
            cursor = pygame.SYSTEM_CURSOR_HAND
        else:
            cursor = pygame.SYSTEM_CURSOR_CROSSHAIR
        if cursor != self._cursor:
            self._cursor = cursor
            with contextlib.suppress(pygame.error):  # a display without a mouse pointer
                pygame.mouse.set_cursor(cursor)

    # --- drawing ------------------------------------------------------------------------------------------------

    def draw(self) -> None:
        """The editor, the notices over the bottom of the track view, the help on top."""
        assert self.screen is not None and self.layout is not None
        phase = time.perf_counter() - self._started
        self.screen.fill(theme.BACKGROUND)
        self.view.draw(self.screen, self.controller, self.layout, phase)
        now = time.perf_counter()
        self.notices = [(message, until) for message, until in self.notices if until > now]
        messages = [message for message, _until in self.notices]
        draw_notices(self.screen, self.texts, self.layout.notices, messages, self.layout.text_size)
        if self.show_help:
            self.help.draw(self.screen)
