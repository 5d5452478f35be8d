"""Nearest-neighbour sampling of a source read for a tile or map image, from a lattice of source positions.

:class:`webgis_export.render.FastWarp` transforms a coarse lattice of output pixel centres to source
pixel positions. Over a tile or a map image the transform between two projected CRSs is nearly affine;
when an affine map through the lattice is within :data:`AFFINE_TOLERANCE_PX` of every lattice node,
``cv2.warpAffine`` samples the source directly (no per-pixel maps: about 5x less work on a 256 px tile,
more on a 1024 px map image). Otherwise the lattice is densified bilinearly to per-pixel maps for
``cv2.remap``. Both round the position to the nearest source pixel.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import cv2
import numpy as np

#: Largest distance (source pixels of the read) between the affine map and the lattice; well below
#: GDAL's approximate-transformer threshold (0.125 px), so nearest-neighbour picks change only where a
#: position lies within this distance of a pixel boundary.
AFFINE_TOLERANCE_PX = 0.02


class Sampler(NamedTuple):
    """Where each output pixel samples the source read: an affine map, or per-pixel maps."""

    width: int
    height: int
    affine: np.ndarray | None
    """2 x 3: output pixel (col, row) -> source (x, y); None when the maps are used."""
    maps: tuple[np.ndarray, np.ndarray] | None

    def nearest(self, band: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``band`` sampled at every output pixel (outside the read: 0), into ``out`` when given."""
        if self.affine is not None:
            flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
            size = (self.width, self.height)
            return cv2.warpAffine(band, self.affine, size, out, flags, cv2.BORDER_CONSTANT)
        assert self.maps is not None
        return cv2.remap(band, *self.maps, cv2.INTER_NEAREST, out, cv2.BORDER_CONSTANT, 0)


def sampler(lattice_x: np.ndarray, lattice_y: np.ndarray, width: int, height: int) -> Sampler:
    """The sampler of a lattice of source positions (node k on output pixel k·(size−1)/(nodes−1))."""
    affine = _affine(lattice_x, lattice_y, width, height)
    if affine is not None:
        return Sampler(width, height, affine, None)
    return Sampler(
        width, height, None, (densify(lattice_x, height, width), densify(lattice_y, height, width))
    )


def _affine(lattice_x: np.ndarray, lattice_y: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """The affine map through the lattice when every node is within the tolerance, else None."""
    nodes_y, nodes_x = lattice_x.shape
    cols = np.linspace(0.0, width - 1, nodes_x)[None, :]
    rows = np.linspace(0.0, height - 1, nodes_y)[:, None]
    rows_out = []
    for lattice in (lattice_x, lattice_y):
        along = float((lattice[:, -1] - lattice[:, 0]).mean()) / max(width - 1, 1)
        down = float((lattice[-1, :] - lattice[0, :]).mean()) / max(height - 1, 1)
        residual = lattice - (along * cols + down * rows)
        low, high = float(residual.min()), float(residual.max())
        if high - low > 2 * AFFINE_TOLERANCE_PX:
            return None
        rows_out.append([along, down, (low + high) / 2])
    return np.array(rows_out, dtype=np.float64)


@lru_cache(maxsize=16)
def _lattice_index(size: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower node index and fraction for each of ``size`` output pixel centres.

    Node k sits on output pixel k·(size−1)/(nodes−1), matching :meth:`FastWarp._lattice`.
    """
    position = np.arange(size) * (nodes - 1) / max(size - 1, 1)
    lower = np.minimum(np.floor(position).astype(np.intp), nodes - 2)
    return lower, position - lower


def densify(lattice: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear interpolation of a node lattice to every output pixel (float32).

    Separable and element-wise on purpose: a BLAS matrix product of these tiny
    matrices costs tens of milliseconds when OpenBLAS threads compete for busy cores.
    """
    nodes_y, nodes_x = lattice.shape
    lx, fx = _lattice_index(width, nodes_x)
    ly, fy = _lattice_index(height, nodes_y)
    rows = lattice[:, lx] * (1.0 - fx) + lattice[:, lx + 1] * fx
    dense: np.ndarray = (rows[ly, :] * (1.0 - fy)[:, None] + rows[ly + 1, :] * fy[:, None]).astype(np.float32)
    return dense


@lru_cache(maxsize=16)
def lattice_grid(width: int, height: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Output pixel centres (u, v) of the lattice nodes (node k on output pixel k·(size−1)/(nodes−1))."""
    grid = np.meshgrid(np.linspace(0.5, width - 0.5, nodes), np.linspace(0.5, height - 0.5, nodes))
    for axis in grid:
        axis.flags.writeable = False
    return grid[0], grid[1]


def source_window(
    cols: np.ndarray, rows: np.ndarray, level_w: int, level_h: int
) -> tuple[tuple[int, int, int, int], bool] | None:
    """The window (c0, r0, c1, r1) of a level covering the positions with a pixel's margin, clipped to
    the level, and whether clipping cut it; ``None`` when it misses the level."""
    c0, c1 = int(np.floor(cols.min())) - 1, int(np.ceil(cols.max())) + 2
    r0, r1 = int(np.floor(rows.min())) - 1, int(np.ceil(rows.max())) + 2
    if c1 <= 0 or r1 <= 0 or c0 >= level_w or r0 >= level_h:
        return None
    clipped = (max(c0, 0), max(r0, 0), min(c1, level_w), min(r1, level_h))
    return clipped, clipped != (c0, r0, c1, r1)
