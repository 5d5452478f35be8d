"""PNG files of maps and tiles: the Up filter in NumPy, the deflate by zlib-ng.

A map's PNG is mostly deflate. zlib-ng (the ``zlib-ng`` package; the same library Pillow's
wheels ship) deflates with the same level and strategy 40 % faster than the zlib inside
OpenCV's libpng, into the same stream length: a 1024² orthophoto map in 15 ms instead of 25,
a 1 100² overview window in 18 instead of 28 (``cv2.imencode`` with level 1, run-length
strategy, Up filter; 2026-12-06, best of 8). The PNG around it is three chunks: ``IHDR``,
one ``IDAT`` and ``IEND``; every decoder reads it (tests decode it with OpenCV, Pillow and
GDAL).

The filter is PNG's Up (each byte minus the byte above it, modulo 256) on every row:
16-27 % faster to deflate than Paeth for 0-7 % more bytes, and run-length matching
(``Z_RLE``) finds the runs it leaves in flat areas and nodata.
"""

from __future__ import annotations

import struct

import numpy as np
from zlib_ng import zlib_ng

SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEVEL = 1
"""zlib level: 1 is ~4× faster than 6 for ~10 % larger maps."""
COLOUR_TYPE = {3: 2, 4: 6}
"""PNG colour type by channel count: truecolour (RGB), truecolour with alpha (RGBA)."""
UP = 2
"""The filter-type byte that starts every row."""


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an 8-bit RGB or RGBA image, shaped (rows, columns, channels).

    Raises:
        ValueError: the array is not 8-bit, not 3-dimensional with 3 or 4 channels, or empty.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in COLOUR_TYPE or not pixels.size:
        raise ValueError(
            f"a PNG is of a non-empty 8-bit RGB or RGBA image, not {pixels.dtype} {pixels.shape}"
        )
    height, width, channels = pixels.shape
    rows = np.ascontiguousarray(pixels).reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), np.uint8)
    filtered[:, 0] = UP
    filtered[0, 1:] = rows[0]  # the row above the first is zeros
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # uint8 arithmetic wraps modulo 256
    deflate = zlib_ng.compressobj(LEVEL, zlib_ng.DEFLATED, zlib_ng.MAX_WBITS, 8, zlib_ng.Z_RLE)
    idat = deflate.compress(filtered) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPE[channels], 0, 0, 0)
    return b"".join((SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", idat), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type and data."""
    crc = zlib_ng.crc32(data, zlib_ng.crc32(kind))
    return b"".join((struct.pack(">I", len(data)), kind, data, struct.pack(">I", crc)))
