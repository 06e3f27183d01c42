"""Text fitting: elided lines and wrapped messages never render wider than the room they were given."""

from __future__ import annotations

import pygame
import pytest

from neurocar.ui.text_layout import ELLIPSIS, fit_size, fit_text, text_width, wrap_text
from neurocar.ui.theme import TextCache

LONG_NAME = "The long and winding circuit of the northern hills, version 2"  # 60+ characters


@pytest.fixture(scope="module")
def texts() -> TextCache:
    pygame.font.init()
    return TextCache()


def test_text_that_fits_is_left_alone(texts: TextCache) -> None:
    assert fit_text(texts, "oval", 22, 400) == "oval"
    assert wrap_text(texts, "a short notice", 22, 400) == ["a short notice"]


@pytest.mark.parametrize("width", [40, 120, 300])
def test_fit_text_elides_to_the_width(texts: TextCache, width: int) -> None:
    fitted = fit_text(texts, LONG_NAME, 22, width)
    assert fitted.endswith(ELLIPSIS) and text_width(texts, fitted, 22) <= width
    assert LONG_NAME.startswith(fitted[:-1].rstrip())


def test_fit_text_with_no_room_gives_nothing_rather_than_overflowing(texts: TextCache) -> None:
    assert fit_text(texts, LONG_NAME, 22, 2) == ""


@pytest.mark.parametrize("width", [80, 200, 500])
def test_wrap_keeps_every_word_in_order_within_the_width(texts: TextCache, width: int) -> None:
    message = "not saved: " + LONG_NAME + " cannot be written because the folder is read-only"
    lines = wrap_text(texts, message, 22, width)
    assert len(lines) > 1
    assert all(text_width(texts, line, 22) <= width for line in lines)
    assert " ".join(lines).split() == message.split()


def test_wrap_cuts_a_word_that_is_wider_than_the_line(texts: TextCache) -> None:
    word = "x" * 80
    lines = wrap_text(texts, word, 22, 100)
    assert len(lines) > 1 and "".join(lines) == word
    assert all(text_width(texts, line, 22) <= 100 for line in lines)


def test_wrap_keeps_explicit_line_breaks(texts: TextCache) -> None:
    assert wrap_text(texts, "first\nsecond", 22, 400) == ["first", "second"]


def test_wrap_with_a_line_limit_ends_in_an_ellipsis(texts: TextCache) -> None:
    message = " ".join(["word"] * 60)
    lines = wrap_text(texts, message, 22, 150, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith(ELLIPSIS)
    assert all(text_width(texts, line, 22) <= 150 for line in lines)
    short = wrap_text(texts, "one\ntwo\nthree", 22, 400, max_lines=2)
    assert short[0] == "one" and short[1].endswith(ELLIPSIS)


def test_fit_size_shrinks_a_title_until_it_fits(texts: TextCache) -> None:
    size = fit_size(texts, LONG_NAME, 40, 300)
    assert size < 40 and text_width(texts, LONG_NAME, size) <= 300
    assert fit_size(texts, "oval", 40, 300) == 40
    assert fit_size(texts, LONG_NAME, 40, 10, minimum=14) == 14
