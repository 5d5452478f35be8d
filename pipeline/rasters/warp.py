"""A raster's target grid materialised strip by strip: warped (or copied) in bounded memory.

:func:`materialise` writes the target grid of a :class:`WarpPlan` to a tiled, uncompressed scratch
GeoTIFF: each strip is warped with :func:`rasterio.warp.reproject` (reading only the source region
it needs) - bilinear 8-bit imagery (orthophotos) in 512 x 2048 windows by :mod:`pipeline.rasters.remap`
(OpenCV over a coordinate map within gdalwarp's 0.125 px error; several times faster);
:data:`WARP_WORKERS` strips are warped at once in threads and written in order, so memory is bounded
by a few strips and :data:`WARP_MEM_MB` whatever the raster size. Imagery gets an
alpha band (from the source alpha, nodata or the warp footprint); other data keeps nodata; heights
to convert to DVR90 are converted strip by strip.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from rasterio import windows
from rasterio.enums import ColorInterp, Resampling
from rasterio.warp import calculate_default_transform, reproject
from rasterio.windows import Window

from pipeline.geodesy.decision import HeightPlan
from pipeline.geodesy.dvr90 import convert_heights
from pipeline.rasters.cog import CogProfile, overview_factors
from pipeline.rasters.inputs import RasterInfo
from pipeline.rasters.operations import Operation
from pipeline.rasters.remap import fits, remap_window, source_map, source_window

#: Rows per window when materialising the target grid (memory: rows x width x bands).
STRIP_ROWS = 1024
WARP_MEM_MB = 256
#: Strips warped at once (each on its own dataset handle) and GDAL warp threads per strip:
#: two strips in flight keep every core busy while one strip is read or written, as
#: ``gdalwarp -multi`` overlaps I/O with computation.
WARP_WORKERS = 2
WARP_THREADS = max(1, (os.cpu_count() or 1) // WARP_WORKERS)
#: Window of the OpenCV path for bilinear 8-bit imagery (:mod:`pipeline.rasters.remap`): rows x cols.
REMAP_WINDOW = (512, 2048)


class Grid(NamedTuple):
    """A north-up output grid: its geotransform and size."""

    transform: rasterio.Affine
    width: int
    height: int


class WarpPlan(NamedTuple):
    """How one raster reaches its target grid (decided by ``pipeline.rasters.reproject``).

    ``identity``: the operation moves no pixel beyond tolerance, so the source grid is the target
    grid and strips are copied, not resampled.
    """

    info: RasterInfo
    target_crs: str
    operation: Operation
    resampling: Resampling
    profile: CogProfile
    heights: HeightPlan | None
    identity: bool


class _Strips(NamedTuple):
    """What every strip of one plan shares: grid, nodata, colour bands, imagery or values."""

    grid: Grid
    nodata: float | None
    colour: list[int]
    imagery: bool


def target_grid(info: RasterInfo, target_crs: str, operation: Operation) -> Grid:
    """The output grid GDAL would suggest (as ``gdalwarp`` does) for ``info`` in ``target_crs``."""
    transform, width, height = calculate_default_transform(
        info.crs, target_crs, info.width, info.height, *info.bounds, **operation.gdal_options
    )
    return Grid(transform, int(width), int(height))


def materialise(plan: WarpPlan, out: Path) -> None:
    """Write the plan's target grid to a tiled, uncompressed scratch GeoTIFF, strip by strip."""
    info, prof = plan.info, plan.profile
    imagery = prof.mask
    nodata = None if imagery else (info.nodata if info.nodata is not None else prof.nodata)
    dtype = prof.dtype or info.dtype
    grid = (
        Grid(info.transform, info.width, info.height)
        if plan.identity
        else target_grid(info, plan.target_crs, plan.operation)
    )
    colour = [b for b in range(1, info.band_count + 1) if not (info.has_alpha and b == _alpha_index(info))]
    count = len(colour) + 1 if imagery else info.band_count
    profile = {
        "driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
        "width": grid.width, "height": grid.height, "count": count, "dtype": dtype,
        "crs": plan.target_crs, "transform": grid.transform, "nodata": nodata,
    }  # fmt: skip
    strips = _Strips(grid, nodata, colour, imagery)
    with (
        rasterio.Env(GDAL_CACHEMAX=32 << 20),  # bytes (an int goes to GDALSetCacheMax64)
        rasterio.open(info.path) as ds,
        rasterio.open(out, "w", **profile) as sink,
    ):
        if imagery:  # the alpha band stays unlabelled until the COG copy: see _build_overviews
            sink.colorinterp = [*(ds.colorinterp[b - 1] for b in colour), ColorInterp.undefined]
        for window, data in _strips(plan, strips, ds):
            if plan.heights is not None and plan.heights.transformer is not None:
                strip = windows.transform(window, grid.transform)
                data = convert_heights(data, strip, plan.heights.transformer, nodata)
            sink.write(data.astype(dtype, copy=False), window=window)
        _build_overviews(sink, prof)


