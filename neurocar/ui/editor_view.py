"""Drawing for the track editor: the movable camera, the metre grid, the centre-line points, the unvalidated
preview of the walls, the direction arrows, the problem marker and word-wrapped text.

Drawing only reads the document and the track; it never changes them.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from neurocar.ui import theme
from neurocar.ui.camera import Camera
from neurocar.ui.theme import TextCache

MIN_SCALE = 0.05  # pixels per metre: about 20 km across a 1000 px view
MAX_SCALE = 80.0
MIN_FIT_SPAN_M = 60.0
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


def fit_camera(points: np.ndarray, margin_m: float, viewport: tuple[int, int, int, int]) -> Camera:
    """A camera showing every point (n, 2) [m] with `margin_m` around them (a default view without points)."""
    if len(points) == 0:
        low, high = np.array([-100.0, -60.0]), np.array([100.0, 60.0])
    else:
        low = points.min(axis=0) - margin_m
        high = points.max(axis=0) + margin_m
    centre = (low + high) / 2
    half = np.maximum((high - low) / 2, MIN_FIT_SPAN_M / 2)
    return Camera(centre - half, centre + half, viewport)


def zoom_camera(camera: Camera, screen_point: tuple[int, int], factor: float) -> None:
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
    surface: pygame.Surface, camera: Camera, position: tuple[float, float], texts: TextCache, phase: float
) -> None:
    """A red target ring at the problem's place, gently pulsing, labelled."""
    centre = to_screen(camera, np.asarray(position, dtype=np.float64))
    x, y = round(float(centre[0])), round(float(centre[1]))
    pulse = 4 * (1 + math.sin(phase))
    pygame.draw.circle(surface, theme.BAD, (x, y), round(20 + pulse), 3)
    pygame.draw.circle(surface, theme.BAD, (x, y), 9, 2)
    pygame.draw.line(surface, theme.BAD, (x - 30, y), (x - 12, y), 2)
    pygame.draw.line(surface, theme.BAD, (x + 12, y), (x + 30, y), 2)
    pygame.draw.line(surface, theme.BAD, (x, y - 30), (x, y - 12), 2)
    pygame.draw.line(surface, theme.BAD, (x, y + 12), (x, y + 30), 2)
    label = texts.render("problem here", 20, theme.BAD)
    box = label.get_rect(midleft=(x + 34, y - 22)).inflate(10, 6)
    pygame.draw.rect(surface, theme.PANEL, box, border_radius=4)
    surface.blit(label, label.get_rect(center=box.center))


def wrap_text(texts: TextCache, text: str, size: int, width: int) -> list[str]:
    """Split `text` into lines no wider than `width` pixels at this font size (long words stay whole)."""
    font = texts.font(size)
    if font.size(text)[0] <= width:
        return [text]  # fits: keep its spacing
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.size(candidate)[0] > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def draw_text_box(
    surface: pygame.Surface,
    texts: TextCache,
    rect: pygame.Rect,
    title: str,
    title_colour: tuple[int, int, int],
    lines: list[tuple[str, tuple[int, int, int]]],
) -> int:
    """A panel box with a title and wrapped lines; returns its height (the box grows to fit its text)."""
    inner_width = rect.width - 24
    wrapped = [(line, colour) for text, colour in lines for line in wrap_text(texts, text, 20, inner_width)]
    height = 44 + 20 * len(wrapped)
    box = pygame.Rect(rect.left, rect.top, rect.width, height)
    pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
    surface.blit(texts.render(title, 24, title_colour), (box.left + 12, box.top + 10))
    y = box.top + 38
    for line, colour in wrapped:
        surface.blit(texts.render(line, 20, colour), (box.left + 12, y))
        y += 20
    return height
