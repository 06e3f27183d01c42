"""Text that fits the space it is given: elided with an ellipsis on one line, or wrapped onto several.

Every width is in pixels as pygame's font at that size measures it (`TextCache.font`), so a fitted string renders
no wider than its room at any window size. `fit_text` keeps one line (a name in a panel row); `wrap_text` breaks a
message at spaces into lines (a notice, a help line), breaking a word only when the word alone is too wide, and
elides the last line when the lines allowed run out. `fit_size` picks the largest font size, down to a floor, at
which a text fits, for a title that should be as big as its room allows.
"""

from __future__ import annotations

from neurocar.ui.theme import TextCache

ELLIPSIS = "…"


def text_width(texts: TextCache, text: str, size: int) -> int:
    """Pixel width of `text` rendered at `size`."""
    return texts.font(size).size(text)[0]


def fit_text(texts: TextCache, text: str, size: int, width: int, keep_end: bool = False) -> str:
    """`text`, shortened with an ellipsis if needed so it renders at most `width` pixels wide ("" if not even the
    ellipsis fits). With `keep_end`, the ellipsis goes in the middle and the end stays, so names that differ only at
    the end (run-7/best, run-8/best) stay distinct."""
    font = texts.font(size)
    if font.size(text)[0] <= width:
        return text

    def shortened(kept: int) -> str:
        if not keep_end:
            return text[:kept].rstrip() + ELLIPSIS
        tail = min(kept, max((kept + 1) // 2, 12))  # the end says which of similar names it is: keep enough of it
        return text[: kept - tail].rstrip() + ELLIPSIS + text[len(text) - tail :].lstrip()

    low, high = 0, len(text)
    while low < high:  # keep as many characters as fit with the ellipsis
        middle = (low + high + 1) // 2
        if font.size(shortened(middle))[0] <= width:
            low = middle
        else:
            high = middle - 1
    if low:
        return shortened(low)
    return ELLIPSIS if font.size(ELLIPSIS)[0] <= width else ""


def _split_word(texts: TextCache, word: str, size: int, width: int) -> list[str]:
    """A word too wide for one line, cut into pieces that each fit (at least one character per piece)."""
    font = texts.font(size)
    pieces = []
    while word:
        kept = len(word)
        while kept > 1 and font.size(word[:kept])[0] > width:
            kept -= 1
        pieces.append(word[:kept])
        word = word[kept:]
    return pieces


def wrap_text(texts: TextCache, text: str, size: int, width: int, max_lines: int | None = None) -> list[str]:
    """`text` broken at spaces into lines that each render at most `width` pixels wide.

    Explicit newlines start a new line. A word wider than the line is cut. With `max_lines`, the text that does not
    fit goes: the last line kept ends with an ellipsis. An empty text is one empty line.
    """
    if width <= 0:
        return [""]
    font = texts.font(size)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.size(candidate)[0] <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            if font.size(word)[0] <= width:
                line = word
            else:
                *whole, line = _split_word(texts, word, size, width)
                lines.extend(whole)
        lines.append(line)
    if max_lines is not None and len(lines) > max(1, max_lines):
        kept = lines[: max(1, max_lines)]
        elided = fit_text(texts, " ".join([kept[-1], *lines[len(kept) :]]), size, width)
        kept[-1] = elided if elided.endswith(ELLIPSIS) else fit_text(texts, kept[-1] + " " + ELLIPSIS, size, width)
        return kept
    return lines


def fit_size(texts: TextCache, text: str, size: int, width: int, minimum: int = 14) -> int:
    """The largest font size from `size` down to `minimum` at which `text` fits in `width` (else `minimum`)."""
    while size > minimum and text_width(texts, text, size) > width:
        size -= 1
    return size
