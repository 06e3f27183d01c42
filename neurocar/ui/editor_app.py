"""`neurocar edit`: the track editor window.

The window edits a `TrackDocument`: clicks add, drag and delete centre-line points, keys change the width, the
start, the direction, the name and the difficulty, Ctrl+Z / Ctrl+Y undo and redo, Ctrl+S saves. After every change
the track is built from the document with the loader's own validation (while a point is being dragged, a few times
a second and once more when it is let go), so the walls, the start line and any problem are shown live: the
problem's one-line reason in the side panel and, when it has a place, a red ring on the track. An invalid track is
never saved. T lets the scripted autopilot drive the current track.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import TRACKS_DIR, display_path
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.track import Track, TrackError
from neurocar.sim.track_document import TrackDocument, free_track_path, preview_lines
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.display import open_display, save_png
from neurocar.ui.editor_view import (
    PREVIEW_WALL,
    camera_key,
    draw_arrow,
    draw_control_polygon,
    draw_direction_marks,
    draw_grid,
    draw_points,
    draw_preview,
    draw_problem_marker,
    draw_text_box,
    fit_camera,
    pan_camera,
    to_screen,
    zoom_camera,
)
from neurocar.ui.help_overlay import HelpOverlay
from neurocar.ui.hud import Hud, Toasts
from neurocar.ui.theme import TextCache
from neurocar.ui.track_view import CarSprites, draw_cars, render_track

HIT_RADIUS_PX = 12  # a click this close to a point picks it
CLICK_SLOP_PX = 4  # a right-button press that moves less than this is a click (delete), not a pan
DRAG_VALIDATE_SECONDS = 0.3  # while dragging, build the track at most this often (it takes tens of ms)
ZOOM_STEP = 1.15
PAN_STEP_PX = 80
NAME_LIMIT = 40
ENDLESS_S = 1e12
CTRL = pygame.KMOD_CTRL | pygame.KMOD_META
DIFFICULTY_KEYS = {
    **{getattr(pygame, f"K_{number}"): number for number in range(1, 6)},
    **{getattr(pygame, f"K_KP{number}"): number for number in range(1, 6)},
}


class EditorApp:
    """The editor window: the view on the left, the track's values and its problem in the panel on the right."""

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
        self.document = document
        self.path = Path(path)
        self.choose_free_name = choose_free_name  # the first save picks a file name no file has yet
        self.max_frames = max_frames
        self.screenshot = screenshot
        self.frame_count = 0
        self.closed = False
        self.before_frame = None  # tests post events here: a callable taking the app
        self.show_help = False
        self.quit_armed = False
        self.quit_warning = ""
        self.naming: str | None = None  # the name being typed (N), or None
        self.selected: int | None = None
        self.hovered: int | None = None
        self.dragging: int | None = None
        self.drag_token: object | None = None
        self.panning_button: int | None = None
        self.press_position: tuple[int, int] = (0, 0)
        self.mouse_position: tuple[int, int] = (0, 0)
        self.track: Track | None = None
        self.problem: TrackError | None = None
        self.validated_revision = -1
        self.last_validation = 0.0
        self.preview: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.preview_revision = -1
        self.saved_paths: list[Path] = []
        self.test_world: World | None = None
        self.autopilot: Autopilot | None = None
        self.test_budget = 0.0
        self.sprites: CarSprites | None = None  # the test-drive car, scaled to the view
        self._sprites_scale = 0.0
        self.texts = TextCache()
        self.hud = Hud(self.texts)
        self.toasts = Toasts(self.texts)
        self.help = HelpOverlay(self.texts, self.help_title, self.help_keys())
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        self._track_picture: pygame.Surface | None = None
        self._track_picture_key: tuple | None = None
        self._last_frame_time = 0.0

    # --- what the window offers --------------------------------------------------------------------------------

    @staticmethod
    def help_keys() -> list[tuple[str, str]]:
        """(key or mouse action, what it does) for the help overlay."""
        return [
            ("Left click", "add a point (into the nearest side of the loop); on a point: select it"),
            ("Left drag", "move a point (or place a new one)"),
            ("Right click", "delete the point under the mouse"),
            ("Right / middle drag", "pan the view (arrow keys too)"),
            ("Wheel, + / -", "zoom in / out (at the mouse)"),
            ("Delete / Backspace", "delete the selected (or hovered) point"),
            ("Tab / Shift+Tab", "select the next / previous point"),
            ("[ / ]", "road 0.5 m narrower / wider"),
            ("S", "cars start at the selected point"),
            ("R", "reverse the driving direction"),
            ("1 - 5", "difficulty"),
            ("N", "rename the track (type, Enter to keep, Esc to cancel)"),
            ("F", "fit the track in the view"),
            ("T", "test drive: the autopilot drives the track (T again stops)"),
            ("Ctrl+Z", "undo"),
            ("Ctrl+Y, Ctrl+Shift+Z", "redo"),
            ("Ctrl+S", "save (refused while the track has a problem)"),
            ("H or F1", "this help"),
            ("Esc", "quit (asks again when there are unsaved changes)"),
        ]

    @property
    def file_name(self) -> str:
        """The save file as the user knows it."""
        return display_path(self.path)

    # --- window ------------------------------------------------------------------------------------------------

    def open_window(self) -> None:
        """Open the resizable window and fit the track in the view."""
        self.screen = open_display(self.config)
        self.clock = pygame.time.Clock()
        self._last_frame_time = time.perf_counter()
        self.layout()
        self.fit_view()
        self.validate()
        self.update_caption()

    def layout(self) -> None:
        """Place the view and the side panel for the current window size."""
        assert self.screen is not None
        width, height = self.screen.get_size()
        panel_width = min(theme.PANEL_WIDTH, max(0, width - 200))
        self.panel_rect = pygame.Rect(width - panel_width, 0, panel_width, height)
        self.view_rect = pygame.Rect(0, 0, width - panel_width, height)

    def fit_view(self) -> None:
        """Show the whole track (or a default area when there are no points)."""
        viewport = self.view_rect.inflate(-2 * theme.MARGIN, -6 * theme.MARGIN)
        points = np.asarray(self.document.points, dtype=np.float64).reshape(-1, 2)
        preview = self.current_preview()
        if preview is not None:
            points = np.concatenate([points, preview[0]])  # the smoothed loop bulges past its points
        self.camera = fit_camera(points, self.document.values.width_m, tuple(viewport))

    def update_caption(self) -> None:
        """The window title: the track's name, its file, and a star when there are unsaved changes."""
        star = "*" if self.document.dirty else ""
        pygame.display.set_caption(f"NeuroCar editor - {star}{self.document.values.name} ({self.file_name})")

    def run(self) -> int:
        """Open the window and edit until Esc (or the frame limit); returns the exit code."""
        self.open_window()
        try:
            while not self.closed:
                self.frame()
        finally:
            if self.screen is not None and self.screenshot is not None:
                save_png(self.screen, self.screenshot)
                print(f"screenshot saved to {display_path(Path(self.screenshot))}")
            pygame.display.quit()
            self.screen = None
        if self.document.dirty:
            print(f"quit with unsaved changes: {self.file_name} was not changed by them")
        return 0

    def frame(self) -> None:
        """One frame: the test hook, events, validation when due, the test drive, drawing, pacing."""
        if self.before_frame is not None:
            self.before_frame(self)
        self.frame_count += 1
        revision = self.document.revision
        self.handle_events()
        if self.document.revision != revision:
            self.after_change()
        if self.validation_due():
            self.validate()
        self.advance_test_drive()
        self.draw()
        pygame.display.flip()
        assert self.clock is not None
        self.clock.tick(self.config.window.fps)
        if self.max_frames is not None and self.frame_count >= self.max_frames:
            self.closed = True

    # --- validation --------------------------------------------------------------------------------------------

    def validation_due(self) -> bool:
        """The track is out of date: build it now, unless a drag is going on and it was built moments ago."""
        if self.validated_revision == self.document.revision:
            return False
        return self.dragging is None or time.perf_counter() - self.last_validation >= DRAG_VALIDATE_SECONDS

    def validate(self) -> None:
        """Build the track from the document with the physics of the config: the track, or its problem."""
        physics = self.config.physics
        self.track, self.problem = self.document.build(
            self.file_name, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m
        )
        self.validated_revision = self.document.revision
        self.last_validation = time.perf_counter()

    def current_preview(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The unvalidated walls of the current points (cheap: drawn while dragging and for invalid tracks)."""
        if self.preview_revision != self.document.revision:
            self.preview = preview_lines(self.document.points, self.document.values.width_m)
            self.preview_revision = self.document.revision
        return self.preview

    def after_change(self) -> None:
        """Anything changed: a pending quit is called off, a test drive stops, the title shows the star."""
        self.quit_armed = False
        if self.test_world is not None:
            self.stop_test_drive("the track changed: test drive stopped")
        count = len(self.document.points)
        if self.selected is not None and self.selected >= count:
            self.selected = count - 1 if count else None
        self.update_caption()

    @property
    def problem_text(self) -> str:
        """The current problem without the file name in front (the panel shows the file)."""
        if self.problem is None:
            return ""
        text = str(self.problem)
        prefix = f"{self.file_name}: "
        return text[len(prefix) :] if text.startswith(prefix) else text

    # --- events ------------------------------------------------------------------------------------------------

    def handle_events(self) -> None:
        """Mouse and keys."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.request_quit(from_window=True)
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.get_surface()
                self.layout()
                self.fit_view()
            elif event.type == pygame.KEYDOWN:
                if self.naming is not None:
                    self.handle_name_key(event)
                else:
                    self.handle_key(event.key, event.mod)
            elif event.type == pygame.MOUSEBUTTONDOWN:
                self.mouse_down(event.pos, event.button)
            elif event.type == pygame.MOUSEBUTTONUP:
                self.mouse_up(event.pos, event.button)
            elif event.type == pygame.MOUSEMOTION:
                self.mouse_move(event.pos, event.rel)
            elif event.type == pygame.MOUSEWHEEL:
                self.zoom(ZOOM_STEP**event.y, self.mouse_position)

    def world_at(self, position: tuple[int, int]) -> tuple[float, float]:
        """The world point [m] under a screen position."""
        world = self.camera.to_world(np.asarray(position, dtype=np.float64))
        return float(world[0]), float(world[1])

    def point_at(self, position: tuple[int, int]) -> int | None:
        """The point drawn under a screen position, if any."""
        return self.document.nearest_point(self.world_at(position), HIT_RADIUS_PX / self.camera.scale)

    def mouse_down(self, position: tuple[int, int], button: int) -> None:
        """Left: pick a point (and start dragging it) or add one; right or middle: start panning."""
        self.mouse_position = position
        if self.show_help or not self.view_rect.collidepoint(position):
            return
        if self.naming is not None:
            self.finish_naming(keep=True)
        if button == 1:
            index = self.point_at(position)
            self.drag_token = object()
            if index is None:
                index = self.document.add_point(self.world_at(position), drag=self.drag_token)
                self.toasts.show(f"point {index + 1} added")
            self.selected = index
            self.dragging = index
        elif button in (2, 3):
            self.panning_button = button
            self.press_position = position

    def mouse_up(self, position: tuple[int, int], button: int) -> None:
        """End a drag (the track is checked at once) or a pan; a right click without moving deletes a point."""
        self.mouse_position = position
        if button == 1 and self.dragging is not None:
            self.dragging = None
            self.document.end_merge()
        elif button == self.panning_button:
            self.panning_button = None
            moved = math.dist(position, self.press_position)
            if button == 3 and moved < CLICK_SLOP_PX:
                index = self.point_at(position)
                if index is not None:
                    self.delete_point(index)

    def mouse_move(self, position: tuple[int, int], rel: tuple[int, int]) -> None:
        """Drag the point, pan the view, or highlight the point under the mouse."""
        self.mouse_position = position
        if self.dragging is not None:
            self.document.move_point(self.dragging, self.world_at(position), drag=self.drag_token)
        elif self.panning_button is not None:
            pan_camera(self.camera, rel[0], rel[1])
        self.hovered = self.point_at(position) if self.view_rect.collidepoint(position) else None

    def zoom(self, factor: float, around: tuple[int, int]) -> None:
        """Zoom the view by `factor` around a screen point."""
        zoom_camera(self.camera, around, factor)

    def handle_key(self, key: int, modifiers: int) -> None:
        """React to one key press (see `help_keys`)."""
        control = bool(modifiers & CTRL)
        shift = bool(modifiers & pygame.KMOD_SHIFT)
        if key == pygame.K_ESCAPE:
            self.request_quit()
        elif key in (pygame.K_h, pygame.K_F1):
            self.show_help = not self.show_help
        elif control and key == pygame.K_z:
            self.redo() if shift else self.undo()
        elif control and key == pygame.K_y:
            self.redo()
        elif control and key == pygame.K_s:
            self.save()
        elif control:
            return
        elif key in (pygame.K_DELETE, pygame.K_BACKSPACE):
            index = self.selected if self.selected is not None else self.hovered
            if index is None:
                self.toasts.show("select a point first (click it), or point at it")
            else:
                self.delete_point(index)
        elif key == pygame.K_TAB:
            self.select_next(-1 if shift else 1)
        elif key in (pygame.K_LEFTBRACKET, pygame.K_RIGHTBRACKET):
            self.document.change_width(1 if key == pygame.K_RIGHTBRACKET else -1)
            self.toasts.show(f"road width {self.document.values.width_m:g} m")
        elif key == pygame.K_s:
            self.set_start()
        elif key == pygame.K_r:
            self.document.reverse()
            self.toasts.show("direction reversed")
        elif key in DIFFICULTY_KEYS:
            self.document.set_difficulty(DIFFICULTY_KEYS[key])
            self.toasts.show(f"difficulty {DIFFICULTY_KEYS[key]}")
        elif key == pygame.K_n:
            self.naming = self.document.values.name
        elif key == pygame.K_f:
            self.fit_view()
        elif key == pygame.K_t:
            self.toggle_test_drive()
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.zoom(ZOOM_STEP, self.view_rect.center)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            self.zoom(1 / ZOOM_STEP, self.view_rect.center)
        elif key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN):
            dx = PAN_STEP_PX * ((key == pygame.K_LEFT) - (key == pygame.K_RIGHT))
            dy = PAN_STEP_PX * ((key == pygame.K_UP) - (key == pygame.K_DOWN))
            pan_camera(self.camera, dx, dy)

    def handle_name_key(self, event: pygame.event.Event) -> None:
        """Typing the name: Enter keeps it, Esc cancels, Backspace deletes a character."""
        assert self.naming is not None
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.finish_naming(keep=True)
        elif event.key == pygame.K_ESCAPE:
            self.finish_naming(keep=False)
        elif event.key == pygame.K_BACKSPACE:
            self.naming = self.naming[:-1]
        elif event.unicode and event.unicode.isprintable() and len(self.naming) < NAME_LIMIT:
            self.naming += event.unicode

    def finish_naming(self, keep: bool) -> None:
        """Leave the name field, renaming the track if asked (an empty name keeps the old one)."""
        name, self.naming = self.naming or "", None
        if keep and name.strip() and name.strip() != self.document.values.name:
            self.document.set_name(name)
            self.toasts.show(f"renamed to {name.strip()}")
            self.after_change()

    # --- edits -------------------------------------------------------------------------------------------------

    def delete_point(self, index: int) -> None:
        """Remove a point (the selection moves to the point before it)."""
        self.document.delete_point(index)
        count = len(self.document.points)
        self.selected = (index - 1) % count if count else None
        self.hovered = None
        self.toasts.show(f"point {index + 1} deleted")

    def select_next(self, step: int) -> None:
        """Select the next (or previous) point along the loop."""
        count = len(self.document.points)
        if count:
            first = 0 if step > 0 else count - 1
            self.selected = first if self.selected is None else (self.selected + step) % count
            self.toasts.show(f"point {self.selected + 1} of {count} selected")

    def set_start(self) -> None:
        """Cars start at the selected point."""
        if self.selected is None:
            self.toasts.show("select a point first (click it), then press S")
            return
        self.document.set_start(self.selected)
        self.toasts.show(f"cars start at point {self.selected + 1}")

    def undo(self) -> None:
        """Ctrl+Z."""
        self.toasts.show("undone" if self.document.undo() else "nothing to undo")

    def redo(self) -> None:
        """Ctrl+Y or Ctrl+Shift+Z."""
        self.toasts.show("redone" if self.document.redo() else "nothing to redo")

    def save(self) -> bool:
        """Write the track if it is valid (atomically); an invalid track is refused with its reason."""
        if self.validated_revision != self.document.revision:
            self.validate()
        if self.problem is not None:
            self.toasts.show(f"not saved: {self.problem_text}")
            return False
        if self.choose_free_name and not self.saved_paths:
            self.path = free_track_path(self.path.parent, self.path.stem.split("-")[0])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, self.document.to_yaml())
        except (NeuroCarError, OSError) as error:
            self.toasts.show(f"not saved: {error}")
            return False
        self.document.mark_saved()
        self.saved_paths.append(self.path)
        self.quit_armed = False
        self.update_caption()
        self.toasts.show(f"saved {self.file_name}")
        print(f"saved {self.file_name}")
        return True

    def request_quit(self, from_window: bool = False) -> None:
        """Esc closes the help or the name field first; with unsaved changes the first request only warns."""
        if not from_window and self.naming is not None:
            self.finish_naming(keep=False)
        elif not from_window and self.show_help:
            self.show_help = False
        elif self.document.dirty and not self.quit_armed:
            self.quit_armed = True
            again = "Close again" if from_window else "Esc again"
            self.quit_warning = f"Unsaved changes: {again} to quit without saving, Ctrl+S to save"
        else:
            self.closed = True

    # --- test drive --------------------------------------------------------------------------------------------

    def toggle_test_drive(self) -> None:
        """Start the autopilot on the current track (valid tracks only), or stop it."""
        if self.test_world is not None:
            self.stop_test_drive("test drive stopped")
            return
        if self.validated_revision != self.document.revision:
            self.validate()
        if self.track is None:
            self.toasts.show(f"cannot test drive: {self.problem_text}")
            return
        episode = dataclasses.replace(self.config.episode, max_seconds=ENDLESS_S, stall_seconds=ENDLESS_S)
        self.test_world = World(self.track, self.config.physics, self.config.sensors, episode, population=1)
        self.test_world.reset()
        self.autopilot = Autopilot(self.track, self.config.physics)
        self.test_budget = 0.0
        self._last_frame_time = time.perf_counter()
        self.toasts.show("test drive: the autopilot drives (T stops)")

    def stop_test_drive(self, message: str) -> None:
        """End the test drive."""
        self.test_world = None
        self.autopilot = None
        self.toasts.show(message)

    def advance_test_drive(self) -> None:
        """Run the physics steps that fall on this frame (real time, fixed dt)."""
        now = time.perf_counter()
        elapsed = min(0.25, now - self._last_frame_time)
        self._last_frame_time = now
        world = self.test_world
        if world is None or self.autopilot is None:
            return
        self.test_budget += elapsed / self.config.physics.dt_s
        while self.test_budget >= 1 and world.state.driving[0]:
            state = world.state
            world.step(self.autopilot.actions(state.positions, state.headings, state.progress_m))
            self.test_budget -= 1
        if not world.state.driving[0] and world.state.crashed[0]:
            self.test_budget = 0.0

    # --- drawing -----------------------------------------------------------------------------------------------

    def draw(self) -> None:
        """The whole window from the document and the last built track (drawing only reads)."""
        assert self.screen is not None
        screen = self.screen
        screen.fill(theme.BACKGROUND)
        screen.set_clip(self.view_rect)
        draw_grid(screen, self.camera, self.view_rect)
        points = np.asarray(self.document.points, dtype=np.float64).reshape(-1, 2)
        values = self.document.values
        current = self.validated_revision == self.document.revision
        preview = self.current_preview()
        if self.track is not None and current:
            screen.blit(self.track_picture(self.track), (0, 0))
        elif preview is not None:
            draw_preview(screen, self.camera, preview, theme.BAD if current else PREVIEW_WALL)
        draw_control_polygon(screen, self.camera, points)
        if preview is not None:
            draw_direction_marks(screen, self.camera, preview[0])
        if len(points) >= 2:
            start = points[values.start_index % len(points)]
            following = points[(values.start_index + 1) % len(points)]
            heading = math.atan2(following[1] - start[1], following[0] - start[0])
            if self.track is not None and current:
                heading = self.track.start_heading
            draw_arrow(screen, self.camera, start, heading, 34, theme.GOOD)
        draw_points(screen, self.camera, points, values.start_index, self.selected, self.hovered)
        if self.test_world is not None:
            world = self.test_world
            colour = theme.CRASHED if world.state.crashed[0] else theme.LEADER
            if self.sprites is None or self._sprites_scale != self.camera.scale:
                physics = self.config.physics
                self.sprites = CarSprites(physics.car_length_m, physics.car_width_m, self.camera.scale)
                self._sprites_scale = self.camera.scale
            centre = to_screen(self.camera, world.state.positions[0]).tolist()
            pygame.draw.circle(screen, colour, centre, max(14, self.sprites.base.get_width() * 0.8), 2)
            draw_cars(screen, self.sprites, self.camera, world.state.positions, world.state.headings, colour)
        if self.problem is not None and current and self.problem.position is not None:
            draw_problem_marker(screen, self.camera, self.problem.position, self.texts, self.frame_count * 0.15)
        screen.set_clip(None)
        self.draw_top_line(screen)
        self.draw_panel(screen)
        self.toasts.draw(screen, self.view_rect)
        if self.naming is not None:
            self.draw_name_field(screen)
        if self.show_help:
            self.help.draw(screen)

    def track_picture(self, track: Track) -> pygame.Surface:
        """The valid track (road, walls, start line) over a see-through background, redrawn when it or the view
        changes."""
        assert self.screen is not None
        key = (id(track), camera_key(self.camera), self.screen.get_size())
        if self._track_picture is None or key != self._track_picture_key:
            picture = render_track(track, self.camera, self.screen.get_size())
            picture.set_colorkey(theme.BACKGROUND)
            self._track_picture = picture
            self._track_picture_key = key
        return self._track_picture

    def draw_top_line(self, screen: pygame.Surface) -> None:
        """Name, file and the help hint; the unsaved-changes warning when quitting was asked."""
        star = " *" if self.document.dirty else ""
        text = f"{self.document.values.name}{star}   ·   {self.file_name}   ·   H: help"
        screen.blit(self.texts.render(text, 22, theme.TEXT_DIM), (theme.MARGIN, theme.MARGIN))
        if self.quit_armed:
            warning = self.texts.render(self.quit_warning, 24, theme.BAD)
            box = warning.get_rect(midtop=(self.view_rect.centerx, 44)).inflate(24, 14)
            pygame.draw.rect(screen, theme.PANEL, box, border_radius=8)
            pygame.draw.rect(screen, theme.BAD, box, 2, border_radius=8)
            screen.blit(warning, warning.get_rect(center=box.center))

    def draw_name_field(self, screen: pygame.Surface) -> None:
        """The name being typed, with a caret."""
        assert self.naming is not None
        caret = "|" if (self.frame_count // 20) % 2 == 0 else " "
        text = self.texts.render(f"Name: {self.naming}{caret}", 28, theme.TEXT)
        hint = self.texts.render("Enter: keep   Esc: cancel", 20, theme.TEXT_DIM)
        box = pygame.Rect(0, 0, max(text.get_width(), hint.get_width()) + 40, 80)
        box.center = self.view_rect.center
        pygame.draw.rect(screen, theme.PANEL, box, border_radius=10)
        pygame.draw.rect(screen, theme.ACCENT, box, 2, border_radius=10)
        screen.blit(text, (box.left + 20, box.top + 14))
        screen.blit(hint, (box.left + 20, box.top + 50))

    @property
    def changes_label(self) -> str:
        """'unsaved', 'saved', or 'not written yet' for a new file nothing was saved to."""
        if self.document.dirty:
            return "unsaved"
        return "saved" if self.path.exists() else "not written yet"

    def hud_rows(self) -> list[tuple[str, str]]:
        """The values of the track and the state of the file."""
        values = self.document.values
        current = self.validated_revision == self.document.revision
        track = self.track if current else None
        difficulty = (
            f"{values.difficulty}  " + "*" * max(0, min(5, values.difficulty)) + "." * max(0, 5 - values.difficulty)
        )
        where = self.path.name
        if self.path.resolve().parent == TRACKS_DIR.resolve():
            where += " (shipped)"
        elif not self.path.exists():
            where += " (new)"
        rows = [
            ("File", where),
            ("Name", values.name),
            ("Difficulty", difficulty),
            ("Width", f"{values.width_m:g} m   ([ ])"),
            ("Points", str(len(values.points))),
            ("Start", f"point {values.start_index + 1}" if values.points else "-"),
            ("Length", f"{track.length_m:.0f} m" if track is not None else "-"),
            ("Tightest curve", f"radius {track.min_radius_m:.1f} m" if track is not None else "-"),
            ("Changes", self.changes_label),
        ]
        if self.test_world is not None:
            state = self.test_world.state
            status = "crashed" if state.crashed[0] else f"{int(state.laps[0])} laps"
            rows.append(("Test drive", status))
        return rows

    def draw_panel(self, screen: pygame.Surface) -> None:
        """The HUD, the validation box, what was wrong with the file as opened, and the mouse hints."""
        if self.panel_rect.width < 120:
            return
        pygame.draw.rect(screen, theme.BACKGROUND, self.panel_rect)
        pygame.draw.line(screen, theme.PANEL_EDGE, self.panel_rect.topleft, self.panel_rect.bottomleft)
        inner = self.panel_rect.inflate(-2 * theme.MARGIN, -2 * theme.MARGIN)
        rows = self.hud_rows()
        hud_rect = pygame.Rect(inner.left, inner.top, inner.width, self.hud.height(len(rows)))
        colours = {"Changes": theme.GOOD if self.changes_label == "saved" else theme.ACCENT}
        self.hud.draw(screen, hud_rect, "Track editor", rows, colours)
        y = hud_rect.bottom + theme.MARGIN
        current = self.validated_revision == self.document.revision
        box = pygame.Rect(inner.left, y, inner.width, 0)
        if not current:
            y += draw_text_box(screen, self.texts, box, "Checking...", theme.TEXT_DIM, [])
        elif self.problem is None:
            lines = [(f"Ctrl+S saves to {self.file_name}", theme.TEXT)]
            y += draw_text_box(screen, self.texts, box, "Valid track", theme.GOOD, lines)
        else:
            lines = [(self.problem_text, theme.TEXT)]
            if self.problem.position is not None:
                lines.append(("The red ring marks the place.", theme.TEXT_DIM))
            lines.append(("Saving is refused until it is fixed.", theme.TEXT_DIM))
            y += draw_text_box(screen, self.texts, box, "Problem", theme.BAD, lines)
        if self.document.opened_problem and self.document.opened_problem != self.problem_text:
            y += theme.MARGIN
            box = pygame.Rect(inner.left, y, inner.width, 0)
            lines = [
                (self.document.opened_problem, theme.TEXT),
                ("Saving writes the values shown here.", theme.TEXT_DIM),
            ]
            y += draw_text_box(screen, self.texts, box, "The file as opened", theme.ACCENT, lines)
        hints = [
            ("Click: add a point   Drag: move it", theme.TEXT_DIM),
            ("Right click: delete   Right drag: pan", theme.TEXT_DIM),
            ("Wheel: zoom   Ctrl+Z / Ctrl+Y: undo / redo", theme.TEXT_DIM),
            ("Ctrl+S: save   H: every key", theme.TEXT_DIM),
        ]
        if inner.bottom - y > 150:
            box = pygame.Rect(inner.left, inner.bottom - (44 + 20 * len(hints)), inner.width, 0)
            draw_text_box(screen, self.texts, box, "Mouse and keys", theme.TEXT, hints)
