"""Publish and unpublish layers atomically.

``publish`` stages everything (COG, legend, tile pyramids, STAC) in a temporary
folder under ``publish/``, validates it (rio-cogeo on every COG, the STAC core
schemas on the whole catalog) and only then renames the layer folders and the STAC
folder into place and rewrites ``publish/layers.json`` atomically. Any failure
before the commit leaves the published state untouched; a failure during the
commit rolls the renames back.

The QA report travels with each layer (overall status, accuracy figures) and the
thermography gate of :class:`qa.models.QAReport` blocks thermal layers unless the
caller overrides it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import rasterio

from core.atomic import atomic_write_text
from core.errors import ExportError, LayerNotFound
from core.workspace import Workspace
from pipeline.models import Product
from qa.models import QAReport
from webgis_export.gates import PublishGates, check_products
from webgis_export.layerbuild import RASTER_KINDS, layer_folder_build
from webgis_export.models import Access, Layer
from webgis_export.stac import build_catalog, item_for, validate_tree, write_catalog

log = logging.getLogger(__name__)

THERMAL_KINDS = frozenset({"thermal_frame", "thermal_mosaic"})


def load_layers(workspace: Workspace) -> list[Layer]:
    """Every published layer (empty when nothing was published)."""
    path = workspace.layers_json
    if not path.exists():
        return []
    return [Layer.model_validate(doc) for doc in json.loads(path.read_text(encoding="utf-8"))]


def layer_id_for(product: Product) -> str:
    """URL-safe layer id of a product (its id, lower-case, ``[a-z0-9_-]``)."""
    return re.sub(r"[^a-z0-9_-]+", "-", product.id.lower()).strip("-")


def resolve_products(workspace: Workspace, target: str) -> list[Product]:
    """The raster products of flight ``target``, or the one product whose id is ``target``.

    Raises:
        ExportError: when neither a flight nor a product has that id.
    """
    products_root = workspace.root / "products"
    flight_file = workspace.products_json(target)
    if flight_file.exists():
        products = _read_products(flight_file)
    else:
        products = [
            p
            for path in sorted(products_root.glob("*/products.json"))
            for p in _read_products(path)
            if p.id == target
        ]
    rasters = [p for p in products if p.kind in RASTER_KINDS]
    if not rasters:
        raise ExportError(f"no raster product or flight {target!r} under {products_root}")
    return rasters


def _read_products(path: Path) -> list[Product]:
    return [Product.model_validate(doc) for doc in json.loads(path.read_text(encoding="utf-8"))]


def load_qa(workspace: Workspace, flight: str) -> QAReport | None:
    """The flight's QA report, or ``None`` when QA has not run."""
    path = workspace.qa(flight) / "report.json"
    if not path.exists():
        return None
    return QAReport.model_validate_json(path.read_text(encoding="utf-8"))


def qa_summary(product: Product, report: QAReport | None, now: datetime) -> dict[str, object]:
    """QA status, accuracy figures of this product and freshness at ``now``."""
    from core.errors import QAError
    from qa.freshness import evaluate

    summary: dict[str, object] = {"status": report.status if report else None}
    accuracy: dict[str, float] = {}
    if report is not None:
        prefix = f"precision.{product.id}."
        for key, value in report.figures.items():
            if key.startswith(prefix) and isinstance(value, int | float) and not isinstance(value, bool):
                accuracy[key[len(prefix) :]] = float(value)
    extra = product.properties.get("accuracy")
    if isinstance(extra, dict):
        accuracy.update({str(k): float(v) for k, v in extra.items() if isinstance(v, int | float)})
    summary["accuracy"] = accuracy
    captured = product.time_start or product.time_end
    if captured is None:
        summary["freshness"] = "unknown"  # capture date unknown: published only with --allow-undated
    else:
        try:
            summary["freshness"] = evaluate(product.kind.value, captured, now).status
        except QAError as exc:
            log.info("no freshness rule for %s: %s", product.id, exc)
    return summary


def check_thermal_gate(product: Product, report: QAReport | None, override: str | None) -> str | None:
    """Refuse a thermal product whose flight failed the thermography gate (unless overridden).

    Returns:
        The override reason when it was needed (recorded on the layer), else None.
    """
    if product.kind.value not in THERMAL_KINDS or report is None or not report.thermal_publication_blocked:
        return None
    if override:
        log.warning("thermal gate of %s overridden: %s", product.flight, override)
        return override
    raise ExportError(
        f"thermal product {product.id} is blocked by the QA thermography gate of flight {product.flight}: "
        f"{report.thermal_gate_reason or 'conditions failed'} (override with a recorded reason)"
    )


