"""The ``process`` stage: a flight's deliveries become georeferenced products in the target CRS.

Named sub-stages, in order (``from_stage`` forces one and everything after it):

- ``rasters``: delivered orthophotos, DSMs and DTMs -> COGs (``pipeline.orthophoto``).
- ``frames``: every usable RGB and thermal frame -> footprint + georeferenced COG + thumbnail.
  Thermal frames are rendered from their °C raster (made here with ``pipeline.thermal_raster``
  when the thermal stage has not written it yet).
- ``gcp``: frames observed by at least three GCPs -> polynomial fit (residuals, LOO RMSE,
  check points) and a COG warped with it (``pipeline.process_gcp``).
- ``mosaic``: the nearest-to-nadir °C mosaic of the georeferenced thermal frames.
- ``layers``: the footprints and photo-points GeoPackages.

Reruns skip products whose inputs and options have not changed (a signature stored in each
product's properties); ``products.json`` is rewritten atomically after every sub-stage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import Transformer

from flights.atomic import atomic_write_text
from flights.errors import DroneGisError, IngestError, UsageError
from flights.models import Capture, FileKind, Flight
from pipeline.georef.raycast import DEFAULT_MAX_RANGE_M
from pipeline.models import Product, ProductKind
from pipeline.workspace import Workspace

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("rasters", "frames", "gcp", "mosaic", "layers")
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
        if stage in self.forced or old is None or old.properties.get("signature") != signature:
            return None
        return old if (self.workspace.root / old.path).exists() else None

    def save(self) -> None:
        payload = [p.model_dump(mode="json") for p in self.products.values()]
        atomic_write_text(self.workspace.products_json(self.flight.id), json.dumps(payload, indent=1) + "\n")


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


def load_products(workspace: Workspace, flight_id: str) -> list[Product]:
    """The products a previous run recorded (empty if none)."""
    path = workspace.products_json(flight_id)
    if not path.exists():
        return []
    return [Product.model_validate(p) for p in json.loads(path.read_text(encoding="utf-8"))]


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
) -> tuple[Product, ...]:
    """Georeference everything of an ingested flight; write ``products.json``.

    Raises:
        IngestError: the flight was never ingested.
        UsageError: unknown stage, or a DEM that does not exist.
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
    )
    _rasters(run)
    run.save()
    from pipeline.process_frames import frames_stage, layers_stage, mosaic_stage
    from pipeline.process_gcp import gcp_stage

    frames_stage(run)
    run.save()
    gcp_stage(run)
    run.save()
    mosaic_stage(run)
    layers_stage(run)
    run.save()
    logger.info("processed %s: %d products", flight_id, len(run.products))
    return tuple(run.products.values())


def _rasters(run: _Run) -> None:
    from pipeline.orthophoto import reproject_to_cog

    for delivered in run.flight.files:
        kind = RASTER_KINDS.get(delivered.kind)
        if kind is None:
            continue
        product_id = f"{run.flight.id}-{kind.value}-{Path(delivered.path).stem}"
        signature = run.signature(delivered.sha256, str(run.grids))
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
                )
            except DroneGisError as exc:
                logger.error("%s: %s", delivered.path, exc)
                continue
        notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        props = {**product.properties, "signature": signature, "warnings": notes}
        run.products[product_id] = product.model_copy(
            update={"properties": props, "source_files": (delivered.path,)}
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
    from pipeline.operations import choose_operation

    op = choose_operation("EPSG:4326", run.target_crs)
    return op.transformer, op.label


def bounds_of(products: Sequence[Product]) -> tuple[float, float, float, float] | None:
    """Union of product bounds, or None."""
    boxes = [p.bounds for p in products if all(math.isfinite(v) for v in p.bounds)]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def dump(products: Sequence[Product]) -> list[dict[str, Any]]:
    """JSON-able list of products (for the CLI)."""
    return [p.model_dump(mode="json") for p in products]
