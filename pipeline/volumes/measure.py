"""Cut, fill and the base of one polygon on windows of the DSM grid (pure; no file I/O).

The volume is the cell sum of Pix4D's and WebODM's 2.5-D tools: V = A_c·Σ(zᵢ − bᵢ)
over the cells whose centre lies in the polygon (the zonal room's pixel-centre rule),
with z the DSM and b the base at the cell centre. Cells where the DSM is above the base
add to the *cut* (material to remove), cells below it to the *fill* (Pix4D's terms:
"cut: volume above the base, fill: volume below the base"); net = cut − fill.

A polygon is measured in two passes over one or more windows (*strips*), so a polygon
larger than memory is read in row strips: the base is fitted to the boundary cells of
every strip (:func:`boundary_points`, :func:`fit_base`), then each strip adds its sums
(:func:`measure_strip`) and :func:`finish` turns them into figures. A polygon that fits
one window is measured by :func:`measure_polygon` in one call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from core.errors import SurfaceFitError
from pipeline.surface import PlaneFit, cell_centres, fit_plane_robust, surface_factor
from pipeline.volumes.models import BaseFit, BaseMethod, PolygonVolume, VerticalError, VolumeStatus
from pipeline.volumes.uncertainty import UncertaintyInputs, volume_uncertainty

LEVEL_TOLERANCE_M = 0.001
"""Cells within a millimetre of the base count as on it for the height and depth figures
(float32 heights carry about 10⁻⁶ relative noise); every cell counts in cut and fill."""


DATUM_GAP_M = (30.0, 50.0)
"""When a raster does not state its datum: a DSM this far (median) from its base raster along the
boundary is taken as a datum mismatch (DVR90 and ellipsoidal heights differ by 36-42 m in Denmark),
not as earthworks or a building."""


class PolygonGrid(NamedTuple):
    """One polygon on one window (or strip) of the DSM grid."""

    id: str
    dsm: NDArray[np.float64]
    """DSM heights of the window, NaN where there is no data."""
    inside: NDArray[np.bool_]
    """Cells whose centre lies in the polygon."""
    boundary: NDArray[np.bool_]
    """Cells the polygon's outer rings pass through (the base is fitted to these)."""
    transform: Affine
    """The window's affine (north-up)."""
    base: NDArray[np.float64] | None = None
    """Base raster heights on the same cells (base=surface), NaN where there is no data."""


class MeasureSettings(NamedTuple):
    """How to measure: the base and what is known of the rasters' vertical error."""

    method: BaseMethod
    dsm_error: VerticalError
    base_error: VerticalError
    min_coverage: float
    check_datum_gap: bool = False
    """Look for a datum mismatch in the data (one of the rasters does not state its datum)."""


class BoundaryPoints(NamedTuple):
    """Valid DSM cells on a polygon's boundary: centres, DSM heights, base raster heights (or NaN)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    z: NDArray[np.float64]
    base: NDArray[np.float64]

    @classmethod
    def join(cls, parts: Sequence[BoundaryPoints]) -> BoundaryPoints:
        """The points of several strips together."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls._fields))


