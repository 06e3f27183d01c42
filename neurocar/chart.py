"""Line charts drawn with pygame: the live chart in the window's panel and the PNG files written after training.

One renderer serves both. `draw_line_chart` lays a chart out on a pygame Surface of any size: a title row with the
legend, the plot with grid lines at nice ticks (1, 2 or 5 times a power of ten), tick labels, axis titles and
vertical markers (such as the generation of the first lap). Every piece of text gets its own row or column, so no
label is ever drawn over another; the boxes it drew are returned with the surface, for tests and callers.
`write_line_chart` draws on white and saves a PNG with `pygame.image.save`.

pygame is imported inside the functions, not by importing this module: headless training loads it only at the
moment it draws its chart file. Drawing on a Surface needs no display, and only pygame's font module is started,
never its video system, so no window opens and none is needed.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neurocar.files import atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover - types only
    import pygame

Colour = tuple[int, int, int]

MINIMUM_WIDTH = 160
MINIMUM_HEIGHT = 120
FIRST_LAP_LABEL = "first lap"


@dataclass(frozen=True)
class ChartStyle:
    """Colours and sizes of a chart; text sizes are pixel heights of pygame's default font."""

    background: Colour = (255, 255, 255)
    grid: Colour = (232, 232, 232)
    frame: Colour = (150, 150, 150)
    text: Colour = (34, 34, 34)
    muted_text: Colour = (96, 96, 96)
    marker: Colour = (44, 160, 44)
    # Distinct, colour-blind-friendly series colours (Tableau 10), used in order and repeated after the last one.
    series: tuple[Colour, ...] = (
        (31, 119, 180),
        (255, 127, 14),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    )
    title_size: int = 30
    text_size: int = 24
    tick_size: int = 22
    padding: int = 14
    line_width: int = 2
    corner_radius: int = 0


PAPER = ChartStyle()


@dataclass(frozen=True)
class Marker:
    """A vertical line at `x` (in data units) with a short label, e.g. the generation of the first lap."""

    x: float
    label: str


@dataclass
class ChartDrawing:
    """A drawn chart: the surface, the plot's rectangle, the mapping from data to pixels, and every text box
    drawn, as (kind, rectangle) with kind one of title, legend, x tick, y tick, x label, y label, marker, note."""

    surface: pygame.Surface
    plot: pygame.Rect
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    boxes: list[tuple[str, pygame.Rect]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)

    def x_pixel(self, x: float) -> float:
        """The column of a data x."""
        low, high = self.x_range
        return self.plot.left + (x - low) / (high - low) * (self.plot.width - 1)

    def y_pixel(self, y: float) -> float:
        """The row of a data y."""
        low, high = self.y_range
        return self.plot.bottom - 1 - (y - low) / (high - low) * (self.plot.height - 1)

    def boxes_of(self, kind: str) -> list[pygame.Rect]:
        """The rectangles of one kind of text."""
        return [rect for name, rect in self.boxes if name == kind]

    def tick_labels(self, kind: str) -> list[str]:
        """The strings drawn as one kind of text, in drawing order (e.g. the x tick labels, left to right)."""
        return [text for name, text in self.texts if name == kind]


def nice_ticks(low: float, high: float, target_count: int, minimum_step: float = 0.0) -> tuple[list[float], float]:
    """Ticks at multiples of a 1, 2 or 5 x 10^k step covering [low, high] with about `target_count` intervals.

    Returns the ticks (the first at or below `low`, the last at or above `high`) and the step. `high` must exceed
    `low`; `minimum_step` stops the step going below it (1 for whole-number data such as generations).
    """
    raw_step = (high - low) / max(1, target_count)
    exponent = math.floor(math.log10(raw_step))
    fraction = raw_step / 10.0**exponent
    multiplier = next(
        (candidate for candidate, limit in ((1.0, 1.5), (2.0, 3.0), (5.0, 7.0)) if fraction < limit), 10.0
    )
    step = max(multiplier * 10.0**exponent, minimum_step)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    if last <= first:
        last = first + 1
    return [index * step for index in range(first, last + 1)], step


