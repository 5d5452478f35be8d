"""Height rasters read window by window around polygons (DSM, DTM, base surfaces).

Built on the zonal room's primitives (:mod:`pipeline.zonal.pixels`): the same read plan,
chunks and pixel-centre rule, so a polygon's cells here are its cells in every other
analysis. What height analyses need beyond zonal statistics is the *whole* window with
its data mask (a base plane is fitted to the boundary cells, which may lie just outside
the polygon), the cells the boundary passes through, and a second raster brought onto
the same grid.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from core.errors import RasterInputError
from pipeline.zonal.pixels import (
    Box,
    ReadPlan,
    ZonalSettings,
    box_transform,
    centre_mask,
    clip_box,
    count_centres,
    plan_reads,
    read_box,
)
from pipeline.zonal.windows import split_box


class HeightWindow(NamedTuple):
    """One polygon's window of a height raster (cut to the raster)."""

    position: int
    """Position of the polygon in the input sequence."""
    heights: NDArray[np.float64]
    """Heights of the whole window, NaN where there is no data."""
    inside: NDArray[np.bool_]
    """Cells whose centre lies in the polygon."""
    transform: Affine
    window: Window
    pixel_count: int
    """Cells of the extended grid (also past the raster's edges) whose centre lies in the polygon."""


def check_height_raster(dataset: DatasetReader, name: str) -> tuple[float, float]:
    """The cell size (dx, dy) of a height raster fit for measuring areas and volumes.

    Raises:
        RasterInputError: no CRS, a geographic CRS or one not in metres, or a rotated grid.
    """
    if dataset.crs is None:
        raise RasterInputError(f"height raster {name} has no CRS; volumes and areas need a projected CRS")
    crs = CRS.from_user_input(dataset.crs)
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    if not horizontal.is_projected:
        raise RasterInputError(
            f"height raster {name} is in {horizontal.name} (degrees); warp it to a projected CRS in metres "
            "(EPSG:25832) first"
        )
    unit = horizontal.axis_info[0].unit_name
    if unit not in ("metre", "meter"):
        raise RasterInputError(f"height raster {name}: horizontal unit is {unit!r}, not metres")
    t = dataset.transform
    if t.b != 0 or t.d != 0:
        raise RasterInputError(f"height raster {name}: grid is rotated ({t!r}); warp it north-up first")
    return float(t.a), float(t.e)


RING_NUDGE_CELLS = 1e-4
"""Rings are moved this far (in cells, towards +col/+row) before they are burnt: see :func:`ring_cells`."""


def ring_cells(geom: BaseGeometry, shape: tuple[int, int], transform: Affine) -> NDArray[np.bool_]:
    """Cells the outer ring(s) of a (multi)polygon pass through (GDAL rasterize, all_touched).

    A ring running exactly along cell edges (a polygon drawn on the grid) is burnt on one
    side or the other depending on where the window starts, in floating point; moved by
    :data:`RING_NUDGE_CELLS` of a cell it burns the same cells in every window, so the row
    strips of a large polygon give the cells of one window.
    """
    if shape[0] == 0 or shape[1] == 0:
        return np.zeros(shape, bool)
    dx, dy = RING_NUDGE_CELLS * transform.a, RING_NUDGE_CELLS * transform.e
    rings = [
        shapely.transform(shapely.get_exterior_ring(p), lambda c: c + (dx, dy))
        for p in shapely.get_parts(geom)
    ]
    burnt = rasterize(rings, out_shape=shape, transform=transform, all_touched=True, fill=0, default_value=1)
    mask: NDArray[np.bool_] = burnt.astype(bool)
    return mask


class WindowPlan(NamedTuple):
    """The zonal read plan of polygons' boxes grown by a margin, and the polygons themselves."""

    reads: ReadPlan
    geometries: tuple[BaseGeometry | None, ...]


def plan_windows(
    dataset: DatasetReader,
    geometries: Sequence[BaseGeometry | None],
    settings: ZonalSettings,
    margin_cells: int = 1,
) -> WindowPlan:
    """Read plan of the polygons' boxes grown by ``margin_cells`` on every side.

    The zonal box ends at the cells holding the polygon's bounds; a boundary running
    along a cell edge burns the cells beyond it, which the margin brings into the window.
    """
    t = dataset.transform
    dx, dy = abs(t.a) * margin_cells, abs(t.e) * margin_cells
    grown = [
        None
        if g is None or g.is_empty
        else shapely.box(g.bounds[0] - dx, g.bounds[1] - dy, g.bounds[2] + dx, g.bounds[3] + dy)
        for g in geometries
    ]
    return WindowPlan(plan_reads(dataset, grown, settings), tuple(geometries))


