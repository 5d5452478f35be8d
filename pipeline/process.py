"""The ``process`` stage: a flight's deliveries become georeferenced products in the target CRS.

Named sub-stages, in order (``from_stage`` forces one and everything after it):

- ``rasters``: delivered orthophotos, DSMs and DTMs -> COGs (``pipeline.rasters.reproject``).
- ``thermal``: every usable thermal frame -> float32 °C raster with the flight's measurement
  parameters (``pipeline.thermal.stage``; overrides stored per flight, reused on reruns). The
  object distance defaults to the frame's height above ground: above the DEM when ``dem`` is
  given, else the relative altitude.
- ``frames``: every usable RGB and thermal frame -> footprint + georeferenced COG + thumbnail.
  Thermal frames are rendered from the thermal stage's °C rasters with the same camera and
  pose code as RGB frames; their products record the measurement parameters used.
- ``gcp``: frames observed by at least three GCPs -> polynomial fit (residuals, LOO RMSE,
  check points) and a COG warped with it (``pipeline.gcp.stage``).
- ``mosaic``: the nearest-to-nadir °C mosaic of the georeferenced thermal frames.
- ``layers``: the footprints and photo-points GeoPackages.
- ``buildings``: with footprints configured, heat loss per building over the flight's thermal
  products (``pipeline.buildings.flight``): the buildings and hot-spots GeoPackage layers.
- ``vegetation``: a nature-monitoring flight's orthophotos -> index COGs (``pipeline.vegetation.flight``).
- ``change``: a nature flight's orthophoto against the latest earlier flight of the workspace
  covering it -> co-registered change map and change areas (``pipeline.change.flight``).
- ``volumes``: with volume polygons configured, cut/fill raster and volume polygons on each DSM
  (``pipeline.volumes.flight``).
- ``roofs``: with footprints configured, roof planes (area, slope, aspect) per building on each DSM,
  heights above terrain with the flight's DTM (``pipeline.roofs.flight``).

Reruns skip products whose inputs and options have not changed (``Product.signature``; for
thermal products it includes the measurement overrides, so new overrides recompute the thermal
rasters, the thermal frame COGs and the mosaic);
``products.json`` is rewritten atomically after every sub-stage.

Where the work runs: the ``thermal``, ``frames`` and ``gcp`` sub-stages fan out one task per
frame on an :class:`~pipeline.executors.Executor` (this process, a local process pool, or a Dask
cluster: :mod:`pipeline.frames.tasks`, :func:`pipeline.thermal.stage.convert_thermal_frame`,
:mod:`pipeline.gcp.tasks`);
this process collects the results and is the only writer of ``products.json``, the thermal
record, the mosaic and the layers. The products are the same whichever executor ran them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from core.errors import GeoreferenceError, IngestError, UsageError
from core.workspace import Workspace
from flights.ingest import load_flight
from flights.models import FileKind
from flights.raster_time import raster_capture
from pipeline.buildings.flight import flight_buildings_stage
from pipeline.change.flight import change_stage
from pipeline.executors import Executor, SerialExecutor
from pipeline.frames.stage import frames_stage, thermal_distances
from pipeline.gcp.stage import gcp_stage
from pipeline.layers.stage import layers_stage
from pipeline.models import Product, Skipped
from pipeline.mosaic.stage import mosaic_stage
from pipeline.products import load_products, write_products, write_skipped
from pipeline.rasters.area import OUTSIDE_AREA
from pipeline.rasters.stage import RASTER_KINDS, rasters_stage
from pipeline.roofs.flight import roofs_stage
from pipeline.run import ProcessConfig, ProcessRun, Progress, StageOutput, resolve_stage
from pipeline.thermal.stage import thermal_stage
from pipeline.vegetation.flight import vegetation_stage
from pipeline.volumes.flight import volumes_stage

logger = logging.getLogger(__name__)


def process_flight(
    workspace: Workspace,
    flight_id: str,
    config: ProcessConfig | None = None,
    *,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> tuple[Product, ...]:
    """Georeference everything of an ingested flight; write ``products.json``.

    Args:
        workspace: the workspace holding the ingested flight.
        flight_id: the flight.
        config: target CRS, DEM, grids, forced sub-stages, thermal overrides
            (:class:`~pipeline.run.ProcessConfig`; default: EPSG:25832, no DEM).
        progress: called with (done, total) per frame.
        executor: where the per-frame tasks run (thermal conversion; locate, render and
            write of each frame; GCP fit and warp); default: in this process. Dask workers must see the
            workspace (and the DEM and grids) at the same paths.

    Raises:
        IngestError: the flight was never ingested.
        UsageError: unknown stage, or a DEM that does not exist.
        GeoreferenceError: nothing was produced because the inputs lie outside the target CRS's
            area of use (each refusal is also logged; with some products they are only logged
            and listed under the footprints' ``skipped``).
    """
    config = config or ProcessConfig()
    flight_json = workspace.flight_json(flight_id)
    if not flight_json.exists():
        raise IngestError(f"flight {flight_id!r} is not ingested in {workspace.root} (no {flight_json})")
    if config.dem is not None and not Path(config.dem).exists():
        raise UsageError(f"DEM {config.dem} does not exist")
    resolve_stage(config.from_stage)  # an unknown stage fails before any work
    run = ProcessRun(
        workspace=workspace,
        flight=load_flight(flight_json),
        config=config,
        previous={p.id: p for p in load_products(workspace, flight_id)},
        executor=executor or SerialExecutor(),
        progress=progress,
    )
    products: dict[str, Product] = {}
    skipped: list[Skipped] = []

    def collect(output: StageOutput, *, save: bool = True) -> None:
        products.update((p.id, p) for p in output.products)
        skipped.extend(output.skipped)
        if save:
            write_products(workspace, flight_id, products.values())

    collect(rasters_stage(run))
    run, thermal_skipped = _thermal(run)
    skipped.extend(thermal_skipped)
    collect(frames_stage(run))
    collect(gcp_stage(run))
    collect(mosaic_stage(run, products), save=False)
    collect(layers_stage(run, products, tuple(skipped)), save=False)
    collect(flight_buildings_stage(run, products), save=False)
    collect(vegetation_stage(run, products), save=False)
    collect(change_stage(run, products), save=False)
    collect(volumes_stage(run, products), save=False)
    collect(roofs_stage(run, products), save=False)
    products = date_products(run, products)
    write_products(workspace, flight_id, products.values())
    write_skipped(workspace, flight_id, skipped)
    refused = [s for s in skipped if OUTSIDE_AREA in s.reason]
    if refused and not products:
        raise GeoreferenceError(
            f"flight {flight_id}: no product; {len(refused)} input(s) refused, e.g. {refused[0].reason}"
        )
    logger.info("processed %s: %d products", flight_id, len(products))
    return tuple(products.values())


def date_products(run: ProcessRun, products: dict[str, Product]) -> dict[str, Product]:
    """Every product with its capture time and ``capture_time_source``.

    Delivered rasters: their metadata, else the flight's frames, else the ``--captured``
    declaration, else their file-creation time (:func:`flights.raster_time.raster_capture`).
    Other products keep the frames' times; without one they take the declaration. A product
    left without a time is "capture date unknown": ``capture_time_source`` says ``unknown`` and
    ``captured_before`` records the ingest time (it cannot have been flown later).
    """
    delivered = {f.path: f for f in run.flight.files if f.kind in RASTER_KINDS}
    declared = run.flight.captured
    dated: dict[str, Product] = {}
    for pid, product in products.items():
        raster = next((delivered[f] for f in product.source_files if f in delivered), None)
        start, end, source = product.time_start, product.time_end, "frames"
        if raster is not None:
            start, end, source = raster_capture(raster, run.flight) or (None, None, "unknown")
        elif (product.capture_time_source or "").startswith("declared"):
            start, end = None, None  # re-date from the current declaration
        if start is None and end is None and declared is not None:
            start, end, source = declared.start, declared.end, f"declared: --captured {declared.text}"
        undated = start is None and end is None
        dated[pid] = product.model_copy(
            update={
                "time_start": start,
                "time_end": end,
                "capture_time_source": "unknown" if undated else source,
                "captured_before": run.flight.ingested_at if undated else None,
            }
        )
    return dated


def _thermal(run: ProcessRun) -> tuple[ProcessRun, Iterable[Skipped]]:
    """°C rasters of the thermal frames (unchanged frames are kept unless ``thermal`` is forced)."""
    has_thermal = any(c.kind == FileKind.THERMAL_FRAME for c in run.flight.captures)
    if not has_thermal and run.config.thermal_overrides is None:
        return run, ()
    result = thermal_stage(
        run.workspace,
        run.flight,
        run.config.thermal_overrides,
        reuse="thermal" not in run.forced,
        distances=thermal_distances(run),
        executor=run.executor,
    )
    logger.info(
        "%s: %d thermal frames (%d reused), %d failed",
        run.flight.id,
        len(result.written),
        len(result.reused),
        len(result.failed),
    )
    skipped = [Skipped(file=path, reason=f"thermal conversion: {why}") for path, why in result.failed.items()]
    return replace(run, thermal=result), skipped
