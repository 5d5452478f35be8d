"""Photo thumbnails published with the photo points, under the privacy rules of single frames.

The photo-points product names each frame's JPEG thumbnail and COG (workspace paths). Publishing
copies a thumbnail to ``publish/layers/<id>/thumbnails/<name>.jpg`` and points the feature's
``thumbnail`` attribute there — unless the frame may show a privacy zone: when the zones touch the
box of the frame's georeferenced COG, when the frame has no COG, or when its rays were clipped at
the horizon (it shows more than its footprint), the thumbnail is not published (attribute empty).
With the people detector on, people found in a thumbnail are blurred. The service answers
thumbnails to token holders only, unless single frames were made public with a recorded reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pyogrio
import rasterio
import shapely

from core.atomic import atomic_write_bytes
from core.errors import PrivacyZoneError
from webgis_export.privacy.apply import PrivacyRun
from webgis_export.privacy.features import rewrite
from webgis_export.privacy.people import blur_boxes, detect_people
from webgis_export.vectors.models import VectorLayer

log = logging.getLogger(__name__)

FOLDER = "thumbnails"


def shows_zone(root: Path, feature: dict[str, object], run: PrivacyRun) -> bool:
    """True when the frame behind a thumbnail may show a zone (or nobody can tell)."""
    if run.zones is None:
        return False
    cog = feature.get("cog")
    clipped = feature.get("clipped_rays")
    if (
        not isinstance(cog, str)
        or not (root / cog).exists()
        or (isinstance(clipped, int | float) and clipped > 0)
    ):
        return True
    with rasterio.open(root / cog) as src:
        frame = shapely.box(*src.bounds)
        crs = src.crs.to_string()
    return bool(run.zones.geometry_in(crs).intersects(frame))


def publish_thumbnails(layer: VectorLayer, folder: Path, root: Path, run: PrivacyRun) -> int:
    """Copy the thumbnails the rules allow into ``folder/thumbnails``; the number withheld."""
    path = folder / Path(layer.gpkg).name
    frame = pyogrio.read_dataframe(path, layer=layer.table)
    if "thumbnail" not in frame.columns or frame.empty:
        return 0
    published: list[str | None] = []
    withheld = 0
    for record in frame.drop(columns=frame.geometry.name).to_dict("records"):
        source = record.get("thumbnail")
        if not isinstance(source, str) or not (root / source).exists() or shows_zone(root, record, run):
            withheld += isinstance(source, str)
            published.append(None)
            continue
        name = Path(source).name
        atomic_write_bytes(folder / FOLDER / name, _thumbnail(root / source, run))
        published.append(f"layers/{layer.id}/{FOLDER}/{name}")
    frame["thumbnail"] = published
    rewrite(frame, path, layer.table, layer.geometry_type)
    shown = sum(1 for name in published if name is not None)
    log.info("photo points %s: %d thumbnails published, %d withheld", layer.id, shown, withheld)
    return withheld


def _thumbnail(source: Path, run: PrivacyRun) -> bytes:
    """The JPEG bytes to publish: the product's thumbnail, people blurred when asked."""
    data = source.read_bytes()
    if not run.detect_people:
        return data
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise PrivacyZoneError(f"thumbnail {source} is not a readable JPEG")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    boxes = detect_people(rgb)
    if not boxes:
        return data
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(blur_boxes(rgb, boxes), cv2.COLOR_RGB2BGR))
    if not ok:
        raise PrivacyZoneError(f"cannot encode the blurred thumbnail of {source}")
    return bytes(buffer)
