"""Dependency-free PNG line charts: numpy draws, zlib and struct encode, nothing else is imported.

`write_line_chart` draws named series as 2-pixel coloured polylines on a white plot with light grid lines at nice
ticks (1, 2 or 5 times a power of ten), compact tick labels, a title, axis labels and a legend, using a built-in 5x7
bitmap font scaled by an integer factor; `encode_png` turns an (H, W, 3) uint8 array into PNG bytes. Non-finite values
are gaps in a line, a lone point is drawn as a dot, a zero range is padded, and an empty chart says "no data". It is
meant for the charts written at the end of a training run (fitness per generation, loss per epoch), where importing
a plotting library or opening a window would be too slow or impossible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurocar.bitmap_font import GLYPH_CELL_HEIGHT, GLYPH_ROWS_TO_BASELINE, text_mask, text_width
from neurocar.files import atomic_write_bytes
from neurocar.png import encode_png

__all__ = ["SERIES_COLOURS", "encode_png", "format_ticks", "nice_ticks", "text_mask", "text_width", "write_line_chart"]

Colour = tuple[int, int, int]

# Distinct, colour-blind-friendly series colours (Tableau 10), used in order and repeated after the last one.
SERIES_COLOURS: tuple[Colour, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
BACKGROUND_COLOUR: Colour = (255, 255, 255)
GRID_COLOUR: Colour = (232, 232, 232)
FRAME_COLOUR: Colour = (150, 150, 150)
TEXT_COLOUR: Colour = (34, 34, 34)
MUTED_TEXT_COLOUR: Colour = (96, 96, 96)
LEGEND_BORDER_COLOUR: Colour = (205, 205, 205)

MINIMUM_WIDTH = 160
MINIMUM_HEIGHT = 120


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
        places for places in range(12) if abs(round(scaled_step, places) - scaled_step) < 1e-6 * scaled_step
    )
    return [f"{tick / divisor:.{decimals}f}{suffix}" if tick or not suffix else "0" for tick in cleaned]


def _fill_rectangle(canvas: np.ndarray, top: int, left: int, bottom: int, right: int, colour: Colour) -> None:
    """Fill rows top..bottom and columns left..right (inclusive, clipped to the canvas)."""
    height, width = canvas.shape[:2]
    top, left = max(0, top), max(0, left)
    bottom, right = min(height - 1, bottom), min(width - 1, right)
    if top <= bottom and left <= right:
        canvas[top : bottom + 1, left : right + 1] = colour


def _paste_mask(canvas: np.ndarray, mask: np.ndarray, top: int, left: int, colour: Colour) -> None:
    """Colour the canvas where `mask` is set, with the mask's top-left corner at (top, left), clipped to the canvas."""
    height, width = canvas.shape[:2]
    row_start, column_start = max(0, -top), max(0, -left)
    row_end = min(mask.shape[0], height - top)
    column_end = min(mask.shape[1], width - left)
    if row_start >= row_end or column_start >= column_end:
        return
    region = canvas[top + row_start : top + row_end, left + column_start : left + column_end]
    region[mask[row_start:row_end, column_start:column_end]] = colour


