"""Orthophotos, DSMs and DTMs to COGs in the municipality's CRS (default EPSG:25832).

:func:`reproject_to_cog` reads any georeferenced raster (see :mod:`pipeline.rasters`),
reprojects it window by window (bounded memory whatever the size), decides the vertical
datum of DSM/DTM heights and converts known ellipsoidal heights to DVR90 when the grid is
available (:mod:`pipeline.geodesy`), and writes a COG with the kind's profile
(:mod:`pipeline.cog`); a DVR90 product's COG carries the compound CRS (EPSG:7416 for
EPSG:25832). Every product records the PROJ operation used.

Identity shortcut: when the chosen operation moves no pixel by more than
``identity_tolerance_px`` (default 0.01 px) anywhere on the raster, the pixel grid in
the target CRS *is* the source grid, so a warp would only resample the pixels onto
themselves. The raster is then relabelled with the target CRS and copied, without
resampling. This is the case for PROJ's default EPSG:32632 -> EPSG:25832 operation
("Inverse of ETRS89 to WGS 84 (1)", a null datum shift with 1 m accuracy: the two UTM
grids coincide to about 0.1 mm). The measured maximum shift is recorded in the
product's ``georef.max_shift_px``. A user-chosen ``transformation`` that really
moves pixels (e.g. a Helmert ITRF step) is warped like any other.
"""

from __future__ import annotations

import logging
import math
import os
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

from core.atomic import scratch_path
from core.errors import UsageError
from pipeline.cog import CogProfile, overview_factors, profile_for, resolve_profile, write_cog
from pipeline.geodesy.decision import HeightPlan, datum_tags, plan_heights
from pipeline.geodesy.dvr90 import convert_heights
from pipeline.models import DeliveredGeoref, HeightDatum, Product, ProductKind
from pipeline.operations import Operation, choose_operation, max_shift_px
from pipeline.products import product_id as default_id
from pipeline.rasters import RasterInfo, check_target_area, open_raster

log = logging.getLogger(__name__)