def format_ticks(ticks: Sequence[float], step: float) -> list[str]:
    """Compact labels for ticks `step` apart, all with the decimals the step needs: 0.25, 1200, 12.5k, 3M, 2e-07."""
    largest = max((abs(tick) for tick in ticks), default=0.0)
    cleaned = [0.0 if abs(tick) < step * 1e-6 else tick for tick in ticks]
    if largest >= 1e15 or step < 1e-5:
        digits = max(1, math.floor(math.log10(largest)) - math.floor(math.log10(step)) + 1)
        return [f"{tick:.{digits}g}" for tick in cleaned]
    divisor, suffix = 1.0, ""
    if largest >= 1e4:
        divisor, suffix = next(
            (10.0**power, name) for power, name in ((12, "T"), (9, "G"), (6, "M"), (3, "k")) if largest >= 10.0**power
        )
    scaled_step = step / divisor
    decimals = next(
        (places for places in range(12) if abs(round(scaled_step, places) - scaled_step) < 1e-6 * scaled_step), 12
    )
    return [f"{tick / divisor:.{decimals}f}{suffix}" if tick or not suffix else "0" for tick in cleaned]


def first_lap_markers(
    rows: Sequence[dict[str, object]], x_column: str, laps_column: str, label: str = FIRST_LAP_LABEL
) -> list[Marker]:
    """A marker at the first row (of a run's history or log) whose `laps_column` is at least 1, or none."""
    for row in rows:
        laps = row.get(laps_column)
        if laps not in (None, "") and float(laps) >= 1:  # type: ignore[arg-type]
            return [Marker(float(row[x_column]), label)]  # type: ignore[arg-type]
    return []