def _heights(values: NDArray[np.generic], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    return np.where(valid, values.astype(np.float64), np.nan)


def _window(
    dataset: DatasetReader,
    plan: WindowPlan,
    index: int,
    chunk: Box,
    arrays: tuple[NDArray[np.generic], NDArray[np.bool_]],
    max_pixels: int,
) -> HeightWindow:
    full = plan.reads.boxes[index]
    sub = clip_box(full, dataset)
    values, valid = arrays
    rows = slice(sub[0] - chunk[0], sub[1] - chunk[0])
    cols = slice(sub[2] - chunk[2], sub[3] - chunk[2])
    geom = plan.geometries[index]
    assert geom is not None  # only polygons are planned
    inside = centre_mask(geom, sub, dataset.transform)
    count = int(np.count_nonzero(inside))
    if sub != full:
        count = count_centres(geom, full, dataset.transform, max_pixels)
    return HeightWindow(
        position=index,
        heights=_heights(values[rows, cols], valid[rows, cols].astype(bool)),
        inside=inside,
        transform=box_transform(dataset.transform, sub),
        window=Window(sub[2], sub[0], sub[3] - sub[2], sub[1] - sub[0]),
        pixel_count=count,
    )


def iter_height_windows(
    dataset: DatasetReader, plan: WindowPlan, settings: ZonalSettings, *, skip: frozenset[int] = frozenset()
) -> Iterator[HeightWindow]:
    """The window of every polygon of ``plan`` inside the raster, chunk by chunk (read order).

    ``plan`` comes from :func:`plan_windows`. Polygons outside the raster are not yielded
    (``plan.reads.outside``); those in ``skip`` (too large for one window) neither — read
    them with :func:`strip_windows`.
    """
    for box, members in plan.reads.chunks:
        arrays = read_box(dataset, settings.band, box)
        for index in members:
            if index not in skip:
                yield _window(dataset, plan, index, box, arrays, settings.max_window_pixels)
    for index in plan.reads.single:
        if index not in skip:
            box = clip_box(plan.reads.boxes[index], dataset)
            arrays = read_box(dataset, settings.band, box)
            yield _window(dataset, plan, index, box, arrays, settings.max_window_pixels)


def strip_windows(
    dataset: DatasetReader, plan: WindowPlan, index: int, settings: ZonalSettings
) -> Iterator[HeightWindow]:
    """A large polygon's box read in row strips of at most ``settings.max_window_pixels`` cells."""
    geom = plan.geometries[index]
    assert geom is not None  # only polygons are planned
    for strip in split_box(clip_box(plan.reads.boxes[index], dataset), settings.max_window_pixels):
        values, valid = read_box(dataset, settings.band, strip)
        inside = centre_mask(geom, strip, dataset.transform)
        yield HeightWindow(
            position=index,
            heights=_heights(values, valid),
            inside=inside,
            transform=box_transform(dataset.transform, strip),
            window=Window(strip[2], strip[0], strip[3] - strip[2], strip[1] - strip[0]),
            pixel_count=int(np.count_nonzero(inside)),
        )


def read_heights(dataset: DatasetReader | WarpedVRT, window: Window) -> NDArray[np.float64]:
    """Band 1 of ``window`` as float64 heights, NaN where there is no data."""
    band = dataset.read(1, window=window, masked=True, boundless=False)
    values = np.ma.filled(band.astype(np.float64), np.nan)
    result: NDArray[np.float64] = np.where(np.isfinite(values), values, np.nan)
    return result


def same_grid(a: DatasetReader, b: DatasetReader) -> bool:
    """True when both rasters share CRS, affine and size (cells coincide)."""
    return bool(a.crs == b.crs and a.transform.almost_equals(b.transform) and a.shape == b.shape)


@contextlib.contextmanager
def aligned(path: Path, like: DatasetReader) -> Iterator[DatasetReader | WarpedVRT]:
    """``path`` on the grid of ``like``: the file itself when the grids coincide, else a bilinear WarpedVRT.

    Reprojection (another CRS) and resampling (another grid) happen window by window as
    the VRT is read; the file is never warped whole.

    Raises:
        RasterInputError: ``path`` cannot be opened or has no CRS.
    """
    try:
        source = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise RasterInputError(f"height raster {path} cannot be read: {exc}") from exc
    with source:
        if source.crs is None:
            raise RasterInputError(f"height raster {path} has no CRS; it cannot be placed on {like.name}")
        if same_grid(source, like):
            yield source
            return
        options = {"crs": like.crs, "transform": like.transform, "width": like.width, "height": like.height}
        with WarpedVRT(source, resampling=Resampling.bilinear, **options) as vrt:
            yield vrt
