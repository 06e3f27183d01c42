"""The chart renderer: charts of 1 to 10,000 generations, labels that never overlap, the first-lap marker, awkward
series, valid PNG files of the requested size written atomically, and no window or display needed."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import zlib
from itertools import combinations
from pathlib import Path

import numpy as np
import pygame
import pytest

from neurocar import files
from neurocar.chart import (
    PAPER,
    ChartDrawing,
    Marker,
    draw_line_chart,
    first_lap_markers,
    format_ticks,
    nice_ticks,
    write_line_chart,
)
from neurocar.errors import NeuroCarError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SERIES = PAPER.series


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header, checking the signature and every chunk's CRC."""
    assert data[:8] == PNG_SIGNATURE
    position, kinds, size = 8, [], None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        kinds.append(kind)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        position += 12 + length
    assert position == len(data)
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert size is not None
    return size


def read_chart(path: Path) -> np.ndarray:
    """The PNG's pixels as (height, width, 3), after checking the file's structure."""
    width, height = png_size(path.read_bytes())
    pixels = pygame.surfarray.array3d(pygame.image.load(str(path))).transpose(1, 0, 2)
    assert pixels.shape == (height, width, 3)
    return pixels


def pixels_of(drawing: ChartDrawing) -> np.ndarray:
    return pygame.surfarray.array3d(drawing.surface).transpose(1, 0, 2)