def _draw_text(
    canvas: np.ndarray,
    text: str,
    x: int,
    top: int,
    scale: int,
    colour: Colour,
    align: str = "left",
    vertical: bool = False,
) -> None:
    """Draw `text` with its cell's top edge at `top`; `x` is its left edge, centre or right edge per `align`.

    `vertical` turns the text a quarter turn anticlockwise (reading upwards); `top` is then the centre row and `x`
    the left edge of the turned text.
    """
    mask = text_mask(text, scale)
    if vertical:
        mask = np.rot90(mask)
        _paste_mask(canvas, mask, top - mask.shape[0] // 2, x, colour)
        return
    offset = {"left": 0, "center": mask.shape[1] // 2, "right": mask.shape[1]}[align]
    _paste_mask(canvas, mask, top, x - offset, colour)


def _polyline_pixels(columns: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels of a 2-pixel-thick line through the points, in pixel-centre coordinates.

    Each segment is sampled at most half a pixel apart and every sample covers a 2x2 block, so the line is continuous
    at any slope.
    """
    if columns.size == 1:
        sample_columns, sample_rows = columns, rows
    else:
        delta_columns, delta_rows = np.diff(columns), np.diff(rows)
        counts = np.ceil(2.0 * np.maximum(np.abs(delta_columns), np.abs(delta_rows))).astype(np.int64) + 1
        segment = np.repeat(np.arange(counts.size), counts)
        starts = np.cumsum(counts) - counts
        fractions = (np.arange(counts.sum()) - starts[segment]) / np.maximum(counts - 1, 1)[segment]
        sample_columns = columns[:-1][segment] + fractions * delta_columns[segment]
        sample_rows = rows[:-1][segment] + fractions * delta_rows[segment]
    base_columns = np.floor(sample_columns - 0.5).astype(np.int64)
    base_rows = np.floor(sample_rows - 0.5).astype(np.int64)
    pixel_rows = (base_rows[:, None] + np.array([0, 0, 1, 1])).ravel()
    pixel_columns = (base_columns[:, None] + np.array([0, 1, 0, 1])).ravel()
    return pixel_rows, pixel_columns


def _dot_pixels(column: float, row: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a round 5-pixel dot centred on a point (pixel-centre coordinates)."""
    offsets = np.array([(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3) if abs(dr) + abs(dc) < 4])
    return round(row) + offsets[:, 0], round(column) + offsets[:, 1]


def _finite_runs(finite: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the maximal runs of True in a boolean array."""
    padded = np.concatenate(([False], finite, [False])).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    return list(zip(changes[0::2].tolist(), changes[1::2].tolist(), strict=True))


def _padded_range(values: np.ndarray) -> tuple[float, float]:
    """Smallest and largest value, pulled apart when equal (by 10% of the value, or 1 around zero)."""
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12 * max(abs(low), abs(high), 1e-300):
        pad = abs(low) * 0.1 if low != 0 else 1.0
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


def write_line_chart(
    path: str | Path,
    series: dict[str, Sequence[float]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_values: Sequence[float] | None = None,
    width: int = 800,
    height: int = 500,
) -> None:
    """Draw each named series as a coloured line (x = x_values or 1..n) with axes, tick labels, a title, axis labels
    and a legend, and write it as an RGB PNG. Writes atomically (temporary file in the same folder, then os.replace).

    Non-finite values (NaN, infinities) are skipped and break the line; a point with no finite neighbour is drawn as
    a dot. An empty `series`, or one with no finite value, draws empty axes with a "no data" note. Text is ASCII
    (anything else draws as "?"). Raises ValueError for a chart smaller than 160x120, a series that is not
    one-dimensional, or a series longer than `x_values`.
    """
    if width < MINIMUM_WIDTH or height < MINIMUM_HEIGHT:
        raise ValueError(f"a chart needs at least {MINIMUM_WIDTH}x{MINIMUM_HEIGHT} pixels, got {width}x{height}")
    pixels = _render_chart(_series_arrays(series, x_values), title, x_label, y_label, int(width), int(height))
    atomic_write_bytes(Path(path), encode_png(pixels))


def _render_chart(
    arrays: list[tuple[str, np.ndarray, np.ndarray]], title: str, x_label: str, y_label: str, width: int, height: int
) -> np.ndarray:
    """The chart as an (height, width, 3) uint8 array."""
    scale = max(1, min(width // 800, height // 500))
    title_scale = 2 * scale
    cell = GLYPH_CELL_HEIGHT * scale
    tick_length = 5 * scale
    gap = 6 * scale

    finite_points = [(x[mask], y[mask]) for _, x, y in arrays for mask in [np.isfinite(x) & np.isfinite(y)]]
    all_x = np.concatenate([x for x, _ in finite_points]) if finite_points else np.zeros(0)
    all_y = np.concatenate([y for _, y in finite_points]) if finite_points else np.zeros(0)
    has_data = all_x.size > 0

    # Vertical layout is fixed by the text sizes, so the y ticks come first; their labels then set the left margin.
    plot_top = 2 * gap + GLYPH_CELL_HEIGHT * title_scale + (gap if title else 0)
    plot_bottom = height - 1 - (tick_length + gap + cell + (gap + cell if x_label else 0) + gap)
    y_ticks, y_step = nice_ticks(*_with_margin(*_padded_range(all_y)), max(2, (plot_bottom - plot_top) // (6 * cell)))
    y_tick_labels = format_ticks(y_ticks, y_step)
    label_column = 2 * gap
    plot_left = label_column + (cell + gap if y_label else 0) + max(text_width(label, scale) for label in y_tick_labels)
    plot_left += gap + tick_length
    plot_right = width - 1 - 4 * gap

    whole_numbers = has_data and bool(np.all(all_x == np.round(all_x)))
    x_low, x_high = _padded_range(all_x)
    target = max(2, (plot_right - plot_left) // (12 * cell))
    while True:
        x_ticks, x_step = nice_ticks(x_low, x_high, target, 1.0 if whole_numbers else 0.0)
        x_tick_labels = format_ticks(x_ticks, x_step)
        spacing = (plot_right - plot_left) / max(1, len(x_ticks) - 1)
        if target <= 2 or max(text_width(label, scale) for label in x_tick_labels) + 3 * gap <= spacing:
            break
        target -= 1

    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND_COLOUR

    def to_column(x: np.ndarray) -> np.ndarray:
        return plot_left + (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * (plot_right - plot_left)

    def to_row(y: np.ndarray) -> np.ndarray:
        return plot_bottom - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * (plot_bottom - plot_top)

    # Grid, frame, ticks and tick labels.
    tick_columns = np.round(to_column(np.array(x_ticks))).astype(int)
    tick_rows = np.round(to_row(np.array(y_ticks))).astype(int)
    for column in tick_columns:
        _fill_rectangle(canvas, plot_top, column, plot_bottom, column, GRID_COLOUR)
    for row in tick_rows:
        _fill_rectangle(canvas, row, plot_left, row, plot_right, GRID_COLOUR)
    for top, left, bottom, right in (
        (plot_top, plot_left, plot_bottom, plot_left),
        (plot_top, plot_right, plot_bottom, plot_right),
        (plot_top, plot_left, plot_top, plot_right),
        (plot_bottom, plot_left, plot_bottom, plot_right),
    ):
        _fill_rectangle(canvas, top, left, bottom, right, FRAME_COLOUR)
    label_top = plot_bottom + tick_length + gap
    for column, label in zip(tick_columns, x_tick_labels, strict=True):
        _fill_rectangle(canvas, plot_bottom + 1, column, plot_bottom + tick_length, column, FRAME_COLOUR)
        _draw_text(canvas, label, int(column), label_top, scale, MUTED_TEXT_COLOUR, align="center")
    for row, label in zip(tick_rows, y_tick_labels, strict=True):
        _fill_rectangle(canvas, row, plot_left - tick_length, row, plot_left - 1, FRAME_COLOUR)
        label_row = int(row) - (GLYPH_ROWS_TO_BASELINE * scale) // 2
        _draw_text(canvas, label, plot_left - tick_length - gap, label_row, scale, MUTED_TEXT_COLOUR, align="right")

    # Title, axis labels.
    plot_centre_column = (plot_left + plot_right) // 2
    _draw_text(canvas, title, plot_centre_column, 2 * gap, title_scale, TEXT_COLOUR, align="center")
    if x_label:
        _draw_text(canvas, x_label, plot_centre_column, label_top + cell + gap, scale, TEXT_COLOUR, align="center")
    if y_label:
        _draw_text(canvas, y_label, label_column, (plot_top + plot_bottom) // 2, scale, TEXT_COLOUR, vertical=True)

    # Series, clipped to the frame widened by a dot's radius; `ink` remembers their pixels for placing the legend.
    ink = np.zeros((height, width), dtype=bool)
    for index, (_, x, y) in enumerate(arrays):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        finite = np.isfinite(x) & np.isfinite(y)
        for start, stop in _finite_runs(finite):
            columns, rows = to_column(x[start:stop]), to_row(y[start:stop])
            if stop - start == 1:
                pixel_rows, pixel_columns = _dot_pixels(float(columns[0]), float(rows[0]))
            else:
                pixel_rows, pixel_columns = _polyline_pixels(columns, rows)
            inside = (
                (pixel_rows >= plot_top - 2)
                & (pixel_rows <= plot_bottom + 2)
                & (pixel_columns >= plot_left - 2)
                & (pixel_columns <= plot_right + 2)
            )
            canvas[pixel_rows[inside], pixel_columns[inside]] = colour
            ink[pixel_rows[inside], pixel_columns[inside]] = True

    if not has_data:
        note_scale = 2 * scale
        note_top = (plot_top + plot_bottom) // 2 - (GLYPH_ROWS_TO_BASELINE * note_scale) // 2
        _draw_text(canvas, "no data", plot_centre_column, note_top, note_scale, MUTED_TEXT_COLOUR, align="center")
    if arrays:
        _draw_legend(
            canvas, ink, [name for name, _, _ in arrays], (plot_top, plot_left, plot_bottom, plot_right), scale
        )
    return canvas


def _draw_legend(
    canvas: np.ndarray, ink: np.ndarray, names: list[str], plot: tuple[int, int, int, int], scale: int
) -> None:
    """A boxed legend (colour swatch and name per series) in the plot corner that hides the fewest line pixels."""
    plot_top, plot_left, plot_bottom, plot_right = plot
    padding, swatch_length, line_spacing = 8 * scale, 20 * scale, 14 * scale
    cell = GLYPH_CELL_HEIGHT * scale
    box_width = 2 * padding + swatch_length + padding + max(text_width(name, scale) for name in names)
    box_height = 2 * padding + len(names) * cell + (len(names) - 1) * (line_spacing - cell) - 2 * scale
    inset = 10 * scale
    corners = (
        (plot_top + inset, plot_right - inset - box_width),
        (plot_top + inset, plot_left + inset),
        (plot_bottom - inset - box_height, plot_right - inset - box_width),
        (plot_bottom - inset - box_height, plot_left + inset),
    )
    hidden = [int(ink[max(0, top) : top + box_height, max(0, left) : left + box_width].sum()) for top, left in corners]
    top, left = corners[hidden.index(min(hidden))]
    _fill_rectangle(canvas, top, left, top + box_height, left + box_width, LEGEND_BORDER_COLOUR)
    _fill_rectangle(canvas, top + 1, left + 1, top + box_height - 1, left + box_width - 1, BACKGROUND_COLOUR)
    for index, name in enumerate(names):
        row_top = top + padding + index * line_spacing
        middle = row_top + (GLYPH_ROWS_TO_BASELINE * scale) // 2
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        _fill_rectangle(
            canvas, middle - scale, left + padding, middle + scale - 1, left + padding + swatch_length, colour
        )
        _draw_text(canvas, name, left + 2 * padding + swatch_length, row_top, scale, TEXT_COLOUR)
