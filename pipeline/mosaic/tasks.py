"""The thermal mosaic as window tasks: every output block is computed on its own, anywhere.

:func:`pipeline.mosaic.build.thermal_mosaic` cuts the output grid into blocks and
hands one :class:`MosaicWindow` per block to an executor (this process, a local pool or
a Dask cluster); :func:`mosaic_window` opens the few frames that overlap the block,
warps them and blends them nearest-to-nadir, and returns the block. The process that
called the executor writes the blocks, so memory no longer grows with the grid.

A window's pixels are bit for bit those of a whole-grid blend: each frame is warped
(nearest neighbour) into its *own* window of the output grid exactly as a whole-grid
run would warp it — GDAL's approximate transformer depends on the destination extent,
so warping straight into the block could move a pixel — and the block's part is cut
out of that; the frames are then visited in input order with the same strict
``distance < best`` rule, so ties still go to the earlier frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import rasterio
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject
from rasterio.warp import transform as warp_transform

from pipeline.thermal.frames import TAG_PREFIX

__all__ = ["MosaicFrame", "MosaicWindow", "frame_window", "mosaic_window", "plan_windows"]


class MosaicFrame(NamedTuple):
    """A frame and the rows/columns of the output grid it touches (half-open ranges)."""

    path: str
    rows: tuple[int, int]
    cols: tuple[int, int]


class MosaicWindow(NamedTuple):
    """One block of the mosaic to compute (a picklable task)."""

    window: tuple[int, int, int, int]
    """(col_off, row_off, width, height) in the output grid."""
    frames: tuple[MosaicFrame, ...]
    """The frames overlapping the block, in the mosaic's frame order."""
    transform: tuple[float, float, float, float, float, float]
    """The output grid's affine (a, b, c, d, e, f)."""
    target_crs: str


def frame_window(
    bounds: tuple[float, float, float, float], transform: Any, width: int, height: int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns of the output grid that a frame's bounds touch (one pixel margin)."""
    left, bottom, right, top = bounds
    t = transform
    col0 = max(0, math.floor((left - t.c) / t.a) - 1)
    col1 = min(width, math.ceil((right - t.c) / t.a) + 1)
    row0 = max(0, math.floor((top - t.f) / t.e) - 1)
    row1 = min(height, math.ceil((bottom - t.f) / t.e) + 1)
    return (row0, row1), (col0, col1)


def plan_windows(
    frames: Sequence[MosaicFrame],
    windows: Sequence[tuple[int, int, int, int]],
    transform: Any,
    target_crs: str,
) -> list[MosaicWindow]:
    """One task per block, each listing only the frames whose window overlaps the block."""
    affine = (transform.a, transform.b, transform.c, transform.d, transform.e, transform.f)
    tasks = []
    for window in windows:
        col0, row0, w, h = window
        touching = tuple(
            f
            for f in frames
            if f.rows[0] < row0 + h and row0 < f.rows[1] and f.cols[0] < col0 + w and col0 < f.cols[1]
        )
        tasks.append(MosaicWindow(window, touching, affine, target_crs))
    return tasks


def mosaic_window(task: MosaicWindow) -> np.ndarray:
    """The float32 °C block of one window: nearest-to-nadir over its frames, NaN where none."""
    col0, row0, width, height = task.window
    t = Affine(*task.transform)
    best = np.full((height, width), np.inf)
    out = np.full((height, width), np.nan, dtype=np.float32)
    xs = (np.arange(col0, col0 + width) + 0.5) * t.a + t.c
    ys = (np.arange(row0, row0 + height) + 0.5) * t.e + t.f
    for frame in task.frames:
        warped, (nx, ny) = _warp_frame(frame, t, task.target_crs)
        r0, r1 = max(frame.rows[0], row0), min(frame.rows[1], row0 + height)
        c0, c1 = max(frame.cols[0], col0), min(frame.cols[1], col0 + width)
        rs, cs = slice(r0 - row0, r1 - row0), slice(c0 - col0, c1 - col0)
        part = warped[r0 - frame.rows[0] : r1 - frame.rows[0], c0 - frame.cols[0] : c1 - frame.cols[0]]
        dist = (xs[cs][None, :] - nx) ** 2 + (ys[rs][:, None] - ny) ** 2
        sub_best, sub_out = best[rs, cs], out[rs, cs]
        take = np.isfinite(part) & (dist < sub_best)
        sub_out[take], sub_best[take] = part[take], dist[take]
    return out


def _warp_frame(
    frame: MosaicFrame, grid_transform: Any, target_crs: str
) -> tuple[np.ndarray, tuple[float, float]]:
    """The frame resampled (nearest) into its whole window of the output grid, and its nadir point."""
    (row0, row1), (col0, col1) = frame.rows, frame.cols
    window_transform = grid_transform @ Affine.translation(col0, row0)
    warped = np.full((row1 - row0, col1 - col0), np.nan, dtype=np.float32)
    with rasterio.open(Path(frame.path)) as src:
        reproject(
            rasterio.band(src, 1),
            warped,
            dst_transform=window_transform,
            dst_crs=target_crs,
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
        return warped, _nadir(src, target_crs)


def _nadir(src: Any, target_crs: str) -> tuple[float, float]:
    """The camera's ground point: GPS tags when present, else the raster centre."""
    tags = src.tags()
    lat, lon = tags.get(f"{TAG_PREFIX}GPS_LAT"), tags.get(f"{TAG_PREFIX}GPS_LON")
    if lat is not None and lon is not None:
        xs, ys = warp_transform("EPSG:4326", target_crs, [float(lon)], [float(lat)])
        return xs[0], ys[0]
    cx = (src.bounds.left + src.bounds.right) / 2
    cy = (src.bounds.bottom + src.bounds.top) / 2
    xs, ys = warp_transform(src.crs, target_crs, [cx], [cy])
    return xs[0], ys[0]
