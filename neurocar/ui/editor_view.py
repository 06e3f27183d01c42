"""Drawing for the track editor: the metre grid, the centre-line points, the unvalidated preview of the walls, the
direction arrows, the problem marker, and `EditorView`, which draws the whole editor (track view, header bar, side
panel, name field, quit warning) from an `EditorController`.

Drawing only reads the controller, the document and the track; it never changes them. Every text is fitted to its
room (elided or wrapped), and the sizes follow the window, so the layout holds from 800x600 up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pygame

from neurocar.config import PhysicsConfig
from neurocar.sim.track import Track
from neurocar.ui import theme
from neurocar.ui.camera import Camera
from neurocar.ui.editor_controller import EditorController, camera_key
from neurocar.ui.shell import ShellLayout
from neurocar.ui.text_layout import ELLIPSIS, fit_size, fit_text, text_width, wrap_text
from neurocar.ui.theme import TextCache
from neurocar.ui.track_view import CarSprites, draw_cars, render_track

SCREEN_LIMIT_PX = 100_000  # far-off points are clipped so pygame never sees huge coordinates
GRID_STEPS_M = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
MIN_GRID_PIXELS = 36
MAX_GRID_LINES = 500
POINT_RADIUS_PX = 6
GRID_MINOR = (26, 29, 37)
GRID_MAJOR = (38, 42, 54)
CONTROL_LINE = (92, 100, 120)
PREVIEW_WALL = (150, 156, 170)
ARROW_SPACING_M = 40.0
BASE_TEXT_SIZE = 28  # pygame font size of body text at the shell's scale 1 (1280x800): legible across a classroom
MIN_TEXT_SIZE = 20
MIN_PANEL_WIDTH = 160


def to_screen(camera: Camera, points: np.ndarray) -> np.ndarray:
    """Screen positions of world points, clipped to a range pygame can draw."""
    return np.clip(camera.to_screen(points), -SCREEN_LIMIT_PX, SCREEN_LIMIT_PX)


def grid_step(scale: float) -> float:
    """The grid spacing [m]: the smallest step at least `MIN_GRID_PIXELS` apart on screen."""
    for step in GRID_STEPS_M:
        if step * scale >= MIN_GRID_PIXELS:
            return float(step)
    return float(GRID_STEPS_M[-1])


def draw_grid(surface: pygame.Surface, camera: Camera, area: pygame.Rect) -> float:
    """A metre grid over `area` (every fifth line brighter); returns the spacing [m]."""
    step = grid_step(camera.scale)
    corner_a = camera.to_world(np.array([area.left, area.bottom], dtype=np.float64))
    corner_b = camera.to_world(np.array([area.right, area.top], dtype=np.float64))
    for axis in (0, 1):
        first = math.floor(corner_a[axis] / step)
        last = math.ceil(corner_b[axis] / step)
        if last - first > MAX_GRID_LINES:
            continue  # zoomed out beyond any sensible grid (a point thousands of kilometres away)
        for index in range(first, last + 1):
            value = index * step
            colour = GRID_MAJOR if index % 5 == 0 else GRID_MINOR
            if axis == 0:
                x = round(float(camera.to_screen(np.array([value, 0.0]))[0]))
                pygame.draw.line(surface, colour, (x, area.top), (x, area.bottom))
            else:
                y = round(float(camera.to_screen(np.array([0.0, value]))[1]))
                pygame.draw.line(surface, colour, (area.left, y), (area.right, y))
    return step


def draw_preview(
    surface: pygame.Surface,
    camera: Camera,
    lines: tuple[np.ndarray, np.ndarray, np.ndarray],
    wall_colour: tuple[int, int, int],
) -> None:
    """The walls as the loader would offset them, without validation (folds and crossings stay visible)."""
    centre, left, right = lines
    for wall in (left, right):
        pygame.draw.lines(surface, wall_colour, True, to_screen(camera, wall).tolist(), 2)
    pygame.draw.lines(surface, CONTROL_LINE, True, to_screen(camera, centre).tolist(), 1)


def draw_control_polygon(surface: pygame.Surface, camera: Camera, points: np.ndarray) -> None:
    """Thin straight lines joining the points in order (where a click inserts a new one)."""
    if len(points) >= 2:
        pygame.draw.lines(surface, CONTROL_LINE, len(points) >= 3, to_screen(camera, points).tolist(), 1)


def draw_arrow(
    surface: pygame.Surface,
    camera: Camera,
    position: np.ndarray,
    heading: float,
    length_px: float,
    colour: tuple[int, int, int],
) -> None:
    """An arrow at `position` [m] pointing along `heading` [rad] (world angles, y up)."""
    tail = to_screen(camera, position)
    direction = np.array([math.cos(heading), -math.sin(heading)])  # screen y points down
    side = np.array([-direction[1], direction[0]])
    tip = tail + direction * length_px
    head = length_px * 0.45
    pygame.draw.line(surface, colour, tail.tolist(), tip.tolist(), 3)
    base = tip - direction * head
    wing = side * head * 0.6
    pygame.draw.polygon(surface, colour, [tip.tolist(), (base + wing).tolist(), (base - wing).tolist()])


def draw_direction_marks(surface: pygame.Surface, camera: Camera, centre: np.ndarray) -> None:
    """Small chevrons along the centre line every `ARROW_SPACING_M`, showing which way the cars drive."""
    count = len(centre)
    stride = max(1, round(ARROW_SPACING_M))
    size = 7.0
    for index in range(stride // 2, count, stride):
        here = centre[index]
        following = centre[(index + 1) % count]
        heading = math.atan2(following[1] - here[1], following[0] - here[0])
        tip = to_screen(camera, here)
        direction = np.array([math.cos(heading), -math.sin(heading)])
        side = np.array([-direction[1], direction[0]])
        back = tip - direction * size
        wing = side * size
        chevron = [(back + wing).tolist(), tip.tolist(), (back - wing).tolist()]
        pygame.draw.lines(surface, CONTROL_LINE, False, chevron, 2)


def draw_points(
    surface: pygame.Surface,
    camera: Camera,
    points: np.ndarray,
    start_index: int,
    selected: int | None,
    hovered: int | None,
) -> None:
    """Each centre-line point as a dot: the start point green and larger, the selected one ringed, the hovered one
    enlarged."""
    if len(points) == 0:
        return
    screen = to_screen(camera, points)
    for index, (x, y) in enumerate(screen.tolist()):
        radius = POINT_RADIUS_PX + (2 if index == hovered else 0)
        colour = theme.GOOD if index == start_index else theme.POSITIVE
        if index == start_index:
            radius += 2
        pygame.draw.circle(surface, theme.BACKGROUND, (x, y), radius + 2)
        pygame.draw.circle(surface, colour, (x, y), radius)
        if index == selected:
            pygame.draw.circle(surface, theme.ACCENT, (x, y), radius + 5, 2)


def draw_problem_marker(
    surface: pygame.Surface,
    camera: Camera,
    position: tuple[float, float],
    texts: TextCache,
    phase: float,
    area: pygame.Rect | None = None,
    size: int = 20,
) -> None:
    """A red target ring at the problem's place, gently pulsing, labelled on whichever side keeps the label inside
    `area`."""
    centre = to_screen(camera, np.asarray(position, dtype=np.float64))
    x, y = round(float(centre[0])), round(float(centre[1]))
    pulse = 4 * (1 + math.sin(phase))
    pygame.draw.circle(surface, theme.BAD, (x, y), round(20 + pulse), 3)
    pygame.draw.circle(surface, theme.BAD, (x, y), 9, 2)
    pygame.draw.line(surface, theme.BAD, (x - 30, y), (x - 12, y), 2)
    pygame.draw.line(surface, theme.BAD, (x + 12, y), (x + 30, y), 2)
    pygame.draw.line(surface, theme.BAD, (x, y - 30), (x, y - 12), 2)
    pygame.draw.line(surface, theme.BAD, (x, y + 12), (x, y + 30), 2)
    label = texts.render("problem here", size, theme.BAD)
    box = label.get_rect(midleft=(x + 34, y - 22)).inflate(10, 6)
    if area is not None:
        if box.right > area.right:
            box = label.get_rect(midright=(x - 34, y - 22)).inflate(10, 6)
        if box.top < area.top:
            box.top = y + 34
    pygame.draw.rect(surface, theme.PANEL, box, border_radius=4)
    surface.blit(label, label.get_rect(center=box.center))


# --- the whole editor -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorLayout:
    """Where the editor draws at one window size, and how big its text is there."""

    header: pygame.Rect  # the bar over the track view: name, file, help hint
    view: pygame.Rect  # the track view (the controller's viewport)
    stage: pygame.Rect  # the part of the view the track is fitted into, above the notices
    notices: pygame.Rect  # the strip at the bottom of the view kept for notices
    panel: pygame.Rect  # the side panel
    text_size: int  # body text [px, pygame font size]
    title_size: int

    @property
    def small_size(self) -> int:
        """Hints and secondary lines."""
        return self.text_size - 2

    @property
    def line_height(self) -> int:
        """The distance between lines of body text."""
        return round(self.text_size * 0.8)


def editor_layout(shell: ShellLayout) -> EditorLayout:
    """The editor's layout inside the window shell's: the header bar and the track view under it, the stage the
    track is fitted into (above the notice strip), the panel, and text sized by the window's scale."""
    text_size = max(MIN_TEXT_SIZE, round(BASE_TEXT_SIZE * shell.scale))
    header = pygame.Rect(shell.header_rect)
    view_rect = shell.view_rect
    view = pygame.Rect(view_rect.left, header.bottom, view_rect.width, max(1, view_rect.bottom - header.bottom))
    return EditorLayout(
        header,
        view,
        pygame.Rect(shell.stage_rect),
        pygame.Rect(shell.notice_rect),
        pygame.Rect(shell.panel_rect),
        text_size,
        text_size + 6,
    )


