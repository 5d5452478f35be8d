"""8-bit imagery warped with OpenCV's ``remap`` over a coordinate map (bilinear), as ``gdalwarp`` would.

GDAL's warper transforms the target pixel centres with an *approximate* transformer: exact
points along each row, linear in between, refined until the error is below 0.125 px
(``gdalwarp -et``). :func:`source_map` does the same in two dimensions: exact PROJ
transforms on a lattice of target pixels every :data:`MAP_STEP` pixels, bilinear in between,
the lattice halved until the interpolation error at the cell centres is at most
:data:`MAX_ERROR_PX`. :func:`remap_window` then samples the source bilinearly (OpenCV's
fixed-point remap: 1/32 px positions, about 10x faster than GDAL's general warp kernel here).

Validity (alpha, nodata or the source footprint) is warped with the colour, which is
premultiplied by it, so colours at the footprint's edge are averages of valid pixels only,
as GDAL weights them by the source alpha. Only for a scale near 1 (GDAL widens its kernel when
downsampling): :func:`fits` tells whether a window may take this path.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import rasterio
from pyproj import Transformer
from pyproj.enums import TransformDirection
from rasterio.windows import Window

#: Target pixels between exactly transformed points of the coordinate map (halved as needed).
MAP_STEP = 64
#: Largest interpolation error of the coordinate map, in source pixels (gdalwarp's default ``-et``).
MAX_ERROR_PX = 0.125
#: Source windows must fit OpenCV's fixed-point maps (coordinates are 16-bit).
MAX_SOURCE_PX = 32000
#: Largest source pixels per target pixel treated as "no downsampling" (GDAL would widen its kernel).
MAX_SCALE = 1.25


class SourceMap(NamedTuple):
    """Source pixel coordinates (0 = centre of the first pixel) of every target pixel centre of a window."""

    cols: np.ndarray
    rows: np.ndarray


def source_map(
    dst_transform: rasterio.Affine,
    shape: tuple[int, int],
    src_transform: rasterio.Affine,
    transformer: Transformer,
) -> SourceMap:
    """The source pixel position of each target pixel centre of a window, within :data:`MAX_ERROR_PX`.

    Args:
        dst_transform: the window's geotransform in the target CRS.
        shape: (rows, cols) of the window.
        src_transform: the source raster's geotransform.
        transformer: source -> target operation (x/y axis order); used inversely.
    """
    step = MAP_STEP
    while True:
        lattice, exact_mid, grid = _lattice(dst_transform, shape, src_transform, transformer, step)
        estimate = _interpolate(lattice, grid, _mid_points(grid))
        error = np.nanmax(np.abs(estimate - exact_mid)) if exact_mid.size else 0.0
        if step == 1 or not np.isfinite(error) or error <= MAX_ERROR_PX:
            break
        step //= 2
    full = _interpolate(lattice, grid, (np.arange(shape[0]), np.arange(shape[1])))
    return SourceMap(full[0], full[1])


def fits(smap: SourceMap) -> bool:
    """Whether a window may be remapped: no downsampling beyond :data:`MAX_SCALE`, source within bounds."""
    cols, rows = smap.cols, smap.rows
    if not (np.all(np.isfinite(cols)) and np.all(np.isfinite(rows))):
        return False
    span = max(cols.max() - cols.min(), rows.max() - rows.min())
    across = np.hypot(np.diff(cols[::64], axis=1), np.diff(rows[::64], axis=1)).max(initial=0.0)
    down = np.hypot(np.diff(cols[:, ::64], axis=0), np.diff(rows[:, ::64], axis=0)).max(initial=0.0)
    return bool(max(across, down) <= MAX_SCALE and span < MAX_SOURCE_PX)


def source_window(smap: SourceMap, width: int, height: int) -> Window | None:
    """The source pixels a map samples (with the bilinear neighbours), clipped to the raster; None if none."""
    col0 = max(int(np.floor(smap.cols.min())) - 1, 0)
    row0 = max(int(np.floor(smap.rows.min())) - 1, 0)
    col1 = min(int(np.ceil(smap.cols.max())) + 2, width)
    row1 = min(int(np.ceil(smap.rows.max())) + 2, height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def remap_window(colour: np.ndarray, valid: np.ndarray, smap: SourceMap, origin: Window) -> np.ndarray:
    """Colour bands and their validity sampled bilinearly at ``smap``: (bands + 1, rows, cols) uint8.

    Args:
        colour: (bands, h, w) uint8 source pixels of ``origin``.
        valid: (h, w) uint8 validity of those pixels (255 valid, 0 not; alpha values between).
        smap: source positions of the target pixels (whole-raster pixel coordinates).
        origin: the source window ``colour`` holds.
    """
    cols, rows = smap.cols - np.float32(origin.col_off), smap.rows - np.float32(origin.row_off)
    map1, map2 = cv2.convertMaps(cols, rows, cv2.CV_16SC2)
    if (valid != 255).any():  # premultiplied colour: edges average valid pixels only (GDAL's alpha weights)
        colour = np.stack([cv2.multiply(band, valid, scale=1 / 255) for band in colour])
    out = np.empty((colour.shape[0] + 1, *smap.cols.shape), dtype=np.uint8)
    for band, data in enumerate([*colour, valid]):
        cv2.remap(data, map1, map2, cv2.INTER_LINEAR, dst=out[band], borderMode=cv2.BORDER_CONSTANT)
    if (out[-1] != 255).any():  # straight colour again: round(c * 255 / alpha), 0 where alpha is 0
        for band in out[:-1]:  # (also where the map leaves the raster: outside pixels weigh nothing)
            cv2.divide(band, out[-1], dst=band, scale=255)
        # GDAL skips a target pixel whose sample point falls in an invalid source pixel
        near = cv2.convertMaps(cols, rows, cv2.CV_16SC2, nninterpolation=True)[0]
        hit = cv2.remap(
            valid, near, np.empty(0, np.uint16), cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
        )
        out[:, hit == 0] = 0
    return out


def _lattice(
    dst_transform: rasterio.Affine,
    shape: tuple[int, int],
    src_transform: rasterio.Affine,
    transformer: Transformer,
    step: int,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Exact source positions at lattice nodes (every ``step`` px and the last) and at the cell centres."""
    grid = tuple(np.unique(np.r_[np.arange(0, n, step), max(n - 1, 1)]).astype(np.float64) for n in shape)
    nodes = _exact(dst_transform, src_transform, transformer, np.meshgrid(grid[0], grid[1], indexing="ij"))
    mid_rows, mid_cols = _mid_points((grid[0], grid[1]))
    mids = _exact(dst_transform, src_transform, transformer, np.meshgrid(mid_rows, mid_cols, indexing="ij"))
    return nodes, mids, (grid[0], grid[1])


