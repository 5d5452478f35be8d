"""The ``volumes`` sub-stage of ``process``: cut/fill per configured polygon on the flight's DSMs.

With ``ProcessConfig.volume_polygons`` (``dronegis process --volume-polygons FILE``), every DSM
product of the flight is measured by :func:`pipeline.volumes.stage.run_volumes` — the function
behind ``dronegis volume`` — with the configured base (``volume_base``, ``volume_base_dem``) into
``products/<flight>/volumes/<dsm>/``: a :attr:`~pipeline.models.ProductKind.CUT_FILL` raster and a
:attr:`~pipeline.models.ProductKind.VOLUMES` GeoPackage product. The uncertainty uses
``volume_error`` (the CLI fills it from the flight's QA report: RMSE_V split into bias and random
part); without it the DSM's vertical error is unknown and the figures say so. A flight without a
DSM, or a DSM or polygon file that cannot be used, is skipped with the reason. Unchanged reruns
keep the products (signature: the DSM's signature, the polygon file's content and the options).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from pipeline.models import Product, ProductKind, VectorInfo
from pipeline.products import product_id
from pipeline.run import ProcessRun, StageOutput, each_dsm
from pipeline.vegetation.flight import cog_product, kept_products
from pipeline.volumes.models import BaseMethod, VerticalError, VolumeConfig, VolumeRun
from pipeline.volumes.outputs import LAYER
from pipeline.volumes.stage import run_volumes
from pipeline.zonal.polygons import polygon_file_digest

log = logging.getLogger(__name__)

STAGE = "volumes"


def volumes_stage(run: ProcessRun, products: Mapping[str, Product]) -> StageOutput:
    """Cut/fill raster and volume polygons of every DSM of the flight (nothing without polygons)."""
    polygons = run.config.volume_polygons
    if polygons is None:
        return StageOutput()
    return each_dsm(run, products, STAGE, Path(polygons), lambda dsm: _measure(run, dsm, Path(polygons)))


def _vertical_error(run: ProcessRun) -> VerticalError:
    """The DSM's vertical error as configured (RMSE split into bias and random part), else unknown."""
    config = run.config
    if config.volume_rmse_v_m is None:
        return VerticalError()  # "not given": the records state the uncertainty as unknown
    return VerticalError.from_rmse(
        config.volume_rmse_v_m,
        bias_m=config.volume_bias_v_m,
        source=config.volume_error_source or "ProcessConfig.volume_rmse_v_m",
    )


def _measure(run: ProcessRun, dsm: Product, polygons: Path) -> list[Product]:
    """The volume products of one DSM (the previous ones while their signature holds)."""
    config = run.config
    prefix = product_id(run.flight.id, STAGE, Path(dsm.path).name) + "-"
    error = _vertical_error(run)
    base_dem = Path(config.volume_base_dem).resolve() if config.volume_base_dem else None
    signature = run.signature(
        STAGE, dsm.id, dsm.signature, polygon_file_digest(polygons), config.volume_base, str(base_dem),
        polygon_file_digest(base_dem) if base_dem else None, error.model_dump(mode="json"),
    )  # fmt: skip
    kept = kept_products(run, prefix, signature, STAGE)
    if kept:
        return kept
    volume_config = VolumeConfig(
        dsm=run.workspace.root / dsm.path,
        polygons=polygons.resolve(),
        base=BaseMethod(config.volume_base),
        base_dem=base_dem,
        out_dir=run.workspace.products(run.flight.id) / STAGE / prefix.removeprefix(f"{run.flight.id}-")[:-1],
        out_crs=run.target_crs,
        dsm_error=error,
        proj_grids=run.grids,
    )
    result = run_volumes(volume_config)
    log.info("%s: volumes on %s: %d polygons, %d failed", run.flight.id, dsm.path, len(result.polygons),
             len(result.failed))  # fmt: skip
    return [p.model_copy(update={"signature": signature}) for p in _records(run, prefix, dsm, result)]


def _records(run: ProcessRun, prefix: str, dsm: Product, result: VolumeRun) -> list[Product]:
    stated = dict.fromkeys(n for p in result.polygons if p.uncertainty for n in p.uncertainty.notes)
    problems = (f"{p.id}: {'; '.join(p.problems)}" for p in result.polygons if p.problems)
    notes = (*result.notes, *stated, *problems)  # e.g. "DSM vertical accuracy not given … taken as 0"
    gpkg = Path(result.outputs["gpkg"])
    vector = Product(
        id=f"{prefix}polygons",
        flight=run.flight.id,
        kind=ProductKind.VOLUMES,
        path=run.rel(gpkg),
        crs=run.target_crs,
        bounds=_gpkg_bounds(gpkg),
        source_files=dsm.source_files,
        transformation=dsm.transformation,
        height_datum=result.height_datum,
        units="m³",
        warnings=notes,
        vector=VectorInfo(layer=LAYER, count=len(result.polygons)),
    )
    if "cutfill" not in result.outputs:
        return [vector]
    cutfill = cog_product(run, f"{prefix}cutfill", ProductKind.CUT_FILL, Path(result.outputs["cutfill"]), dsm)
    return [cutfill.model_copy(update={"units": "m", "height_datum": result.height_datum}), vector]


def _gpkg_bounds(gpkg: Path) -> tuple[float, float, float, float]:
    import pyogrio  # noqa: PLC0415 -- heavy; only when volumes run

    info = pyogrio.read_info(gpkg, layer=LAYER)
    minx, miny, maxx, maxy = (float(v) for v in info["total_bounds"])
    return (minx, miny, maxx, maxy)