def colour_mask(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(pixels == np.array(colour, dtype=np.uint8), axis=2)


def chart_of(count: int, size: tuple[int, int] = (1000, 600), **options: object) -> ChartDrawing:
    best = np.linspace(10, 900, count) if count > 1 else [500.0]
    mean = np.asarray(best) * 0.5
    return draw_line_chart(
        size,
        {"best": best, "mean": mean},
        title="Fitness per generation - Classic",
        x_label="generation",
        y_label="fitness",
        **options,
    )


def ink_outside(pixels: np.ndarray, rects: list[pygame.Rect]) -> np.ndarray:
    """Non-background pixels outside every rectangle."""
    mask = ~colour_mask(pixels, PAPER.background)
    for rect in rects:
        mask[max(0, rect.top) : rect.bottom, max(0, rect.left) : rect.right] = False
    return mask


@pytest.mark.parametrize("count", [1, 2, 5, 100, 10_000])
@pytest.mark.parametrize("size", [(1000, 600), (420, 240)])
def test_no_text_overlaps_other_text_and_all_stays_inside(count: int, size: tuple[int, int]) -> None:
    drawing = chart_of(count, size, markers=[Marker(max(1, count // 2), "first lap")])
    bounds = drawing.surface.get_rect()
    for kind, rect in drawing.boxes:
        assert bounds.contains(rect), f"{kind} {rect} leaves the chart {bounds}"
    for (kind, rect), (other_kind, other) in combinations(drawing.boxes, 2):
        assert not rect.colliderect(other), f"{kind} {rect} overlaps {other_kind} {other}"
    # Tick labels sit outside the plot; the axis titles are clear of every tick label.
    for rect in drawing.boxes_of("x tick") + drawing.boxes_of("y tick"):
        assert not rect.colliderect(drawing.plot)
    # Everything drawn is inside the plot or one of the text boxes (and the legend's swatches, left of its names).
    legend = drawing.boxes_of("legend")
    swatches = [rect.move(-rect.height - 40, 0).inflate(rect.height + 40, 0) for rect in legend]
    stray = ink_outside(pixels_of(drawing), [*(rect for _, rect in drawing.boxes), *swatches, drawing.plot])
    plot = drawing.plot
    ticks = np.zeros_like(stray)
    ticks[plot.bottom : plot.bottom + 8, plot.left : plot.right] = True  # tick marks under the plot
    ticks[plot.top : plot.bottom, plot.left - 8 : plot.left] = True  # and left of it
    assert not (stray & ~ticks).any(), np.argwhere(stray & ~ticks)[:5]


def test_one_generation_keeps_its_tick_apart_from_the_axis_title() -> None:
    drawing = chart_of(1)
    ticks = drawing.boxes_of("x tick")
    (title,) = drawing.boxes_of("x label")
    assert len(ticks) == 1
    assert ticks[0].bottom <= title.top
    assert abs(ticks[0].centerx - drawing.x_pixel(1)) <= 1
    # The title's own rows hold no tick label pixels: above the title there is a clear band.
    pixels = pixels_of(drawing)
    assert not (~colour_mask(pixels[ticks[0].bottom : title.top, :], PAPER.background)).any()


@pytest.mark.parametrize("count", [1, 2, 5, 100, 10_000])
def test_generation_ticks_are_whole_sensible_numbers(count: int) -> None:
    drawing = chart_of(count, size=(800, 500))
    labels = drawing.tick_labels("x tick")
    values = [float(label[:-1]) * 1000 if label.endswith("k") else float(label) for label in labels]
    assert labels[0] == "1" and values[-1] <= count
    if count <= 5:
        assert values == list(range(1, count + 1))  # every generation has its tick
    else:
        assert 4 <= len(values) <= 11 and values[-1] >= 0.8 * count
        steps = set(np.diff(values[1:]).tolist())
        assert len(steps) == 1  # evenly spaced after the first generation
        (step,) = steps
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert mantissa in (1.0, 2.0, 5.0) and values[1] % step == 0


def test_the_first_lap_marker_is_drawn_at_its_generation() -> None:
    history = [{"generation": g, "best_laps": 1 if g >= 37 else 0} for g in range(1, 101)]
    markers = first_lap_markers(history, "generation", "best_laps")
    assert markers == [Marker(37.0, "first lap")]
    drawing = chart_of(100, markers=markers)
    pixels = pixels_of(drawing)
    marker = colour_mask(pixels, PAPER.marker)
    column = round(drawing.x_pixel(37))
    plot = drawing.plot
    inside = marker[plot.top + 2 : plot.bottom - 2, :]
    counts = inside.sum(axis=0)
    assert counts[column] >= 0.8 * (plot.height - 4)  # a full-height line at generation 37 ...
    (label,) = drawing.boxes_of("marker")
    counts[label.left - 2 : label.right + 2] = 0  # the label "first lap" beside it is in the marker's colour too
    assert counts[: column - 2].sum() == 0 and counts[column + 3 :].sum() == 0  # ... and nowhere else
    assert label.left > column and label.top >= plot.top


def test_no_lap_means_no_marker() -> None:
    assert first_lap_markers([{"update": 1, "greedy_laps": 0}], "update", "greedy_laps") == []
    drawing = chart_of(10, markers=[])
    assert not colour_mask(pixels_of(drawing), PAPER.marker).any()


def test_chart_file_is_a_png_of_the_requested_size(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    write_line_chart(
        path, {"best": [1, 3, 2, 5]}, title="Fitness", x_label="Generation", y_label="Fitness", width=640, height=360
    )
    pixels = read_chart(path)
    assert pixels.shape == (360, 640, 3)
    assert np.all(pixels[0, 0] == 255)  # white background
    assert colour_mask(pixels, SERIES[0]).sum() > 100


def test_rising_line_goes_up_from_left_to_right_and_is_continuous() -> None:
    rising = {"rising": np.linspace(0, 1500, 40)}
    drawing = draw_line_chart((800, 500), rising, title="Rising", x_label="x", y_label="y")
    mask = colour_mask(pixels_of(drawing), SERIES[0])
    mask[:, :] &= np.arange(mask.shape[0])[:, None] >= drawing.plot.top  # leave the legend out
    rows, columns = np.nonzero(mask)
    assert rows.size > 500
    left = columns < 400
    assert rows[left].mean() > rows[~left].mean() + 100  # larger row index = lower on screen
    for column in range(drawing.plot.left + 4, drawing.plot.right - 4):
        assert mask[:, column].any(), f"gap in the line at column {column}"


def test_each_series_gets_its_own_colour_and_a_legend_entry() -> None:
    drawing = draw_line_chart((800, 500), {"best": [1, 4, 9], "mean": [1, 2, 3]}, title="Two", x_label="x", y_label="y")
    pixels = pixels_of(drawing)
    assert colour_mask(pixels, SERIES[0]).sum() > 100
    assert colour_mask(pixels, SERIES[1]).sum() > 100
    assert drawing.tick_labels("legend") == ["best", "mean"]


def test_nan_values_break_the_line() -> None:
    values = [1.0] * 10 + [math.nan] * 20 + [1.0] * 10
    drawing = draw_line_chart((800, 500), {"gappy": values}, title="Gap", x_label="x", y_label="y")
    mask = colour_mask(pixels_of(drawing), SERIES[0])
    mask[: drawing.plot.top] = False
    gap_start, gap_end = round(drawing.x_pixel(11)) + 3, round(drawing.x_pixel(30)) - 3
    assert not mask[:, gap_start:gap_end].any()
    assert mask[:, round(drawing.x_pixel(5))].any() and mask[:, round(drawing.x_pixel(35))].any()


def test_single_point_is_drawn_as_a_dot() -> None:
    drawing = draw_line_chart((800, 500), {"only": [42.0]}, title="One", x_label="x", y_label="y")
    mask = colour_mask(pixels_of(drawing), SERIES[0])
    centre = (round(drawing.y_pixel(42.0)), round(drawing.x_pixel(1)))
    assert mask[centre[0] - 2 : centre[0] + 3, centre[1] - 2 : centre[1] + 3].sum() >= 9


def test_negative_values_are_plotted() -> None:
    drawing = draw_line_chart((800, 500), {"falling": [-5, -50, -500]}, title="Neg", x_label="x", y_label="y")
    mask = colour_mask(pixels_of(drawing), SERIES[0])
    mask[: drawing.plot.top] = False
    rows, columns = np.nonzero(mask)
    left = columns < 400
    assert rows[left].mean() < rows[~left].mean()


def test_empty_chart_draws_axes_and_a_note() -> None:
    drawing = draw_line_chart((800, 500), {}, title="Nothing yet", x_label="x", y_label="y")
    (note,) = drawing.boxes_of("note")
    assert note.center == drawing.plot.center
    pixels = pixels_of(drawing)
    assert not any(colour_mask(pixels, colour).any() for colour in SERIES[:3])
    all_nan = draw_line_chart((800, 500), {"lost": [math.nan, math.nan]}, title="NaN", x_label="x", y_label="y")
    assert all_nan.boxes_of("note")


def test_a_long_title_is_shortened_to_the_chart_width() -> None:
    drawing = draw_line_chart((300, 200), {"a": [1, 2]}, title="x" * 200, x_label="x", y_label="y")
    (title,) = drawing.boxes_of("title")
    assert title.right <= 300


def test_x_values_must_cover_every_series(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="x_values"):
        write_line_chart(tmp_path / "c.png", {"a": [1, 2, 3]}, title="t", x_label="x", y_label="y", x_values=[1, 2])
    assert list(tmp_path.iterdir()) == []


def test_too_small_chart_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        write_line_chart(tmp_path / "c.png", {"a": [1]}, title="t", x_label="x", y_label="y", width=50, height=50)


def test_write_is_atomic_and_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    path.write_bytes(b"old")
    write_line_chart(str(path), {"a": [1, 2]}, title="t", x_label="x", y_label="y", width=300, height=200)
    assert [entry.name for entry in tmp_path.iterdir()] == ["chart.png"]
    assert read_chart(path).shape == (200, 300, 3)


def test_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(source: object, destination: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(NeuroCarError, match=r"chart.png: cannot write \(disk full\)"):
        write_line_chart(tmp_path / "chart.png", {"a": [1, 2]}, title="t", x_label="x", y_label="y")
    assert list(tmp_path.iterdir()) == []


def test_writing_a_chart_needs_no_display_and_opens_no_window(tmp_path: Path) -> None:
    code = """
        import os, sys
        from neurocar.chart import write_line_chart
        assert "pygame" not in sys.modules
        write_line_chart(sys.argv[1], {"a": [1, 2, 3]}, title="t", x_label="x", y_label="y")
        import pygame
        print(pygame.display.get_init(), pygame.font.get_init())
    """
    environment = {key: value for key, value in __import__("os").environ.items()}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "PYGAME_HIDE_SUPPORT_PROMPT"):
        environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", __import__("textwrap").dedent(code), str(tmp_path / "c.png")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"  # no banner, no display started
    assert png_size((tmp_path / "c.png").read_bytes()) == (1000, 600)


@pytest.mark.parametrize(
    ("low", "high", "target", "expected_step", "first", "last"),
    [(0, 1545, 7, 200, 0, 1600), (0.0, 2.27, 7, 0.5, 0.0, 2.5), (-3.2, 7.9, 5, 2, -4, 8), (1, 40, 6, 5, 0, 40)],
)
def test_nice_ticks(low: float, high: float, target: int, expected_step: float, first: float, last: float) -> None:
    ticks, step = nice_ticks(low, high, target)
    assert step == pytest.approx(expected_step)
    assert ticks[0] == pytest.approx(first) and ticks[-1] == pytest.approx(last)
    assert np.allclose(np.diff(ticks), step)


def test_nice_ticks_respects_a_minimum_step() -> None:
    ticks, step = nice_ticks(0.9, 1.1, 8, minimum_step=1.0)
    assert step == 1.0
    assert ticks == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("ticks", "step", "labels"),
    [
        ([0, 400, 800, 1200], 400, ["0", "400", "800", "1200"]),
        ([0, 0.25, 0.5], 0.25, ["0.00", "0.25", "0.50"]),
        ([-0.5, 0.0, 0.5], 0.5, ["-0.5", "0.0", "0.5"]),
        ([10000, 12500, 15000], 2500, ["10.0k", "12.5k", "15.0k"]),
        ([-2e6, 0, 2e6], 2e6, ["-2M", "0", "2M"]),
        ([1e-6, 2e-6], 1e-6, ["1e-06", "2e-06"]),
    ],
)
def test_format_ticks(ticks: list[float], step: float, labels: list[str]) -> None:
    assert format_ticks(ticks, step) == labels


def test_format_ticks_never_prints_negative_zero() -> None:
    assert format_ticks([-0.2 + 0.1 + 0.1, 0.1], 0.1) == ["0.0", "0.1"]


def test_the_panel_chart_uses_the_same_renderer_and_marks_the_first_lap() -> None:
    from neurocar.ui import theme
    from neurocar.ui.fitness_chart import FitnessChart
    from neurocar.ui.theme import TextCache

    chart = FitnessChart(TextCache())
    history = [{"generation": g, "best_laps": int(g >= 3)} for g in range(1, 9)]
    chart.set_history(
        [g * 10.0 for g in range(1, 9)],
        [g * 5.0 for g in range(1, 9)],
        first_lap_markers(history, "generation", "best_laps"),
    )
    drawing = chart.render((336, 220))
    assert drawing.tick_labels("legend") == ["best", "mean"] and drawing.tick_labels("marker") == ["first lap"]
    pixels = pixels_of(drawing)
    column = round(drawing.x_pixel(3))
    assert (
        colour_mask(pixels[drawing.plot.top + 2 : drawing.plot.bottom - 2, column : column + 1], theme.GOOD).sum() > 50
    )
    for (kind, rect), (other_kind, other) in combinations(drawing.boxes, 2):
        assert not rect.colliderect(other), f"{kind} {rect} overlaps {other_kind} {other}"
    screen = pygame.Surface((400, 300))
    area = pygame.Rect(10, 10, 336, 220)
    assert chart.draw(screen, area) is True and chart.draw(screen, area) is False  # cached until something changes
    assert chart.draw(screen, area.inflate(0, -40)) is True
    chart.set_history([], [])
    assert chart.render((336, 220)).tick_labels("note") == ["waiting for the first generation..."]


def test_ticks_of_a_range_far_narrower_than_its_values_still_get_labels() -> None:
    ticks, step = nice_ticks(1e9, 1e9 + 1e-4, 5)
    labels = format_ticks(ticks, step)
    assert len(labels) == len(ticks) and all(labels)
