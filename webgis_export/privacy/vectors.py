"""Privacy of a staged vector layer: features in zones, and the photo points' thumbnails."""

from __future__ import annotations

from pathlib import Path

from pipeline.models import ProductKind
from webgis_export.privacy.apply import PrivacyRun
from webgis_export.privacy.features import mask_features
from webgis_export.privacy.models import PrivacyStamp
from webgis_export.privacy.thumbnails import publish_thumbnails
from webgis_export.vectors.models import VectorLayer


def apply_to_features(
    layer: VectorLayer, folder: Path, root: Path, run: PrivacyRun
) -> tuple[VectorLayer, PrivacyStamp]:
    """Drop or clip features in zones; for photo points publish the thumbnails the rules allow."""
    layer, stamp = mask_features(layer, folder, run.zones)
    if layer.kind is ProductKind.PHOTO_POINTS:
        withheld = publish_thumbnails(layer, folder, root, run)
        stamp = stamp.model_copy(update={"masked_features": stamp.masked_features + withheld})
    return layer, stamp
