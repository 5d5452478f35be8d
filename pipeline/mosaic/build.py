"""The flight's °C mosaic: georeferenced thermal frames blended nearest-to-nadir into one COG.

Blend: **nearest-to-nadir** — each output pixel takes the value of the frame whose nadir
point (the camera GPS position from the frame's tags, else the frame centre) is closest,
among frames with data there. Values are resampled with nearest neighbour and never scaled,
blended or colour-balanced. The grid is computed window by window as tasks on an
:class:`~pipeline.executors.Executor` (:mod:`pipeline.mosaic.tasks`) and written by the calling
process; the bytes do not depend on the executor.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import rasterio
from rasterio.transform import from_origin
from rasterio.warp import calculate_default_transform, transform_bounds
from rasterio.windows import Window

from core.atomic import atomic_path, scratch_path
from core.errors import ThermalError, UsageError
from pipeline.executors import Executor, SerialExecutor, block_windows
from pipeline.mosaic.tasks import MosaicFrame, frame_window, mosaic_window, plan_windows
from pipeline.thermal.frames import NODATA, TAG_PREFIX
from pipeline.thermal.tiff import quiet_rasterio

log = logging.getLogger(__name__)

BLEND = "nearest-to-nadir"
MAX_MOSAIC_SIDE_PX = 100_000
MOSAIC_BYTES_PER_PX = 4  # the float32 grid (written block by block, never held whole)
MOSAIC_BLOCK_PX = 1024
MOSAIC_BATCH_WINDOWS = 16  # blocks in flight at once: the parent's memory bound


def thermal_mosaic(
    frames: Sequence[Path],
    dst: Path,
    *,
    target_crs: str = "EPSG:25832",
    max_side_px: int = MAX_MOSAIC_SIDE_PX,
    executor: Executor | None = None,
    block: int = MOSAIC_BLOCK_PX,
) -> Path:
    """A COG of georeferenced °C frames, blended nearest-to-nadir (module docstring).

    The output pixel size is the finest frame resolution in ``target_crs``. The grid is
    computed block by block as tasks on ``executor`` (:mod:`pipeline.mosaic.tasks`: each
    task opens only the frames overlapping its block); this process writes the blocks,
    so memory is bounded by a batch of blocks, not by the grid. The result does not
    depend on the executor nor on ``block``.

    Args:
        frames: georeferenced °C frame GeoTIFFs (paths every worker can read).
        dst: the COG to write.
        target_crs: CRS of the mosaic.
        max_side_px: largest output width or height accepted; frames far apart (a
            wrong GPS fix, frames of another flight) would otherwise make an enormous
            grid. The check runs before any block is computed.
        executor: where the window tasks run (default: this process).
        block: side of a window task in pixels.

    Raises:
        ThermalError: no frames, a frame without CRS, or an output grid larger than
            ``max_side_px`` on a side (naming the extreme frames and the would-be size).
    """
    if not frames:
        raise ThermalError(f"{dst}: no frames for the thermal mosaic")
    if block < 16 or block % 16:
        raise UsageError(f"{dst}: mosaic block must be a positive multiple of 16 px, got {block}")
    grid = _mosaic_grid(frames, target_crs)
    _check_grid_size(grid, frames, dst, max_side_px)
    placed = [
        MosaicFrame(os.fspath(path), *frame_window(bounds, grid.transform, grid.width, grid.height))
        for path, bounds in zip(frames, grid.frame_bounds, strict=True)
    ]
    windows = list(block_windows(grid.width, grid.height, block))
    tasks = plan_windows(placed, windows, grid.transform, target_crs)
    log.info("thermal mosaic %s: %d × %d px in %d windows", dst, grid.width, grid.height, len(tasks))
    tags = {
        f"{TAG_PREFIX}BLEND": BLEND,
        f"{TAG_PREFIX}UNITS": "°C",
        f"{TAG_PREFIX}SOURCE_FRAMES": json.dumps([Path(p).name for p in frames]),
    }
    with scratch_path(Path(dst), suffix=".tif") as blocks:
        _write_blocks(executor or SerialExecutor(), tasks, blocks, grid, target_crs, tags)
        return _write_cog(blocks, Path(dst), tags)


def _write_blocks(
    executor: Executor, tasks: Sequence[Any], path: Path, grid: _Grid, crs: str, tags: dict[str, str]
) -> None:
    """Compute the window tasks a batch at a time and write each block into a tiled GeoTIFF."""
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "float32",
        "nodata": NODATA,
        "crs": crs,
        "transform": grid.transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "zstd",
        "zstd_level": 1,
        "bigtiff": "IF_SAFER",
    }
    with quiet_rasterio(), rasterio.open(path, "w", **profile) as out:
        for start in range(0, len(tasks), MOSAIC_BATCH_WINDOWS):
            batch = tasks[start : start + MOSAIC_BATCH_WINDOWS]
            for task, data in zip(batch, executor.map(mosaic_window, batch), strict=True):
                out.write(data, 1, window=Window(*task.window))
        out.update_tags(**tags)
        out.set_band_description(1, "temperature")
        out.units = ("°C",)


def _check_grid_size(grid: _Grid, frames: Sequence[Path], dst: Path, max_side_px: int) -> None:
    """Refuse a mosaic grid over ``max_side_px`` on a side, before allocating it."""
    if grid.width <= max_side_px and grid.height <= max_side_px:
        return
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in grid.frame_bounds]
    extremes = sorted(
        {
            min(range(len(frames)), key=lambda i: centres[i][0]),
            max(range(len(frames)), key=lambda i: centres[i][0]),
            min(range(len(frames)), key=lambda i: centres[i][1]),
            max(range(len(frames)), key=lambda i: centres[i][1]),
        }
    )
    named = ", ".join(
        f"{Path(frames[i]).name} (centre {centres[i][0]:.0f}, {centres[i][1]:.0f})" for i in extremes
    )
    res = abs(grid.transform.a)
    gib = grid.width * grid.height * MOSAIC_BYTES_PER_PX / 2**30
    raise ThermalError(
        f"{dst}: the {len(frames)} thermal frames span {grid.width * res / 1000:.1f} km × "
        f"{grid.height * res / 1000:.1f} km, a {grid.width} × {grid.height} px grid at {res:.3g} m "
        f"(~{gib:,.1f} GiB) over the limit of {max_side_px} px per side; extreme frames: {named}. "
        "Are frames from different places or with a wrong GPS fix in the set?"
    )


class _Grid(NamedTuple):
    height: int
    width: int
    transform: Any
    frame_bounds: list[tuple[float, float, float, float]]


def _mosaic_grid(frames: Sequence[Path], target_crs: str) -> _Grid:
    bounds, resolution = [], math.inf
    for path in frames:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise ThermalError(f"{path}: frame has no CRS; georeference it before mosaicking")
            box = transform_bounds(src.crs, target_crs, *src.bounds, densify_pts=21)
            if not all(math.isfinite(v) for v in box):
                raise ThermalError(f"{path}: bounds {tuple(src.bounds)} cannot be expressed in {target_crs}")
            bounds.append(box)
            t, _, _ = calculate_default_transform(src.crs, target_crs, src.width, src.height, *src.bounds)
            resolution = min(resolution, abs(t.a))
    left, bottom = min(b[0] for b in bounds), min(b[1] for b in bounds)
    right, top = max(b[2] for b in bounds), max(b[3] for b in bounds)
    width = max(1, math.ceil((right - left) / resolution))
    height = max(1, math.ceil((top - bottom) / resolution))
    return _Grid(height, width, from_origin(left, top, resolution, resolution), bounds)


def _write_cog(src: Path, dst: Path, tags: dict[str, str]) -> Path:
    """The mosaic GeoTIFF ``src`` as a Deflate COG at ``dst`` (rio-cogeo), atomically.

    rio-cogeo keeps its working copy in memory up to ~120 M px (~0.5 GB of float32)
    and in a temporary file beside ``dst`` above that.
    """
    from rio_cogeo.cogeo import cog_translate  # lazy: rio-cogeo costs 0.6 s to import
    from rio_cogeo.profiles import cog_profiles

    with atomic_path(dst, suffix=".tif") as tmp, rasterio.open(src) as ds:
        cog_translate(
            ds,
            str(tmp),
            cog_profiles.get("deflate"),  # type: ignore[no-untyped-call]
            nodata=NODATA,
            add_mask=False,
            quiet=True,
            additional_cog_metadata=tags,
        )
    return dst