class EditorView:
    """Draws the editor from its controller; keeps only caches (the rendered track, the car sprites)."""

    def __init__(self, texts: TextCache, physics: PhysicsConfig) -> None:
        self.texts = texts
        self.physics = physics
        self._track_picture: pygame.Surface | None = None
        self._track_picture_key: tuple | None = None
        self._sprites: CarSprites | None = None
        self._sprites_scale = 0.0
        self.marker_size = MIN_TEXT_SIZE

    def draw(
        self,
        surface: pygame.Surface,
        editor: EditorController,
        layout: EditorLayout,
        phase: float,
        panel: pygame.Rect | None = None,
    ) -> None:
        """The track view, the header bar, the panel's content in `panel` (the inside of the shell's panel frame;
        nothing when None), and the quit warning and name field when they are up. `phase` [s] animates the problem
        marker and the caret."""
        self.marker_size = layout.small_size
        surface.fill(theme.BACKGROUND, layout.view)
        surface.set_clip(layout.view)
        self.draw_track_area(surface, editor, layout.view, phase)
        surface.set_clip(None)
        self.draw_header(surface, editor, layout)
        if panel is not None and panel.width >= MIN_PANEL_WIDTH:
            self.draw_panel(surface, editor, layout, panel)
        if editor.quit_armed:
            self.draw_quit_warning(surface, editor, layout)
        if editor.name_field is not None:
            self.draw_name_field(surface, editor, layout, phase)

    # --- the track view ---------------------------------------------------------------------------------------------

    def draw_track_area(
        self, surface: pygame.Surface, editor: EditorController, area: pygame.Rect, phase: float
    ) -> None:
        """Grid, road (or the preview of its walls), points, start arrow, test car and problem marker."""
        camera = editor.camera
        draw_grid(surface, camera, area)
        points = np.asarray(editor.document.points, dtype=np.float64).reshape(-1, 2)
        values = editor.document.values
        current = editor.current
        preview = editor.preview()
        if editor.track is not None and current:
            surface.blit(self.track_picture(editor.track, camera, surface.get_size()), (0, 0))
        elif preview is not None:
            draw_preview(surface, camera, preview, theme.BAD if current else PREVIEW_WALL)
        draw_control_polygon(surface, camera, points)
        if preview is not None:
            draw_direction_marks(surface, camera, preview[0])
        if len(points) >= 2:
            start = points[values.start_index % len(points)]
            following = points[(values.start_index + 1) % len(points)]
            heading = math.atan2(following[1] - start[1], following[0] - start[0])
            if editor.track is not None and current:
                heading = editor.track.start_heading
            draw_arrow(surface, camera, start, heading, 34, theme.GOOD)
        draw_points(surface, camera, points, values.start_index, editor.selected, editor.hovered)
        if editor.test_drive is not None:
            self.draw_test_car(surface, editor)
        if editor.problem is not None and current and editor.problem.position is not None:
            position = editor.problem.position
            draw_problem_marker(surface, camera, position, self.texts, phase * 9.0, area, self.marker_size)

    def draw_test_car(self, surface: pygame.Surface, editor: EditorController) -> None:
        """The test-drive car, ringed so it is easy to find."""
        assert editor.test_drive is not None
        state = editor.test_drive.world.state
        colour = theme.CRASHED if state.crashed[0] else theme.LEADER
        if self._sprites is None or self._sprites_scale != editor.camera.scale:
            self._sprites = CarSprites(self.physics.car_length_m, self.physics.car_width_m, editor.camera.scale)
            self._sprites_scale = editor.camera.scale
        centre = to_screen(editor.camera, state.positions[0]).tolist()
        pygame.draw.circle(surface, colour, centre, max(14, self._sprites.base.get_width() * 0.8), 2)
        draw_cars(surface, self._sprites, editor.camera, state.positions, state.headings, colour)

    def track_picture(self, track: Track, camera: Camera, size: tuple[int, int]) -> pygame.Surface:
        """The valid track (road, walls, start line) over a see-through background, redrawn when it or the view
        changes."""
        key = (id(track), camera_key(camera), size)
        if self._track_picture is None or key != self._track_picture_key:
            picture = render_track(track, camera, size)
            picture.set_colorkey(theme.BACKGROUND)
            self._track_picture = picture
            self._track_picture_key = key
        return self._track_picture

    # --- the header bar ---------------------------------------------------------------------------------------------

    def header_text(self, editor: EditorController, layout: EditorLayout) -> tuple[str, str]:
        """The name with the unsaved star (elided first to leave room for the help hint), and the rest: the file
        (elided, or left out when there is no room) and the help hint."""
        size = layout.text_size
        room = layout.header.width - 2 * theme.MARGIN
        separator, hint = "   ·   ", "H: help"
        star = " *" if editor.document.dirty else ""
        tail = text_width(self.texts, separator + hint, size)
        name = fit_text(self.texts, f"{editor.document.values.name}{star}", size, max(0, room - tail))
        if not name:
            return fit_text(self.texts, editor.document.values.name, size, room), ""
        remaining = room - text_width(self.texts, name, size) - tail - text_width(self.texts, separator, size)
        file_part = fit_text(self.texts, editor.file_name, size, remaining, keep_end=True) if remaining > 60 else ""
        rest = f"{separator}{file_part}" if file_part else ""
        return name, f"{rest}{separator}{hint}"

    def draw_header(self, surface: pygame.Surface, editor: EditorController, layout: EditorLayout) -> None:
        """A solid bar over the track view, so the name stays readable over any road or grid."""
        bar = layout.header
        pygame.draw.rect(surface, theme.PANEL, bar)
        pygame.draw.line(surface, theme.PANEL_EDGE, bar.bottomleft, (bar.right - 1, bar.bottom))
        name, rest = self.header_text(editor, layout)
        name_surface = self.texts.render(name, layout.text_size, theme.TEXT)
        y = bar.centery - name_surface.get_height() // 2
        surface.blit(name_surface, (bar.left + theme.MARGIN, y))
        surface.blit(
            self.texts.render(rest, layout.text_size, theme.TEXT_DIM),
            (bar.left + theme.MARGIN + name_surface.get_width(), y),
        )

    # --- the side panel ---------------------------------------------------------------------------------------------

    def panel_rows(self, editor: EditorController) -> list[tuple[str, str]]:
        """The values of the track and the state of the file, as (label, value) rows."""
        values = editor.document.values
        track = editor.track if editor.current else None
        difficulty = max(1, min(5, values.difficulty))
        rows = [
            ("File", editor.where_label),
            ("Difficulty", f"{values.difficulty} of 5" if difficulty == values.difficulty else str(values.difficulty)),
            ("Width", f"{values.width_m:g} m"),
            ("Points", str(len(values.points))),
            ("Start", f"point {values.start_index + 1}" if values.points else "-"),
            ("Length", f"{track.length_m:.0f} m" if track is not None else "-"),
            ("Tightest curve", f"radius {track.min_radius_m:.1f} m" if track is not None else "-"),
            ("Changes", editor.changes_label),
        ]
        if editor.test_drive is not None:
            rows.append(("Test drive", editor.test_drive.status))
        return rows

    def draw_panel(
        self, surface: pygame.Surface, editor: EditorController, layout: EditorLayout, inner: pygame.Rect
    ) -> None:
        """Into `inner`: the title, the name (wrapped), the values, the validation box, what was wrong with the file
        as opened, and the mouse hints when there is room."""
        size, line = layout.text_size, layout.line_height
        rows = self.panel_rows(editor)
        name_lines = wrap_text(self.texts, editor.document.values.name, size + 2, inner.width - 24, max_lines=3)
        height = 16 + layout.title_size + line * len(name_lines) + 10 + (line + 6) * len(rows)
        box = pygame.Rect(inner.left, inner.top, inner.width, height)
        pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
        y = box.top + 10
        surface.blit(self.texts.render("Track editor", layout.title_size, theme.ACCENT), (box.left + 12, y))
        y += layout.title_size
        for text in name_lines:
            surface.blit(self.texts.render(text, size + 2, theme.TEXT), (box.left + 12, y))
            y += line + 2
        y += 8
        for label, value in rows:
            label_surface = self.texts.render(label, layout.small_size, theme.TEXT_DIM)
            surface.blit(label_surface, (box.left + 12, y + 1))
            room = box.width - 36 - label_surface.get_width()
            colour = theme.TEXT
            if label == "Changes":
                colour = theme.GOOD if value == "saved" else theme.ACCENT
            fitted = fit_text(self.texts, value, size, room, keep_end=label == "File")
            value_surface = self.texts.render(fitted, size, colour)
            surface.blit(value_surface, (box.right - 12 - value_surface.get_width(), y))
            y += line + 6
        y = box.bottom + theme.MARGIN
        y += self.draw_status_box(surface, editor, layout, pygame.Rect(inner.left, y, inner.width, 0))
        opened = editor.document.opened_problem
        if opened and opened != editor.problem_text:
            y += theme.MARGIN
            lines = [(opened, theme.TEXT), ("Saving writes the values shown here.", theme.TEXT_DIM)]
            room = pygame.Rect(inner.left, y, inner.width, inner.bottom - y)
            y += draw_text_box(surface, self.texts, room, "The file as opened", theme.ACCENT, lines, layout)
        hints = [
            ("Click: add a point. Drag: move it.", theme.TEXT_DIM),
            ("Right click: delete. Right drag: pan.", theme.TEXT_DIM),
            ("Wheel: zoom. Ctrl+Z / Ctrl+Y: undo / redo.", theme.TEXT_DIM),
            ("N: rename. Ctrl+S: save. H: every key.", theme.TEXT_DIM),
        ]
        needed = text_box_height(self.texts, inner.width, hints, layout)
        if inner.bottom - y - theme.MARGIN >= needed:
            room = pygame.Rect(inner.left, inner.bottom - needed, inner.width, needed)
            draw_text_box(surface, self.texts, room, "Mouse and keys", theme.TEXT, hints, layout)

    def draw_status_box(
        self, surface: pygame.Surface, editor: EditorController, layout: EditorLayout, rect: pygame.Rect
    ) -> int:
        """Valid track, its problem, or checking; returns the height drawn."""
        rect = pygame.Rect(rect.left, rect.top, rect.width, layout.panel.bottom - 2 * theme.MARGIN - rect.top)
        if not editor.current:
            return draw_text_box(surface, self.texts, rect, "Checking...", theme.TEXT_DIM, [], layout)
        if editor.problem is None:
            lines = [(f"Ctrl+S saves to {editor.file_name}", theme.TEXT)]
            return draw_text_box(surface, self.texts, rect, "Valid track", theme.GOOD, lines, layout)
        lines = [(editor.problem_text, theme.TEXT)]
        if editor.problem.position is not None:
            lines.append(("The red ring marks the place.", theme.TEXT_DIM))
        lines.append(("Saving is refused until it is fixed.", theme.TEXT_DIM))
        return draw_text_box(surface, self.texts, rect, "Problem", theme.BAD, lines, layout)

    # --- boxes over the view ----------------------------------------------------------------------------------------

    def draw_quit_warning(self, surface: pygame.Surface, editor: EditorController, layout: EditorLayout) -> None:
        """The unsaved-changes warning, wrapped to the view, just under the header."""
        view = layout.view
        width = min(view.width - 2 * theme.MARGIN, 720)
        lines = wrap_text(self.texts, editor.quit_warning, layout.text_size, width - 28)
        line = layout.line_height + 4
        box = pygame.Rect(0, 0, width, 16 + line * len(lines))
        box.midtop = (view.centerx, view.top + theme.MARGIN)
        pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
        pygame.draw.rect(surface, theme.BAD, box, 2, border_radius=8)
        y = box.top + 8
        for text in lines:
            rendered = self.texts.render(text, layout.text_size, theme.BAD)
            surface.blit(rendered, rendered.get_rect(midtop=(box.centerx, y)))
            y += line

    def draw_name_field(
        self, surface: pygame.Surface, editor: EditorController, layout: EditorLayout, phase: float
    ) -> None:
        """The name field: the text (highlighted while all of it is selected, so it is clear typing replaces it),
        the caret, and what Enter and Esc do. A name wider than the field shows the part around the caret."""
        field = editor.name_field
        assert field is not None
        view = layout.view
        width = max(200, min(view.width - 2 * theme.MARGIN, 760))
        inner_width = width - 40
        # As large as the room allows for the whole name, down to the body size; past that, part of it shows.
        size = fit_size(self.texts, field.text, layout.text_size + 4, inner_width - 8, minimum=layout.text_size)
        title = self.texts.render("New name for the track", layout.text_size, theme.ACCENT)
        hint_text = (
            "Type to replace it.  Enter: keep.  Esc: cancel." if field.all_selected else "Enter: keep.  Esc: cancel."
        )
        hint_lines = wrap_text(self.texts, hint_text, layout.small_size, inner_width)
        line = layout.line_height
        text_height = self.texts.font(size).get_height()
        height = 14 + title.get_height() + 10 + text_height + 10 + (line + 2) * len(hint_lines) + 12
        box = pygame.Rect(0, 0, width, height)
        box.center = view.center
        pygame.draw.rect(surface, theme.PANEL, box, border_radius=10)
        pygame.draw.rect(surface, theme.ACCENT, box, 2, border_radius=10)
        y = box.top + 14
        surface.blit(title, (box.left + 20, y))
        y += title.get_height() + 10
        entry = pygame.Rect(box.left + 14, y - 4, width - 28, text_height + 8)
        pygame.draw.rect(surface, theme.BACKGROUND, entry, border_radius=4)
        before, after = field.text[: field.caret], field.text[field.caret :]
        shown_before = visible_tail(self.texts, before, size, inner_width - 8)  # the caret stays in sight
        shown_after = fit_text(
            self.texts, after, size, max(0, inner_width - 8 - text_width(self.texts, shown_before, size))
        )
        x = box.left + 20
        if field.all_selected:
            shown = fit_text(self.texts, field.text, size, inner_width - 8)  # from its start, elided at the end
            selection = self.texts.render(shown, size, theme.BACKGROUND)
            pygame.draw.rect(surface, theme.ACCENT, selection.get_rect(topleft=(x, y)).inflate(4, 2))
            surface.blit(selection, (x, y))
        else:
            rendered = self.texts.render(shown_before, size, theme.TEXT)
            surface.blit(rendered, (x, y))
            surface.blit(self.texts.render(shown_after, size, theme.TEXT), (x + rendered.get_width(), y))
            if math.fmod(phase, 1.0) < 0.6:
                caret_x = x + rendered.get_width() + 1
                pygame.draw.line(surface, theme.ACCENT, (caret_x, y), (caret_x, y + text_height - 2), 2)
        y += text_height + 10
        for text in hint_lines:
            surface.blit(self.texts.render(text, layout.small_size, theme.TEXT_DIM), (box.left + 20, y))
            y += line + 2


