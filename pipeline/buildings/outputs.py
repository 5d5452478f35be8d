"""Writing the findings: a GeoPackage (layers ``buildings`` and ``hot_spots``) and a JSON, atomically.

Both carry the same figures: :func:`building_record` is the one flat form of a building.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text, fsync_dir
from pipeline.buildings.models import Building, BuildingsReport

BUILDINGS_LAYER = "buildings"
HOT_SPOTS_LAYER = "hot_spots"


def rounded(value: float | None, digits: int = 3) -> float | None:
    """A figure rounded for people and files (None stays None)."""
    return None if value is None else round(value, digits)


def building_record(b: Building, card: str | None) -> dict[str, Any]:
    """Every figure of one building as flat attributes (GeoPackage fields and JSON keys)."""
    s = b.stats
    return {
        "id": b.id,
        "key": b.key,
        "rank": b.rank,
        "heat_class": b.heat_class,
        "score_k": rounded(b.score_k),
        "reliability": b.reliability.value,
        "reasons": ",".join(b.reasons),
        "use_code": b.use_code,
        "material": b.material,
        "emissivity": b.emissivity,
        "pixel_count": s.pixel_count,
        "valid_count": s.valid_count,
        "coverage": rounded(s.coverage, 4),
        "mean_c": rounded(s.mean),
        "median_c": rounded(s.median),
        "p10_c": rounded(s.p10),
        "p90_c": rounded(s.p90),
        "min_c": rounded(s.min),
        "max_c": rounded(s.max),
        "std_k": rounded(s.std),
        "reference_c": rounded(b.reference_c),
        "peer_group": b.peer_group,
        "excess_air_k": rounded(b.excess_air_k),
        "excess_peers_k": rounded(b.excess_peers_k),
        "hot_spot_count": len(b.hot_spots),
        "hot_spot_area_m2": rounded(sum(h.area_m2 for h in b.hot_spots)),
        "problems": "; ".join(p.message for p in b.problems),
        "view_angle_deg": rounded(b.view_angle_deg, 1),
        "thermal_source": b.thermal.name if b.thermal else None,
        "card": card,
    }


def hot_spot_records(b: Building) -> list[dict[str, Any]]:
    """The hot spots of one building as flat attributes."""
    return [
        {
            "building_id": b.id,
            "building_key": b.key,
            "building_rank": b.rank,
            "building_class": b.heat_class,
            "number": h.number,
            "area_m2": rounded(h.area_m2),
            "pixel_count": h.pixel_count,
            "peak_c": rounded(h.peak_c),
            "mean_excess_k": rounded(h.mean_excess_k),
        }
        for h in b.hot_spots
    ]


def write_geopackage(report: BuildingsReport, path: Path) -> None:
    """Both layers into one GeoPackage, written beside ``path`` and renamed into place."""
    import geopandas as gpd  # lazy: +0.5 s, only when the findings are written

    crs = report.config.output_crs
    buildings = gpd.GeoDataFrame(
        [building_record(b, report.cards.get(b.key)) for b in report.buildings],
        geometry=[b.geometry for b in report.buildings],
        crs=crs,
    )
    spots = [
        (rec, h.geometry)
        for b in report.buildings
        for rec, h in zip(hot_spot_records(b), b.hot_spots, strict=True)
    ]
    hot = gpd.GeoDataFrame(
        [r for r, _ in spots] or None,
        geometry=[g for _, g in spots],
        crs=crs,
        columns=None
        if spots
        else [
            "building_id",
            "building_key",
            "building_rank",
            "building_class",
            "number",
            "area_m2",
            "pixel_count",
            "peak_c",
            "mean_excess_k",
        ],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.gpkg")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        buildings.to_file(tmp, driver="GPKG", layer=BUILDINGS_LAYER)
        hot.to_file(
            tmp,
            driver="GPKG",
            layer=HOT_SPOTS_LAYER,
            mode="a",
            geometry_type="MultiPolygon" if not spots else None,
        )
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def report_json(report: BuildingsReport) -> dict[str, Any]:
    """The JSON form of a run: inputs, parameters, conditions and every building's figures."""
    config = report.config
    return {
        "footprints": str(config.footprints),
        "thermal": str(config.thermal),
        "rgb": str(config.rgb) if config.rgb else None,
        "raster_crs": report.raster_crs,
        "output_crs": config.output_crs,
        "cell_size_m": report.cell_size_m,
        "use_field": report.use_field,
        "material_field": report.material_field,
        "flight": config.flight.model_dump(mode="json"),
        "parameters": {
            "hot_spots": config.hot_spots.model_dump(mode="json"),
            "score": config.score.model_dump(mode="json"),
            "reliability": config.reliability.model_dump(mode="json"),
        },
        "buildings": [
            {**building_record(b, report.cards.get(b.key)), "hot_spots": hot_spot_records(b)}
            for b in report.buildings
        ],
    }


def write_json(report: BuildingsReport, path: Path) -> None:
    """The JSON report, atomically."""
    atomic_write_text(path, json.dumps(report_json(report), ensure_ascii=False, indent=1))
