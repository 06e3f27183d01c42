"""Drawing the world: the track pre-rendered once per window size, the cars as cached rotated sprites, the rays.

Drawing only reads the world's arrays; it never changes the simulation.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from neurocar.sim.track import Track
from neurocar.ui import theme
from neurocar.ui.assets import car_sprite
from neurocar.ui.camera import Camera

HEADING_BINS = 72  # cached sprite rotations: one per 5 degrees
MIN_CAR_PIXELS = 10  # cars stay visible on a small window
CHECKPOINT_TICK_FRACTION = 0.18  # checkpoint ticks cover this fraction of the road width at each edge


def polygon_area(points: np.ndarray) -> float:
    """Absolute area of a closed polygon (shoelace formula)."""
    x, y = points[:, 0], points[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def render_track(track: Track, camera: Camera, size: tuple[int, int]) -> pygame.Surface:
    """The static picture of the track: background, road, walls, checkpoint ticks and the start line."""
    surface = pygame.Surface(size).convert() if pygame.display.get_surface() else pygame.Surface(size)
    surface.fill(theme.BACKGROUND)
    left = camera.to_screen(track.left_wall)
    right = camera.to_screen(track.right_wall)
    # The loop is simple, so one wall encloses the other: fill the outer, then cut the inner out.
    outer, inner = (left, right) if polygon_area(left) >= polygon_area(right) else (right, left)
    pygame.draw.polygon(surface, theme.ROAD, outer.tolist())
    pygame.draw.polygon(surface, theme.BACKGROUND, inner.tolist())
    width = max(2, round(camera.scale * 0.35))
    for wall in (left, right):
        pygame.draw.lines(surface, theme.WALL, True, wall.tolist(), width)
    for arc in track.checkpoint_arcs_m[1:]:
        outer_end, inner_end = (camera.to_screen(point) for point in track.gate(float(arc)))
        for edge, other in ((outer_end, inner_end), (inner_end, outer_end)):
            tip = edge + (other - edge) * CHECKPOINT_TICK_FRACTION
            pygame.draw.line(surface, theme.CHECKPOINT, edge.tolist(), tip.tolist(), max(1, width // 2))
    _draw_start_line(surface, track, camera)
    return surface


def _draw_start_line(surface: pygame.Surface, track: Track, camera: Camera) -> None:
    """A chequered start line across the road."""
    first, second = track.gate(0.0)
    squares = 8
    heading = track.start_heading
    along = np.array([math.cos(heading), math.sin(heading)]) * track.width_m / squares
    for row in range(2):
        for index in range(squares):
            corner = first + (second - first) * index / squares + along * (row - 1)
            across = (second - first) / squares
            quad = np.array([corner, corner + across, corner + across + along, corner + along])
            colour = theme.START_LINE if (index + row) % 2 == 0 else theme.WALL
            pygame.draw.polygon(surface, colour, camera.to_screen(quad).tolist())


class CarSprites:
    """The car sprite scaled to the camera and pre-rotated to `HEADING_BINS` headings, per colour."""

    def __init__(self, length_m: float, width_m: float, scale: float) -> None:
        length = max(MIN_CAR_PIXELS, round(length_m * scale))
        width = max(round(MIN_CAR_PIXELS * width_m / length_m), round(width_m * scale))
        self.base = pygame.transform.smoothscale(car_sprite(), (length, width))
        self._rotations: dict[tuple[tuple[int, int, int], int], list[pygame.Surface]] = {}

    def rotations(self, colour: tuple[int, int, int], alpha: int = 255) -> list[pygame.Surface]:
        """The tinted sprite at every heading bin (bin k = k * 360 / HEADING_BINS degrees anticlockwise)."""
        key = (colour, alpha)
        if key not in self._rotations:
            tinted = self.base.copy()
            tinted.fill((*colour, alpha), special_flags=pygame.BLEND_RGBA_MULT)
            self._rotations[key] = [
                pygame.transform.rotate(tinted, index * 360.0 / HEADING_BINS) for index in range(HEADING_BINS)
            ]
        return self._rotations[key]


def heading_bins(headings: np.ndarray) -> np.ndarray:
    """The sprite rotation bin of each heading [rad] (screen rotation is anticlockwise, as in the world)."""
    return np.round(np.mod(headings, 2 * math.pi) * HEADING_BINS / (2 * math.pi)).astype(np.int64) % HEADING_BINS


def draw_cars(
    surface: pygame.Surface,
    sprites: CarSprites,
    camera: Camera,
    positions: np.ndarray,
    headings: np.ndarray,
    colour: tuple[int, int, int],
    alpha: int = 255,
) -> list[pygame.Rect]:
    """Blit one group of cars (same colour) centred on their positions, rotated to their headings; returns their
    rectangles."""
    if len(positions) == 0:
        return []
    rotations = sprites.rotations(colour, alpha)
    screen = camera.to_screen(positions)
    bins = heading_bins(headings)
    images = [rotations[index] for index in bins.tolist()]
    return surface.blits(
        [
            (image, (x - image.get_width() // 2, y - image.get_height() // 2))
            for image, (x, y) in zip(images, np.round(screen).astype(int).tolist(), strict=True)
        ],
        doreturn=True,
    )


def ray_colour(reading: float) -> tuple[int, int, int]:
    """Green when the wall is far (reading 1), through yellow, to red when it is near (reading 0)."""
    reading = min(1.0, max(0.0, reading))
    if reading > 0.5:
        mix = (reading - 0.5) * 2
        return (int(250 - 140 * mix), int(200 + 20 * mix), int(80 + 60 * mix))
    mix = reading * 2
    return (int(240 + 10 * mix), int(80 + 120 * mix), int(70 + 10 * mix))


def draw_rays(
    surface: pygame.Surface,
    camera: Camera,
    positions: np.ndarray,
    headings: np.ndarray,
    readings: np.ndarray,
    angles_rad: np.ndarray,
    range_m: float,
    bold: bool,
) -> list[pygame.Rect]:
    """Each car's sensor rays up to the wall they see (a dot where they hit), coloured by reading; returns the
    rectangles drawn on."""
    if len(positions) == 0:
        return []
    directions = headings[:, None] + angles_rad[None, :]
    lengths = readings * range_m
    ends = positions[:, None, :] + np.stack([np.cos(directions), np.sin(directions)], axis=-1) * lengths[..., None]
    starts_screen = camera.to_screen(positions).tolist()
    ends_screen = camera.to_screen(ends).tolist()
    width = 2 if bold else 1
    dirty = []
    for car, start in enumerate(starts_screen):
        for ray, end in enumerate(ends_screen[car]):
            colour = ray_colour(float(readings[car, ray]))
            dirty.append(pygame.draw.line(surface, colour, start, end, width))
            if bold and readings[car, ray] < 1.0:
                dirty.append(pygame.draw.circle(surface, colour, end, 4))
    return dirty
