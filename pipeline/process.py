"""The ``process`` stage: a flight's deliveries become georeferenced products in the target CRS.

Named sub-stages, in order (``from_stage`` forces one and everything after it):

- ``rasters``: delivered orthophotos, DSMs and DTMs -> COGs (``pipeline.orthophoto``).
- ``thermal``: every usable thermal frame -> float32 °C raster with the flight's measurement
  parameters (``pipeline.thermal_stage``; overrides stored per flight, reused on reruns). The
  object distance defaults to the frame's height above ground: above the DEM when ``dem`` is
  given, else the relative altitude.
- ``frames``: every usable RGB and thermal frame -> footprint + georeferenced COG + thumbnail.
  Thermal frames are rendered from the thermal stage's °C rasters with the same camera and
  pose code as RGB frames; their products record the measurement parameters used.
- ``gcp``: frames observed by at least three GCPs -> polynomial fit (residuals, LOO RMSE,
  check points) and a COG warped with it (``pipeline.process_gcp``).
- ``mosaic``: the nearest-to-nadir °C mosaic of the georeferenced thermal frames.
- ``layers``: the footprints and photo-points GeoPackages.

Reruns skip products whose inputs and options have not changed (``Product.signature``; for
thermal products it includes the measurement overrides, so new overrides recompute the thermal
rasters, the thermal frame COGs and the mosaic);
``products.json`` is rewritten atomically after every sub-stage.

Where the work runs: the ``thermal``, ``frames`` and ``gcp`` sub-stages fan out one task per
frame on an :class:`~pipeline.executors.Executor` (this process, a local process pool, or a Dask
cluster: :mod:`pipeline.frame_tasks`, :func:`pipeline.thermal_stage.convert_thermal_frame`,
:mod:`pipeline.gcp_tasks`);
this process collects the results and is the only writer of ``products.json``, the thermal
record, the mosaic and the layers. The products are the same whichever executor ran them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import Transformer

from core.errors import DroneGisError, GeoreferenceError, IngestError, UsageError
from core.workspace import Workspace
from flights.models import Capture, FileKind, Flight
from flights.raster_time import raster_capture
from pipeline.executors import Executor, SerialExecutor
from pipeline.geodesy.decision import DECLARATIONS
from pipeline.georef.raycast import DEFAULT_MAX_RANGE_M
from pipeline.models import Product, ProductKind
from pipeline.products import load_products, write_products
from pipeline.products import product_id as make_product_id
from pipeline.rasters import OUTSIDE_AREA
from pipeline.thermal import ThermalOverrides
from pipeline.thermal_stage import ThermalStageResult

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("rasters", "thermal", "frames", "gcp", "mosaic", "layers")
ALIASES = {"georeference": "rasters", "process": "rasters"}
VERSION = "1"
RASTER_KINDS = {
    FileKind.ORTHOPHOTO: ProductKind.ORTHOPHOTO,
    FileKind.DSM: ProductKind.DSM,
    FileKind.DTM: ProductKind.DTM,
}
Progress = Callable[[int, int], None]


@dataclass
class _Run:
    workspace: Workspace
    flight: Flight
    target_crs: str
    transformation: str | None
    grids: Path | None
    dem: Path | None
    forced: set[str]
    progress: Progress | None
    previous: dict[str, Product]
    max_range: float = DEFAULT_MAX_RANGE_M
    thermal_overrides: ThermalOverrides | None = None
    executor: Executor = field(default_factory=SerialExecutor)
    thermal: ThermalStageResult | None = None
    products: dict[str, Product] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.workspace.root).as_posix()

    def signature(self, *parts: object) -> str:
        text = json.dumps(
            [VERSION, self.target_crs, self.transformation, str(self.dem), self.max_range, *parts],
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def reusable(self, product_id: str, signature: str, stage: str) -> Product | None:
        old = self.previous.get(product_id)
        if stage in self.forced or old is None or old.signature != signature:
            return None
        return old if (self.workspace.root / old.path).exists() else None

    def save(self) -> None:
        write_products(self.workspace, self.flight.id, self.products.values())


def resolve_stage(from_stage: str | None) -> set[str]:
    """The sub-stages forced by ``--from`` (none: rerun only what is out of date).

    Raises:
        UsageError: unknown stage name.
    """
    if from_stage is None:
        return set()
    name = ALIASES.get(from_stage, from_stage)
    if name not in STAGES:
        raise UsageError(
            f"unknown stage {from_stage!r}; expected one of {', '.join(STAGES)} (or georeference)"
        )
    return set(STAGES[STAGES.index(name) :])


def process_flight(
    workspace: Workspace,
    flight_id: str,
    *,
    dem: Path | None = None,
    target_crs: str = "EPSG:25832",
    transformation: str | None = None,
    grids: Path | None = None,
    from_stage: str | None = None,
    progress: Progress | None = None,
    max_range: float = DEFAULT_MAX_RANGE_M,
    thermal_overrides: ThermalOverrides | None = None,
    executor: Executor | None = None,
) -> tuple[Product, ...]:
    """Georeference everything of an ingested flight; write ``products.json``.

    Args:
        workspace: the workspace holding the ingested flight.
        flight_id: the flight.
        dem: ground for single frames (any CRS); default a plane at take-off elevation.
        target_crs: CRS of every product.
        transformation: PROJ operation from the rasters' CRS to ``target_crs``.
        grids: folder with the DVR90 PROJ grids.
        from_stage: force this sub-stage and every later one (:data:`STAGES`).
        progress: called with (done, total) per frame.
        max_range: horizontal metres at which rays at/above the horizon are clipped.
        thermal_overrides: the flight's measurement parameters (stored in
            ``Workspace.thermal_overrides``); ``None`` reuses the stored ones.
        executor: where the per-frame tasks run (thermal conversion; locate, render and
            write of each frame; GCP fit and warp); default: in this process. Dask workers must see the
            workspace (and ``dem``, ``grids``) at the same paths.

    Raises:
        IngestError: the flight was never ingested.
        UsageError: unknown stage, or a DEM that does not exist.
        GeoreferenceError: nothing was produced because the inputs lie outside ``target_crs``'s
            area of use (each refusal is also logged; with some products they are only logged
            and listed under the footprints' ``skipped``).
    """
    from flights.ingest import load_flight

    flight_json = workspace.flight_json(flight_id)
    if not flight_json.exists():
        raise IngestError(f"flight {flight_id!r} is not ingested in {workspace.root} (no {flight_json})")
    if dem is not None and not Path(dem).exists():
        raise UsageError(f"DEM {dem} does not exist")
    run = _Run(
        workspace,
        load_flight(flight_json),
        target_crs,
        transformation,
        grids,
        Path(dem).resolve() if dem else None,
        resolve_stage(from_stage),
        progress,
        {p.id: p for p in load_products(workspace, flight_id)},
        max_range,
        thermal_overrides,
        executor or SerialExecutor(),
    )
    _rasters(run)
    run.save()
    _thermal(run)
    from pipeline.process_frames import frames_stage, layers_stage, mosaic_stage
    from pipeline.process_gcp import gcp_stage

    frames_stage(run)
    run.save()
    gcp_stage(run)
    run.save()
    mosaic_stage(run)
    layers_stage(run)
    date_products(run)
    run.save()
    refused = [s for s in run.skipped if OUTSIDE_AREA in s["reason"]]
    if refused and not run.products:
        raise GeoreferenceError(
            f"flight {flight_id}: no product; {len(refused)} input(s) refused, e.g. {refused[0]['reason']}"
        )
    logger.info("processed %s: %d products", flight_id, len(run.products))
    return tuple(run.products.values())


def _rasters(run: _Run) -> None:
    from pipeline.orthophoto import reproject_to_cog

    for delivered in run.flight.files:
        kind = RASTER_KINDS.get(delivered.kind)
        if kind is None:
            continue
        product_id = make_product_id(run.flight.id, kind.value, delivered.path)
        declared = run.flight.height_datum.for_kind(delivered.kind)
        signature = run.signature(delivered.sha256, str(run.grids), declared)
        old = run.reusable(product_id, signature, "rasters")
        if old is not None:
            run.products[product_id] = old
            continue
        src = run.workspace.archived_file(run.flight.id, delivered.path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                product = reproject_to_cog(
                    src,
                    run.workspace.raster_cog(run.flight.id, delivered.path),
                    kind=kind,
                    target_crs=run.target_crs,
                    transformation=run.transformation,
                    grids=run.grids,
                    flight=run.flight.id,
                    product_id=product_id,
                    workspace_root=run.workspace.root,
                    src_crs=delivered.crs,
                    declared_datum=DECLARATIONS[declared] if declared else None,
                )
            except DroneGisError as exc:
                logger.error("%s: %s", delivered.path, exc)
                run.skipped.append({"file": delivered.path, "reason": str(exc)})
                continue
        notes = tuple(str(w.message) for w in caught if issubclass(w.category, UserWarning))
        run.products[product_id] = product.model_copy(
            update={"signature": signature, "warnings": notes, "source_files": (delivered.path,)}
        )


def date_products(run: _Run) -> None:
    """Set every product's capture time and ``capture_time_source``.

    Delivered rasters: their metadata, else the flight's frames, else the ``--captured``
    declaration, else their file-creation time (:func:`flights.raster_time.raster_capture`).
    Other products keep the frames' times; without one they take the declaration. A product
    left without a time is "capture date unknown": ``capture_time_source`` says ``unknown`` and
    ``captured_before`` records the ingest time (it cannot have been flown later).
    """
    delivered = {f.path: f for f in run.flight.files if f.kind in RASTER_KINDS}
    declared = run.flight.captured
    for product_id, product in run.products.items():
        raster = next((delivered[f] for f in product.source_files if f in delivered), None)
        start, end, source = product.time_start, product.time_end, "frames"
        if raster is not None:
            start, end, source = raster_capture(raster, run.flight) or (None, None, "unknown")
        elif (product.capture_time_source or "").startswith("declared"):
            start, end = None, None  # re-date from the current declaration
        if start is None and end is None and declared is not None:
            start, end, source = declared.start, declared.end, f"declared: --captured {declared.text}"
        undated = start is None and end is None
        run.products[product_id] = product.model_copy(
            update={
                "time_start": start,
                "time_end": end,
                "capture_time_source": "unknown" if undated else source,
                "captured_before": run.flight.ingested_at if undated else None,
            }
        )


def _thermal(run: _Run) -> None:
    """°C rasters of the thermal frames; unchanged frames are kept unless ``thermal`` is forced."""
    from pipeline.process_frames import thermal_distances
    from pipeline.thermal_stage import thermal_stage

    has_thermal = any(c.kind == FileKind.THERMAL_FRAME for c in run.flight.captures)
    if not has_thermal and run.thermal_overrides is None:
        return
    run.thermal = thermal_stage(
        run.workspace,
        run.flight,
        run.thermal_overrides,
        reuse="thermal" not in run.forced,
        distances=thermal_distances(run),
        executor=run.executor,
    )
    for path, reason in run.thermal.failed.items():
        run.skipped.append({"file": path, "reason": f"thermal conversion: {reason}"})
    logger.info(
        "%s: %d thermal frames (%d reused), %d failed",
        run.flight.id,
        len(run.thermal.written),
        len(run.thermal.reused),
        len(run.thermal.failed),
    )


def frame_inputs(run: _Run) -> list[Capture]:
    """Usable frames with a position, in capture order."""
    kinds = (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME)
    return [c for c in run.flight.captures if c.kind in kinds and c.usable and c.position is not None]


def frame_operation(run: _Run) -> tuple[Transformer, str]:
    """WGS 84 -> target CRS for camera positions, and its label.

    ``--transformation`` names an operation from the *rasters'* CRS, so frames always use
    PROJ's best operation from EPSG:4326 (recorded with every frame product).
    """
    from pipeline.frame_tasks import frame_transformer

    return frame_transformer(run.target_crs)


def dump(products: Sequence[Product]) -> list[dict[str, Any]]:
    """JSON-able list of products (for the CLI)."""
    return [p.model_dump(mode="json") for p in products]