HEIGHT_KINDS = (ProductKind.DSM, ProductKind.DTM)
#: Rows per window when materialising the target grid (memory: rows x width x bands).
STRIP_ROWS = 1024
WARP_MEM_MB = 256
#: Strips warped at once (each on its own dataset handle) and GDAL warp threads per strip:
#: two strips in flight keep every core busy while one strip is read or written, as
#: ``gdalwarp -multi`` overlaps I/O with computation.
WARP_WORKERS = 2
WARP_THREADS = max(1, (os.cpu_count() or 1) // WARP_WORKERS)


class _Grid(NamedTuple):
    transform: rasterio.Affine
    width: int
    height: int


def reproject_to_cog(
    src: Path,
    dst: Path,
    *,
    kind: ProductKind,
    target_crs: str = "EPSG:25832",
    src_crs: str | None = None,
    transformation: str | None = None,
    resampling: str | None = None,
    grids: Path | None = None,
    flight: str = "",
    product_id: str | None = None,
    profile: str | CogProfile | None = None,
    declared_datum: HeightDatum | None = None,
    identity_tolerance_px: float = 0.01,
    workspace_root: Path | None = None,
    cache_mb: int = 256,
) -> Product:
    """Reproject a georeferenced raster to a COG in ``target_crs`` and describe it.

    Args:
        src: GeoTIFF, image + world file, ODM orthophoto or DEM.
        dst: the COG to write (atomically).
        kind: orthophoto, dsm, dtm or thermal; selects the profile and resampling.
        target_crs: the output CRS.
        src_crs: the user's CRS for ``src`` (overrides the file's; needed when it has none).
        transformation: a PROJ pipeline string or an EPSG operation code (``EPSG:1149``)
            from ``src`` CRS to ``target_crs``; default: PROJ's best available operation.
        resampling: rasterio resampling name for the warp; default: the profile's.
        grids: folder holding the DVR90 PROJ grids (DSM/DTM heights -> DVR90).
        flight: flight id recorded in the product.
        product_id: product id; default ``<flight>-<kind>``.
        profile: a COG profile (name or object); default by ``kind``.
        declared_datum: the delivery's declaration of the heights' datum (DSM/DTM only;
            :func:`pipeline.geodesy.decision.plan_heights` decides, the file's CRS first).
        identity_tolerance_px: largest pixel shift treated as "no warp needed".
        workspace_root: when given, ``Product.path`` is relative to it.
        cache_mb: GDAL_CACHEMAX (MB) while writing; bounds memory.

    Returns:
        The product, with ``transformation`` and (DSM/DTM) ``datum`` filled in.

    Raises:
        GeoreferenceError: the input has no CRS or implausible georeferencing.
        UsageError: unknown profile, resampling or transformation.
    """
    info = open_raster(src, crs=src_crs)
    check_target_area(info, target_crs)
    prof = resolve_profile(profile or profile_for(kind))
    if prof.dtype == "uint8" and info.dtype != "uint8":
        raise UsageError(
            f"{src}: {info.dtype} imagery does not fit the 8-bit profile {prof.name}; "
            "choose a lossless profile (e.g. 'classes') or convert it to 8 bit first"
        )
    try:
        warp_resampling = Resampling[resampling or prof.warp_resampling]
    except KeyError:
        raise UsageError(f"unknown resampling {resampling!r}; use a rasterio Resampling name") from None
    operation = choose_operation(info.crs, target_crs, transformation)
    shift = max_shift_px(operation, info)
    identity = shift <= identity_tolerance_px
    heights = (
        plan_heights(info.path, info.crs, target_crs=target_crs, declared=declared_datum, grids=grids)
        if kind in HEIGHT_KINDS
        else None
    )
    tags = _tags(operation, heights, prof, identity, shift)
    out_crs = heights.datum.crs if heights is not None and heights.datum.crs else target_crs
    if identity and not _needs_pixels(info, prof, heights):
        write_cog(info.path, dst, prof, crs=out_crs, tags=tags, cache_mb=cache_mb)
    else:
        with scratch_path(dst, suffix=".tif") as scratch:
            _materialise(info, scratch, target_crs, operation, warp_resampling, prof, heights, identity)
            with rasterio.open(scratch) as done:
                alpha = done.count if prof.mask else None
            write_cog(scratch, dst, prof, crs=out_crs, tags=tags, alpha_band=alpha, cache_mb=cache_mb)
    return _product(
        dst, info, kind, target_crs, operation, heights, prof, identity, shift,
        flight=flight, product_id=product_id, workspace_root=workspace_root, resampling=warp_resampling,
    )  # fmt: skip


def _needs_pixels(info: RasterInfo, prof: CogProfile, heights: HeightPlan | None) -> bool:
    """Whether pixel values must change even without a warp."""
    if heights is not None and heights.transformer is not None:
        return True
    if prof.dtype is not None and prof.dtype != info.dtype:
        return True
    if prof.mask and info.nodata is not None and not info.has_alpha:
        return True  # nodata in lossy imagery must become a mask
    return False


def _tags(
    operation: Operation, heights: HeightPlan | None, prof: CogProfile, identity: bool, shift: float
) -> dict[str, str]:
    tags = {
        "DRONEGIS_TRANSFORMATION": operation.label,
        "DRONEGIS_WARP": "identity (relabel, no resampling)" if identity else "warped",
        "DRONEGIS_MAX_SHIFT_PX": f"{shift:.3g}",
        "DRONEGIS_COG_PROFILE": prof.name,
    }
    return tags | (datum_tags(heights.datum) if heights is not None else {})


def target_grid(info: RasterInfo, target_crs: str, operation: Operation) -> _Grid:
    """The output grid GDAL would suggest (as ``gdalwarp`` does) for ``info`` in ``target_crs``."""
    transform, width, height = calculate_default_transform(
        info.crs, target_crs, info.width, info.height, *info.bounds, **operation.gdal_options
    )
    return _Grid(transform, int(width), int(height))


def _materialise(
    info: RasterInfo,
    out: Path,
    target_crs: str,
    operation: Operation,
    resampling: Resampling,
    prof: CogProfile,
    heights: HeightPlan | None,
    identity: bool,
) -> None:
    """Write the target grid to a tiled, uncompressed scratch GeoTIFF, strip by strip.

    Each strip is warped with :func:`rasterio.warp.reproject` (reading only the source
    region it needs); ``WARP_WORKERS`` strips are warped at once in threads and written
    in order, so memory is bounded by a few strips and ``WARP_MEM_MB`` whatever the
    raster size. Imagery gets an alpha
    band (from the source alpha, nodata or the warp footprint); other data keeps nodata.
    """
    imagery = prof.mask
    nodata = None if imagery else (info.nodata if info.nodata is not None else prof.nodata)
    dtype = prof.dtype or info.dtype
    grid = (
        _Grid(info.transform, info.width, info.height)
        if identity
        else target_grid(info, target_crs, operation)
    )
    colour = [b for b in range(1, info.band_count + 1) if not (info.has_alpha and b == _alpha_index(info))]
    count = len(colour) + 1 if imagery else info.band_count
    profile = {
        "driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
        "width": grid.width, "height": grid.height, "count": count, "dtype": dtype,
        "crs": target_crs, "transform": grid.transform, "nodata": nodata,
    }  # fmt: skip
    with (
        rasterio.Env(GDAL_CACHEMAX=128),
        rasterio.open(info.path) as ds,
        rasterio.open(out, "w", **profile) as sink,
    ):
        if imagery:  # the alpha band stays unlabelled until the COG copy: see _build_overviews
            sink.colorinterp = [*(ds.colorinterp[b - 1] for b in colour), ColorInterp.undefined]
        strips = [
            Window(0, row, grid.width, min(STRIP_ROWS, grid.height - row))
            for row in range(0, grid.height, STRIP_ROWS)
        ]
        results: Iterator[np.ndarray]
        with ThreadPoolExecutor(max_workers=1 if identity else WARP_WORKERS) as pool:
            if identity:
                results = (_read_strip(ds, info, window, colour, imagery) for window in strips)
            else:
                warp = partial(
                    _warp_strip_from, info, grid=grid, target_crs=target_crs, operation=operation,
                    resampling=resampling, nodata=nodata, colour=colour, imagery=imagery,
                )  # fmt: skip
                results = _in_order(pool, warp, strips, WARP_WORKERS)  # parallel, written in order
            for window, data in zip(strips, results, strict=True):
                if heights is not None and heights.transformer is not None:
                    strip = windows.transform(window, grid.transform)
                    data = convert_heights(data, strip, heights.transformer, nodata)
                sink.write(data.astype(dtype, copy=False), window=window)
        _build_overviews(sink, prof)


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
    the alpha band is labelled only afterwards (:func:`write_cog` ``alpha_band``). Edge
    pixels of overviews then mix with the transparent black outside the footprint, as in
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
    ds: rasterio.io.DatasetReader, info: RasterInfo, window: Window, colour: list[int], imagery: bool
) -> np.ndarray:
    """One strip of the source grid; imagery gets its validity as an alpha band."""
    if not imagery:
        return np.asarray(ds.read(window=window))
    data = ds.read(colour, window=window)
    alpha = ds.read(_alpha_index(info), window=window) if info.has_alpha else ds.dataset_mask(window=window)
    return np.asarray(np.concatenate([data, alpha[None]]))