def _strips(
    plan: WarpPlan, strips: _Strips, ds: rasterio.io.DatasetReader
) -> Iterator[tuple[Window, np.ndarray]]:
    """Every strip of the target grid with its data, in order: copied (identity) or warped in threads."""
    grid = strips.grid
    rows, cols = REMAP_WINDOW if _remappable(plan) else (STRIP_ROWS, grid.width)
    windows_ = [
        Window(col, row, min(cols, grid.width - col), min(rows, grid.height - row))
        for row in range(0, grid.height, rows)
        for col in range(0, grid.width, cols)
    ]
    if plan.identity:
        yield from zip(
            windows_, (_read_strip(ds, plan.info, window, strips) for window in windows_), strict=True
        )
        return
    # the pool is shut down (its threads joined) before the handles close
    with _Handles(plan.info.path) as handles, ThreadPoolExecutor(max_workers=WARP_WORKERS) as pool:
        warp = partial(_warp_strip_from, plan, strips, handles)  # in parallel, yielded in order
        yield from zip(windows_, _in_order(pool, warp, windows_, WARP_WORKERS), strict=True)


class _Handles:
    """A dataset handle per worker thread (an open costs ~10 ms, too much per window); closed at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.local = threading.local()
        self.opened: list[rasterio.io.DatasetReader] = []
        self.lock = threading.Lock()

    def get(self) -> rasterio.io.DatasetReader:
        """This thread's handle."""
        ds: rasterio.io.DatasetReader | None = getattr(self.local, "ds", None)
        if ds is None:
            ds = self.local.ds = rasterio.open(self.path)
            with self.lock:
                self.opened.append(ds)
        return ds

    def __enter__(self) -> _Handles:
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            for ds in self.opened:
                ds.close()


def _in_order(
    pool: ThreadPoolExecutor, job: Callable[[Window], np.ndarray], strips: list[Window], workers: int
) -> Iterator[np.ndarray]:
    """``job`` over ``strips`` on ``pool``, in order, with at most ``workers`` + 1 strips held.

    Unlike ``pool.map`` this keeps memory bounded when the consumer is slower than the workers.
    """
    pending: deque[Future[np.ndarray]] = deque()
    for window in strips:
        pending.append(pool.submit(job, window))
        if len(pending) > workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _build_overviews(sink: rasterio.io.DatasetWriter, prof: CogProfile) -> None:
    """Internal overviews of the scratch raster, with every band resampled on its own.

    GDAL's alpha-aware overview resampling is about twice as slow as the plain one, so
    the alpha band is labelled only afterwards (:func:`pipeline.rasters.cog.write_cog` ``alpha_band``).
    Edge pixels of overviews then mix with the transparent black outside the footprint, as in
    a ``gdalwarp`` + ``gdal_translate -of COG`` chain; the full resolution is unaffected.
    """
    factors = overview_factors(sink.width, sink.height)
    if factors:
        with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS", GDAL_TIFF_OVR_BLOCKSIZE=512):
            sink.build_overviews(factors, Resampling[prof.overview_resampling])


