"""The ``rasters`` sub-stage of ``process``: every delivered orthophoto, DSM and DTM as a COG.

Each delivered raster is reprojected to the target CRS (:mod:`pipeline.rasters.reproject`) with the
delivery's height-datum declaration; one that cannot be read or lies far outside the target CRS is
skipped with the reason, and the warnings raised while reprojecting travel with its product.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from core.errors import DroneGisError
from flights.models import FileKind
from pipeline.geodesy.decision import DECLARATIONS
from pipeline.models import Product, ProductKind, Skipped
from pipeline.products import product_id
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog
from pipeline.run import ProcessRun, StageOutput

logger = logging.getLogger(__name__)

RASTER_KINDS = {
    FileKind.ORTHOPHOTO: ProductKind.ORTHOPHOTO,
    FileKind.DSM: ProductKind.DSM,
    FileKind.DTM: ProductKind.DTM,
}


def rasters_stage(run: ProcessRun) -> StageOutput:
    """Sub-stage ``rasters``: every delivered orthophoto, DSM and DTM as a COG in the target CRS."""
    products: list[Product] = []
    skipped: list[Skipped] = []
    for delivered in run.flight.files:
        kind = RASTER_KINDS.get(delivered.kind)
        if kind is None:
            continue
        pid = product_id(run.flight.id, kind.value, Path(delivered.path).name)  # ODM: odm_dem/dsm.tif
        if any(p.id == pid for p in products):
            name = Path(delivered.path).name
            reason = f"another delivered {kind.value} has the file name {name}: product id {pid} is taken"
            logger.error("%s: %s", delivered.path, reason)
            skipped.append(Skipped(file=delivered.path, reason=reason))
            continue
        declared = run.flight.height_datum.for_kind(delivered.kind)
        signature = run.signature(delivered.sha256, str(run.grids), declared)
        old = run.reusable(pid, signature, "rasters")
        if old is not None:
            products.append(old)
            continue
        src = run.workspace.archived_file(run.flight.id, delivered.path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                config = ReprojectConfig(
                    kind=kind,
                    target_crs=run.target_crs,
                    transformation=run.config.transformation,
                    grids=run.grids,
                    flight=run.flight.id,
                    product_id=pid,
                    workspace_root=run.workspace.root,
                    src_crs=delivered.crs,
                    declared_datum=DECLARATIONS[declared] if declared else None,
                )
                product = reproject_to_cog(
                    src, run.workspace.raster_cog(run.flight.id, delivered.path), config
                )
            except DroneGisError as exc:
                logger.error("%s: %s", delivered.path, exc)
                skipped.append(Skipped(file=delivered.path, reason=str(exc)))
                continue
        notes = tuple(str(w.message) for w in caught if issubclass(w.category, UserWarning))
        products.append(
            product.model_copy(
                update={"signature": signature, "warnings": notes, "source_files": (delivered.path,)}
            )
        )
    return StageOutput(tuple(products), tuple(skipped))