class BaseModel(NamedTuple):
    """The fitted base of one polygon: a plane, a level, or the base raster itself."""

    method: BaseMethod
    fit: PlaneFit | None
    level: float | None
    boundary: BoundaryPoints

    def heights(
        self, grid: PolygonGrid, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The base on the cells of ``grid``."""
        if self.fit is not None:
            return np.asarray(self.fit.plane.at(x, y), np.float64)
        if self.level is not None:
            return np.full(grid.dsm.shape, self.level)
        if grid.base is None:
            raise SurfaceFitError(f"polygon {grid.id}: base=surface but no base raster was read")
        return grid.base


class Partial(NamedTuple):
    """Sums of one strip; :func:`finish` adds them up."""

    valid: int
    cut: float
    fill: float
    above: int
    """Cells more than :data:`LEVEL_TOLERANCE_M` above the base."""
    above_sum: float
    below: int
    """Cells more than :data:`LEVEL_TOLERANCE_M` below the base."""
    below_sum: float
    max_height: float
    max_depth: float
    factor_sum: float
    x_sum: float
    y_sum: float
    base_sum: float
    edge_square_sum: float
    """Σ d² over the strip's boundary cells (the cell-size part of the uncertainty)."""
    abs_p98: float
    """98th percentile of |DSM − base| over the strip's measured cells (legend range)."""


class Measured(NamedTuple):
    """A polygon's figures and its DSM − base per cell (NaN outside or without data)."""

    volume: PolygonVolume
    difference: NDArray[np.float32]
    abs_p98: float


def boundary_points(grid: PolygonGrid) -> BoundaryPoints:
    """The valid DSM cells of ``grid`` on the polygon boundary."""
    edge = grid.boundary & np.isfinite(grid.dsm)
    x, y = cell_centres(grid.transform, grid.dsm.shape)
    base = grid.base[edge] if grid.base is not None else np.full(int(edge.sum()), np.nan)
    return BoundaryPoints(x[edge], y[edge], grid.dsm[edge], base)


def fit_base(polygon: str, method: BaseMethod, points: BoundaryPoints) -> BaseModel:
    """The base of ``method`` from the boundary points.

    Raises:
        SurfaceFitError: too few valid boundary cells for the base (the message names the polygon).
    """
    if method is BaseMethod.SURFACE:
        return BaseModel(method, None, None, points)
    if method is BaseMethod.PLANE:
        if points.z.size < 3:
            raise SurfaceFitError(
                f"polygon {polygon}: {points.z.size} gyldige DSM-celler på randen, et basisplan kræver 3 / "
                f"{points.z.size} valid DSM cells on its boundary; a base plane needs 3"
            )
        fit = fit_plane_robust(
            points.x, points.y, points.z, what=f"polygon {polygon}: basisplan / base plane"
        )
        return BaseModel(method, fit, None, points)
    if points.z.size == 0:
        raise SurfaceFitError(
            f"polygon {polygon}: ingen gyldig DSM-celle på randen / no valid DSM cell on its boundary for a "
            f"{method.value} base"
        )
    level = float(points.z.min() if method is BaseMethod.LOWEST else points.z.mean())
    return BaseModel(method, None, level, points)


def measure_strip(grid: PolygonGrid, base: BaseModel) -> tuple[Partial, NDArray[np.float32]]:
    """The sums of one strip and its DSM − base (float32, NaN where not measured)."""
    x, y = cell_centres(grid.transform, grid.dsm.shape)
    heights = base.heights(grid, x, y)
    difference = grid.dsm - heights
    measured = grid.inside & np.isfinite(difference)
    d = difference[measured]
    above, below = d[d > LEVEL_TOLERANCE_M], -d[d < -LEVEL_TOLERANCE_M]
    edge = difference[grid.boundary & np.isfinite(difference)]
    partial = Partial(
        valid=int(d.size),
        cut=float(d[d > 0].sum()),
        fill=float(-d[d < 0].sum()),
        above=int(above.size),
        above_sum=float(above.sum()),
        below=int(below.size),
        below_sum=float(below.sum()),
        max_height=float(above.max()) if above.size else 0.0,
        max_depth=float(below.max()) if below.size else 0.0,
        factor_sum=float(surface_factor(grid.dsm, grid.transform.a, grid.transform.e)[measured].sum()),
        x_sum=float(x[measured].sum()),
        y_sum=float(y[measured].sum()),
        base_sum=float(heights[measured].sum()),
        edge_square_sum=float(np.sum(edge**2)),
        abs_p98=float(np.percentile(np.abs(d), 98)) if d.size else 0.0,
    )
    return partial, np.where(measured, difference, np.nan).astype(np.float32)


class Outline(NamedTuple):
    """What is known of a polygon before its cells are summed."""

    id: str
    cells: int
    """Cells of the extended grid whose centre lies in the polygon (also past the DSM's edge)."""
    polygon_area_m2: float
    cell_area_m2: float


def failed(outline: Outline, problem: str, valid: int = 0) -> PolygonVolume:
    """The record of a polygon that could not be measured."""
    return PolygonVolume(
        id=outline.id,
        status=VolumeStatus.FAILED,
        problems=(problem,),
        polygon_area_m2=outline.polygon_area_m2,
        cells=outline.cells,
        valid_cells=valid,
        coverage=valid / outline.cells if outline.cells else None,
    )


def datum_gap(base: BaseModel) -> float | None:
    """Median DSM − base raster on the boundary when it lies within :data:`DATUM_GAP_M`, else None."""
    if base.method is not BaseMethod.SURFACE:
        return None
    gaps = base.boundary.z - base.boundary.base
    gaps = gaps[np.isfinite(gaps)]
    if gaps.size == 0:
        return None
    median = float(np.median(gaps))
    return median if DATUM_GAP_M[0] <= abs(median) <= DATUM_GAP_M[1] else None


def _base_fit(base: BaseModel, total: Partial, centroid: tuple[float, float]) -> BaseFit:
    points = base.boundary
    residuals = points.z - (points.base if base.method is BaseMethod.SURFACE else 0.0)
    if base.fit is not None:
        plane = base.fit.plane
        aspect = None if math.isnan(plane.aspect_deg) else plane.aspect_deg
        return BaseFit(
            method=base.method,
            boundary_cells=base.fit.n,
            cells_used=base.fit.n_used,
            height_m=float(plane.at(*centroid)),
            slope_deg=plane.slope_deg,
            aspect_deg=aspect,
            residual_rmse_m=base.fit.rmse_m,
            residual_max_m=base.fit.max_abs_residual_m,
        )
    if base.level is not None:
        residuals = points.z - base.level
    residuals = residuals[np.isfinite(residuals)]
    return BaseFit(
        method=base.method,
        boundary_cells=int(points.z.size),
        cells_used=int(residuals.size),
        height_m=base.level if base.level is not None else total.base_sum / total.valid,
        residual_rmse_m=float(np.sqrt(np.mean(residuals**2))) if residuals.size else None,
        residual_max_m=float(np.max(np.abs(residuals))) if residuals.size else None,
    )


def _total(partials: Sequence[Partial]) -> Partial:
    return Partial(
        *(
            max(values) if name in ("max_height", "max_depth", "abs_p98") else sum(values)
            for name, values in zip(Partial._fields, zip(*partials, strict=True), strict=True)
        )
    )


def finish(
    outline: Outline, base: BaseModel, partials: Sequence[Partial], settings: MeasureSettings
) -> PolygonVolume:
    """The figures of one polygon from the sums of its strips."""
    total = _total(partials)
    if total.valid == 0:
        return failed(
            outline,
            f"polygon {outline.id}: ingen celle har både DSM- og basishøjde (nodata) / "
            "no cell inside it has both a DSM and a base height (nodata)",
        )
    gap = datum_gap(base) if settings.check_datum_gap else None
    if gap is not None:
        return failed(
            outline,
            f"polygon {outline.id}: DSM ligger {gap:+.1f} m fra basisrastret på randen, forskellige "
            f"højdesystemer? / the DSM lies {gap:+.1f} m from the base raster along the boundary: different "
            "vertical datums?",
        )
    a = outline.cell_area_m2
    centroid = (total.x_sum / total.valid, total.y_sum / total.valid)
    fit = _base_fit(base, total, centroid)
    inputs = UncertaintyInputs(
        method=settings.method,
        valid_cells=total.valid,
        cell_area_m2=a,
        boundary_cells=fit.boundary_cells,
        base_mean_error_m=base.fit.mean_height_error(*centroid) if base.fit is not None else None,
        edge_square_sum=total.edge_square_sum,
    )
    coverage = total.valid / max(outline.cells, total.valid)
    problems: tuple[str, ...] = ()
    if coverage < settings.min_coverage:
        problems = (
            f"polygon {outline.id}: DSM dækker {coverage:.1%} (< {settings.min_coverage:.0%}), kun de "
            f"dækkede celler er regnet med / DSM covers {coverage:.1%} of it "
            f"(< {settings.min_coverage:.0%}); volumes count the covered cells only",
        )
    return PolygonVolume(
        id=outline.id,
        status=VolumeStatus.PARTIAL if problems else VolumeStatus.OK,
        problems=problems,
        polygon_area_m2=outline.polygon_area_m2,
        cells=max(outline.cells, total.valid),
        valid_cells=total.valid,
        coverage=coverage,
        area_2d_m2=total.valid * a,
        area_3d_m2=total.factor_sum * a,
        cut_m3=total.cut * a,
        fill_m3=total.fill * a,
        net_m3=(total.cut - total.fill) * a,
        max_height_m=total.max_height if total.above else None,
        mean_height_m=total.above_sum / total.above if total.above else None,
        max_depth_m=total.max_depth if total.below else None,
        mean_depth_m=total.below_sum / total.below if total.below else None,
        base=fit,
        uncertainty=volume_uncertainty(inputs, settings.dsm_error, settings.base_error),
    )


def measure_polygon(grid: PolygonGrid, outline: Outline, settings: MeasureSettings) -> Measured:
    """Cut, fill, areas, heights, base and uncertainty of a polygon held in one window."""
    nothing = np.full(grid.dsm.shape, np.nan, np.float32)
    if outline.cells == 0 or not grid.inside.any():
        reason = (
            "intet cellecentre i polygonen (mindre end en celle) / "
            "no cell centre inside it (smaller than a cell)"
            if outline.cells == 0
            else "ligger uden for DSM'en / it lies off the DSM"
        )
        return Measured(failed(outline, f"polygon {outline.id}: {reason}"), nothing, 0.0)
    try:
        base = fit_base(outline.id, settings.method, boundary_points(grid))
    except SurfaceFitError as exc:
        return Measured(failed(outline, str(exc)), nothing, 0.0)
    partial, difference = measure_strip(grid, base)
    return Measured(finish(outline, base, [partial], settings), difference, partial.abs_p98)
