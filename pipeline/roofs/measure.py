"""Roof figures of one building from its window of the DSM (and DTM): faces, areas, slope, height.

Pure: arrays in, models out. The faces come from :func:`pipeline.roofs.segment.segment_roof`;
each face's true area is its planimetric area (its cells × the cell area) divided by
cos(slope), its slope and aspect those of its fitted plane. Roof cells no face claims
(chimneys, dormer edges, vegetation) count at the area-weighted mean slope of the faces.
With a DTM the height above terrain is the median of DSM − DTM over the footprint's
cells (robust to a tree or a courtyard), and cells lower than ``min_roof_height_m``
above the terrain are not roof.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from pipeline.roofs.models import Building, RoofPlane, RoofSettings, RoofStatus
from pipeline.roofs.segment import Segmentation, segment_roof

MIN_ASSIGNED_SHARE = 0.5
"""Below this share of roof cells in faces, a building's figures are marked partial."""


class BuildingGrid(NamedTuple):
    """One footprint on its window of the DSM grid."""

    id: str
    dsm: NDArray[np.float64]
    """DSM heights, NaN where there is no data."""
    inside: NDArray[np.bool_]
    """Cells whose centre lies in the footprint."""
    transform: Affine
    footprint_area_m2: float
    dtm: NDArray[np.float64] | None = None
    """Terrain heights on the same cells, NaN where there is no data."""


class MeasuredBuilding(NamedTuple):
    """A building's figures, its faces, and the face label of each cell of its window."""

    building: Building
    planes: tuple[RoofPlane, ...]
    labels: NDArray[np.int32]


def _planes(
    grid: BuildingGrid, seg: Segmentation, cell_area: float
) -> tuple[list[RoofPlane], NDArray[np.int32]]:
    """The faces as RoofPlanes, largest true area first, and the labels renumbered to match."""
    faces = []
    for k, fit in enumerate(seg.fits, start=1):
        cells = seg.labels == k
        count = int(cells.sum())
        slope, aspect = fit.plane.slope_deg, fit.plane.aspect_deg
        plane = RoofPlane(
            building=grid.id,
            index=k,
            cells=count,
            area_2d_m2=count * cell_area,
            area_m2=count * cell_area / math.cos(math.radians(slope)),
            slope_deg=slope,
            aspect_deg=None if math.isnan(aspect) else aspect,
            rmse_m=fit.rmse_m,
            height_m=float(np.mean(grid.dsm[cells])),
        )
        faces.append(plane)
    faces.sort(key=lambda p: -p.area_m2)
    labels = np.zeros_like(seg.labels)
    planes = []
    for new, face in enumerate(faces, start=1):
        labels[seg.labels == face.index] = new
        planes.append(face.model_copy(update={"index": new}))
    return planes, labels


def _heights(grid: BuildingGrid) -> tuple[float | None, float | None, NDArray[np.float64] | None]:
    if grid.dtm is None:
        return None, None, None
    above = grid.dsm - grid.dtm
    known = grid.inside & np.isfinite(above)
    if not known.any():
        return None, None, above
    return float(np.median(above[known])), float(np.max(above[known])), above


def measure_building(grid: BuildingGrid, settings: RoofSettings) -> MeasuredBuilding:
    """Faces and figures of one building."""
    cells = int(grid.inside.sum())
    cell_area = abs(grid.transform.a * grid.transform.e)
    roof = grid.inside & np.isfinite(grid.dsm)
    height, top, above = _heights(grid)
    if above is not None:
        roof &= np.nan_to_num(above, nan=-np.inf) >= settings.min_roof_height_m
    empty = np.zeros(grid.dsm.shape, np.int32)
    base = {"id": grid.id, "footprint_area_m2": grid.footprint_area_m2, "cells": cells}
    if not roof.any():
        why = (
            "intet cellecentre i omridset / no cell centre inside it"
            if cells == 0
            else "ingen DSM-celle (over terrængrænsen) / no DSM cell on it (above the terrain threshold)"
        )
        return MeasuredBuilding(
            Building(
                **base, status=RoofStatus.FAILED, problems=(f"building {grid.id}: {why}",), height_m=height
            ),
            (),
            empty,
        )
    seg = segment_roof(grid.dsm, roof, grid.transform, settings)
    planes, labels = _planes(grid, seg, cell_area)
    roof_cells = int(roof.sum())
    assigned = int((labels > 0).sum())
    faces_area = sum(p.area_m2 for p in planes)
    mean_slope = sum(p.slope_deg * p.area_m2 for p in planes) / faces_area if planes else 0.0
    rest = (roof_cells - assigned) * cell_area / math.cos(math.radians(mean_slope))
    share = assigned / roof_cells
    problems: tuple[str, ...] = ()
    if share < MIN_ASSIGNED_SHARE:
        problems = (
            f"building {grid.id}: kun {share:.0%} af tagcellerne ligger på en tilpasset flade / "
            f"only {share:.0%} of its roof cells lie on a fitted face",
        )
    building = Building(
        **base,
        status=RoofStatus.PARTIAL if problems else RoofStatus.OK,
        problems=problems,
        roof_cells=roof_cells,
        assigned_share=share,
        planes=len(planes),
        roof_area_m2=faces_area + rest,
        dominant_slope_deg=planes[0].slope_deg if planes else None,
        dominant_aspect_deg=planes[0].aspect_deg if planes else None,
        mean_slope_deg=mean_slope if planes else None,
        height_m=height,
        max_height_m=top,
    )
    return MeasuredBuilding(building, tuple(planes), labels)