def publish(
    workspace: Workspace,
    target: str,
    *,
    access: Access = "internal",
    title: str | None = None,
    override_gate: str | None = None,
    pyramids: bool = True,
    now: datetime | None = None,
    pyramid_processes: int | None = None,
    gates: PublishGates | None = None,
) -> list[Layer]:
    """Publish every raster product of a flight, or one product, as layers.

    Args:
        workspace: The workspace.
        target: A flight id or a product id.
        access: ``public`` (open to everyone) or ``internal`` (token needed).
        title: Layer title (suffixed with the kind when a flight has several products).
        override_gate: Reason for publishing a thermal layer despite a failed QA gate.
        pyramids: Render static View1 and WebMercatorQuad tile pyramids.
        now: Clock used for ``published_at`` and freshness (default: now, UTC).
        pyramid_processes: Worker processes for the pyramids (default: all cores).
        gates: The capture-date and area gates and their override reasons
            (:mod:`webgis_export.gates`); default: undated products are refused, no area check.

    Returns:
        The new or replaced layers.

    Raises:
        ExportError: unknown target, blocked thermal layer, invalid COG or STAC;
            PublicationRefused: a product without capture date or outside the area. Nothing
            published before the call is changed.
    """
    now = now or datetime.now(UTC)
    products = resolve_products(workspace, target)
    reports = {p.flight: load_qa(workspace, p.flight) for p in products}
    overrides = {p.id: check_thermal_gate(p, reports[p.flight], override_gate) for p in products}
    passed = check_products(products, workspace.root, gates or PublishGates())
    with _staging(workspace) as stage:
        new_layers = []
        for product in products:
            layer_title = title if title and len(products) == 1 else None
            if title and len(products) > 1:
                layer_title = f"{title} ({product.kind.value.replace('_', ' ')})"
            new_layers.append(
                layer_folder_build(
                    product,
                    workspace.root / product.path,
                    stage / "layers" / layer_id_for(product),
                    access=access,
                    title=layer_title,
                    qa={
                        **qa_summary(product, reports[product.flight], now),
                        "override": overrides[product.id],
                        "overrides": passed[product.id],
                    },
                    published_at=now,
                    pyramids=pyramids,
                    pyramid_processes=pyramid_processes,
                )
            )
        replaced = {layer.id for layer in new_layers}
        layers = [old for old in load_layers(workspace) if old.id not in replaced] + new_layers
        _stage_stac(workspace, stage, layers)
        _commit(workspace, stage, [layer.id for layer in new_layers], [], layers)
    log.info("published %s", ", ".join(layer.id for layer in new_layers))
    return new_layers


def unpublish(workspace: Workspace, layer_id: str) -> Layer:
    """Remove a published layer (its folder, STAC item and entry in layers.json).

    Raises:
        LayerNotFound: when no layer has that id.
    """
    with _staging(workspace) as stage:
        layers = load_layers(workspace)
        gone = next((layer for layer in layers if layer.id == layer_id), None)
        if gone is None:
            raise LayerNotFound(f"no published layer {layer_id!r} in {workspace.layers_json}")
        remaining = [layer for layer in layers if layer.id != layer_id]
        _stage_stac(workspace, stage, remaining)
        _commit(workspace, stage, [], [layer_id], remaining)
    return gone


@contextmanager
def _staging(workspace: Workspace) -> Iterator[Path]:
    """A staging folder under publish/, held under an exclusive lock on publish/.lock.

    The lock serialises publishers (CLI and the service's job runner) so that two
    publications cannot interleave their read-modify-write of layers.json.
    """
    workspace.publish.mkdir(parents=True, exist_ok=True)
    with open(workspace.publish / ".lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=workspace.publish))
        try:
            yield stage
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _stage_stac(workspace: Workspace, stage: Path, layers: list[Layer]) -> None:
    """Write and validate the whole STAC catalog for ``layers`` into ``stage/stac``."""
    stac_dir = stage / "stac"
    items = []
    for layer in layers:
        staged = stage / "layers" / layer.id / "cog.tif"
        cog = staged if staged.exists() else workspace.published_layer(layer.id) / "cog.tif"
        with rasterio.open(cog) as src:
            transform = tuple(src.transform)
        # the item sits at stac/<kind>/<id>/<id>.json; the COG at layers/<id>/cog.tif
        items.append(item_for(layer, cog_href=f"../../../{layer.cog}", transform=transform))
    catalog = build_catalog(items)
    catalog_json = write_catalog(catalog, stac_dir)
    _relativise_assets(stac_dir)
    count = validate_tree(catalog_json)
    log.info("STAC: %d objects valid (core schemas)", count)


def _relativise_assets(stac_dir: Path) -> None:
    """pystac makes asset hrefs absolute on save; keep them relative so the tree can move."""
    for path in stac_dir.rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        changed = False
        for asset in doc.get("assets", {}).values():
            href = asset.get("href", "")
            marker = "/layers/"
            if href.startswith("/") and marker in href:
                asset["href"] = "../../.." + href[href.rindex(marker) :]
                changed = True
        if changed:
            path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _commit(
    workspace: Workspace, stage: Path, added: list[str], removed: list[str], layers: list[Layer]
) -> None:
    """Rename staged folders into place; on any error put the previous ones back."""
    trash = stage / f"trash-{uuid.uuid4().hex}"
    trash.mkdir()
    moves: list[tuple[Path, Path]] = []  # (from, to) in the order done, for rollback

    def move(src: Path, dst: Path) -> None:
        dst.parent.mkdir(parents=True, exist_ok=True)
        src.rename(dst)
        moves.append((src, dst))

    try:
        for layer_id in added + removed:
            live = workspace.published_layer(layer_id)
            if live.exists():
                move(live, trash / "layers" / layer_id)
            if layer_id in added:
                move(stage / "layers" / layer_id, live)
        if workspace.published_stac.exists():
            move(workspace.published_stac, trash / "stac")
        move(stage / "stac", workspace.published_stac)
        payload = json.dumps(
            [layer.model_dump(mode="json") for layer in layers], indent=2, ensure_ascii=False
        )
        atomic_write_text(workspace.layers_json, payload)
    except BaseException:
        for src, dst in reversed(moves):
            dst.rename(src)
        raise
