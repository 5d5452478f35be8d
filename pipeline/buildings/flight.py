"""The ``buildings`` sub-stage of ``process``: heat loss per building over the flight's thermal products.

It runs when footprints are configured (``ProcessConfig.footprints``: ``dronegis process
--footprints FILE``, the setting ``DRONEGIS_FOOTPRINTS`` for the service's jobs) and makes the
same analysis as ``dronegis buildings`` (:func:`pipeline.buildings.stage.buildings_stage`).

Which thermal product:

- the flight's thermal mosaic when it has one: it is already the nearest-to-nadir view per cell
  (:mod:`pipeline.mosaic.build`), so ``dronegis buildings FOOTPRINTS --thermal thermal_mosaic.tif``
  gives the same figures;
- else its georeferenced thermal frames (the GCP-warped one of a frame when there is one), each
  building measured on the nearest-to-nadir frame covering it (:mod:`pipeline.buildings.views`).

Air temperature (excess over air): ``ProcessConfig.air_temp_c`` — the flight's logged
conditions, which the caller reads (``dronegis process --conditions``, the service's
``conditions`` file or ``qa/<flight>/conditions.json``) — else the atmospheric temperature of
the flight's thermal parameters (``--air-temp``, stored per flight), else unknown.
The delivered orthophoto, when there is one, gives the cards' RGB crops.

Outputs under ``products/<flight>/buildings/`` (:meth:`core.workspace.Workspace.buildings`):
``buildings.gpkg`` (layers ``buildings`` and ``hot_spots``, in the target CRS),
``buildings.json`` and ``cards/``; products ``<flight>-buildings`` (BUILDINGS) and
``<flight>-hot-spots`` (HOT_SPOTS). Their signature covers the footprint file's bytes, the id
field, the air temperature, the thermal and RGB products' signatures and the analysis rules, so
an unchanged rerun keeps them. A flight without thermal products, footprints that cannot be
read or lie outside the thermal products, or a raster that is not °C: the sub-stage is skipped
with a reason (logged and returned as :class:`~pipeline.models.Skipped`), never raised.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from pyproj.transformer import Transformer

from core.errors import PolygonLayerError, RasterInputError
from core.localtime import local_date
from pipeline.buildings.models import Building, BuildingsConfig, BuildingsReport, FlightConditions
from pipeline.buildings.outputs import BUILDINGS_LAYER, HOT_SPOTS_LAYER
from pipeline.buildings.stage import GPKG_NAME, buildings_stage, write_report
from pipeline.buildings.views import ThermalView, measure_views
from pipeline.models import GcpGeoref, Product, ProductKind, Skipped, VectorInfo
from pipeline.products import bounds_of
from pipeline.products import product_id as make_product_id
from pipeline.run import ProcessRun, StageOutput
from pipeline.thermal.stage import load_overrides
from pipeline.zonal.polygons import polygon_file_digest

logger = logging.getLogger(__name__)

STAGE = "buildings"
#: Part of the buildings products' signature: a new version recomputes them.
BUILDINGS_VERSION = "1"


def flight_buildings_stage(run: ProcessRun, products: Mapping[str, Product]) -> StageOutput:
    """The buildings and hot-spots products of the flight, or nothing (with the reason) when impossible."""
    footprints = run.config.footprints
    if footprints is None:
        return StageOutput()
    footprints = Path(footprints).resolve()
    views = thermal_products(products)
    reason = _refusal(run, footprints, views)
    if reason is not None:
        return _skip(run, footprints, reason)
    ids = (make_product_id(run.flight.id, "buildings"), make_product_id(run.flight.id, "hot-spots"))
    config = buildings_config(run, footprints, views, products)
    signature = run.signature(
        STAGE,
        BUILDINGS_VERSION,
        polygon_file_digest(footprints),
        config.model_dump(mode="json", exclude={"footprints", "thermal", "out_dir", "rgb"}),
        [p.signature for p in views],
        [p.signature for p in products.values() if p.kind == ProductKind.ORTHOPHOTO],
    )
    old = [run.reusable(pid, signature, STAGE) for pid in ids]
    if all(p is not None for p in old):
        return StageOutput(tuple(p for p in old if p is not None))
    try:
        report = _analyse(config, views, run)
    except (PolygonLayerError, RasterInputError) as exc:
        return _skip(run, footprints, str(exc))
    if not any(b.stats.valid_count for b in report.buildings):
        return _skip(
            run, footprints, "no footprint has a thermal cell under it (outside the thermal products)"
        )
    return StageOutput(_products(run, report, views, ids, signature))


def thermal_products(products: Mapping[str, Product]) -> list[Product]:
    """The thermal mosaic when there is one; else one georeferenced °C product per thermal frame."""
    mosaic = [p for p in products.values() if p.kind == ProductKind.THERMAL_MOSAIC]
    if mosaic:
        return mosaic[:1]
    best: dict[tuple[str, ...], Product] = {}
    for p in sorted(products.values(), key=lambda p: p.id):
        if p.kind == ProductKind.THERMAL_FRAME and (
            p.source_files not in best or isinstance(p.georef, GcpGeoref)
        ):
            best[p.source_files] = p
    return sorted(best.values(), key=lambda p: p.id)


def air_temperature(run: ProcessRun) -> float | None:
    """The logged air temperature (config), else the flight's thermal parameters' atmospheric one."""
    if run.config.air_temp_c is not None:
        return run.config.air_temp_c
    overrides = run.thermal.overrides if run.thermal else load_overrides(run.workspace, run.flight.id)
    return overrides.atmospheric_temp_c


def buildings_config(
    run: ProcessRun, footprints: Path, views: Sequence[Product], products: Mapping[str, Product]
) -> BuildingsConfig:
    """The analysis of this flight: its first thermal product, conditions, orthophoto, target CRS."""
    times = [p.time_start for p in views if p.time_start is not None]
    ortho = sorted((p for p in products.values() if p.kind == ProductKind.ORTHOPHOTO), key=lambda p: p.id)
    return BuildingsConfig(
        footprints=footprints,
        thermal=run.workspace.root / views[0].path,
        out_dir=run.workspace.buildings(run.flight.id),
        rgb=run.workspace.root / ortho[0].path if ortho else None,
        id_field=run.config.footprints_id_field,
        flight=FlightConditions(
            date_flown=local_date(min(times)) if times else None,
            air_temp_c=air_temperature(run),
            view_angle_deg=views[0].view.off_nadir_deg if len(views) == 1 and views[0].view else None,
        ),
        output_crs=run.target_crs,
    )


def _analyse(config: BuildingsConfig, views: Sequence[Product], run: ProcessRun) -> BuildingsReport:
    """The mosaic (one view) as ``dronegis buildings``; several frames through the nadir rule."""
    if len(views) == 1:
        return buildings_stage(config)
    frames = [
        ThermalView(
            raster=run.workspace.root / p.path, view_angle_deg=p.view.off_nadir_deg if p.view else None
        )
        for p in views
    ]
    return write_report(config, measure_views(config, frames))


def _refusal(run: ProcessRun, footprints: Path, views: Sequence[Product]) -> str | None:
    """Why the analysis cannot run (no thermal product, no file, footprints away from them), or None."""
    if not views:
        return "the flight has no thermal product (no thermal mosaic, no georeferenced thermal frame)"
    if not footprints.exists():
        return "the file does not exist"
    import pyogrio  # lazy: +0.6 s, only when footprints are configured
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        info = pyogrio.read_info(footprints, force_total_bounds=True)
    except (DataSourceError, DataLayerError, OSError) as exc:
        return f"cannot be read: {exc}"
    if info["crs"] is None or not info["features"]:
        return None  # the analysis names the problem (no CRS, no feature)
    try:
        to_target = Transformer.from_crs(CRS.from_user_input(info["crs"]), run.target_crs, always_xy=True)
        minx, miny, maxx, maxy = (float(v) for v in info["total_bounds"])
        box = shapely.box(*to_target.transform_bounds(minx, miny, maxx, maxy, densify_pts=21))
    except (CRSError, ValueError) as exc:
        return f"its extent cannot be brought to {run.target_crs}: {exc}"
    thermal = bounds_of(list(views))
    if thermal is None or not box.intersects(shapely.box(*thermal)):
        extent = ", ".join(f"{v:.1f}" for v in box.bounds)
        return f"its extent ({extent} in {run.target_crs}) lies outside the thermal products ({thermal})"
    return None


def _skip(run: ProcessRun, footprints: Path, reason: str) -> StageOutput:
    """No buildings products: the reason logged and returned; a previous run's outputs removed."""
    logger.warning("%s: buildings skipped: footprints %s: %s", run.flight.id, footprints, reason)
    shutil.rmtree(run.workspace.buildings(run.flight.id), ignore_errors=True)
    return StageOutput(skipped=(Skipped(file=str(footprints), reason=f"buildings: {reason}"),))


