"""The PNG line-chart writer: PNG encoding round trips, chart geometry, awkward inputs and atomic writes."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from neurocar import chart, files
from neurocar.chart import SERIES_COLOURS, encode_png, format_ticks, nice_ticks, text_mask, write_line_chart
from neurocar.errors import NeuroCarError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_png(data: bytes) -> np.ndarray:
    """A minimal decoder for what `encode_png` writes: 8-bit RGB, filter type 0, checking signature and every CRC."""
    assert data[:8] == PNG_SIGNATURE
    position, kinds, image_data, header = 8, [], b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        kinds.append(kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            image_data += body
        position += 12 + length
    assert position == len(data)
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert header is not None
    width, height, bit_depth, colour_type, compression, filter_method, interlace = header
    assert (bit_depth, colour_type, compression, filter_method, interlace) == (8, 2, 0, 0, 0)
    rows = np.frombuffer(zlib.decompress(image_data), dtype=np.uint8).reshape(height, 1 + width * 3)
    assert np.all(rows[:, 0] == 0), "every scanline should use filter type 0"
    return rows[:, 1:].reshape(height, width, 3)


def read_chart(path: Path) -> np.ndarray:
    return decode_png(path.read_bytes())


def colour_mask(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(pixels == np.array(colour, dtype=np.uint8), axis=2)


def test_encode_png_round_trips_random_pixels() -> None:
    pixels = np.random.default_rng(7).integers(0, 256, size=(13, 29, 3), dtype=np.uint8)
    decoded = decode_png(encode_png(pixels))
    assert decoded.shape == (13, 29, 3)
    assert np.array_equal(decoded, pixels)


def test_encode_png_writes_header_fields_and_detects_corruption() -> None:
    data = encode_png(np.zeros((4, 6, 3), dtype=np.uint8))
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (6, 4)
    assert data.endswith(b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))
    corrupted = bytearray(data)
    corrupted[20] ^= 0xFF  # inside the IHDR data, so its CRC no longer matches
    with pytest.raises(AssertionError, match="bad CRC"):
        decode_png(bytes(corrupted))


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((4, 4), dtype=np.uint8), np.zeros((4, 4, 3), dtype=np.float64), np.zeros((0, 4, 3), dtype=np.uint8)],
)
def test_encode_png_rejects_bad_arrays(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match="encode_png"):
        encode_png(pixels)


def test_chart_has_the_requested_size(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    write_line_chart(
        path, {"best": [1, 3, 2, 5]}, title="Fitness", x_label="Generation", y_label="Fitness", width=640, height=360
    )
    pixels = read_chart(path)
    assert pixels.shape == (360, 640, 3)
    assert np.all(pixels[0, 0] == 255)  # white background


def test_rising_line_goes_up_from_left_to_right_and_is_continuous(tmp_path: Path) -> None:
    path = tmp_path / "rising.png"
    write_line_chart(path, {"rising": np.linspace(0, 1500, 40)}, title="Rising", x_label="x", y_label="y")
    mask = colour_mask(read_chart(path), SERIES_COLOURS[0])
    rows, columns = np.nonzero(mask)
    assert rows.size > 500
    left = columns < 400
    assert rows[left].mean() > rows[~left].mean() + 100  # larger row index = lower on screen
    # Every column across the middle of the plot holds some of the line: no gaps between samples.
    for column in range(150, 700):
        assert mask[:, column].any(), f"gap in the line at column {column}"


def test_steep_segment_has_no_gaps(tmp_path: Path) -> None:
    path = tmp_path / "steep.png"
    write_line_chart(path, {"jump": [0, 0, 1000, 1000]}, title="Jump", x_label="x", y_label="y", width=800, height=500)
    mask = colour_mask(read_chart(path), SERIES_COLOURS[0])[:, 300:650]  # x = 2..3 (the jump), away from the legend
    rows = np.flatnonzero(mask.any(axis=1))
    assert rows.max() - rows.min() > 300
    assert np.array_equal(rows, np.arange(rows.min(), rows.max() + 1)), "some rows between bottom and top are missing"


def test_each_series_gets_its_own_colour_and_a_legend(tmp_path: Path) -> None:
    path = tmp_path / "two.png"
    write_line_chart(path, {"best": [1, 4, 9], "mean": [1, 2, 3]}, title="Two", x_label="x", y_label="y")
    pixels = read_chart(path)
    assert colour_mask(pixels, SERIES_COLOURS[0]).sum() > 100
    assert colour_mask(pixels, SERIES_COLOURS[1]).sum() > 100
    assert colour_mask(pixels, chart.LEGEND_BORDER_COLOUR).sum() > 50


def test_nan_values_break_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gap.png"
    values = [1.0] * 10 + [math.nan] * 20 + [1.0] * 10
    write_line_chart(path, {"gappy": values, "other": [0.0, math.inf, 2.0]}, title="Gap", x_label="x", y_label="y")
    mask = colour_mask(read_chart(path), SERIES_COLOURS[0])
    columns = np.flatnonzero(mask.any(axis=0))
    assert columns.size > 100
    # x runs 0..40 over the plot, the NaNs cover x = 11..30: the middle of the plot has no line.
    assert not mask[:, 360:480].any()
    assert mask[:, 100:200].any() and mask[:, 650:750].any()


def test_single_point_is_drawn_as_a_dot(tmp_path: Path) -> None:
    path = tmp_path / "single.png"
    write_line_chart(path, {"only": [42.0]}, title="One", x_label="x", y_label="y")
    mask = colour_mask(read_chart(path), SERIES_COLOURS[0])
    legend_swatch = 2 * 21  # the swatch is 2 rows of 21 pixels
    assert mask.sum() > legend_swatch


def test_constant_series_is_a_horizontal_line(tmp_path: Path) -> None:
    path = tmp_path / "constant.png"
    write_line_chart(path, {"flat": [7.0] * 30}, title="Flat", x_label="x", y_label="y")
    rows, _ = np.nonzero(colour_mask(read_chart(path), SERIES_COLOURS[0]))
    counts = np.bincount(rows)
    assert counts.max() > 300
    busiest = int(np.argmax(counts))
    assert counts[busiest - 1 : busiest + 2].sum() >= 0.9 * rows.size


def test_negative_values_are_plotted(tmp_path: Path) -> None:
    path = tmp_path / "negative.png"
    write_line_chart(path, {"falling": [-5, -50, -500]}, title="Negative", x_label="x", y_label="y")
    rows, columns = np.nonzero(colour_mask(read_chart(path), SERIES_COLOURS[0]))
    left = columns < 400
    assert rows[left].mean() < rows[~left].mean()


def test_empty_chart_draws_axes_and_a_note(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    write_line_chart(path, {}, title="Nothing yet", x_label="x", y_label="y")
    pixels = read_chart(path)
    assert pixels.shape == (500, 800, 3)
    assert colour_mask(pixels, chart.FRAME_COLOUR).sum() > 1000
    centre = pixels[220:280, 300:500]
    assert colour_mask(centre, chart.MUTED_TEXT_COLOUR).sum() > 50  # "no data"
    assert not any(colour_mask(pixels, colour).any() for colour in SERIES_COLOURS[:3])


def test_all_nan_series_counts_as_no_data(tmp_path: Path) -> None:
    path = tmp_path / "nan.png"
    write_line_chart(path, {"lost": [math.nan, math.nan]}, title="NaN", x_label="x", y_label="y")
    pixels = read_chart(path)
    assert colour_mask(pixels[220:280, 300:500], chart.MUTED_TEXT_COLOUR).sum() > 50


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


def test_font_covers_printable_ascii_with_distinct_glyphs() -> None:
    question_mark = text_mask("?")
    glyphs = {}
    for code in range(32, 127):
        mask = text_mask(chr(code))
        assert mask.shape == (9, 5)
        if chr(code) != "?":
            assert not np.array_equal(mask, question_mark), f"{chr(code)!r} has no glyph of its own"
        glyphs.setdefault(mask.tobytes(), []).append(chr(code))
    duplicates = [characters for characters in glyphs.values() if len(characters) > 1]
    assert duplicates == []
    assert text_mask(" ").sum() == 0 and text_mask("A").sum() > 0


def test_text_mask_scales_and_spaces_characters() -> None:
    assert text_mask("Ab1", scale=2).shape == (18, 2 * (3 * 6 - 1))
    assert np.array_equal(text_mask("é"), text_mask("?"))
    assert text_mask("").shape == (9, 0)
