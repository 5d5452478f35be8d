"""The files of a roof run: GeoPackage (buildings, roof faces), CSV (Danish, English), JSON, HTML.

Tables are written the way the volume room writes them (:mod:`pipeline.volumes.tables`):
the Danish CSV with ``;`` and a decimal comma for Danish Excel, the English one for programs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from shapely.geometry.base import BaseGeometry

from core.atomic import atomic_write_text
from pipeline.roofs.models import Building, RoofConfig, RoofPlane, RoofRun
from pipeline.roofs.report import write_report
from pipeline.volumes.tables import Cell, Column, attribute_table, write_csv_pair, write_gpkg
from pipeline.zonal import PolygonLayer

if TYPE_CHECKING:
    import geopandas as gpd

FILES = {
    "gpkg": "roofs.gpkg",
    "csv": "roofs.csv",
    "csv_en": "roofs_en.csv",
    "planes_csv": "roof_planes.csv",
    "planes_csv_en": "roof_planes_en.csv",
    "json": "roofs.json",
    "html": "roofs.html",
}


def _field(name: str) -> Callable[[object], Cell]:
    return lambda item: getattr(item, name)


def _percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


SLOPE_CLASSES: tuple[tuple[float, str], ...] = ((10.0, "flat"), (25.0, "low"), (45.0, "pitched"))
"""Upper slope bound (°, exclusive) of each class; steeper faces are ``steep``. Roughly the roofing each
takes: under 10° roofing felt or membrane, 10–25° felt, sheet or fibre cement, 25–45° tiles or slate."""


def slope_class(slope_deg: float) -> str:
    """The face's slope class (``flat``, ``low``, ``pitched``, ``steep``) of :data:`SLOPE_CLASSES`."""
    return next((name for bound, name in SLOPE_CLASSES if slope_deg < bound), "steep")


BUILDING_COLUMNS: tuple[Column, ...] = (
    Column("Id", "id", _field("id")),
    Column("Status", "status", lambda b: b.status.value),
    Column("Tagareal (m²)", "roof_area_m2", _field("roof_area_m2"), 2),
    Column("Grundareal (m²)", "footprint_area_m2", _field("footprint_area_m2"), 2),
    Column("Tagflader", "planes", _field("planes")),
    Column("Dominerende hældning (°)", "dominant_slope_deg", _field("dominant_slope_deg"), 1),
    Column("Dominerende retning (°)", "dominant_aspect_deg", _field("dominant_aspect_deg"), 0),
    Column("Middelhældning (°)", "mean_slope_deg", _field("mean_slope_deg"), 1),
    Column("Højde over terræn (m)", "height_m", _field("height_m"), 2),
    Column("Maks. højde over terræn (m)", "max_height_m", _field("max_height_m"), 2),
    Column("Andel på flader (%)", "assigned_pct", lambda b: _percent(b.assigned_share), 1),
    Column("Bemærkninger", "problems", lambda b: "; ".join(b.problems)),
)
PLANE_COLUMNS: tuple[Column, ...] = (
    Column("Bygning", "building", _field("building")),
    Column("Flade", "plane", _field("index")),
    Column("Areal (m²)", "area_m2", _field("area_m2"), 2),
    Column("Areal 2D (m²)", "area_2d_m2", _field("area_2d_m2"), 2),
    Column("Hældning (°)", "slope_deg", _field("slope_deg"), 1),
    Column("Hældningsklasse", "slope_class", lambda p: slope_class(p.slope_deg)),
    Column("Retning (°)", "aspect_deg", _field("aspect_deg"), 0),
    Column("Middelhøjde (m)", "height_m", _field("height_m"), 2),
    Column("RMSE (m)", "rmse_m", _field("rmse_m"), 3),
    Column("Celler", "cells", _field("cells")),
)


def _frames(
    run: RoofRun, layer: PolygonLayer, outlines: Sequence[BaseGeometry | None], out_crs: str
) -> dict[str, gpd.GeoDataFrame]:
    import geopandas as gpd  # noqa: PLC0415 -- heavy; only when outputs are written

    buildings: Sequence[Building] = run.buildings
    planes: Sequence[RoofPlane] = run.planes
    footprints = gpd.GeoSeries([f.geometry for f in layer.features], crs=layer.crs).to_crs(out_crs)
    faces = gpd.GeoSeries(list(outlines), crs=layer.crs).to_crs(out_crs)
    return {
        "buildings": gpd.GeoDataFrame(
            attribute_table(BUILDING_COLUMNS, buildings), geometry=footprints, crs=out_crs
        ),
        "roof_planes": gpd.GeoDataFrame(attribute_table(PLANE_COLUMNS, planes), geometry=faces, crs=out_crs),
    }


def write_outputs(
    config: RoofConfig, run: RoofRun, layer: PolygonLayer, outlines: Sequence[BaseGeometry | None]
) -> dict[str, str]:
    """Write every file of the run into ``config.out_dir``; kind → path."""
    assert config.out_dir is not None
    paths = {kind: config.out_dir / name for kind, name in FILES.items()}
    write_gpkg(paths["gpkg"], _frames(run, layer, outlines, config.out_crs))
    write_csv_pair(paths["csv"], paths["csv_en"], BUILDING_COLUMNS, run.buildings)
    write_csv_pair(paths["planes_csv"], paths["planes_csv_en"], PLANE_COLUMNS, run.planes)
    outputs = {kind: str(path) for kind, path in paths.items()}
    final = run.model_copy(update={"outputs": outputs})
    atomic_write_text(paths["json"], final.model_dump_json(indent=2))
    write_report(paths["html"], final)
    return outputs