def _exact(
    dst_transform: rasterio.Affine,
    src_transform: rasterio.Affine,
    transformer: Transformer,
    rows_cols: tuple[np.ndarray, ...] | list[np.ndarray],
) -> np.ndarray:
    """(2, ...) source (col, row) of target pixel centres at (row, col) positions, through PROJ."""
    rows, cols = rows_cols
    x, y = dst_transform * (cols + 0.5, rows + 0.5)
    sx, sy = transformer.transform(x, y, direction=TransformDirection.INVERSE, errcheck=False)
    scol, srow = ~src_transform * (np.asarray(sx), np.asarray(sy))
    return np.stack([np.asarray(scol) - 0.5, np.asarray(srow) - 0.5])


def _mid_points(grid: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Centres between consecutive lattice nodes along each axis."""
    return (grid[0][:-1] + grid[0][1:]) / 2, (grid[1][:-1] + grid[1][1:]) / 2


def _interpolate(
    values: np.ndarray, grid: tuple[np.ndarray, np.ndarray], at: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Bilinear interpolation of (2, nr, nc) lattice ``values`` at the rows x cols ``at``."""
    rows, cols = (np.asarray(a, dtype=np.float64) for a in at)
    i, ti = _bracket(grid[0], rows)
    j, tj = _bracket(grid[1], cols)
    along = (values[:, :, j] * (1 - tj) + values[:, :, j + 1] * tj).astype(np.float32)  # lattice rows only
    out = np.take(along, i, axis=1)
    step = np.take(along, i + 1, axis=1)
    step -= out
    step *= ti.astype(np.float32)[:, None]
    out += step
    return out


def _bracket(nodes: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the lattice interval holding each position and the position's fraction in it."""
    index = np.clip(np.searchsorted(nodes, at, side="right") - 1, 0, nodes.size - 2)
    return index, (at - nodes[index]) / (nodes[index + 1] - nodes[index])
