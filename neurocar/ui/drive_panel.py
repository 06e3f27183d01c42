"""The drive window's panel boxes: recording status, the sensor readings and the actions chosen, as bars.

Drawing only reads: each function takes the numbers to show and draws them into its rectangle, every text fitted
to the box and every size following the window's scale (1.0 at 1280x800). Sensors are named as the network view
names them and listed left to right as the car sees them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pygame

from neurocar.sim.car import ACTION_NAMES
from neurocar.sim.sensors import sensor_display_order, sensor_name
from neurocar.ui import theme
from neurocar.ui.shell import scaled
from neurocar.ui.text_layout import fit_text
from neurocar.ui.theme import TextCache
from neurocar.ui.track_view import ray_colour

ROW_HEIGHT = 25  # one bar, at scale 1
TEXT_SIZE = 22
TITLE_HEIGHT = 42

# One bar: its label, how full it is (0..1), the value written after it, its colour, and whether it is highlighted.
Bar = tuple[str, float, str, tuple[int, int, int], bool]


def bars_height(bars: int, scale: float) -> int:
    """Pixel height of a box of `bars` bars."""
    return scaled(TITLE_HEIGHT, scale) + scaled(ROW_HEIGHT, scale) * bars


def draw_recording(
    surface: pygame.Surface,
    rect: pygame.Rect,
    texts: TextCache,
    scale: float,
    frames: int | None,
    recording: bool,
    status: tuple[str, tuple[int, int, int]],
) -> None:
    """REC (red dot, frame counter; `frames` None: 'not recording'); the car's status below."""
    pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
    padding = scaled(12, scale)
    x, y = rect.left + padding, rect.top + scaled(10, scale)
    room = rect.width - 2 * padding
    small = scaled(TEXT_SIZE, scale)
    if frames is None:
        text = fit_text(texts, "not recording (use --record DIR)", small, room)
        surface.blit(texts.render(text, small, theme.TEXT_DIM), (x, y + 2))
    else:
        colour = theme.BAD if recording else theme.TEXT_DIM
        radius = scaled(8, scale)
        pygame.draw.circle(surface, colour, (x + radius, y + scaled(12, scale)), radius)
        label = texts.render("REC" if recording else "REC paused", scaled(28, scale), colour)
        surface.blit(label, (x + 3 * radius, y))
        count = texts.render(f"{frames} frames", scaled(24, scale), theme.TEXT)
        surface.blit(count, (rect.right - padding - count.get_width(), y + 2))
    text, colour = status
    surface.blit(texts.render(fit_text(texts, text, small, room), small, colour), (x, y + scaled(34, scale)))


def draw_bars(
    surface: pygame.Surface, rect: pygame.Rect, texts: TextCache, scale: float, title: str, bars: Sequence[Bar]
) -> None:
    """A titled box of bars; the label column is as wide as its longest label (at most a third of the box)."""
    pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
    padding = scaled(10, scale)
    size = scaled(TEXT_SIZE, scale)
    heading = texts.render(fit_text(texts, title, size, rect.width - 2 * padding), size, theme.TEXT)
    surface.blit(heading, (rect.left + padding, rect.top + scaled(8, scale)))
    font = texts.font(size)
    label_width = min(max(font.size(label)[0] for label, *_rest in bars), rect.width // 3)
    value_width = max(font.size(value)[0] for _label, _fill, value, *_rest in bars)
    bar_left = rect.left + 2 * padding + label_width
    bar_width = max(1, rect.right - 2 * padding - value_width - bar_left)
    bar_height = scaled(13, scale)
    for index, (label, fill, value, colour, highlighted) in enumerate(bars):
        y = rect.top + scaled(TITLE_HEIGHT - 6, scale) + scaled(ROW_HEIGHT, scale) * index
        text = texts.render(
            fit_text(texts, label, size, label_width), size, theme.ACCENT if highlighted else theme.TEXT_DIM
        )
        surface.blit(text, (rect.left + padding, y))
        middle = y + font.get_height() // 2 - bar_height // 2
        pygame.draw.rect(surface, theme.PANEL_EDGE, (bar_left, middle, bar_width, bar_height), border_radius=3)
        filled = round(bar_width * min(1.0, max(0.0, fill)))
        pygame.draw.rect(surface, colour, (bar_left, middle, filled, bar_height), border_radius=3)
        value_text = texts.render(value, size, theme.TEXT)
        surface.blit(value_text, (rect.right - padding - value_text.get_width(), y))


def draw_sensors(
    surface: pygame.Surface,
    rect: pygame.Rect,
    texts: TextCache,
    scale: float,
    angles_deg: Sequence[float],
    readings: np.ndarray,
) -> None:
    """One bar per ray, leftmost first: what the network sees (distance / range, 1 = nothing in range)."""
    values = [float(reading) for reading in readings]
    bars = [
        (sensor_name(angles_deg[index]), values[index], f"{values[index]:.2f}", ray_colour(values[index]), False)
        for index in sensor_display_order(angles_deg)
    ]
    draw_bars(surface, rect, texts, scale, "Sensors (what the network sees)", bars)


def draw_actions(
    surface: pygame.Surface,
    rect: pygame.Rect,
    texts: TextCache,
    scale: float,
    title: str,
    histogram: Sequence[int],
    current: int,
) -> None:
    """How often each action was chosen, the current one highlighted."""
    total = max(1, sum(histogram))
    bars = [
        (name, count / total, str(count), theme.ACCENT if action == current else theme.POSITIVE, action == current)
        for action, (name, count) in enumerate(zip(ACTION_NAMES, histogram, strict=True))
    ]
    draw_bars(surface, rect, texts, scale, title, bars)
