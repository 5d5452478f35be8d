"""Static tile pyramids in the WMTS RESTful layout, rendered by a process pool.

Layout below a layer folder: ``{style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.{ext}``,
so with the layer folder named after the layer, ``publish/layers/`` is the WMTS
RESTful tree ``{layer}/{style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.{ext}``.

Every tile is read straight from the COG (GDAL picks the overview) through
:class:`webgis_export.render.FastWarp`, styled and encoded with OpenCV. Tiles
without any data pixel are not written (the service answers them as empty).
Work is split into spatially contiguous chunks over a process pool; each worker
opens the COG once.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import rasterio
from rasterio.warp import transform_bounds

from core.errors import ExportError
from flights.rasters import wgs84_bounds
from webgis_export.models import Style
from webgis_export.render import FastWarp, ImageFormat, configure_gdal, encode, open_published, style_image
from webgis_export.tms import get_tms, zoom_for_gsd

log = logging.getLogger(__name__)

CHUNK = 64
EXTENSIONS: dict[str, str] = {"png": "png", "jpeg": "jpg"}


class PyramidResult(NamedTuple):
    """What a pyramid build produced for one tile matrix set."""

    tms: str
    min_zoom: int
    max_zoom: int
    written: int
    skipped: int
    cpu_seconds: float = 0.0


class TileIndex(NamedTuple):
    """One tile: level, row and column in a tile matrix set."""

    z: int
    row: int
    col: int


def tile_path(root: Path, z: int, row: int, col: int, fmt: ImageFormat) -> Path:
    """Where a tile lives below ``{style}/{TileMatrixSet}``."""
    return root / str(z) / str(row) / f"{col}.{EXTENSIONS[fmt]}"


def tiles_covering(cog: Path, tms_id: str, min_zoom: int, max_zoom: int) -> list[TileIndex]:
    """Every tile of ``tms_id`` between the two levels that intersects the COG's bounds."""
    tms = get_tms(tms_id)
    with rasterio.open(cog) as src:
        left, bottom, right, top = transform_bounds(src.crs, tms.rasterio_crs, *src.bounds, densify_pts=21)
    tiles: list[TileIndex] = []
    for z in range(min_zoom, max_zoom + 1):
        matrix = tms.matrix(z)
        x0, y0 = matrix.pointOfOrigin
        span_x = matrix.cellSize * matrix.tileWidth
        span_y = matrix.cellSize * matrix.tileHeight
        col0 = max(0, math.floor((left - x0) / span_x))
        col1 = min(matrix.matrixWidth - 1, math.floor((right - x0) / span_x - 1e-9))
        row0 = max(0, math.floor((y0 - top) / span_y))
        row1 = min(matrix.matrixHeight - 1, math.floor((y0 - bottom) / span_y - 1e-9))
        tiles.extend(TileIndex(z, r, c) for r in range(row0, row1 + 1) for c in range(col0, col1 + 1))
    return tiles


def default_zooms(cog: Path, tms_id: str, gsd_m: float) -> tuple[int, int]:
    """(min, max) levels: from the level where the product fits one tile down to its GSD."""
    with rasterio.open(cog) as src:
        wgs84 = wgs84_bounds(src.crs.to_wkt(), tuple(src.bounds))
        size_px = max(src.width, src.height)
    if wgs84 is None:
        raise ExportError(f"{cog}: its extent has no WGS84 bounds")
    latitude = (wgs84[1] + wgs84[3]) / 2
    max_zoom = zoom_for_gsd(tms_id, gsd_m, latitude=latitude)
    levels_down = math.ceil(math.log2(max(size_px / 256.0, 1.0)))
    return max(0, max_zoom - levels_down), max_zoom


_WORKER: dict[str, object] = {}


def _init_worker(cog: str) -> None:
    configure_gdal()
    _WORKER["warp"] = FastWarp(open_published(cog))


def _render_chunk(args: tuple[str, str, Style, ImageFormat, list[TileIndex]]) -> tuple[int, int, float]:
    root, tms_id, style, fmt, chunk = args
    started = time.process_time()
    warp = _WORKER["warp"]
    assert isinstance(warp, FastWarp)
    tms = get_tms(tms_id)
    written = skipped = 0
    for z, row, col in chunk:
        matrix = tms.matrix(z)
        x0, y0 = matrix.pointOfOrigin
        span = matrix.cellSize * matrix.tileWidth
        bounds = (x0 + col * span, y0 - (row + 1) * span, x0 + (col + 1) * span, y0 - row * span)
        image = warp.read(bounds, tms.rasterio_crs, matrix.tileWidth, matrix.tileHeight)
        styled = style_image(image, style) if image is not None else None
        if styled is None or styled.empty:
            skipped += 1
            continue
        path = tile_path(Path(root), z, row, col, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(styled, fmt))
        written += 1
    return written, skipped, time.process_time() - started


def build_pyramid(
    cog: Path,
    root: Path,
    style: Style,
    tms_id: str,
    *,
    fmt: ImageFormat,
    zooms: tuple[int, int],
    processes: int | None = None,
) -> PyramidResult:
    """Render every non-empty tile of ``cog`` into ``root`` (= ``{style}/{TileMatrixSet}``).

    ``root`` is expected to be inside a staging folder that is renamed into place as
    a whole, so single tiles are written directly rather than one by one atomically.
    """
    tiles = tiles_covering(cog, tms_id, *zooms)
    chunks = [tiles[i : i + CHUNK] for i in range(0, len(tiles), CHUNK)]
    workers = max(1, min(processes or os.cpu_count() or 1, len(chunks)))
    written = skipped = 0
    cpu = 0.0
    jobs = [(str(root), tms_id, style, fmt, chunk) for chunk in chunks]
    if workers == 1:
        _init_worker(str(cog))
        try:
            results = [_render_chunk(job) for job in jobs]
        finally:
            warp = _WORKER.pop("warp")
            assert isinstance(warp, FastWarp)
            warp.dataset.close()
    else:
        # fork is instant and shares the imported modules, but is only safe without other
        # threads (the CLI); inside a threaded server, start clean workers instead
        method = "fork" if threading.active_count() == 1 else "forkserver"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(str(cog),)
        ) as pool:
            results = list(pool.map(_render_chunk, jobs))
    for done, empty, seconds in results:
        written += done
        skipped += empty
        cpu += seconds
    log.info("%s %s z%d-%d: %d tiles written, %d empty", cog.name, tms_id, *zooms, written, skipped)
    return PyramidResult(tms_id, zooms[0], zooms[1], written, skipped, cpu)
