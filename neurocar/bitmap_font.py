"""A built-in 5x7 bitmap font for printable ASCII, so charts can carry text without a font library.

`text_mask` turns a string into a boolean pixel mask, scaled by a whole number; `text_width` measures it. Characters
outside printable ASCII draw as "?".
"""

from __future__ import annotations

import numpy as np

# The font: each glyph is 5 columns wide, 7 rows down to the baseline plus up to 2 descender rows. A glyph is its rows
# as hex numbers, top first; bit 0x10 is the leftmost column. Characters are 6 columns apart (one blank column).
GLYPH_WIDTH = 5
GLYPH_ROWS_TO_BASELINE = 7
GLYPH_CELL_HEIGHT = 9
GLYPH_ADVANCE = 6
_FONT: dict[str, str] = {
    " ": "00 00 00 00 00 00 00",
    "!": "04 04 04 04 04 00 04",
    '"': "0A 0A 0A 00 00 00 00",
    "#": "0A 0A 1F 0A 1F 0A 0A",
    "$": "04 0F 14 0E 05 1E 04",
    "%": "18 19 02 04 08 13 03",
    "&": "0C 12 14 08 15 12 0D",
    "'": "0C 04 08 00 00 00 00",
    "(": "02 04 08 08 08 04 02",
    ")": "08 04 02 02 02 04 08",
    "*": "00 04 15 0E 15 04 00",
    "+": "00 04 04 1F 04 04 00",
    ",": "00 00 00 00 00 0C 0C 04 08",
    "-": "00 00 00 1F 00 00 00",
    ".": "00 00 00 00 00 0C 0C",
    "/": "00 01 02 04 08 10 00",
    "0": "0E 11 13 15 19 11 0E",
    "1": "04 0C 04 04 04 04 0E",
    "2": "0E 11 01 02 04 08 1F",
    "3": "1F 02 04 02 01 11 0E",
    "4": "02 06 0A 12 1F 02 02",
    "5": "1F 10 1E 01 01 11 0E",
    "6": "06 08 10 1E 11 11 0E",
    "7": "1F 01 02 04 08 08 08",
    "8": "0E 11 11 0E 11 11 0E",
    "9": "0E 11 11 0F 01 02 0C",
    ":": "00 0C 0C 00 0C 0C 00",
    ";": "00 0C 0C 00 0C 0C 04 08",
    "<": "02 04 08 10 08 04 02",
    "=": "00 00 1F 00 1F 00 00",
    ">": "08 04 02 01 02 04 08",
    "?": "0E 11 01 02 04 00 04",
    "@": "0E 11 01 0D 15 15 0E",
    "A": "0E 11 11 1F 11 11 11",
    "B": "1E 11 11 1E 11 11 1E",
    "C": "0E 11 10 10 10 11 0E",
    "D": "1C 12 11 11 11 12 1C",
    "E": "1F 10 10 1E 10 10 1F",
    "F": "1F 10 10 1E 10 10 10",
    "G": "0E 11 10 17 11 11 0F",
    "H": "11 11 11 1F 11 11 11",
    "I": "0E 04 04 04 04 04 0E",
    "J": "07 02 02 02 02 12 0C",
    "K": "11 12 14 18 14 12 11",
    "L": "10 10 10 10 10 10 1F",
    "M": "11 1B 15 15 11 11 11",
    "N": "11 11 19 15 13 11 11",
    "O": "0E 11 11 11 11 11 0E",
    "P": "1E 11 11 1E 10 10 10",
    "Q": "0E 11 11 11 15 12 0D",
    "R": "1E 11 11 1E 14 12 11",
    "S": "0F 10 10 0E 01 01 1E",
    "T": "1F 04 04 04 04 04 04",
    "U": "11 11 11 11 11 11 0E",
    "V": "11 11 11 11 11 0A 04",
    "W": "11 11 11 15 15 15 0A",
    "X": "11 11 0A 04 0A 11 11",
    "Y": "11 11 11 0A 04 04 04",
    "Z": "1F 01 02 04 08 10 1F",
    "[": "0E 08 08 08 08 08 0E",
    "\\": "00 10 08 04 02 01 00",
    "]": "0E 02 02 02 02 02 0E",
    "^": "04 0A 11 00 00 00 00",
    "_": "00 00 00 00 00 00 00 1F",
    "`": "08 04 02 00 00 00 00",
    "a": "00 00 0E 01 0F 11 0F",
    "b": "10 10 16 19 11 11 1E",
    "c": "00 00 0E 10 10 11 0E",
    "d": "01 01 0D 13 11 11 0F",
    "e": "00 00 0E 11 1F 10 0E",
    "f": "06 09 08 1C 08 08 08",
    "g": "00 00 0F 11 11 11 0F 01 0E",
    "h": "10 10 16 19 11 11 11",
    "i": "04 00 0C 04 04 04 0E",
    "j": "02 00 06 02 02 02 02 12 0C",
    "k": "10 10 12 14 18 14 12",
    "l": "0C 04 04 04 04 04 0E",
    "m": "00 00 1A 15 15 11 11",
    "n": "00 00 16 19 11 11 11",
    "o": "00 00 0E 11 11 11 0E",
    "p": "00 00 1E 11 11 11 1E 10 10",
    "q": "00 00 0F 11 11 11 0F 01 01",
    "r": "00 00 16 19 10 10 10",
    "s": "00 00 0F 10 0E 01 1E",
    "t": "08 08 1C 08 08 09 06",
    "u": "00 00 11 11 11 13 0D",
    "v": "00 00 11 11 11 0A 04",
    "w": "00 00 11 11 15 15 0A",
    "x": "00 00 11 0A 04 0A 11",
    "y": "00 00 11 11 11 11 0F 01 0E",
    "z": "00 00 1F 02 04 08 1F",
    "{": "02 04 04 08 04 04 02",
    "|": "04 04 04 04 04 04 04",
    "}": "08 04 04 02 04 04 08",
    "~": "00 00 08 15 02 00 00",
}


def _build_glyphs() -> np.ndarray:
    """The font as a (128, 9, 5) boolean array indexed by character code; codes without a glyph draw as "?"."""
    glyphs = np.zeros((128, GLYPH_CELL_HEIGHT, GLYPH_WIDTH), dtype=bool)
    column_bits = 1 << np.arange(GLYPH_WIDTH - 1, -1, -1)
    for character, hex_rows in _FONT.items():
        rows = np.array([int(row, 16) for row in hex_rows.split()])
        glyphs[ord(character), : rows.size] = (rows[:, None] & column_bits) != 0
    unknown = glyphs[ord("?")].copy()
    for code in range(128):
        if chr(code) not in _FONT:
            glyphs[code] = unknown
    return glyphs


_GLYPHS = _build_glyphs()


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """The pixels of `text` in the built-in font as a boolean (9 * scale, width) array; non-ASCII draws as "?"."""
    codes = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)
    if codes.size == 0:
        return np.zeros((GLYPH_CELL_HEIGHT * scale, 0), dtype=bool)
    cells = np.zeros((codes.size, GLYPH_CELL_HEIGHT, GLYPH_ADVANCE), dtype=bool)
    cells[:, :, :GLYPH_WIDTH] = _GLYPHS[codes]
    mask = cells.transpose(1, 0, 2).reshape(GLYPH_CELL_HEIGHT, codes.size * GLYPH_ADVANCE)[:, :-1]
    return mask.repeat(scale, axis=0).repeat(scale, axis=1)


def text_width(text: str, scale: int = 1) -> int:
    """Width in pixels of `text` drawn at `scale`."""
    return max(0, len(text) * GLYPH_ADVANCE - 1) * scale
