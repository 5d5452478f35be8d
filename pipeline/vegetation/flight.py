"""The ``vegetation`` sub-stage of ``process``: index COGs of a nature-monitoring flight's orthophotos.

A flight flown for nature monitoring (:attr:`flights.models.Purpose.NATURE_MONITORING`) with an
orthophoto product gets one :attr:`~pipeline.models.ProductKind.VEGETATION_INDEX` product per index
its bands allow (ExG, VARI, GLI, NGRDI of RGB; NDVI, NDRE, GNDVI, SAVI when NIR/red-edge bands are
identified), written by :func:`pipeline.vegetation.stage.vegetation_indices` — the function behind
``dronegis vegetation`` — into ``products/<flight>/vegetation/``, tagged with the orthophoto's capture
time. Unchanged reruns keep the products (signature: the orthophoto's signature and the stage
options); an orthophoto that cannot be used is skipped with the reason, never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import rasterio

from core.errors import DroneGisError
from flights.models import Purpose
from flights.raster_time import raster_capture
from pipeline.models import Product, ProductKind, Skipped
from pipeline.products import product_id
from pipeline.rasters.stage import RASTER_KINDS
from pipeline.run import ProcessRun, StageOutput
from pipeline.vegetation.stage import VegetationConfig, vegetation_indices

log = logging.getLogger(__name__)

STAGE = "vegetation"
INDEX_UNITS = "index (unitless)"


def orthophotos(products: Mapping[str, Product]) -> list[Product]:
    """The flight's orthophoto products (delivered and reprojected), by id."""
    return sorted((p for p in products.values() if p.kind is ProductKind.ORTHOPHOTO), key=lambda p: p.id)


def capture_span(run: ProcessRun, product: Product) -> tuple[datetime | None, datetime | None]:
    """When ``product`` was flown, as ``process`` will date it: its delivered raster, the frames, the
    declaration (:func:`flights.raster_time.raster_capture`), else its own record."""
    delivered = {f.path: f for f in run.flight.files if f.kind in RASTER_KINDS}
    raster = next((delivered[f] for f in product.source_files if f in delivered), None)
    found = raster_capture(raster, run.flight) if raster is not None else None
    if found is not None:
        return found[0], found[1]
    return product.time_start, product.time_end


def cog_product(run: ProcessRun, pid: str, kind: ProductKind, path: Path, source: Product) -> Product:
    """The record of an analysis COG made from ``source`` (dated like it by ``process``)."""
    with rasterio.open(path) as src:
        bounds = (src.bounds.left, src.bounds.bottom, src.bounds.right, src.bounds.top)
        gsd, units = float(abs(src.transform.a)), src.tags().get("DRONEGIS_UNITS")
    return Product(
        id=pid,
        flight=run.flight.id,
        kind=kind,
        path=run.rel(path),
        crs=source.crs,
        bounds=bounds,
        gsd_m=gsd,
        source_files=source.source_files,
        transformation=source.transformation,
        units=units,
    )


def kept_products(run: ProcessRun, prefix: str, signature: str, stage: str) -> list[Product]:
    """The previous run's products whose id starts with ``prefix`` when every one still holds
    (same signature, file present, ``stage`` not forced); else none (they are all made again)."""
    old = [p for p in run.previous.values() if p.id.startswith(prefix)]
    kept = [p for p in old if run.reusable(p.id, signature, stage)]
    return kept if old and len(kept) == len(old) else []


def vegetation_stage(run: ProcessRun, products: Mapping[str, Product]) -> StageOutput:
    """Index products of every orthophoto of a nature-monitoring flight (others: nothing)."""
    if run.flight.purpose is not Purpose.NATURE_MONITORING:
        return StageOutput()
    orthos = orthophotos(products)
    if not orthos:
        why = "naturflyvning uden ortofoto: intet vegetationsindeks / nature flight without an orthophoto"
        log.warning("%s: %s skipped: %s", run.flight.id, STAGE, why)
        return StageOutput(skipped=(Skipped(file=run.flight.id, reason=f"{STAGE}: {why}"),))
    made: list[Product] = []
    skipped: list[Skipped] = []
    for ortho in orthos:
        try:
            made.extend(_indices(run, ortho))
        except DroneGisError as exc:
            log.warning("%s: vegetation indices of %s skipped: %s", run.flight.id, ortho.path, exc)
            skipped.append(Skipped(file=ortho.path, reason=f"{STAGE}: {exc}"))
    return StageOutput(tuple(made), tuple(skipped))


def _indices(run: ProcessRun, ortho: Product) -> list[Product]:
    """The index products of one orthophoto (the previous ones while their signature holds)."""
    prefix = product_id(run.flight.id, "ndx", Path(ortho.path).name) + "-"
    signature = run.signature(STAGE, ortho.id, ortho.signature)
    kept = kept_products(run, prefix, signature, STAGE)
    if kept:
        return kept  # unchanged orthophoto and options: keep every index
    start, end = capture_span(run, ortho)
    out_dir = run.workspace.products(run.flight.id) / STAGE
    config = VegetationConfig(out_dir=out_dir, time_start=start, time_end=end)
    result = vegetation_indices(run.workspace.root / ortho.path, config)
    made = []
    for index in result.products:
        pid = f"{prefix}{index.index.lower()}"
        record = cog_product(run, pid, ProductKind.VEGETATION_INDEX, index.path, ortho)
        made.append(
            record.model_copy(
                update={"units": INDEX_UNITS, "signature": signature, "warnings": result.warnings}
            )
        )
    log.info("%s: %d vegetation indices of %s", run.flight.id, len(made), ortho.path)
    return made
