"""`neurocar edit`: the track editor window, an `EditorController` and an `EditorView` on the window shell.

The controller turns keys and mouse into commands on the `TrackDocument` (see `neurocar.ui.editor_controller`), the
view draws it (`neurocar.ui.editor_view`), and the `WindowShell` gives the window: display and layout, the help
overlay (made from the controller's key bindings), the notice strip under the track, the `--frames` limit and the
screenshot. The editor reads every key and mouse event itself (its keys have Ctrl and Shift chords and a text field)
through the shell's event filter, and leaves H / F1 to the shell.

When the editor ends with unsaved changes, other than by the user choosing to quit without saving (Esc twice),
those edits are kept in a recovery copy beside the track file: a closed window, Ctrl-C and a stop signal (SIGTERM,
SIGHUP) never lose them, and the track file itself is only ever written by Ctrl+S.
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
from neurocar.ui.editor_controller import EditorController
from neurocar.ui.editor_view import EditorLayout, EditorView, editor_layout
from neurocar.ui.key_bindings import Binding
from neurocar.ui.shell import WindowClosed, WindowShell

HELP_KEYS = (pygame.K_h, pygame.K_F1)
WINDOW_EVENTS = (
    pygame.QUIT,
    pygame.KEYDOWN,
    pygame.MOUSEBUTTONDOWN,
    pygame.MOUSEBUTTONUP,
    pygame.MOUSEMOTION,
    pygame.MOUSEWHEEL,
)


class EditorApp:
    """The editor window: the track view under its header bar, the notice strip under it, the panel on the right."""

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
        self.before_frame: Callable[[EditorApp], None] | None = None  # tests post events here
        self.shell = WindowShell(config, self.help_title, max_frames=max_frames, screenshot=screenshot)
        self.texts = self.shell.texts
        self.notices = self.shell.notices
        self.controller = EditorController(
            config, document, path, choose_free_name=choose_free_name, notify=self.notices.show
        )
        self.controller.caption_changed = self.update_caption
        self.view = EditorView(self.texts, config.physics)
        self.shell.quit_text = next(binding.help for binding in self.controller.bindings if binding.label == "Esc")
        self.shell.set_bindings(self.help_bindings())
        self.shell.event_filter = self.handle_event
        self.shell.on_resize = self.place
        self.shell.before_frame = self._before_frame
        self.layout: EditorLayout = editor_layout(self.shell.layout)
        self._started = time.perf_counter()
        self._cursor: int | None = None
        self._fitted = False

    @property
    def document(self) -> TrackDocument:
        """The track being edited."""
        return self.controller.document

    @property
    def frame_count(self) -> int:
        """Frames begun so far."""
        return self.shell.frame_count

    @property
    def show_help(self) -> bool:
        """True while the help overlay is shown."""
        return self.shell.show_help

    def help_bindings(self) -> list[Binding]:
        """The controller's bindings as the shell's help lists them (the shell adds H / F1 and Esc, with the
        editor's words for Esc). The keys are dispatched by the controller itself, so these carry only the help
        text."""
        bindings = self.controller.bindings
        return [Binding(binding.label, binding.help) for binding in bindings if binding.help and binding.label != "Esc"]

    def help_lines(self) -> list[tuple[str, str]]:
        """(keys, what they do) as the help overlay shows them."""
        return self.shell.help_lines()

    # --- the window ---------------------------------------------------------------------------------------------

    def open_window(self) -> None:
        """Open the resizable window and fit the track in the view."""
        self.shell.open(self.caption())

    def place(self) -> None:
        """Lay the editor out for the shell's current layout (the first time, the track is fitted in)."""
        self.layout = editor_layout(self.shell.layout)
        self.controller.set_viewport(tuple(self.layout.view), fit=not self._fitted, fit_area=tuple(self.layout.stage))
        self._fitted = True

    def caption(self) -> str:
        """The window title: the track's name, its file, and a star when there are unsaved changes."""
        star = "*" if self.document.dirty else ""
        return f"NeuroCar editor - {star}{self.document.values.name} ({self.controller.file_name})"

    def update_caption(self) -> None:
        """Show the current caption."""
        if self.shell.screen is not None:
            pygame.display.set_caption(self.caption())

    def run(self) -> int:
        """Open the window and edit until it closes (or the frame limit); returns the exit code."""
        self.open_window()
        try:
            while True:
                self.frame()
        except WindowClosed:
            pass
        except KeyboardInterrupt:  # Ctrl-C or a stop signal: keep the edits, then let the command line say so
            self.keep_unsaved_edits()
            raise
        finally:
            self.shell.close_window()
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
        """One frame: the test hook and events (through `handle_event`), the controller's update, drawing, the
        flip and pacing; closing ends the loop through `WindowClosed`."""
        self.shell.begin_frame()
        if self.controller.closed:
            self.shell.close()
        self.controller.update()
        self.update_cursor()
        self.draw()
        self.shell.end_frame(None)

    def _before_frame(self) -> None:
        if self.before_frame is not None:
            self.before_frame(self)

    def handle_event(self, event: pygame.event.Event) -> bool:
        """The shell's event filter: the editor takes the keys, the mouse and the close button; returns False only
        for what the shell handles (H / F1 for the help, resizing)."""
        if event.type not in WINDOW_EVENTS:
            return False
        controller = self.controller
        if event.type == pygame.QUIT:
            controller.close_window()
        elif event.type == pygame.KEYDOWN:
            if controller.name_field is None and event.key in HELP_KEYS:
                return False
            if self.shell.show_help and event.key == pygame.K_ESCAPE:
                self.shell.toggle_help()
            else:
                controller.key_down(event.key, event.mod, getattr(event, "unicode", ""))
        elif self.shell.show_help:
            return True  # the mouse does nothing while the help covers the window
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button in (1, 2, 3):
            controller.mouse_down(event.pos, event.button)
        elif event.type == pygame.MOUSEBUTTONUP and event.button in (1, 2, 3):
            controller.mouse_up(event.pos, event.button)
        elif event.type == pygame.MOUSEMOTION:
            controller.mouse_move(event.pos, event.rel)
        elif event.type == pygame.MOUSEWHEEL:
            controller.wheel(event.y)
        return True

    def update_cursor(self) -> None:
        """The mouse pointer says what a click would do: a hand over a point, a cross where a click adds one, the
        move arrows while dragging or panning."""
        controller = self.controller
        if controller.dragging is not None or controller.panning_button is not None:
            cursor = pygame.SYSTEM_CURSOR_SIZEALL
        elif self.shell.show_help or not controller.contains(controller.mouse_position):
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
        """The editor, then the shell's notices and help on top."""
        screen = self.shell.screen
        assert screen is not None
        screen.fill(theme.BACKGROUND)
        panel = self.shell.draw_panel_frame(screen)
        self.view.draw(screen, self.controller, self.layout, time.perf_counter() - self._started, panel)
        self.shell.draw_chrome(screen)