def visible_tail(texts: TextCache, text: str, size: int, width: int) -> str:
    """The end of `text` that fits in `width` (where the caret is when typing at the end of a long name)."""
    font = texts.font(size)
    start = 0
    while start < len(text) and font.size(text[start:])[0] > width:
        start += 1
    return text[start:]


def text_box_height(
    texts: TextCache, width: int, lines: list[tuple[str, tuple[int, int, int]]], layout: EditorLayout
) -> int:
    """The height `draw_text_box` needs for these lines at this width."""
    wrapped = sum(len(wrap_text(texts, text, layout.small_size, width - 24)) for text, _colour in lines)
    return 18 + layout.title_size + (layout.line_height + 2) * wrapped


def draw_text_box(
    surface: pygame.Surface,
    texts: TextCache,
    rect: pygame.Rect,
    title: str,
    title_colour: tuple[int, int, int],
    lines: list[tuple[str, tuple[int, int, int]]],
    layout: EditorLayout,
) -> int:
    """A panel box with a title and wrapped lines; returns its height. The box grows to fit its text, up to the
    height of `rect` (when `rect` has one): the last line kept then ends with an ellipsis."""
    inner_width = rect.width - 24
    line = layout.line_height + 2
    wrapped = [
        (text, colour) for source, colour in lines for text in wrap_text(texts, source, layout.small_size, inner_width)
    ]
    if rect.height > 0:
        room = max(1, (rect.height - 18 - layout.title_size) // line)
        if len(wrapped) > room:
            wrapped = wrapped[:room]
            last, colour = wrapped[-1]
            wrapped[-1] = (fit_text(texts, f"{last} {ELLIPSIS}", layout.small_size, inner_width), colour)
    height = 18 + layout.title_size + line * len(wrapped)
    box = pygame.Rect(rect.left, rect.top, rect.width, height)
    pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
    surface.blit(
        texts.render(fit_text(texts, title, layout.title_size, inner_width), layout.title_size, title_colour),
        (box.left + 12, box.top + 8),
    )
    y = box.top + 12 + layout.title_size
    for text, colour in wrapped:
        surface.blit(texts.render(text, layout.small_size, colour), (box.left + 12, y))
        y += line
    return height