def _bounds(geometries: Sequence[object]) -> tuple[float, float, float, float] | None:
    found = [g for g in geometries if g is not None]
    if not found:
        return None
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(found))
    return minx, miny, maxx, maxy


def _products(
    run: ProcessRun, report: BuildingsReport, views: Sequence[Product], ids: tuple[str, str], signature: str
) -> tuple[Product, Product]:
    """The two vector products of the report's GeoPackage."""
    buildings: tuple[Building, ...] = report.buildings
    spots = [h.geometry for b in buildings for h in b.hot_spots]
    building_box = _bounds([b.geometry for b in buildings]) or (0.0, 0.0, 0.0, 0.0)
    times = [p.time_start for p in views if p.time_start is not None]
    ends = [p.time_end for p in views if p.time_end is not None]
    common = {
        "flight": run.flight.id,
        "path": run.rel(report.config.out_dir / GPKG_NAME),
        "crs": run.target_crs,
        "time_start": min(times, default=None),
        "time_end": max(ends, default=None),
        "source_files": tuple(f for p in views for f in p.source_files),
        "transformation": views[0].transformation,
        "signature": signature,
        "thermal": views[0].thermal if len(views) == 1 else None,
        "units": "°C",
    }
    return (
        Product(
            id=ids[0],
            kind=ProductKind.BUILDINGS,
            bounds=building_box,
            vector=VectorInfo(layer=BUILDINGS_LAYER, count=len(buildings)),
            **common,
        ),
        Product(
            id=ids[1],
            kind=ProductKind.HOT_SPOTS,
            bounds=_bounds(spots) or building_box,
            vector=VectorInfo(layer=HOT_SPOTS_LAYER, count=len(spots)),
            **common,
        ),
    )
