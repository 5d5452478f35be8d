"""Hot spots of one roof: connected cells clearly warmer than the roof's own median (pure).

Rule (REFERENCE.md §5.3, :class:`pipeline.buildings.models.HotSpotRule`): a cell is warm when
it holds data, lies inside the footprint and T ≥ median + ``min_excess_k``; warm cells that
touch through an edge or a corner (8-connectivity) form one area; an area is a hot spot when
cells × cell area ≥ ``min_area_m2``. Its polygon is the union of its cells.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.features import shapes
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from pipeline.buildings.models import HotSpotRule


class HotSpotCells(NamedTuple):
    """A hot spot in the raster's CRS."""

    area_m2: float
    pixel_count: int
    peak_c: float
    mean_excess_k: float
    geometry: BaseGeometry


def structure(connectivity: int) -> NDArray[np.bool_]:
    """The labelling structure for 4-connectivity (a cross) or 8-connectivity (the full 3 × 3)."""
    if connectivity == 8:
        return np.ones((3, 3), dtype=bool)
    return np.array([[False, True, False], [True, True, True], [False, True, False]])


def find_hot_spots(
    values: NDArray[np.floating],
    valid: NDArray[np.bool_],
    median: float,
    transform: Affine,
    rule: HotSpotRule,
) -> list[HotSpotCells]:
    """The hot spots of one roof window, largest first.

    Args:
        values: °C cells of the window around the roof.
        valid: cells inside the footprint with data.
        median: the roof's median (°C).
        transform: the window's affine transform.
        rule: thresholds and connectivity.
    """
    warm = valid & (values >= median + rule.min_excess_k)
    if not warm.any():
        return []
    from scipy import ndimage  # lazy: +0.4 s, only for a roof with warm cells

    labels, count = ndimage.label(warm, structure=structure(rule.connectivity))
    cell_area = abs(transform.a * transform.e)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = np.flatnonzero(sizes * cell_area >= rule.min_area_m2 - 1e-9)
    keep = keep[keep > 0]
    if keep.size == 0:
        return []
    peaks = ndimage.maximum(values, labels, keep)
    means = ndimage.mean(values, labels, keep)
    outlines = region_outlines(labels, np.isin(labels, keep), transform, rule.connectivity)
    spots = [
        HotSpotCells(
            area_m2=float(sizes[k] * cell_area),
            pixel_count=int(sizes[k]),
            peak_c=float(peak),
            mean_excess_k=float(mean - median),
            geometry=outlines[int(k)],
        )
        for k, peak, mean in zip(keep, np.atleast_1d(peaks), np.atleast_1d(means), strict=True)
    ]
    return sorted(spots, key=lambda s: (-s.area_m2, -s.peak_c))


def region_outlines(
    labels: NDArray[np.int32], mask: NDArray[np.bool_], transform: Affine, connectivity: int
) -> dict[int, BaseGeometry]:
    """Polygon of each labelled region (cells unioned), by label."""
    pieces: dict[int, list[BaseGeometry]] = {}
    for geom, value in shapes(
        labels.astype(np.int32), mask=mask, transform=transform, connectivity=connectivity
    ):
        pieces.setdefault(int(value), []).append(shape(geom))
    return {k: shapely.union_all(v) if len(v) > 1 else v[0] for k, v in pieces.items()}
