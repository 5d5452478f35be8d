"""The flight's footprints (polygons) and photo points (camera positions) as GeoPackages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapely import wkt
from shapely.geometry import Point

from core.atomic import atomic_path
from pipeline.models import FrameRecord


def write_layers(records: Sequence[FrameRecord], footprints: Path, photo_points: Path, crs: str) -> None:
    """The footprints (polygons) and photo-points (camera positions) GeoPackages, atomically."""
    import geopandas as gpd

    base = [r.model_dump(exclude={"footprint_wkt"}) for r in records]
    polys = [wkt.loads(r.footprint_wkt) for r in records]
    points = [Point(r.camera_east, r.camera_north) for r in records]
    _write_gpkg(gpd.GeoDataFrame(base, geometry=polys, crs=crs), footprints, "footprints")
    _write_gpkg(gpd.GeoDataFrame(base, geometry=points, crs=crs), photo_points, "photo_points")


def _write_gpkg(frame: Any, dst: Path, layer: str) -> None:
    with atomic_path(dst, suffix=".gpkg") as tmp:
        frame.to_file(tmp, driver="GPKG", layer=layer)
