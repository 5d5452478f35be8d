"""The ``roofs`` sub-stage of ``process``: roof faces of the configured footprints on the flight's DSMs.

With footprints configured (``ProcessConfig.footprints``: ``dronegis process --footprints FILE``,
the setting ``DRONEGIS_FOOTPRINTS``), every DSM product of the flight is measured by
:func:`pipeline.roofs.stage.run_roofs` — the function behind ``dronegis roofs`` — into
``products/<flight>/roofs/<dsm>/`` (GeoPackage with the layers ``buildings`` and ``roof_planes``,
CSV, JSON, HTML report). A DTM product of the flight overlapping the DSM gives the heights above
terrain; the datum check is the room's (:func:`pipeline.surface.heights.check_heights`): a DSM and
DTM in two known datums that cannot be converted are refused with the reason, an unstated datum is
assumed shared and said so in the product's warnings.

One product per DSM: ``<flight>-roofs-<dsm>-planes``, a
:attr:`~pipeline.models.ProductKind.ROOF_PLANES` vector product (layer ``roof_planes``: building
id, true and planimetric area, slope, slope class, aspect, mean height, fit RMSE). The per-building
figures stay in the GeoPackage's ``buildings`` layer and the CSV/report: no product kind fits them
(``BUILDINGS`` is the heat-loss layer the case handler's map asks for). A flight without a DSM,
footprints that cannot be read or lie outside the DSM, or a DSM that cannot be used are skipped
with the reason. Unchanged reruns keep the product (signature: the DSM's and DTM's signatures,
the footprint file's content, the id field and the face-search settings).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path

import shapely

from core.errors import AnalysisError
from pipeline.models import Product, ProductKind, VectorInfo
from pipeline.products import product_id
from pipeline.roofs.models import RoofConfig, RoofRun, RoofSettings
from pipeline.roofs.stage import run_roofs
from pipeline.run import ProcessRun, StageOutput, each_dsm
from pipeline.vegetation.flight import kept_products
from pipeline.zonal.polygons import polygon_file_digest

log = logging.getLogger(__name__)

STAGE = "roofs"
LAYER = "roof_planes"
SETTINGS = RoofSettings()
"""The face search of the sub-stage: the defaults of ``dronegis roofs``."""


def roofs_stage(run: ProcessRun, products: Mapping[str, Product]) -> StageOutput:
    """Roof planes of the configured footprints on every DSM of the flight (nothing without footprints)."""
    footprints = run.config.footprints
    if footprints is None:
        return StageOutput()
    source = Path(footprints).resolve()

    def measure(dsm: Product) -> list[Product]:
        return [_measure(run, dsm, terrain_for(dsm, products), source)]

    return each_dsm(run, products, STAGE, source, measure)


def terrain_for(dsm: Product, products: Mapping[str, Product]) -> Product | None:
    """The flight's first DTM product (by id) whose extent meets the DSM's, or None."""
    box = shapely.box(*dsm.bounds)
    dtms = sorted((p for p in products.values() if p.kind is ProductKind.DTM), key=lambda p: p.id)
    return next((p for p in dtms if p.crs == dsm.crs and box.intersects(shapely.box(*p.bounds))), None)


def roof_config(run: ProcessRun, dsm: Product, dtm: Product | None, footprints: Path) -> RoofConfig:
    """The :class:`RoofConfig` of one DSM: the run's footprints, id field, grids and target CRS."""
    name = product_id(run.flight.id, STAGE, Path(dsm.path).name).removeprefix(f"{run.flight.id}-{STAGE}-")
    return RoofConfig(
        dsm=run.workspace.root / dsm.path,
        footprints=footprints,
        dtm=run.workspace.root / dtm.path if dtm is not None else None,
        id_field=run.config.footprints_id_field,
        out_dir=run.workspace.products(run.flight.id) / STAGE / name,
        out_crs=run.target_crs,
        settings=SETTINGS,
        proj_grids=run.grids,
    )


def _measure(run: ProcessRun, dsm: Product, dtm: Product | None, footprints: Path) -> Product:
    """The roof-planes product of one DSM (the previous one while its signature holds).

    Raises:
        AnalysisError: no face was found (the reason of the first footprint that failed).
    """
    prefix = product_id(run.flight.id, STAGE, Path(dsm.path).name) + "-"
    config = roof_config(run, dsm, dtm, footprints)
    signature = run.signature(
        STAGE, dsm.id, dsm.signature, dtm.id if dtm else None, dtm.signature if dtm else None,
        polygon_file_digest(footprints), config.id_field, config.settings.model_dump(mode="json"),
    )  # fmt: skip
    kept = kept_products(run, prefix, signature, STAGE)
    if kept:
        return kept[0]
    result = run_roofs(config)
    if not result.planes:
        assert config.out_dir is not None
        shutil.rmtree(config.out_dir, ignore_errors=True)
        reasons = [p for b in result.buildings for p in b.problems]
        first = reasons[0] if reasons else "no roof face of at least the smallest face area"
        raise AnalysisError(
            f"ingen tagflade fundet på {dsm.path} / no roof face found on {dsm.path} for the "
            f"{len(result.buildings)} footprints of {footprints}: {first}"
        )
    log.info("%s: roofs on %s: %d buildings, %d faces", run.flight.id, dsm.path, len(result.buildings),
             len(result.planes))  # fmt: skip
    return _record(run, f"{prefix}planes", dsm, dtm, result).model_copy(update={"signature": signature})


def _record(run: ProcessRun, pid: str, dsm: Product, dtm: Product | None, result: RoofRun) -> Product:
    failed = [b for b in result.buildings if b.status.value != "ok"]
    summary = (
        f"{len(failed)} af {len(result.buildings)} bygninger ikke (fuldt) målt / {len(failed)} of "
        f"{len(result.buildings)} buildings not (fully) measured; the buildings layer says why"
    )
    gpkg = Path(result.outputs["gpkg"])
    return Product(
        id=pid,
        flight=run.flight.id,
        kind=ProductKind.ROOF_PLANES,
        path=run.rel(gpkg),
        crs=run.target_crs,
        bounds=_gpkg_bounds(gpkg),
        gsd_m=dsm.gsd_m,
        source_files=dsm.source_files + (dtm.source_files if dtm else ()),
        transformation=dsm.transformation,
        height_datum=result.height_datum,
        units="m²",
        warnings=(*result.notes, *((summary,) if failed else ())),
        vector=VectorInfo(layer=LAYER, count=len(result.planes)),
    )


def _gpkg_bounds(gpkg: Path) -> tuple[float, float, float, float]:
    import pyogrio  # noqa: PLC0415 -- heavy; only when roofs run

    info = pyogrio.read_info(gpkg, layer=LAYER, force_total_bounds=True)
    minx, miny, maxx, maxy = (float(v) for v in info["total_bounds"])
    return (minx, miny, maxx, maxy)
