"""Re-masking what is published when the privacy zones change (``dronegis publish --remask``).

Every published layer whose ``privacy.json`` names other zones than the configured ones is
published again from its product under the current zones, in one commit
(:func:`webgis_export.publish.republish`): its COG is staged from the product, masked, its
pyramids rendered again; its style, legend, title, access, QA facts and approval are kept. A layer
that neither the old nor the new zones touch keeps its files (hard links) and only gets the new
stamp. Until then the service withholds such layers (:mod:`webgis_export.privacy.gate`).
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import shapely

from core.errors import ExportError
from core.workspace import Workspace
from pipeline.models import Product
from pipeline.products import load_products
from webgis_export.layerbuild import COG_NAME, LEGEND_NAME, stage_cog, validate_cog_file
from webgis_export.models import Layer
from webgis_export.privacy.apply import PrivacyRun, apply_to_cog, write_stamp
from webgis_export.privacy.features import mask_features
from webgis_export.privacy.gate import read_stamp
from webgis_export.privacy.models import PrivacyConfig, PrivacyStamp
from webgis_export.privacy.raster import stamp_for
from webgis_export.privacy.zones import PrivacyZones, load_zones
from webgis_export.publish import republish
from webgis_export.pyramid import build_pyramid
from webgis_export.vectors.build import vector_layer_build
from webgis_export.vectors.cards import copy_cards
from webgis_export.vectors.models import VectorLayer

log = logging.getLogger(__name__)


def stale(workspace: Workspace, layer: Layer | VectorLayer, fingerprint: str | None) -> bool:
    """True when the layer was published under other zones than ``fingerprint``."""
    return read_stamp(workspace.published_layer(layer.id)).zones != fingerprint


def remask(
    workspace: Workspace,
    config: PrivacyConfig,
    *,
    now: datetime | None = None,
    pyramid_processes: int | None = None,
) -> list[Layer | VectorLayer]:
    """Publish again every layer published under other zones; the layers re-published.

    Raises:
        PrivacyZoneError: the configured zones cannot be read (nothing changes).
        ExportError: a layer's product is gone (its flight's products were deleted).
    """
    zones = load_zones(config.zones) if config.zones is not None else None
    fingerprint = zones.fingerprint if zones is not None else None
    when = now or datetime.now(UTC)

    def rebuild(stage: Path, layers: list[Layer], vectors: list[VectorLayer]) -> list[Layer | VectorLayer]:
        out: list[Layer | VectorLayer] = []
        published: list[Layer | VectorLayer] = [*layers, *vectors]
        for layer in published:
            if not stale(workspace, layer, fingerprint):
                continue
            folder = stage / "layers" / layer.id
            if isinstance(layer, Layer):
                out.append(_raster(workspace, layer, folder, zones, when, pyramid_processes))
            else:
                out.append(_vector(workspace, layer, folder, zones, when))
        return out

    done = republish(workspace, rebuild)
    log.info("remasked %d layers under zones %s", len(done), fingerprint or "none")
    return done


def product_of(workspace: Workspace, layer: Layer | VectorLayer) -> Product:
    """The product a layer was published from.

    Raises:
        ExportError: the product is no longer in its flight's products.json.
    """
    found = next((p for p in load_products(workspace, layer.flight) if p.id == layer.product_id), None)
    if found is None or not (workspace.root / found.path).exists():
        raise ExportError(
            f"layer {layer.id}: product {layer.product_id} of flight {layer.flight} is gone; "
            "it cannot be re-masked — unpublish it (dronegis unpublish) or process the flight again"
        )
    return found


def _untouched(workspace: Workspace, layer: Layer, zones: PrivacyZones | None) -> bool:
    """True when neither the old nor the new zones touch the layer (its pixels stay as they are)."""
    old = read_stamp(workspace.published_layer(layer.id))
    if old.masked_share > 0 or old.detections:
        return False
    return zones is None or zones.geometry_in(layer.crs).intersection(shapely.box(*layer.bounds)).is_empty


def _raster(
    workspace: Workspace,
    layer: Layer,
    folder: Path,
    zones: PrivacyZones | None,
    when: datetime,
    processes: int | None,
) -> Layer:
    live = workspace.published_layer(layer.id)
    detect = read_stamp(live).detector is not None
    if _untouched(workspace, layer, zones) and not detect:
        shutil.copytree(live, folder, copy_function=os.link)
        stamp = stamp_for(zones)
    else:
        product = product_of(workspace, layer)
        folder.mkdir(parents=True)
        stage_cog(workspace.root / product.path, folder / COG_NAME, product.kind)
        stamp = apply_to_cog(folder / COG_NAME, product.kind, PrivacyRun(zones=zones, detect_people=detect))
        validate_cog_file(folder / COG_NAME)
        if (live / LEGEND_NAME).exists():
            shutil.copyfile(live / LEGEND_NAME, folder / LEGEND_NAME)
        for tms_id, zooms in layer.pyramids.items():
            build_pyramid(
                folder / COG_NAME,
                folder / layer.style.name / tms_id,
                layer.style,
                tms_id,
                fmt=layer.tile_format,
                zooms=zooms,
                processes=processes,
            )
    (folder / "privacy.json").unlink(missing_ok=True)
    write_stamp(folder, stamp)
    return layer.model_copy(update={"privacy": stamp, "published_at": when})


def _vector(
    workspace: Workspace, layer: VectorLayer, folder: Path, zones: PrivacyZones | None, when: datetime
) -> VectorLayer:
    product = product_of(workspace, layer)
    qa: dict[str, object] = {
        "status": layer.qa_status,
        "freshness": layer.freshness,
        "override": layer.qa_override,
        "accuracy": layer.accuracy,
        "overrides": dict(layer.overrides),
    }
    built = vector_layer_build(
        product,
        workspace.root / product.path,
        folder,
        access=layer.access,
        title=layer.title,
        qa=qa,
        published_at=when,
    )
    built, stamp = mask_features(built, folder, zones)
    area = zones.geometry_in(built.crs) if zones is not None else None
    copy_cards(workspace.root / product.path, folder, built, area)  # the buildings' cards, as publish does
    write_stamp(folder, stamp)
    return built


def stamp_of(workspace: Workspace, layer_id: str) -> PrivacyStamp:
    """The privacy stamp of a published layer."""
    return read_stamp(workspace.published_layer(layer_id))
