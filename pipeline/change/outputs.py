"""Writing the change products: polygons (GeoPackage) and the summary (JSON), atomically."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.atomic import atomic_path, atomic_write_text
from pipeline.change.detect import Area
from pipeline.change.models import ChangeArea, ChangeKind, ChangeResult, Grid

if TYPE_CHECKING:
    pass

LAYER = "change_areas"
SIGN_TEXT = {1: ("tilvækst", "gain"), -1: ("tab", "loss")}


def change_areas(areas: Sequence[Area], grid: Grid, kind: ChangeKind) -> list[ChangeArea]:
    """The reported areas, largest first, numbered from 1."""
    px = grid.pixel_area
    ordered = sorted(areas, key=lambda a: (-a.pixels, a.geometry.bounds))
    return [
        ChangeArea(
            id=i,
            sign=a.sign,
            area_m2=a.pixels * px,
            pixels=a.pixels,
            mean_change=a.total / a.pixels,
            max_abs_change=a.max_abs,
            volume_m3=a.total * px if kind is ChangeKind.DSM else None,
        )
        for i, a in enumerate(ordered, start=1)
    ]


def write_polygons(dst: Path, areas: Sequence[Area], reported: Sequence[ChangeArea], grid: Grid) -> Path:
    """The change areas as GeoPackage layer ``change_areas`` in the grid's CRS (Danish and English labels)."""
    import geopandas as gpd

    ordered = sorted(areas, key=lambda a: (-a.pixels, a.geometry.bounds))
    frame = gpd.GeoDataFrame(
        {
            "id": [r.id for r in reported],
            "aendring": [SIGN_TEXT[r.sign][0] for r in reported],
            "change": [SIGN_TEXT[r.sign][1] for r in reported],
            "area_m2": [r.area_m2 for r in reported],
            "pixels": [r.pixels for r in reported],
            "mean_change": [r.mean_change for r in reported],
            "max_abs_change": [r.max_abs_change for r in reported],
            "volume_m3": [r.volume_m3 for r in reported],
        },
        geometry=[a.geometry for a in ordered],
        crs=grid.crs,
    )
    with atomic_path(dst, suffix=".gpkg") as tmp:
        frame.to_file(tmp, driver="GPKG", layer=LAYER, engine="pyogrio", promote_to_multi=True)
    return dst


def write_summary(dst: Path, result: ChangeResult) -> Path:
    """The result as JSON (``change.json``), atomically."""
    payload = json.loads(result.model_dump_json())
    atomic_write_text(dst, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return dst
