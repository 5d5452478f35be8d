"""The ``mosaic`` sub-stage of ``process``: the °C mosaic of the flight's georeferenced thermal frames.

One georeferenced product per thermal frame goes in (the GCP-warped one when there is one); the
mosaic records the frames' measurement parameters (each value, or its range) and their cameras.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.models import GcpGeoref, MosaicGeoref, Product, ProductKind, ProductThermal, View
from pipeline.mosaic.build import BLEND, thermal_mosaic
from pipeline.products import bounds_of
from pipeline.products import product_id as make_product_id
from pipeline.run import ProcessRun, StageOutput
from pipeline.thermal.parameters import merge_thermal
from pipeline.thermal.stage import load_overrides


def mosaic_stage(run: ProcessRun, products: Mapping[str, Product]) -> StageOutput:
    """The °C mosaic of the georeferenced thermal frames (nearest-to-nadir, :mod:`pipeline.mosaic.build`)."""
    frames = _mosaic_frames(products)
    if not frames:
        return StageOutput()
    pid = make_product_id(run.flight.id, "thermal-mosaic")
    signature = run.signature(*[p.signature for p in frames])
    old = run.reusable(pid, signature, "mosaic")
    if old is not None:
        return StageOutput((old,))
    dst = thermal_mosaic(
        [run.workspace.root / p.path for p in frames],
        run.workspace.thermal_mosaic(run.flight.id),
        target_crs=run.target_crs,
        executor=run.executor,  # one task per 1024 px window of the mosaic
    )
    times = [p.time_start for p in frames if p.time_start is not None]
    mosaic = Product(
        id=pid,
        flight=run.flight.id,
        kind=ProductKind.THERMAL_MOSAIC,
        path=run.rel(dst),
        crs=run.target_crs,
        bounds=bounds_of(frames) or (0.0, 0.0, 0.0, 0.0),
        gsd_m=min((p.gsd_m for p in frames if p.gsd_m), default=None),
        time_start=min(times, default=None),
        time_end=max(times, default=None),
        source_files=tuple(f for p in frames for f in p.source_files),
        units="°C",
        transformation=frames[0].transformation,
        signature=signature,
        georef=MosaicGeoref(blend=BLEND),
        thermal=_mosaic_thermal(run, frames),
        view=_mosaic_view(frames),
    )
    return StageOutput((mosaic,))


def _mosaic_frames(products: Mapping[str, Product]) -> list[Product]:
    """One georeferenced °C product per thermal frame: the GCP-warped one when there is one."""
    best: dict[tuple[str, ...], Product] = {}
    for p in sorted(products.values(), key=lambda p: p.id):
        if p.kind != ProductKind.THERMAL_FRAME:
            continue
        if p.source_files not in best or isinstance(p.georef, GcpGeoref):
            best[p.source_files] = p
    return sorted(best.values(), key=lambda p: p.id)


def _mosaic_thermal(run: ProcessRun, frames: list[Product]) -> ProductThermal | None:
    """The measurement parameters of the mosaic's frames (each value, or its range)."""
    thermal = run.thermal
    overrides = thermal.overrides if thermal else load_overrides(run.workspace, run.flight.id)
    used = [p.thermal for p in frames if p.thermal is not None]
    return merge_thermal(used, overrides) if used else None


def _mosaic_view(frames: list[Product]) -> View | None:
    """The cameras of the mosaic's frames (no viewing angle: a mosaic has many)."""
    instruments = sorted({i for p in frames if p.view is not None for i in p.view.instruments})
    return View(instruments=tuple(instruments)) if instruments else None
