"""Coverage: union of frame footprints against the AOI, holes, overlap count, frames outside.

Footprints and areas are shapely geometries in one projected CRS (metres). The overlap
map rasterises every footprint with ``merge_alg=add`` so each cell holds the number of
frames that see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from affine import Affine
from rasterio.enums import MergeAlg
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely import unary_union
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from qa.models import CheckResult, Status

MIN_HOLE_M2 = 1.0


class OverlapMap(NamedTuple):
    """Frames per cell over the footprints' bounds."""

    counts: np.ndarray
    transform: Affine
    cell_m: float


def overlap_map(
    footprints: Mapping[str, BaseGeometry], cell_m: float | None = None, max_cells: int = 1_000_000
) -> OverlapMap:
    """Rasterise footprints, adding 1 per frame per cell.

    Args:
        footprints: Frame name -> footprint polygon (projected CRS).
        cell_m: Cell size; default chosen so the grid has at most ``max_cells`` cells.
        max_cells: Upper bound on the grid size when ``cell_m`` is not given.
    """
    union = unary_union(list(footprints.values()))
    minx, miny, maxx, maxy = union.bounds
    if cell_m is None:
        cell_m = max(float(np.sqrt((maxx - minx) * (maxy - miny) / max_cells)), 0.01)
    width = max(1, int(np.ceil((maxx - minx) / cell_m)))
    height = max(1, int(np.ceil((maxy - miny) / cell_m)))
    transform = from_origin(minx, maxy, cell_m, cell_m)
    counts = rasterize(
        ((mapping(g), 1) for g in footprints.values() if not g.is_empty),
        out_shape=(height, width),
        transform=transform,
        fill=0,
        merge_alg=MergeAlg.add,
        dtype="uint16",
    )
    return OverlapMap(counts, transform, cell_m)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


class Coverage(NamedTuple):
    """How well footprints cover an AOI."""

    covered_fraction: float
    aoi_area_m2: float
    holes: list[Polygon]
    outside_aoi: list[str]


def coverage(
    footprints: Mapping[str, BaseGeometry], aoi: BaseGeometry, *, min_hole_m2: float = MIN_HOLE_M2
) -> Coverage:
    """Covered share of the AOI, uncovered parts as polygons, frames not touching the AOI."""
    union = unary_union(list(footprints.values())) if footprints else Polygon()
    covered = union.intersection(aoi).area if not union.is_empty else 0.0
    holes = [p for p in _polygons(aoi.difference(union)) if p.area >= min_hole_m2]
    outside = [name for name, g in footprints.items() if not g.intersects(aoi)]
    return Coverage(covered / aoi.area if aoi.area else 0.0, aoi.area, holes, outside)


def coverage_check(
    footprints: Mapping[str, BaseGeometry],
    aoi: BaseGeometry | None,
    *,
    warn_below: float = 0.98,
    fail_below: float = 0.9,
) -> CheckResult:
    """AOI coverage: fail below ``fail_below``, warn below ``warn_below``."""
    title = "AOI coverage"
    if aoi is None:
        return CheckResult.skipped("coverage.aoi", title, "the flight has no AOI")
    if not footprints:
        return CheckResult.skipped("coverage.aoi", title, "no frame footprints")
    cov = coverage(footprints, aoi)
    status: Status = (
        "fail"
        if cov.covered_fraction < fail_below
        else "warn"
        if cov.covered_fraction < warn_below
        else "pass"
    )
    figures: dict[str, object] = {
        "covered_pct": round(100 * cov.covered_fraction, 3),
        "aoi_area_m2": cov.aoi_area_m2,
        "holes": [mapping(h) for h in cov.holes],
        "hole_count": len(cov.holes),
        "outside_aoi": cov.outside_aoi,
    }
    msg = (
        f"{100 * cov.covered_fraction:.1f} % of the AOI covered, {len(cov.holes)} holes, "
        f"{len(cov.outside_aoi)} frames outside"
    )
    return CheckResult(id="coverage.aoi", title=title, status=status, figures=figures, message=msg)


def outside_check(
    footprints: Mapping[str, BaseGeometry],
    area: BaseGeometry | None,
    *,
    name: str = "municipality",
    what: str = "frames",
) -> CheckResult:
    """Frames (footprints or camera positions) or products (partly) outside an area, e.g. the municipality.

    Fails when one lies entirely outside, warns when one reaches outside: either way the flight
    is not published by itself (the service's policy publishes only a QA pass).
    """
    title = f"{what.capitalize()} outside the {name}"
    cid = f"coverage.outside_{name}" if what == "frames" else f"coverage.{what}_outside_{name}"
    if area is None:
        return CheckResult.skipped(cid, title, f"no {name} boundary configured")
    if not footprints:
        return CheckResult.skipped(cid, title, f"no {what} with a position or footprint")
    outside = [n for n, g in footprints.items() if not area.contains(g)]
    fully = [n for n, g in footprints.items() if not area.intersects(g)]
    status: Status = "fail" if fully else "warn" if outside else "pass"
    msg = f"{len(outside)} of {len(footprints)} {what} reach outside the {name}, {len(fully)} entirely"
    return CheckResult(
        id=cid,
        title=title,
        status=status,
        figures={"outside": outside, "entirely_outside": fully},
        message=msg,
    )


def overlap_check(
    footprints: Mapping[str, BaseGeometry], *, min_overlap: int = 2
) -> tuple[CheckResult, OverlapMap | None]:
    """Overlap count statistics; warns when part of the union is seen by fewer than ``min_overlap`` frames."""
    title = "Overlap"
    if not footprints:
        return CheckResult.skipped("coverage.overlap", title, "no frame footprints"), None
    omap = overlap_map(footprints)
    seen = omap.counts[omap.counts > 0]
    low = float((seen < min_overlap).mean()) if seen.size else 1.0
    figures: dict[str, object] = {
        "max": int(seen.max()) if seen.size else 0,
        "median": float(np.median(seen)) if seen.size else 0.0,
        "share_below_min": low,
        "min_overlap": min_overlap,
        "cell_m": omap.cell_m,
    }
    status: Status = "warn" if low > 0.5 else "pass"
    msg = f"median {figures['median']:g} frames per cell; {100 * low:.1f} % seen by fewer than {min_overlap}"
    return CheckResult(id="coverage.overlap", title=title, status=status, figures=figures, message=msg), omap