def load_pygame():
    """pygame with its font module started (and nothing else: no display, no window); its banner stays quiet."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame
    import pygame.font

    if not pygame.font.get_init():
        pygame.font.init()
    return pygame


def default_fonts() -> Callable[[int], pygame.font.Font]:
    """A font loader (pygame's built-in font at a pixel size) that loads each size once."""
    pygame = load_pygame()
    loaded: dict[int, pygame.font.Font] = {}

    def font(size: int) -> pygame.font.Font:
        if size not in loaded:
            loaded[size] = pygame.font.Font(None, size)
        return loaded[size]

    return font


def elide(font: pygame.font.Font, text: str, width: int) -> str:
    """`text`, shortened with an ellipsis at the end until it is at most `width` pixels wide ('' if nothing fits)."""
    if font.size(text)[0] <= width:
        return text
    for length in range(len(text) - 1, 0, -1):
        candidate = text[:length].rstrip() + "…"
        if font.size(candidate)[0] <= width:
            return candidate
    return ""


def _series_arrays(
    series: dict[str, Sequence[float]], x_values: Sequence[float] | None
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, x, y) float arrays per series, checking shapes; x is `x_values` cut to the series' length, or 1..n."""
    shared_x = None if x_values is None else np.asarray(x_values, dtype=np.float64)
    if shared_x is not None and shared_x.ndim != 1:
        raise ValueError(f"x_values must be one-dimensional, got shape {shared_x.shape}")
    arrays = []
    for name, values in series.items():
        y = np.asarray(values, dtype=np.float64)
        if y.ndim != 1:
            raise ValueError(f"series {name!r} must be one-dimensional, got shape {y.shape}")
        if shared_x is None:
            x = np.arange(1, y.size + 1, dtype=np.float64)
        elif shared_x.size < y.size:
            raise ValueError(f"series {name!r} has {y.size} values but x_values has only {shared_x.size}")
        else:
            x = shared_x[: y.size]
        arrays.append((str(name), x, y))
    return arrays


def _padded_range(values: np.ndarray, whole_numbers: bool = False) -> tuple[float, float]:
    """Smallest and largest value, pulled apart when equal (by half a step for whole numbers, 10% or 1 otherwise)."""
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12 * max(abs(low), abs(high), 1e-300):
        pad = 0.5 if whole_numbers else (abs(low) * 0.1 if low != 0 else 1.0)
        low, high = low - pad, high + pad
    return low, high


def _with_margin(low: float, high: float, fraction: float = 0.03) -> tuple[float, float]:
    """The range widened by `fraction` of its span at each end, so lines clear the frame, but not across zero."""
    margin = (high - low) * fraction
    widened_low, widened_high = low - margin, high + margin
    if low >= 0:
        widened_low = max(0.0, widened_low)
    if high <= 0:
        widened_high = min(0.0, widened_high)
    return widened_low, widened_high


def _finite_runs(finite: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the maximal runs of True in a boolean array."""
    padded = np.concatenate(([False], finite, [False])).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    return list(zip(changes[0::2].tolist(), changes[1::2].tolist(), strict=True))


def _x_ticks(
    low: float, high: float, whole_numbers: bool, label_width: Callable[[str], int], room: int, gap: int
) -> tuple[list[float], list[str]]:
    """Ticks inside [low, high] whose labels fit side by side in `room` pixels, plus the first value when there is
    space for it (so a chart from generation 1 says where it starts)."""
    target = max(1, room // 120)
    while True:
        ticks, step = nice_ticks(low, high, target, 1.0 if whole_numbers else 0.0)
        tolerance = step * 1e-9
        inside = [tick for tick in ticks if low - tolerance <= tick <= high + tolerance]
        labels = format_ticks(inside, step) if inside else []
        spacing = room * step / (high - low)
        widest = max((label_width(label) for label in labels), default=0)
        if target <= 1 or widest + gap <= spacing:
            break
        target -= 1
    start = math.ceil(low - 1e-9) if whole_numbers else low
    if inside and start < inside[0] - tolerance:
        start_label = format_ticks([start], 1.0 if whole_numbers else step)[0]
        distance = (inside[0] - start) / (high - low) * room
        if inside[0] - start >= step / 2 and distance >= (label_width(start_label) + widest) / 2 + gap:
            inside.insert(0, float(start))
            labels.insert(0, start_label)
    return inside, labels


def draw_line_chart(
    size: tuple[int, int],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_values: Sequence[float] | None = None,
    markers: Sequence[Marker] = (),
    style: ChartStyle = PAPER,
    fonts: Callable[[int], pygame.font.Font] | None = None,
    empty_note: str = "no data",
) -> ChartDrawing:
    """Draw each named series as a coloured line (x = x_values or 1..n) on a new Surface of `size`.

    Non-finite values (NaN, infinities) are skipped and break the line; a point with no finite neighbour is drawn as
    a dot. With no finite value at all the axes carry `empty_note`. `fonts(size)` gives the font of a pixel size
    (pygame's built-in font by default). Raises ValueError for a series that is not one-dimensional or longer than
    `x_values`.
    """
    pygame = load_pygame()
    fonts = fonts or default_fonts()
    arrays = _series_arrays(series, x_values)
    width, height = int(size[0]), int(size[1])
    flags = pygame.SRCALPHA if style.corner_radius else 0
    surface = pygame.Surface((max(1, width), max(1, height)), flags)
    if style.corner_radius:
        surface.fill((0, 0, 0, 0))
        pygame.draw.rect(surface, style.background, surface.get_rect(), border_radius=style.corner_radius)
    else:
        surface.fill(style.background)
    boxes: list[tuple[str, pygame.Rect]] = []
    texts: list[tuple[str, str]] = []
    pad = style.padding
    gap = max(4, pad // 2)
    tick_length = max(3, pad // 3)
    title_font, text_font, tick_font = fonts(style.title_size), fonts(style.text_size), fonts(style.tick_size)

    def blit(kind: str, text: str, font: pygame.font.Font, colour: Colour, **where: object) -> pygame.Rect:
        rendered = font.render(text, True, colour)
        rect = rendered.get_rect(**where)
        surface.blit(rendered, rect)
        boxes.append((kind, rect))
        texts.append((kind, text))
        return rect

    # Header: the title on the left, the legend on the right, on one row if both fit, else the legend below.
    names = [name for name, _, _ in arrays]
    swatch = max(14, style.text_size)
    entry_widths = [swatch + gap // 2 + text_font.size(name)[0] for name in names]
    legend_width = sum(entry_widths) + 2 * gap * max(0, len(names) - 1)
    content_width = width - 2 * pad
    top = pad
    title_text = elide(title_font, title, content_width) if title else ""
    title_width = title_font.size(title_text)[0] if title_text else 0
    legend_on_title_row = bool(title_text) and title_width + 3 * gap + legend_width <= content_width
    if title_text:
        blit("title", title_text, title_font, style.text, topleft=(pad, top))
    legend_top = top if legend_on_title_row else top + (title_font.get_linesize() + gap // 2 if title_text else 0)
    if names and legend_width <= content_width:
        x = width - pad - legend_width
        row_height = title_font.get_linesize() if legend_on_title_row else text_font.get_linesize()
        for index, (name, entry_width) in enumerate(zip(names, entry_widths, strict=True)):
            colour = style.series[index % len(style.series)]
            middle = legend_top + row_height // 2
            pygame.draw.line(surface, colour, (x, middle), (x + swatch, middle), max(3, style.line_width + 1))
            blit("legend", name, text_font, style.text, midleft=(x + swatch + gap // 2, middle))
            x += entry_width + 2 * gap
    header_bottom = top
    if title_text:
        header_bottom = top + title_font.get_linesize()
    if names and not legend_on_title_row and legend_width <= content_width:
        header_bottom = legend_top + text_font.get_linesize()
    tick_line = tick_font.get_linesize()
    plot_top = header_bottom + gap + tick_line // 2  # the top y tick's label reaches half a line above the plot
    # Bottom rows: x tick labels, then the x axis title.
    # The x tick labels start below the bottom y tick's label, so the two never touch in the corner.
    label_drop = max(tick_length, tick_line // 2 + 1)
    plot_bottom = height - pad - (text_font.get_linesize() + gap // 2 if x_label else 0) - tick_line - label_drop
    finite_points = [(x[mask], y[mask]) for _, x, y in arrays for mask in [np.isfinite(x) & np.isfinite(y)]]
    all_x = np.concatenate([x for x, _ in finite_points]) if finite_points else np.zeros(0)
    all_y = np.concatenate([y for _, y in finite_points]) if finite_points else np.zeros(0)
    has_data = all_x.size > 0
    plot_height = plot_bottom - plot_top
    if plot_height < 2 * tick_line or width < 6 * pad:
        return ChartDrawing(surface, pygame.Rect(pad, plot_top, 0, 0), (0.0, 1.0), (0.0, 1.0), boxes, texts)

    y_ticks, y_step = nice_ticks(*_with_margin(*_padded_range(all_y)), max(1, plot_height // (4 * tick_line)))
    y_labels = format_ticks(y_ticks, y_step) if has_data else [""] * len(y_ticks)
    y_title_width = text_font.get_linesize() + gap if y_label else 0
    y_tick_width = max(tick_font.size(label)[0] for label in y_labels)
    plot_left = pad + y_title_width + y_tick_width + gap // 2 + tick_length
    whole_numbers = has_data and bool(np.all(all_x == np.round(all_x)))
    x_low, x_high = _padded_range(all_x, whole_numbers) if has_data else (0.0, 1.0)
    plot_right = width - pad
    x_ticks, x_tick_labels = _x_ticks(
        x_low, x_high, whole_numbers, lambda text: tick_font.size(text)[0], plot_right - plot_left, 2 * gap
    )
    if not has_data:  # an empty chart has no scale to show
        x_ticks, x_tick_labels = [], []
    if x_tick_labels:  # the last label is centred on its tick: keep it inside the chart
        overhang = tick_font.size(x_tick_labels[-1])[0] // 2
        if x_ticks[-1] >= x_high - 1e-9:
            plot_right = width - max(pad, overhang + gap // 2)
    plot = pygame.Rect(plot_left, plot_top, max(1, plot_right - plot_left), max(1, plot_bottom - plot_top))
    drawing = ChartDrawing(surface, plot, (x_low, x_high), (y_ticks[0], y_ticks[-1]), boxes, texts)

    # Grid, frame, ticks and their labels.
    for tick in y_ticks:
        row = round(drawing.y_pixel(tick))
        pygame.draw.line(surface, style.grid, (plot.left, row), (plot.right - 1, row))
    tick_columns = [round(drawing.x_pixel(tick)) for tick in x_ticks]
    for column in tick_columns:
        pygame.draw.line(surface, style.grid, (column, plot.top), (column, plot.bottom - 1))
    pygame.draw.rect(surface, style.frame, plot, 1)
    for tick, label in zip(y_ticks, y_labels, strict=True):
        row = round(drawing.y_pixel(tick))
        pygame.draw.line(surface, style.frame, (plot.left - tick_length, row), (plot.left - 1, row))
        if label:
            blit("y tick", label, tick_font, style.muted_text, midright=(plot.left - tick_length - gap // 2, row))
    for column, label in zip(tick_columns, x_tick_labels, strict=True):
        pygame.draw.line(surface, style.frame, (column, plot.bottom), (column, plot.bottom + tick_length - 1))
        blit("x tick", label, tick_font, style.muted_text, midtop=(column, plot.bottom + label_drop))
    if x_label:
        text = elide(text_font, x_label, plot.width)
        blit("x label", text, text_font, style.text, midtop=(plot.centerx, plot.bottom + label_drop + tick_line))
    if y_label:
        text = elide(text_font, y_label, plot.height)
        rendered = pygame.transform.rotate(text_font.render(text, True, style.text), 90)
        rect = rendered.get_rect(midleft=(pad, plot.centery))
        surface.blit(rendered, rect)
        boxes.append(("y label", rect))
        texts.append(("y label", text))

    # Markers below the series, labelled inside the plot's top edge beside their line.
    for marker in markers:
        if not (x_low - 1e-9 <= marker.x <= x_high + 1e-9):
            continue
        column = round(drawing.x_pixel(marker.x))
        pygame.draw.line(surface, style.marker, (column, plot.top + 1), (column, plot.bottom - 2), 2)
        rendered = tick_font.render(marker.label, True, style.marker)
        rect = rendered.get_rect(topleft=(column + gap // 2 + 1, plot.top + gap // 2))
        if rect.right > plot.right - 2:
            rect.topright = (column - gap // 2 - 1, plot.top + gap // 2)
        if rect.left >= plot.left + 2:
            pygame.draw.rect(surface, style.background, rect.inflate(4, 2))
            surface.blit(rendered, rect)
            boxes.append(("marker", rect))
            texts.append(("marker", marker.label))

    # The series, clipped to the plot.
    surface.set_clip(plot.inflate(-2, -2))
    for index, (_, x, y) in enumerate(arrays):
        colour = style.series[index % len(style.series)]
        finite = np.isfinite(x) & np.isfinite(y)
        for start, stop in _finite_runs(finite):
            points = [
                (drawing.x_pixel(float(column)), drawing.y_pixel(float(row)))
                for column, row in zip(x[start:stop], y[start:stop], strict=True)
            ]
            if len(points) == 1:
                pygame.draw.circle(surface, colour, (round(points[0][0]), round(points[0][1])), 2 + style.line_width)
            else:
                pygame.draw.lines(surface, colour, False, points, style.line_width)
    surface.set_clip(None)
    if not has_data:
        blit("note", empty_note, text_font, style.muted_text, center=plot.center)
    return drawing


def write_line_chart(
    path: str | Path,
    series: dict[str, Sequence[float]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_values: Sequence[float] | None = None,
    markers: Sequence[Marker] = (),
    width: int = 1000,
    height: int = 600,
) -> None:
    """Draw a chart (see `draw_line_chart`) on white and write it as a PNG, atomically (a temporary file in the same
    folder, then os.replace). Raises ValueError for a chart smaller than 160x120 or a malformed series."""
    if width < MINIMUM_WIDTH or height < MINIMUM_HEIGHT:
        raise ValueError(f"a chart needs at least {MINIMUM_WIDTH}x{MINIMUM_HEIGHT} pixels, got {width}x{height}")
    drawing = draw_line_chart(
        (width, height), series, title=title, x_label=x_label, y_label=y_label, x_values=x_values, markers=markers
    )
    pygame = load_pygame()
    buffer = io.BytesIO()
    pygame.image.save(drawing.surface, buffer, "chart.png")
    atomic_write_bytes(Path(path), buffer.getvalue())
