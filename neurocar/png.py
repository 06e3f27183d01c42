"""PNG encoding with zlib and struct only: an (H, W, 3) uint8 array in, PNG bytes out."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 RGB array as PNG bytes (8 bits per channel, no interlacing, filter type 0)."""
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"encode_png needs an (H, W, 3) uint8 array, got {_describe_array(pixels)}")
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"encode_png needs a non-empty image, got {height}x{width} pixels")
    scanlines = np.zeros((height, 1 + width * 3), dtype=np.uint8)
    scanlines[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _describe_array(value: object) -> str:
    """Shape and dtype of an array, or the type of anything else, for error messages."""
    if isinstance(value, np.ndarray):
        return f"shape {value.shape} dtype {value.dtype}"
    return type(value).__name__
