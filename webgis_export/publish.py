"""Publish and unpublish layers atomically.

``publish`` stages everything (COG, legend, tile pyramids, STAC) in a temporary
folder under ``publish/``, validates it (rio-cogeo on every COG, the STAC core
schemas on the whole catalog) and only then renames the layer folders and the STAC
folder into place and rewrites ``publish/layers.json`` atomically. Any failure
before the commit leaves the published state untouched; a failure during the
commit rolls the renames back.

The QA report travels with each layer (overall status, accuracy figures) and the
thermography gate of :class:`qa.models.QAReport` blocks thermal layers (and the building
findings and hot spots measured on them) unless the caller overrides it.

Vector products (a GeoPackage layer: footprints, photo points, the analyses' results) are
published in the same call, under the same gates and with the same access, title rules, QA
facts and STAC catalog, as :class:`webgis_export.vectors.models.VectorLayer` entries of
``publish/collections.json`` (:mod:`webgis_export.vectors.build`); a layer naming a card per
feature (the buildings) takes its cards along (:mod:`webgis_export.vectors.cards`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import rasterio

from core.atomic import atomic_write_text
from core.errors import ExportError, LayerNotFound, QAError
from core.workspace import Workspace
from pipeline.models import Product
from pipeline.products import load_products, read_products
from qa.freshness import evaluate
from qa.models import QAReport
from webgis_export.gates import PublishGates, check_products, drop_empty
from webgis_export.layer_ids import layer_id_for, unique_layer_ids
from webgis_export.layerbuild import RASTER_KINDS, LayerOptions, layer_folder_build
from webgis_export.models import Access, Approval, Layer
from webgis_export.places import site_given_at_ingest
from webgis_export.privacy.apply import frame_access, privacy_run, write_stamp
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.privacy.vectors import apply_to_features
from webgis_export.qa_findings import accuracy_of, evidence_of, findings_of
from webgis_export.stac import build_catalog, item_for, validate_tree, write_catalog
from webgis_export.vectors.build import is_vector, vector_layer_build
from webgis_export.vectors.cards import copy_cards
from webgis_export.vectors.legend import vector_title
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.stac import vector_item
from webgis_export.vectors.store import load_vector_layers

log = logging.getLogger(__name__)

THERMAL_KINDS = frozenset({"thermal_frame", "thermal_mosaic", "buildings", "hot_spots"})


def load_layers(workspace: Workspace) -> list[Layer]:
    """Every published layer (empty when nothing was published)."""
    path = workspace.layers_json
    if not path.exists():
        return []
    return [Layer.model_validate(doc) for doc in json.loads(path.read_text(encoding="utf-8"))]


def resolve_products(workspace: Workspace, target: str) -> list[Product]:
    """The raster and vector products of flight ``target``, or the one product whose id is ``target``.

    Raises:
        ExportError: when neither a flight nor a product has that id.
    """
    products_root = workspace.root / "products"
    flight_file = workspace.products_json(target)
    if flight_file.exists():
        products = read_products(flight_file)
    else:
        products = [
            p
            for path in sorted(products_root.glob("*/products.json"))
            for p in read_products(path)
            if p.id == target
        ]
    publishable = [p for p in products if is_vector(p) or p.kind in RASTER_KINDS]
    if not publishable:
        raise ExportError(f"no raster or vector product or flight {target!r} under {products_root}")
    return publishable


def load_qa(workspace: Workspace, flight: str) -> QAReport | None:
    """The flight's QA report, or ``None`` when QA has not run."""
    path = workspace.qa(flight) / "report.json"
    if not path.exists():
        return None
    return QAReport.model_validate_json(path.read_text(encoding="utf-8"))


