"""Feature collections under the privacy zones: a feature touching a zone is dropped.

A building, a hot spot, a photo point or a volume inside a private garden says something about
that place in its attributes (its heat class, its photo), so every feature that intersects a
zone is dropped whole. Frame footprints describe the flight, not the place: they are clipped
(the part inside the zones removed) and kept when something is left. The published GeoPackage
is rewritten in staging; the product keeps every feature.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pyogrio
from pyproj import Transformer

from core.atomic import TMP_SUFFIX
from pipeline.models import ProductKind
from webgis_export.privacy.models import PrivacyStamp
from webgis_export.privacy.raster import stamp_for
from webgis_export.privacy.zones import PrivacyZones
from webgis_export.vectors.models import VectorLayer

log = logging.getLogger(__name__)

CLIPPED_KINDS = frozenset({ProductKind.FOOTPRINTS})


def mask_features(
    layer: VectorLayer, folder: Path, zones: PrivacyZones | None
) -> tuple[VectorLayer, PrivacyStamp]:
    """Drop (or clip) the features of a staged vector layer that touch a zone; the updated layer and stamp.

    Args:
        layer: the vector layer as :func:`webgis_export.vectors.build.vector_layer_build` staged it.
        folder: its staged folder (``features.gpkg`` is rewritten there when a feature goes).
        zones: the privacy zones, or None.
    """
    if zones is None or layer.feature_count == 0:
        return layer, stamp_for(zones)
    path = folder / Path(layer.gpkg).name
    frame = pyogrio.read_dataframe(path, layer=layer.table)
    area = zones.geometry_in(layer.crs)
    touched = frame.geometry.intersects(area).to_numpy()
    if not touched.any():
        return layer, stamp_for(zones)
    clip = layer.kind in CLIPPED_KINDS
    if clip:
        frame.loc[touched, frame.geometry.name] = frame.geometry[touched].difference(area)
        frame = frame[~frame.geometry.is_empty]
    else:
        frame = frame[~touched]
    rewrite(frame, path, layer.table, layer.geometry_type)
    count = len(frame)
    bounds = tuple(float(v) for v in frame.total_bounds) if count else None
    updated = layer.model_copy(
        update={"feature_count": count, "bounds": bounds, "bounds_wgs84": _wgs84(bounds, layer.crs)}
    )
    changed = int(touched.sum())
    log.info(
        "privacy: %s: %d of %d features %s", layer.id, changed, len(touched), "clipped" if clip else "dropped"
    )
    stamp = stamp_for(zones, "clip" if clip else "drop").model_copy(update={"masked_features": changed})
    return updated, stamp


def rewrite(frame: object, path: Path, table: str, geometry_type: str) -> None:
    """Replace the GeoPackage with ``frame`` (written beside it, then renamed)."""
    tmp = path.with_name(f".{path.stem}.privacy{TMP_SUFFIX}.gpkg")
    try:
        pyogrio.write_dataframe(
            frame, tmp, layer=table, driver="GPKG", geometry_type=geometry_type, promote_to_multi=False
        )
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _wgs84(bounds: tuple[float, ...] | None, crs: str) -> tuple[float, float, float, float] | None:
    """West, south, east, north of ``bounds`` (in ``crs``), or None for an empty layer (a point is fine)."""
    if bounds is None:
        return None
    minx, miny, maxx, maxy = bounds
    west, south, east, north = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform_bounds(
        minx, miny, maxx, maxy, densify_pts=21
    )
    return west, south, east, north