def _warp_strip_from(info: RasterInfo, window: Window, **kwargs: object) -> np.ndarray:
    """:func:`_warp_strip` on a dataset handle of its own (one per worker thread)."""
    with rasterio.open(info.path) as ds:
        return _warp_strip(ds, info, window, **kwargs)  # type: ignore[arg-type]


def _warp_strip(
    ds: rasterio.io.DatasetReader,
    info: RasterInfo,
    window: Window,
    *,
    grid: _Grid,
    target_crs: str,
    operation: Operation,
    resampling: Resampling,
    nodata: float | None,
    colour: list[int],
    imagery: bool,
) -> np.ndarray:
    """One strip of the target grid, warped from the source with ``operation``."""
    shape = (int(window.height), int(window.width))
    common: dict[str, object] = {
        "src_crs": info.crs, "src_transform": info.transform,
        "dst_transform": windows.transform(window, grid.transform),
        "dst_crs": target_crs, "resampling": resampling, "num_threads": WARP_THREADS,
        "warp_mem_limit": WARP_MEM_MB, **operation.gdal_options,
    }  # fmt: skip
    if imagery:
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


def _product(
    dst: Path,
    info: RasterInfo,
    kind: ProductKind,
    target_crs: str,
    operation: Operation,
    heights: HeightPlan | None,
    prof: CogProfile,
    identity: bool,
    shift: float,
    *,
    flight: str,
    product_id: str | None,
    workspace_root: Path | None,
    resampling: Resampling,
) -> Product:
    with rasterio.open(dst) as out:
        bounds = tuple(out.bounds)
        gsd = float(abs(out.transform.a))
    path = str(dst.resolve().relative_to(workspace_root.resolve())) if workspace_root else str(dst)
    return Product(
        id=product_id or default_id(flight or dst.stem, kind.value),
        flight=flight,
        kind=kind,
        path=path,
        crs=target_crs,
        bounds=bounds,
        gsd_m=gsd,
        source_files=(str(info.path),),
        height_datum=heights.datum.datum if heights is not None else HeightDatum.NOT_APPLICABLE,
        datum=heights.datum if heights is not None else None,
        transformation=operation.label,
        units=prof.units,
        georef=DeliveredGeoref(
            cog_profile=prof.name,
            source_crs=info.crs,
            warp="identity (relabel, no resampling)" if identity else "warped",
            max_shift_px=shift if math.isfinite(shift) else None,
            resampling="none" if identity else resampling.name,
            operation_accuracy_m=operation.accuracy,
        ),
    )
