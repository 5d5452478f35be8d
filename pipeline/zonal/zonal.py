"""Zonal statistics: per polygon, the statistics of the cells whose centre lies inside it.

The rule and how it compares with exactextract are described in :mod:`pipeline.zonal`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.io import DatasetReader
from shapely.geometry.base import BaseGeometry

from pipeline.zonal.models import ZonalStats
from pipeline.zonal.pixels import (
    PolygonPixels,
    ZonalSettings,
    centre_mask,
    clip_box,
    count_centres,
    iter_polygon_pixels,
    plan_reads,
    read_box,
)
from pipeline.zonal.stats import coverage_share, summarize
from pipeline.zonal.windows import split_box

GDAL_CACHE_BYTES = 64 << 20
"""GDAL block cache while reading: each chunk is read once, a large cache only costs memory."""


def box_cells(box: tuple[int, int, int, int]) -> int:
    """Number of cells of a box (0 when empty)."""
    return max(box[1] - box[0], 0) * max(box[3] - box[2], 0)


def stats_of(index: int, values: np.ndarray, pixel_count: int) -> ZonalStats:
    """ZonalStats of one polygon from the values of its cells with data."""
    summary = summarize(values)
    return ZonalStats(
        index=index,
        pixel_count=pixel_count,
        valid_count=summary.n,
        coverage=coverage_share(summary.n, pixel_count),
        mean=summary.mean,
        median=summary.median,
        p10=summary.p10,
        p90=summary.p90,
        min=summary.min,
        max=summary.max,
        std=summary.std,
    )


def pixel_stats(pixels: PolygonPixels) -> ZonalStats:
    """ZonalStats of the cells of one PolygonPixels."""
    return stats_of(pixels.index, pixels.valid_values(), pixels.pixel_count)


def streamed_stats(
    dataset: DatasetReader,
    geometry: BaseGeometry,
    index: int,
    box: tuple[int, int, int, int],
    settings: ZonalSettings,
) -> ZonalStats:
    """ZonalStats of a polygon too large to read at once: its box read in row strips."""
    inside_box = clip_box(box, dataset)
    parts = []
    for strip in split_box(inside_box, settings.max_window_pixels):
        values, valid = read_box(dataset, settings.band, strip)
        parts.append(values[valid & centre_mask(geometry, strip, dataset.transform)])
    pixel_count = count_centres(geometry, box, dataset.transform, settings.max_window_pixels)
    return stats_of(index, np.concatenate(parts) if parts else np.zeros(0), pixel_count)


def zonal_stats_dataset(
    dataset: DatasetReader, geometries: Sequence[BaseGeometry | None], settings: ZonalSettings | None = None
) -> list[ZonalStats]:
    """ZonalStats of every polygon of ``geometries`` (in the dataset's CRS), in input order.

    None or empty geometries get a row with no cells and no figures.
    """
    settings = settings or ZonalSettings()
    plan = plan_reads(dataset, geometries, settings)
    large = frozenset(
        i for i in plan.single if box_cells(clip_box(plan.boxes[i], dataset)) > settings.max_window_pixels
    )
    found = {
        s.index: s for s in map(pixel_stats, iter_polygon_pixels(dataset, geometries, settings, skip=large))
    }
    for index in large:
        found[index] = streamed_stats(dataset, plan.geometries[index], index, plan.boxes[index], settings)
    empty = np.zeros(0)
    return [found.get(i) or stats_of(i, empty, 0) for i in range(len(geometries))]


def zonal_stats(
    raster: str | Path, geometries: Sequence[BaseGeometry | None], settings: ZonalSettings | None = None
) -> list[ZonalStats]:
    """ZonalStats of every polygon over one band of ``raster``, in input order.

    Args:
        raster: any raster GDAL reads, north-up; ``geometries`` must be in its CRS
            (:func:`pipeline.zonal.read_polygons` with ``crs=`` the raster's reprojects them).
        geometries: polygons; None or empty ones get a row without cells.
        settings: band and chunk sizes.

    Returns:
        One :class:`ZonalStats` per geometry, ``index`` = position in ``geometries``.
    """
    settings = settings or ZonalSettings()
    with (
        rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES),
        rasterio.open(raster, NUM_THREADS=settings.read_threads) as dataset,
    ):
        return zonal_stats_dataset(dataset, geometries, settings)
