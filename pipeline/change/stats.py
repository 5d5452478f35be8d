"""Figures per area polygon (e.g. §3-protected nature, Natura 2000 parcels) and time series.

Everything per polygon goes through :mod:`pipeline.zonal` (any polygon file, any CRS; a cell
counts when its centre lies inside the polygon):

- :func:`area_statistics` — for one BEFORE/AFTER pair: the compared value's mean and median per
  flight and their difference, the mean of the change map, and the gained and lost area (the
  change polygons clipped to the area polygon). AFTER is read where its ground is: the polygon
  is moved by the co-registration motion before its cells are taken.
- :func:`time_series` — for N rasters of one area with their capture dates (index rasters or
  DSMs of every flight): mean, median and coverage per polygon and date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import rasterio
from affine import Affine
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from pipeline.change.models import (
    Alignment,
    AreaStats,
    ChangeConfig,
    ChangeKind,
    ChangeResult,
    Grid,
    SeriesPoint,
)
from pipeline.rasters.area import crs_string
from pipeline.rasters.inputs import RasterInfo
from pipeline.vegetation import VegetationConfig, vegetation_indices
from pipeline.zonal import PolygonLayer, ZonalStats, read_polygons, zonal_stats

if TYPE_CHECKING:
    import geopandas as gpd


def world_motion(grid: Grid, alignment: Alignment) -> tuple[float, float, float, float, float, float]:
    """The co-registration motion in map coordinates (shapely ``affine_transform`` order a, b, d, e, x, y)."""
    g = grid.affine
    w = g * Affine(*alignment.matrix) * ~g
    return w.a, w.b, w.d, w.e, w.c, w.f


def _in_crs(geoms: Sequence[BaseGeometry | None], source: str, target: str) -> list[BaseGeometry | None]:
    import geopandas as gpd

    if crs_string(source) == crs_string(target):
        return list(geoms)
    series = gpd.GeoSeries(list(geoms), crs=source).to_crs(target)
    return [None if g is None or g.is_empty else g for g in series]


def _value_raster(info: RasterInfo, kind: ChangeKind, config: ChangeConfig, role: str) -> tuple[Path, str]:
    """The raster holding the compared value of one input (an index COG for an orthophoto) and its CRS."""
    if kind is not ChangeKind.ORTHOPHOTO:
        return info.path, info.crs
    veg = vegetation_indices(
        info.path,
        VegetationConfig(
            out_dir=config.out_dir / f"{config.name}_{role}", indices=(config.index,), crs=info.crs
        ),
    )
    return veg.products[0].path, info.crs


def _stats(raster: Path, crs: str, geoms: list[BaseGeometry | None], grid: Grid) -> list[ZonalStats]:
    return zonal_stats(raster, _in_crs(geoms, grid.crs, crs))


def _clipped_area(geom: BaseGeometry | None, changes: gpd.GeoDataFrame, sign: str) -> float:
    if geom is None or changes.empty:
        return 0.0
    part = changes[changes["change"] == sign]
    return float(sum(g.intersection(geom).area for g in part.geometry if g.intersects(geom)))


def area_statistics(
    config: ChangeConfig,
    before: RasterInfo,
    after: RasterInfo,
    grid: Grid,
    kind: ChangeKind,
    alignment: Alignment,
    change_map: Path,
    change_areas: Path,
) -> tuple[AreaStats, ...]:
    """Figures per polygon of ``config.polygons`` (empty when no polygons are given)."""
    import geopandas as gpd

    if config.polygons is None:
        return ()
    layer = read_polygons(config.polygons, crs=grid.crs, id_field=config.polygon_id)
    geoms = [f.geometry for f in layer.features]
    moved = [
        None if g is None else affinity.affine_transform(g, world_motion(grid, alignment)) for g in geoms
    ]
    b_path, b_crs = _value_raster(before, kind, config, "before")
    a_path, a_crs = _value_raster(after, kind, config, "after")
    sb, sa = _stats(b_path, b_crs, geoms, grid), _stats(a_path, a_crs, moved, grid)
    sc = zonal_stats(change_map, geoms)
    changes = gpd.read_file(change_areas, engine="pyogrio")
    return tuple(_row(layer, i, sb[i], sa[i], sc[i], changes) for i in range(len(geoms)))


def _row(
    layer: PolygonLayer, i: int, b: ZonalStats, a: ZonalStats, c: ZonalStats, changes: gpd.GeoDataFrame
) -> AreaStats:
    feature = layer.features[i]
    geom = feature.geometry
    area = float(geom.area) if geom is not None else 0.0
    gained, lost = _clipped_area(geom, changes, "gain"), _clipped_area(geom, changes, "loss")
    return AreaStats(
        id=feature.key, area_m2=area,
        before_mean=b.mean, before_median=b.median, after_mean=a.mean, after_median=a.median,
        diff_mean=None if a.mean is None or b.mean is None else a.mean - b.mean,
        diff_median=None if a.median is None or b.median is None else a.median - b.median,
        change_mean=c.mean, gained_m2=gained, lost_m2=lost,
        changed_share=(gained + lost) / area if area > 0 else 0.0,
        coverage_before=b.coverage, coverage_after=a.coverage,
        problems=tuple(p.message for p in feature.problems),
    )  # fmt: skip


def pair_series(result: ChangeResult) -> list[SeriesPoint]:
    """The two-point series (BEFORE, AFTER) of every area polygon; empty when a capture time is unknown."""
    start_b, start_a = result.before.time_start, result.after.time_start
    if start_b is None or start_a is None:
        return []
    return [
        SeriesPoint(id=s.id, date=date, raster=path.name, mean=mean, median=median, coverage=coverage)
        for s in result.area_stats
        for date, path, mean, median, coverage in (
            (start_b, result.before.path, s.before_mean, s.before_median, s.coverage_before),
            (start_a, result.after.path, s.after_mean, s.after_median, s.coverage_after),
        )
    ]


def time_series(
    rasters: Sequence[tuple[datetime, Path]], polygons: Path, *, polygon_id: str | None = None
) -> list[SeriesPoint]:
    """Mean, median and coverage per polygon and date over N index rasters (or DSMs) of one area.

    Args:
        rasters: (capture date, raster) of every flight, any order; any CRS each.
        polygons: the area polygons (any format and CRS).
        polygon_id: id attribute of the polygons (default: the zonal room's candidates).

    Returns:
        One point per polygon and date, sorted by polygon (file order) then date.
    """
    points: list[SeriesPoint] = []
    for date, raster in sorted(rasters, key=lambda r: r[0]):
        with rasterio.open(raster) as src:
            crs = crs_string(src.crs)
        layer = read_polygons(polygons, crs=crs, id_field=polygon_id)
        stats = zonal_stats(raster, [f.geometry for f in layer.features])
        points.extend(
            SeriesPoint(
                id=f.key,
                date=date,
                raster=Path(raster).name,
                mean=s.mean,
                median=s.median,
                coverage=s.coverage,
            )
            for f, s in zip(layer.features, stats, strict=True)
        )
    order: dict[str, int] = {}
    for p in points:
        order.setdefault(p.id, len(order))
    return sorted(points, key=lambda p: (order[p.id], p.date))