def qa_summary(product: Product, report: QAReport | None, now: datetime) -> dict[str, object]:
    """QA status, the accuracy statement of this product (:func:`accuracy_of`) and freshness at ``now``."""
    summary: dict[str, object] = {"status": report.status if report else None}
    summary["accuracy"] = accuracy_of(product, report)
    summary["evidence"] = evidence_of(product, report)[0]
    summary["findings"] = findings_of(product, report)
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
    site: str | None = None,
    approval: Approval | None = None,
    privacy: PrivacyConfig | None = None,
) -> list[Layer | VectorLayer]:
    """Publish every raster and vector product of a flight, or one product, as layers.

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
        site: Site name a person gave (``Skanderborg Rådhus``); the layers' place in titles
            (default: the name given at ingest, ``dronegis ingest --site``).
        approval: The GIS team's approval to publish (who, why), recorded on every layer.
        privacy: Privacy zones masked out of every layer, the people detector, and the recorded
            choice to publish single frames as public (:mod:`webgis_export.privacy`; frames are
            internal by default).

    Returns:
        The new or replaced layers.

    Raises:
        ExportError: unknown target, blocked thermal layer, invalid COG or STAC;
            PublicationRefused: a product without capture date or outside the area. Nothing
            published before the call is changed.
    """
    now = now or datetime.now(UTC)
    products = drop_empty(resolve_products(workspace, target), workspace.root)
    reports = {p.flight: load_qa(workspace, p.flight) for p in products}
    ids = {k: v for flight in reports for k, v in unique_layer_ids(load_products(workspace, flight)).items()}
    ids = {p.id: ids.get(p.id) or layer_id_for(p) for p in products}
    sites = {flight: site or site_given_at_ingest(workspace, flight) for flight in reports}
    overrides = {p.id: check_thermal_gate(p, reports[p.flight], override_gate) for p in products}
    passed = check_products(products, workspace.root, gates or PublishGates())
    run = privacy_run(privacy)
    with _staging(workspace) as stage:
        new_layers: list[Layer] = []
        new_vectors: list[VectorLayer] = []
        for product in products:
            layer_title = title if title and len(products) == 1 else None
            if title and len(products) > 1:
                layer_title = f"{title} ({product.kind.value.replace('_', ' ')})"
            layer_access, frame_reasons = frame_access(product.kind, access, run)
            if is_vector(product):
                qa = {**qa_summary(product, reports[product.flight], now), "override": overrides[product.id]}
                folder = stage / "layers" / ids[product.id]
                vector = vector_layer_build(
                    product,
                    workspace.root / product.path,
                    folder,
                    access=access,
                    title=layer_title or vector_title(product),
                    qa={**qa, "overrides": {**passed[product.id], **frame_reasons}},
                    published_at=now,
                )
                vector, stamp = apply_to_features(vector, folder, workspace.root, run)
                zones = run.zones.geometry_in(vector.crs) if run.zones is not None else None
                copy_cards(workspace.root / product.path, folder, vector, zones)
                write_stamp(folder, stamp)
                new_vectors.append(vector)
                continue
            new_layers.append(
                layer_folder_build(
                    product,
                    workspace.root / product.path,
                    stage / "layers" / ids[product.id],
                    LayerOptions(
                        access=layer_access,
                        title=layer_title,
                        qa={
                            **qa_summary(product, reports[product.flight], now),
                            "override": overrides[product.id],
                            "overrides": {**passed[product.id], **frame_reasons},
                            "site": sites[product.flight],
                            "approval": approval,
                        },
                        published_at=now,
                        pyramids=pyramids,
                        pyramid_processes=pyramid_processes,
                        privacy=run,
                    ),
                )
            )
        new: list[Layer | VectorLayer] = [*new_layers, *new_vectors]
        replaced = {layer.id for layer in new}
        layers = [old for old in load_layers(workspace) if old.id not in replaced] + new_layers
        vectors = [old for old in load_vector_layers(workspace) if old.id not in replaced] + new_vectors
        _stage_stac(workspace, stage, layers, vectors)
        _commit(workspace, stage, [layer.id for layer in new], [], layers, vectors)
    log.info("published %s", ", ".join(layer.id for layer in new))
    return new


