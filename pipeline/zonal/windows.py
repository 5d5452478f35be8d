"""Pure window arithmetic of zonal statistics: polygon bounds → pixel boxes → read chunks.

A pixel box is ``(row0, row1, col0, col1)``, end-exclusive, on the raster's grid; it may
reach past the raster's edges (a footprint half outside the flight). Boxes hold every
cell whose centre can lie inside the polygon: a cell's centre is at ``col + 0.5``, so
``floor``/``ceil`` of the polygon's bounds in pixel units contain them all.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from core.errors import RasterInputError


class Chunk(NamedTuple):
    """One raster read: its box (inside the raster) and the polygons served from it."""

    box: tuple[int, int, int, int]
    indices: NDArray[np.int64]


def pixel_boxes(bounds: NDArray[np.float64], transform: Affine) -> NDArray[np.int64]:
    """Pixel boxes ``(row0, row1, col0, col1)`` of polygon bounds ``(minx, miny, maxx, maxy)`` (n × 4).

    Raises:
        RasterInputError: the grid is rotated or sheared (not north-up or south-up).
    """
    if transform.b != 0 or transform.d != 0:
        raise RasterInputError(f"raster grid is rotated ({transform!r}); warp it to a north-up grid first")
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    cols = (bounds[:, [0, 2]] - transform.c) / transform.a
    rows = (bounds[:, [1, 3]] - transform.f) / transform.e
    boxes = np.empty((len(bounds), 4), dtype=np.int64)
    boxes[:, 0] = np.floor(rows.min(axis=1))
    boxes[:, 1] = np.ceil(rows.max(axis=1))
    boxes[:, 2] = np.floor(cols.min(axis=1))
    boxes[:, 3] = np.ceil(cols.max(axis=1))
    return boxes


def clip_boxes(boxes: NDArray[np.int64], height: int, width: int) -> NDArray[np.int64]:
    """Boxes cut to the raster (an empty box has row1 ≤ row0 or col1 ≤ col0)."""
    clipped = boxes.copy()
    clipped[:, 0:2] = np.clip(boxes[:, 0:2], 0, height)
    clipped[:, 2:4] = np.clip(boxes[:, 2:4], 0, width)
    return clipped


def box_pixels(boxes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Number of cells of each box (0 for empty ones)."""
    cells: NDArray[np.int64] = np.maximum(boxes[:, 1] - boxes[:, 0], 0) * np.maximum(
        boxes[:, 3] - boxes[:, 2], 0
    )
    return cells


def plan_chunks(clipped: NDArray[np.int64], chunk_size: int) -> tuple[list[Chunk], NDArray[np.int64]]:
    """Group polygons whose clipped box fits a chunk into shared reads; return the rest apart.

    Polygons are grouped by the chunk (``chunk_size`` square) holding their box's centre; a
    group reads the union of its boxes, at most ``(2 · chunk_size)²`` cells. Polygons with a
    box taller or wider than ``chunk_size`` are returned as "single" indices (read alone);
    polygons with an empty clipped box (entirely outside the raster) are in neither.

    Returns:
        The chunks in raster order (row-major), and the indices of the single polygons.
    """
    heights = clipped[:, 1] - clipped[:, 0]
    widths = clipped[:, 3] - clipped[:, 2]
    inside = (heights > 0) & (widths > 0)
    small = inside & (heights <= chunk_size) & (widths <= chunk_size)
    single = np.flatnonzero(inside & ~small)
    idx = np.flatnonzero(small)
    if idx.size == 0:
        return [], single
    centre_row = (clipped[idx, 0] + clipped[idx, 1]) // 2 // chunk_size
    centre_col = (clipped[idx, 2] + clipped[idx, 3]) // 2 // chunk_size
    key = centre_row * (int(centre_col.max()) + 1) + centre_col
    order = np.argsort(key, kind="stable")
    idx, key = idx[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    chunks = []
    for members in np.split(idx, starts[1:]):
        box = clipped[members]
        union = (int(box[:, 0].min()), int(box[:, 1].max()), int(box[:, 2].min()), int(box[:, 3].max()))
        chunks.append(Chunk(union, members))
    return chunks, single


def split_box(box: tuple[int, int, int, int], max_pixels: int) -> list[tuple[int, int, int, int]]:
    """Row strips of ``box`` holding at most ``max_pixels`` cells each (at least one row)."""
    row0, row1, col0, col1 = box
    rows = max(1, max_pixels // max(col1 - col0, 1))
    return [(r, min(r + rows, row1), col0, col1) for r in range(row0, row1, rows)]
