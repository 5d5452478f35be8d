"""The ``change`` sub-stage of ``process``: a nature flight against the latest earlier flight of its area.

For a nature-monitoring flight with an orthophoto, the workspace's other processed flights are
searched for an orthophoto flown earlier (by capture time) whose extent meets this one's; the
latest such is BEFORE, this flight's orthophoto AFTER. :func:`pipeline.change.stage.detect_change`
(the function behind ``dronegis change``) co-registers the two, writes the change map and the
change areas into ``products/<flight>/change/`` and they become a
:attr:`~pipeline.models.ProductKind.CHANGE_MAP` and a :attr:`~pipeline.models.ProductKind.CHANGE_AREAS`
product, dated like AFTER. No earlier flight, an unknown capture time, no overlap or a failed
match is a skipped input with its reason (Danish and English), never a crash. Unchanged reruns
keep the products (signature: both orthophotos' ids and signatures).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import shapely
from rasterio.warp import transform_bounds

from core.errors import DroneGisError
from flights.models import Purpose
from pipeline.change.models import ChangeConfig, ChangeResult
from pipeline.change.outputs import LAYER
from pipeline.change.stage import detect_change
from pipeline.models import Product, ProductKind, Skipped, VectorInfo
from pipeline.products import load_products, product_id
from pipeline.run import ProcessRun, StageOutput
from pipeline.vegetation.flight import capture_span, cog_product, kept_products, orthophotos

log = logging.getLogger(__name__)

STAGE = "change"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _overlap(a: Product, b: Product) -> float:
    """Area (in ``a``'s CRS units²) where the two products' extents meet."""
    bounds = b.bounds if b.crs == a.crs else transform_bounds(b.crs, a.crs, *b.bounds, densify_pts=21)
    return float(shapely.box(*a.bounds).intersection(shapely.box(*bounds)).area)


def earlier_orthophoto(run: ProcessRun, after: Product, after_start: datetime) -> Product | None:
    """The latest orthophoto of another flight of the workspace flown before ``after_start`` that
    overlaps ``after`` (None: no such flight)."""
    candidates = []
    for products_json in sorted((run.workspace.root / "products").glob("*/products.json")):
        flight = products_json.parent.name
        if flight == run.flight.id:
            continue
        for other in load_products(run.workspace, flight):
            when = other.time_start or other.time_end
            if other.kind is not ProductKind.ORTHOPHOTO or when is None or _utc(when) >= after_start:
                continue
            if (run.workspace.root / other.path).exists() and _overlap(after, other) > 0:
                candidates.append((_utc(when), other.id, other))
    return max(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None


def change_stage(run: ProcessRun, products: Mapping[str, Product]) -> StageOutput:
    """Change map and areas of a nature flight against the latest earlier flight of its area."""
    if run.flight.purpose is not Purpose.NATURE_MONITORING:
        return StageOutput()
    made: list[Product] = []
    skipped: list[Skipped] = []
    for after in orthophotos(products):
        start, _ = capture_span(run, after)
        before = earlier_orthophoto(run, after, _utc(start)) if start is not None else None
        if before is None:
            why = (
                "optagelsestidspunktet er ukendt / the capture time is unknown, flights cannot be ordered"
                if start is None
                else "ingen tidligere flyvning dækker området / no earlier flight of the workspace covers "
                f"{after.path} ({', '.join(f'{v:.0f}' for v in after.bounds)} {after.crs})"
            )
            log.warning("%s: %s skipped: %s", run.flight.id, STAGE, why)
            skipped.append(Skipped(file=after.path, reason=f"{STAGE}: {why}"))
            continue
        try:
            made.extend(_compare(run, before, after))
        except DroneGisError as exc:
            log.warning("%s: change against %s skipped: %s", run.flight.id, before.id, exc)
            skipped.append(Skipped(file=after.path, reason=f"{STAGE} mod/against {before.id}: {exc}"))
    return StageOutput(tuple(made), tuple(skipped))


def _compare(run: ProcessRun, before: Product, after: Product) -> list[Product]:
    """The change products of one pair (the previous ones while their signature holds)."""
    prefix = product_id(run.flight.id, STAGE, f"{before.flight}-{Path(after.path).name}") + "-"
    signature = run.signature(STAGE, before.id, before.signature, after.id, after.signature)
    kept = kept_products(run, prefix, signature, STAGE)
    if kept:
        return kept
    config = ChangeConfig(
        out_dir=run.workspace.products(run.flight.id) / STAGE,
        name=prefix.removeprefix(f"{run.flight.id}-").rstrip("-"),
        target_crs=run.target_crs,
    )
    root = run.workspace.root
    result = detect_change(root / before.path, root / after.path, config)
    log.info(
        "%s: change against %s: shift %.2f m, %d areas", run.flight.id, before.id,
        result.alignment.shift_m, len(result.areas),
    )  # fmt: skip
    return [p.model_copy(update={"signature": signature}) for p in _records(run, prefix, after, result)]


def _records(run: ProcessRun, prefix: str, after: Product, result: ChangeResult) -> list[Product]:
    change_map = cog_product(run, f"{prefix}map", ProductKind.CHANGE_MAP, result.change_map, after)
    change_map = change_map.model_copy(update={"warnings": result.warnings})  # the pair: <name>.json
    areas = change_map.model_copy(
        update={
            "id": f"{prefix}areas",
            "kind": ProductKind.CHANGE_AREAS,
            "path": run.rel(result.change_polygons),
            "gsd_m": None,
            "vector": VectorInfo(layer=LAYER, count=len(result.areas)),
        }
    )
    return [change_map, areas]