def _alpha_index(info: RasterInfo) -> int:
    """1-based index of the alpha band (the last band by convention when ``has_alpha``)."""
    return info.band_count


def _read_strip(
    ds: rasterio.io.DatasetReader, info: RasterInfo, window: Window, strips: _Strips
) -> np.ndarray:
    """One strip of the source grid; imagery gets its validity as an alpha band."""
    if not strips.imagery:
        return np.asarray(ds.read(window=window))
    data = ds.read(strips.colour, window=window)
    alpha = ds.read(_alpha_index(info), window=window) if info.has_alpha else ds.dataset_mask(window=window)
    return np.asarray(np.concatenate([data, alpha[None]]))


def _warp_strip_from(plan: WarpPlan, strips: _Strips, handles: _Handles, window: Window) -> np.ndarray:
    """:func:`_warp_strip` on the worker thread's own dataset handle."""
    return _warp_strip(handles.get(), plan, strips, window)


def _warp_strip(ds: rasterio.io.DatasetReader, plan: WarpPlan, strips: _Strips, window: Window) -> np.ndarray:
    """One strip of the target grid, warped from the source with the plan's operation."""
    if _remappable(plan):
        remapped = _remap_strip(ds, plan, strips, window)
        if remapped is not None:
            return remapped
    info, colour, nodata = plan.info, strips.colour, strips.nodata
    shape = (int(window.height), int(window.width))
    common: dict[str, object] = {
        "src_crs": info.crs, "src_transform": info.transform,
        "dst_transform": windows.transform(window, strips.grid.transform),
        "dst_crs": plan.target_crs, "resampling": plan.resampling, "num_threads": WARP_THREADS,
        "warp_mem_limit": WARP_MEM_MB, **plan.operation.gdal_options,
    }  # fmt: skip
    if strips.imagery:
        out = np.zeros((len(colour) + 1, *shape), dtype=info.dtype)
        bands = [*colour, _alpha_index(info)] if info.has_alpha else colour
        extra = {"src_alpha": len(bands)} if info.has_alpha else {"src_nodata": info.nodata}
        reproject(rasterio.band(ds, bands), out, dst_alpha=len(colour) + 1, **extra, **common)
        return out
    out = np.full((info.band_count, *shape), nodata if nodata is not None else 0, dtype=info.dtype)
    reproject(
        rasterio.band(ds, list(range(1, info.band_count + 1))), out,
        src_nodata=info.nodata, dst_nodata=nodata, init_dest_nodata=True, **common,
    )  # fmt: skip
    return out


def _remappable(plan: WarpPlan) -> bool:
    """Whether the plan warps 8-bit imagery bilinearly (the OpenCV path; GDAL's warper otherwise)."""
    return (
        not plan.identity
        and plan.profile.mask
        and plan.info.dtype == "uint8"
        and plan.resampling is Resampling.bilinear
        and plan.heights is None
    )


def _remap_strip(
    ds: rasterio.io.DatasetReader, plan: WarpPlan, strips: _Strips, window: Window
) -> np.ndarray | None:
    """One window of 8-bit imagery warped by :mod:`pipeline.rasters.remap`; None where it does not fit."""
    shape = (int(window.height), int(window.width))
    dst_transform = windows.transform(window, strips.grid.transform)
    smap = source_map(dst_transform, shape, plan.info.transform, plan.operation.transformer)
    if not fits(smap):
        return None
    origin = source_window(smap, plan.info.width, plan.info.height)
    if origin is None:
        return np.zeros((len(strips.colour) + 1, *shape), dtype=np.uint8)
    pixels = _read_strip(ds, plan.info, origin, strips)
    return remap_window(pixels[:-1], pixels[-1], smap, origin)