def republish(
    workspace: Workspace,
    rebuild: Callable[[Path, list[Layer], list[VectorLayer]], list[Layer | VectorLayer]],
    removed: Sequence[str] = (),
) -> list[Layer | VectorLayer]:
    """Replace layers with those ``rebuild(stage, layers, vectors)`` stages under ``stage/layers/<id>``
    and drop ``removed`` (unpublished ids ignored), in one commit like :func:`publish` (remask, erasure).
    """
    with _staging(workspace) as stage:
        rasters, vecs = load_layers(workspace), load_vector_layers(workspace)
        new = rebuild(stage, rasters, vecs)
        everything: list[Layer | VectorLayer] = [*rasters, *vecs]
        gone = {layer.id for layer in everything} & set(removed)
        out = {layer.id for layer in new} | gone
        layers = [r for r in rasters if r.id not in out] + [n for n in new if isinstance(n, Layer)]
        vectors = [v for v in vecs if v.id not in out] + [n for n in new if isinstance(n, VectorLayer)]
        if not new and not gone:
            return []
        _stage_stac(workspace, stage, layers, vectors)
        _commit(workspace, stage, [layer.id for layer in new], sorted(gone), layers, vectors)
    return new


def unpublish(workspace: Workspace, layer_id: str) -> Layer | VectorLayer:
    """Remove a published layer (its folder, STAC item and entry in layers.json or collections.json).

    Raises:
        LayerNotFound: when no layer has that id.
    """
    found: list[Layer | VectorLayer] = []

    def check(stage: Path, layers: list[Layer], vectors: list[VectorLayer]) -> list[Layer | VectorLayer]:
        published: list[Layer | VectorLayer] = [*layers, *vectors]
        found.extend(layer for layer in published if layer.id == layer_id)
        if not found:
            raise LayerNotFound(f"no published layer {layer_id!r} in {workspace.publish}")
        return []

    republish(workspace, check, removed=[layer_id])
    return found[0]


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


def _stage_stac(workspace: Workspace, stage: Path, layers: list[Layer], vectors: list[VectorLayer]) -> None:
    """Write and validate the whole STAC catalog for ``layers`` and ``vectors`` into ``stage/stac``."""
    stac_dir = stage / "stac"
    items = []
    for layer in layers:
        staged = stage / "layers" / layer.id / "cog.tif"
        cog = staged if staged.exists() else workspace.published_layer(layer.id) / "cog.tif"
        with rasterio.open(cog) as src:
            transform = tuple(src.transform)
        # the item sits at stac/<kind>/<id>/<id>.json; the COG at layers/<id>/cog.tif
        items.append(item_for(layer, cog_href=f"../../../{layer.cog}", transform=transform))
    for vector in vectors:  # items at stac/<kind>/<id>/<id>.json, like the rasters'
        api = f"../../../ogcapi/collections/{vector.id}/items"
        items.append(vector_item(vector, gpkg_href=f"../../../{vector.gpkg}", items_href=api))
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
            marker = next((m for m in ("/layers/", "/ogcapi/") if m in href), None)
            if href.startswith("/") and marker is not None:
                asset["href"] = "../../.." + href[href.rindex(marker) :]
                changed = True
        if changed:
            path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _commit(
    workspace: Workspace,
    stage: Path,
    added: list[str],
    removed: list[str],
    layers: list[Layer],
    vectors: list[VectorLayer],
) -> None:
    """Rename staged folders into place, write the lists; on any error put the previous ones back."""
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
        listed = workspace.collections_json
        previous = listed.read_text(encoding="utf-8") if listed.exists() else None
        atomic_write_text(listed, _listing(vectors))
        payload = json.dumps(
            [layer.model_dump(mode="json") for layer in layers], indent=2, ensure_ascii=False
        )
        try:
            atomic_write_text(workspace.layers_json, payload)
        except BaseException:
            if previous is None:
                listed.unlink()
            else:
                atomic_write_text(listed, previous)
            raise
    except BaseException:
        for src, dst in reversed(moves):
            dst.rename(src)
        raise


def _listing(layers: list[VectorLayer]) -> str:
    """collections.json: the published vector layers."""
    return json.dumps([layer.model_dump(mode="json") for layer in layers], indent=2, ensure_ascii=False)
