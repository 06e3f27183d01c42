"""The track editor's controller: input (keys, mouse, typed text) turned into commands on a `TrackDocument`.

The controller owns everything the editor knows besides the document: the camera over the track view, the
selected, hovered and dragged points, the name being typed, the last validation (the built `Track` or its problem),
the test drive, the pending quit and the file it saves to. It draws nothing and needs no window: tests call
`key_down`, `mouse_down`, `mouse_move`, `mouse_up`, `wheel`, `close_window` and `update` directly and look at the
document and the controller's state. Messages for the user go to `notify` (the window's notices).

The keys are data: `bindings` lists every key and mouse action with its help text and the command it runs, so the
help overlay and the key handling are one table.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import TRACKS_DIR, display_path
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.track import MAX_NAME_CHARACTERS, Track, TrackError
from neurocar.sim.track_document import (
    TrackDocument,
    free_track_path,
    preview_lines,
    recovery_files,
    recovery_track_path,
)
from neurocar.sim.world import World
from neurocar.ui.camera import Camera
from neurocar.ui.text_field import TextField

HIT_RADIUS_PX = 12  # a click this close to a point picks it
CLICK_SLOP_PX = 4  # a right-button press that moves less than this is a click (delete), not a pan
DRAG_VALIDATE_SECONDS = 0.3  # while dragging, build the track at most this often (it takes tens of ms)
MAX_STEP_SECONDS = 0.25  # a slow frame never asks the test drive for more catch-up than this
ZOOM_STEP = 1.15
PAN_STEP_PX = 80
NAME_LIMIT = min(80, MAX_NAME_CHARACTERS)
ENDLESS_S = 1e12
MIN_SCALE = 0.05  # pixels per metre: about 20 km across a 1000 px view
MAX_SCALE = 80.0
MIN_FIT_SPAN_M = 60.0
CTRL = pygame.KMOD_CTRL | pygame.KMOD_META
# A notice may be elided to fit its strip: the words up front say where the whole reason is.
REFUSED_SAVE = "Not saved (the panel says why and how to fix it): "
REFUSED_TEST_DRIVE = "No test drive (the panel says why): "

Viewport = tuple[int, int, int, int]  # left, top, width, height [px]


# --- the camera ------------------------------------------------------------------------------------------------------


def fit_camera(points: np.ndarray, margin_m: float, viewport: Viewport) -> Camera:
    """A camera showing every point (n, 2) [m] with `margin_m` around them (a default view without points)."""
    if len(points) == 0:
        low, high = np.array([-100.0, -60.0]), np.array([100.0, 60.0])
    else:
        low = points.min(axis=0) - margin_m
        high = points.max(axis=0) + margin_m
    centre = (low + high) / 2
    half = np.maximum((high - low) / 2, MIN_FIT_SPAN_M / 2)
    return Camera(centre - half, centre + half, viewport)


def zoom_camera(camera: Camera, screen_point: tuple[float, float], factor: float) -> None:
    """Zoom by `factor` keeping the world point under `screen_point` where it is."""
    world = camera.to_world(np.asarray(screen_point, dtype=np.float64))
    camera.scale = min(MAX_SCALE, max(MIN_SCALE, camera.scale * factor))
    camera.offset_x = screen_point[0] - (world[0] - camera.world_min[0]) * camera.scale
    camera.offset_y = screen_point[1] - (camera.world_max[1] - world[1]) * camera.scale


def pan_camera(camera: Camera, dx: float, dy: float) -> None:
    """Move the view by (dx, dy) pixels (the world follows the mouse)."""
    camera.offset_x += dx
    camera.offset_y += dy


def camera_key(camera: Camera) -> tuple[float, float, float]:
    """What changes when the view moves (to know when a cached picture is stale)."""
    return (camera.scale, camera.offset_x, camera.offset_y)


# --- key bindings as data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chord:
    """One key with its modifiers: Ctrl must be held or not; Shift must be, must not be, or does not matter."""

    key: int
    ctrl: bool = False
    shift: bool | None = None

    def matches(self, key: int, modifiers: int) -> bool:
        """True when this key press is this chord."""
        if key != self.key or bool(modifiers & CTRL) != self.ctrl:
            return False
        return self.shift is None or bool(modifiers & pygame.KMOD_SHIFT) == self.shift


@dataclass(frozen=True)
class Binding:
    """A key (or mouse action) of the editor: what the help calls it, what it does, and the command it runs.

    Bindings without chords are mouse actions, listed for the help only; bindings with an empty `help` share the
    help line of the binding before them (the digits 1 to 5 are one line)."""

    label: str
    help: str
    action: Callable[[], object] | None = None
    chords: tuple[Chord, ...] = ()


def keys(*codes: int, ctrl: bool = False, shift: bool | None = None) -> tuple[Chord, ...]:
    """Chords for several keys with the same modifiers."""
    return tuple(Chord(code, ctrl, shift) for code in codes)


# --- the test drive -----------------------------------------------------------------------------------------------


class TestDrive:
    """The scripted autopilot driving one car round the current track, in real time at the fixed dt."""

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, config: Config, track: Track, now: float) -> None:
        episode = dataclasses.replace(config.episode, max_seconds=ENDLESS_S, stall_seconds=ENDLESS_S)
        self.world = World(track, config.physics, config.sensors, episode, population=1)
        self.world.reset()
        self.autopilot = Autopilot(track, config.physics)
        self.dt_s = config.physics.dt_s
        self.budget = 0.0
        self.last_time = now

    def advance(self, now: float) -> int:
        """Run the physics steps that fell due since the last call; returns how many ran."""
        elapsed = min(MAX_STEP_SECONDS, max(0.0, now - self.last_time))
        self.last_time = now
        self.budget += elapsed / self.dt_s
        steps = 0
        state = self.world.state
        while self.budget >= 1 - 1e-9 and state.driving[0]:  # whole steps, despite rounding in the sum
            self.world.step(self.autopilot.actions(state.positions, state.headings, state.progress_m))
            state = self.world.state
            self.budget -= 1
            steps += 1
        if not state.driving[0]:
            self.budget = 0.0
        return steps

    @property
    def status(self) -> str:
        """'crashed' or 'N laps'."""
        state = self.world.state
        return "crashed" if state.crashed[0] else f"{int(state.laps[0])} laps"


# --- the controller -----------------------------------------------------------------------------------------------


class EditorController:
    """Turns input into document commands and keeps the editor's state; see the module docstring."""

    def __init__(
        self,
        config: Config,
        document: TrackDocument,
        path: str | Path,
        *,
        choose_free_name: bool = False,
        clock: Callable[[], float] = time.perf_counter,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.document = document
        self.path = Path(path)
        self.choose_free_name = choose_free_name  # the first save picks a file name no file has yet
        self.clock = clock
        self.notices: list[str] = []  # every message given, newest last (the window shows them as notices)
        self.notify_hook = notify
        self.viewport: Viewport = (0, 0, 800, 600)
        self.fit_area: Viewport = self.viewport
        self.camera = fit_camera(np.zeros((0, 2)), 0.0, self.viewport)
        self._placed = False  # the first viewport fits the track into it
        self.selected: int | None = None
        self.hovered: int | None = None
        self.dragging: int | None = None
        self.drag_token: object | None = None
        self.panning_button: int | None = None
        self.press_position: tuple[float, float] = (0.0, 0.0)
        self.mouse_position: tuple[float, float] = (0.0, 0.0)
        self.name_field: TextField | None = None
        self.track: Track | None = None
        self.problem: TrackError | None = None
        self.validated_revision = -1
        self.last_validation = -math.inf
        self._preview: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._preview_revision = -1
        self.seen_revision = document.revision
        self.saved_paths: list[Path] = []
        self.recovered_path: Path | None = None
        self.test_drive: TestDrive | None = None
        self.quit_armed = False
        self.quit_warning = ""
        self.discarded = False  # the user chose to quit without saving (Esc twice)
        self.closed = False
        self.caption_changed: Callable[[], None] | None = None
        self.validate()
        earlier = recovery_files(self.path)
        if earlier:
            self.notify(f"unsaved edits from an earlier session are in {display_path(earlier[-1])}")

    # --- what the editor offers ------------------------------------------------------------------------------------

    @property
    def bindings(self) -> list[Binding]:
        """Every key and mouse action, in the order the help lists them."""
        return [
            Binding("Left click", "add a point (into the nearest side of the loop); on a point: select it"),
            Binding("Left drag", "move a point (or place a new one)"),
            Binding("Right click", "delete the point under the mouse"),
            Binding(
                "Right / middle drag, arrows", "pan the view", lambda: self.pan(0, -PAN_STEP_PX), keys(pygame.K_DOWN)
            ),
            Binding("", "", lambda: self.pan(0, PAN_STEP_PX), keys(pygame.K_UP)),
            Binding("", "", lambda: self.pan(PAN_STEP_PX, 0), keys(pygame.K_LEFT)),
            Binding("", "", lambda: self.pan(-PAN_STEP_PX, 0), keys(pygame.K_RIGHT)),
            Binding(
                "Wheel, + / -",
                "zoom in / out (the wheel zooms at the mouse)",
                lambda: self.zoom(ZOOM_STEP),
                keys(pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS),
            ),
            Binding("", "", lambda: self.zoom(1 / ZOOM_STEP), keys(pygame.K_MINUS, pygame.K_KP_MINUS)),
            Binding("F", "fit the track in the view", self.fit_view, keys(pygame.K_f)),
            Binding(
                "Delete / Backspace",
                "delete the selected (or hovered) point",
                self.delete_selected,
                keys(pygame.K_DELETE, pygame.K_BACKSPACE),
            ),
            Binding(
                "Tab / Shift+Tab",
                "select the next / previous point",
                lambda: self.select_next(1),
                (Chord(pygame.K_TAB, shift=False),),
            ),
            Binding("", "", lambda: self.select_next(-1), (Chord(pygame.K_TAB, shift=True),)),
            Binding("[ / ]", "road 0.5 m narrower / wider", lambda: self.change_width(-1), keys(pygame.K_LEFTBRACKET)),
            Binding("", "", lambda: self.change_width(1), keys(pygame.K_RIGHTBRACKET)),
            Binding("S", "cars start at the selected point", self.set_start, keys(pygame.K_s)),
            Binding("R", "reverse the driving direction", self.reverse, keys(pygame.K_r)),
            *[
                Binding(
                    "1 - 5" if number == 1 else "",
                    "difficulty" if number == 1 else "",
                    lambda number=number: self.set_difficulty(number),
                    keys(getattr(pygame, f"K_{number}"), getattr(pygame, f"K_KP{number}")),
                )
                for number in range(1, 6)
            ],
            Binding(
                "N",
                "rename the track (type the new name, Enter keeps it, Esc cancels)",
                self.start_rename,
                keys(pygame.K_n),
            ),
            Binding(
                "T",
                "test drive: the autopilot drives the track (T again stops)",
                self.toggle_test_drive,
                keys(pygame.K_t),
            ),
            Binding("Ctrl+Z", "undo", self.undo, keys(pygame.K_z, ctrl=True, shift=False)),
            Binding(
                "Ctrl+Y, Ctrl+Shift+Z", "redo", self.redo, (Chord(pygame.K_y, True), Chord(pygame.K_z, True, True))
            ),
            Binding("Ctrl+S", "save (refused while the track has a problem)", self.save, keys(pygame.K_s, ctrl=True)),
            Binding(
                "Esc", "quit (asks first when there are unsaved changes)", self.request_quit, keys(pygame.K_ESCAPE)
            ),
        ]

    @property
    def file_name(self) -> str:
        """The save file as the user knows it."""
        return display_path(self.path)

    @property
    def current(self) -> bool:
        """True when `track` and `problem` describe the document as it is now."""
        return self.validated_revision == self.document.revision

    @property
    def problem_text(self) -> str:
        """The current problem without the file name in front (the panel shows the file)."""
        if self.problem is None:
            return ""
        text = str(self.problem)
        prefix = f"{self.file_name}: "
        return text[len(prefix) :] if text.startswith(prefix) else text

    @property
    def changes_label(self) -> str:
        """'unsaved', 'saved', or 'not written yet' for a new file nothing was saved to."""
        if self.document.dirty:
            return "unsaved"
        return "saved" if self.path.exists() else "not written yet"

    @property
    def where_label(self) -> str:
        """The save file's name, marked when it is a new file or a shipped track."""
        where = self.path.name
        if self.path.resolve().parent == TRACKS_DIR.resolve():
            return f"{where} (shipped)"
        return where if self.path.exists() else f"{where} (new)"

    @property
    def naming(self) -> str | None:
        """The name being typed, or None when the name field is closed."""
        return None if self.name_field is None else self.name_field.text

    def notify(self, message: str) -> None:
        """Tell the user something (the window shows it as a notice)."""
        self.notices.append(message)
        del self.notices[:-50]
        if self.notify_hook is not None:
            self.notify_hook(message)

    def preview(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The unvalidated walls of the current points (cheap: drawn while dragging and for invalid tracks)."""
        if self._preview_revision != self.document.revision:
            self._preview = preview_lines(self.document.points, self.document.values.width_m)
            self._preview_revision = self.document.revision
        return self._preview

    # --- the view ---------------------------------------------------------------------------------------------------

    def set_viewport(self, viewport: Viewport, fit: bool = False, fit_area: Viewport | None = None) -> None:
        """The screen rectangle the track is drawn in (and clicks land in), and `fit_area`, the part of it that `F`
        fits the track into (all of it by default; the window keeps a strip free for its notices). The first time
        (or with `fit`) the track is fitted; afterwards the view keeps its scale and the world point at its
        centre."""
        first = not self._placed
        old_centre = self.viewport[0] + self.viewport[2] / 2, self.viewport[1] + self.viewport[3] / 2
        self.viewport = (int(viewport[0]), int(viewport[1]), int(viewport[2]), int(viewport[3]))
        area = viewport if fit_area is None else fit_area
        self.fit_area = (int(area[0]), int(area[1]), int(area[2]), int(area[3]))
        self._placed = True
        if fit or first:
            self.fit_view()
            return
        left, top, width, height = self.viewport
        pan_camera(self.camera, left + width / 2 - old_centre[0], top + height / 2 - old_centre[1])
        self.camera.viewport = self.viewport

    def contains(self, position: tuple[float, float]) -> bool:
        """True when a screen position is inside the track view."""
        left, top, width, height = self.viewport
        return left <= position[0] < left + width and top <= position[1] < top + height

    def fit_view(self) -> None:
        """Show the whole track in the fit area (or a default area when there are no points)."""
        left, top, width, height = self.fit_area
        margin = 12
        inner = (left + margin, top + margin, max(1, width - 2 * margin), max(1, height - 2 * margin))
        points = np.asarray(self.document.points, dtype=np.float64).reshape(-1, 2)
        preview = self.preview()
        if preview is not None:
            points = np.concatenate([points, preview[0]])  # the smoothed loop bulges past its points
        self.camera = fit_camera(points, self.document.values.width_m, inner)

    def zoom(self, factor: float, around: tuple[float, float] | None = None) -> None:
        """Zoom the view by `factor` around a screen point (the centre of the view by default)."""
        if around is None:
            left, top, width, height = self.viewport
            around = (left + width / 2, top + height / 2)
        zoom_camera(self.camera, around, factor)

    def pan(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) pixels."""
        pan_camera(self.camera, dx, dy)

    def world_at(self, position: tuple[float, float]) -> tuple[float, float]:
        """The world point [m] under a screen position."""
        world = self.camera.to_world(np.asarray(position, dtype=np.float64))
        return float(world[0]), float(world[1])

    def screen_at(self, world: tuple[float, float]) -> tuple[int, int]:
        """The screen pixel of a world point [m]."""
        x, y = self.camera.to_screen(np.asarray(world, dtype=np.float64))
        return round(float(x)), round(float(y))

    def point_at(self, position: tuple[float, float]) -> int | None:
        """The point drawn under a screen position, if any."""
        return self.document.nearest_point(self.world_at(position), HIT_RADIUS_PX / self.camera.scale)

    # --- input ------------------------------------------------------------------------------------------------------

    def key_down(self, key: int, modifiers: int = 0, text: str = "") -> bool:
        """One key press (`text` is what it typed, if anything); returns True when a binding or the name field
        took it."""
        if self.name_field is not None:
            outcome = self.name_field.key(key, modifiers, text)
            if outcome is not None:
                self.finish_rename(keep=outcome == "keep")
            self.after_input()
            return True
        for binding in self.bindings:
            if binding.action is not None and any(chord.matches(key, modifiers) for chord in binding.chords):
                binding.action()
                self.after_input()
                return True
        return False

    def text_typed(self, text: str) -> None:
        """Text typed by the keyboard (an input method's text event) while the name field is open."""
        if self.name_field is not None:
            self.name_field.type(text)

    def mouse_down(self, position: tuple[float, float], button: int) -> None:
        """Left: pick a point (and start dragging it) or add one; right or middle: start panning."""
        self.mouse_position = position
        if not self.contains(position):
            return
        if self.name_field is not None:
            self.finish_rename(keep=True)
        if button == 1:
            index = self.point_at(position)
            self.drag_token = object()
            if index is None:
                index = self.document.add_point(self.world_at(position), drag=self.drag_token)
                self.notify(f"point {index + 1} added")
            self.selected = index
            self.dragging = index
        elif button in (2, 3):
            self.panning_button = button
            self.press_position = position
        self.after_input()

    def mouse_up(self, position: tuple[float, float], button: int) -> None:
        """End a drag (the track is checked at once) or a pan; a right click without moving deletes a point."""
        self.mouse_position = position
        if button == 1 and self.dragging is not None:
            self.dragging = None
            self.document.end_merge()
            if not self.current:
                self.validate()  # the point is let go: check where it landed at once
        elif button == self.panning_button:
            self.panning_button = None
            moved = math.dist(position, self.press_position)
            if button == 3 and moved < CLICK_SLOP_PX:
                index = self.point_at(position)
                if index is not None:
                    self.delete_point(index)
        self.after_input()

    def mouse_move(self, position: tuple[float, float], rel: tuple[float, float] = (0, 0)) -> None:
        """Drag the point, pan the view, or highlight the point under the mouse."""
        self.mouse_position = position
        if self.dragging is not None:
            self.document.move_point(self.dragging, self.world_at(position), drag=self.drag_token)
        elif self.panning_button is not None:
            self.pan(rel[0], rel[1])
        self.hovered = self.point_at(position) if self.contains(position) else None
        self.after_input()

    def wheel(self, steps: float) -> None:
        """Mouse wheel: zoom in (positive) or out at the mouse."""
        self.zoom(ZOOM_STEP**steps, self.mouse_position)

    def close_window(self) -> None:
        """The window's close button: the first one only warns when there are unsaved changes."""
        if self.document.dirty and not self.quit_armed:
            self.quit_armed = True
            self.quit_warning = "Unsaved changes: close again to quit (they are kept in a recovery copy), Ctrl+S saves"
        else:
            self.closed = True

    def request_quit(self) -> None:
        """Esc: quits; with unsaved changes the first press only warns and a second one discards them."""
        if self.document.dirty and not self.quit_armed:
            self.quit_armed = True
            self.quit_warning = "Unsaved changes: Esc again quits without saving them, Ctrl+S saves"
        else:
            self.discarded = self.document.dirty
            self.closed = True

    def after_input(self) -> None:
        """After a change to the document: a pending quit is called off, a test drive stops, the selection stays
        on a point that exists."""
        if self.document.revision == self.seen_revision:
            return
        self.seen_revision = self.document.revision
        self.quit_armed = False
        if self.test_drive is not None:
            self.stop_test_drive("the track changed: test drive stopped")
        count = len(self.document.points)
        if self.selected is not None and self.selected >= count:
            self.selected = count - 1 if count else None
        if self.dragging is None:
            self.validate()
        if self.caption_changed is not None:
            self.caption_changed()

    # --- time -------------------------------------------------------------------------------------------------------

    def update(self, now: float | None = None) -> None:
        """Once a frame: build the track when it is due, and run the test drive's steps."""
        now = self.clock() if now is None else now
        if self.validation_due(now):
            self.validate(now)
        if self.test_drive is not None:
            self.test_drive.advance(now)

    def validation_due(self, now: float) -> bool:
        """The track is out of date: build it now, unless a drag is going on and it was built moments ago."""
        if self.current:
            return False
        return self.dragging is None or now - self.last_validation >= DRAG_VALIDATE_SECONDS

    def validate(self, now: float | None = None) -> None:
        """Build the track from the document with the physics of the config: the track, or its problem."""
        physics = self.config.physics
        self.track, self.problem = self.document.build(
            self.file_name, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m
        )
        self.validated_revision = self.document.revision
        self.last_validation = self.clock() if now is None else now

    # --- commands ---------------------------------------------------------------------------------------------------

    def delete_point(self, index: int) -> None:
        """Remove a point (the selection moves to the point before it)."""
        self.document.delete_point(index)
        count = len(self.document.points)
        self.selected = (index - 1) % count if count else None
        self.hovered = None
        self.notify(f"point {index + 1} deleted")

    def delete_selected(self) -> None:
        """Delete or Backspace: the selected point, or else the one under the mouse."""
        index = self.selected if self.selected is not None else self.hovered
        if index is None:
            self.notify("select a point first (click it), or point at it")
        else:
            self.delete_point(index)

    def select_next(self, step: int) -> None:
        """Select the next (or previous) point along the loop."""
        count = len(self.document.points)
        if count:
            first = 0 if step > 0 else count - 1
            self.selected = first if self.selected is None else (self.selected + step) % count
            self.notify(f"point {self.selected + 1} of {count} selected")

    def change_width(self, steps: int) -> None:
        """[ and ]: the road narrower or wider by half a metre a step."""
        self.document.change_width(steps)
        self.notify(f"road width {self.document.values.width_m:g} m")

    def set_start(self) -> None:
        """Cars start at the selected point."""
        if self.selected is None:
            self.notify("select a point first (click it), then press S")
            return
        self.document.set_start(self.selected)
        self.notify(f"cars start at point {self.selected + 1}")

    def reverse(self) -> None:
        """The cars drive the other way round."""
        self.document.reverse()
        count = len(self.document.points)
        if self.selected is not None and count:
            self.selected = count - 1 - self.selected  # the same point, at its new index
        self.notify("direction reversed")

    def set_difficulty(self, difficulty: int) -> None:
        """1 to 5."""
        self.document.set_difficulty(difficulty)
        self.notify(f"difficulty {difficulty}")

    def start_rename(self) -> None:
        """N: open the name field with the whole name selected, so what is typed replaces it."""
        self.name_field = TextField(self.document.values.name, NAME_LIMIT)

    def finish_rename(self, keep: bool) -> None:
        """Close the name field, renaming the track if asked (an empty or unchanged name keeps the old one)."""
        field, self.name_field = self.name_field, None
        name = field.text.strip() if field is not None else ""
        if not keep or name == self.document.values.name:
            return
        if not name:
            self.notify("the name stays: a track needs a name")
            return
        self.document.set_name(name)
        self.notify(f"renamed to {name}")

    def undo(self) -> None:
        """Ctrl+Z."""
        self.notify("undone" if self.document.undo() else "nothing to undo")

    def redo(self) -> None:
        """Ctrl+Y or Ctrl+Shift+Z."""
        self.notify("redone" if self.document.redo() else "nothing to redo")

    def save(self) -> bool:
        """Write the track if it is valid (atomically); an invalid track is refused with its reason."""
        if not self.current:
            self.validate()
        if self.problem is not None:
            self.notify(f"{REFUSED_SAVE}{self.problem_text}")
            return False
        if self.choose_free_name and not self.saved_paths:
            self.path = free_track_path(self.path.parent, self.path.stem.split("-")[0])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, self.document.to_yaml())
        except (NeuroCarError, OSError) as error:
            self.notify(f"Not saved: {error}")
            return False
        self.document.mark_saved()
        self.saved_paths.append(self.path)
        self.quit_armed = False
        self.notify(f"saved {self.file_name}")
        print(f"saved {self.file_name}")
        if self.caption_changed is not None:
            self.caption_changed()
        return True

    def keep_unsaved_edits(self) -> Path | None:
        """Write unsaved edits to a recovery copy beside the track file (a new file, never the track file or any
        other existing file); returns its path, or None when there was nothing to keep or it could not be written.
        Invalid tracks are kept too: the editor opens them for fixing."""
        if not self.document.dirty or self.discarded:
            return None
        if self.recovered_path is not None and self.recovered_path.exists():
            target = self.recovered_path  # the copy this session already made
        else:
            target = recovery_track_path(self.path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, self.document.to_yaml())
        except (NeuroCarError, OSError) as error:
            print(f"neurocar: the unsaved edits could not be kept: {error}")
            return None
        self.recovered_path = target
        return target

    def toggle_test_drive(self) -> None:
        """Start the autopilot on the current track (valid tracks only), or stop it."""
        if self.test_drive is not None:
            self.stop_test_drive("test drive stopped")
            return
        if not self.current:
            self.validate()
        if self.track is None:
            self.notify(f"{REFUSED_TEST_DRIVE}{self.problem_text}")
            return
        self.test_drive = TestDrive(self.config, self.track, self.clock())
        self.notify("test drive: the autopilot drives (T stops)")

    def stop_test_drive(self, message: str) -> None:
        """End the test drive."""
        self.test_drive = None
        self.notify(message)
