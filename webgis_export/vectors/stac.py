"""The STAC item of a published vector layer, beside the raster layers' items.

Same rules as raster items (:mod:`webgis_export.stac`): the capture time (never the
publication time), QA status, freshness, accuracy, overrides and access as ``dronegis:*``
properties, the item in the collection of its product kind. Its assets are the published
GeoPackage (``../../../layers/<id>/features.gpkg``, served by ``/layers/<id>/features.gpkg``)
and the OGC API – Features items of the collection; the geometry is the layer's extent in
WGS84 (null for a layer without features).
"""

from __future__ import annotations

from typing import Any

import pystac
from pystac.extensions.projection import ProjectionExtension

from webgis_export.stac import capture_times
from webgis_export.vectors.models import VectorLayer

GEOPACKAGE_MEDIA_TYPE = "application/geopackage+sqlite3"
GEOJSON_MEDIA_TYPE = "application/geo+json"


def vector_item(layer: VectorLayer, *, gpkg_href: str, items_href: str) -> pystac.Item:
    """The STAC Item of a vector layer; hrefs are relative to the item file."""
    geometry = bbox = None
    if layer.bounds_wgs84 is not None:
        west, south, east, north = layer.bounds_wgs84
        geometry = {
            "type": "Polygon",
            "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
        }
        bbox = [west, south, east, north]
    when, start, end = capture_times(layer)
    item = pystac.Item(
        id=layer.id,
        geometry=geometry,
        bbox=bbox,
        datetime=when,
        start_datetime=start,
        end_datetime=end,
        properties={"title": layer.title, **_properties(layer)},
        collection=layer.kind.value,
    )
    item.common_metadata.created = layer.published_at
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.code = layer.crs
    if layer.bounds is not None:
        proj.bbox = list(layer.bounds)
    item.add_asset(
        "data",
        pystac.Asset(
            href=gpkg_href,
            media_type=GEOPACKAGE_MEDIA_TYPE,
            roles=["data"],
            title=f"{layer.title} (GeoPackage)",
        ),
    )
    item.add_asset(
        "features",
        pystac.Asset(
            href=items_href,
            media_type=GEOJSON_MEDIA_TYPE,
            roles=["data"],
            title=f"{layer.title} (OGC API – Features)",
        ),
    )
    return item


def _properties(layer: VectorLayer) -> dict[str, Any]:
    props: dict[str, Any] = {
        "dronegis:flight": layer.flight,
        "dronegis:product": layer.product_id,
        "dronegis:kind": layer.kind.value,
        "dronegis:access": layer.access,
        "dronegis:qa_status": layer.qa_status,
        "dronegis:freshness": layer.freshness,
        "dronegis:feature_count": layer.feature_count,
        "dronegis:geometry_type": layer.geometry_type,
        "dronegis:capture_time_source": layer.capture_time_source
        or ("unknown" if layer.capture_time is None else "product"),
    }
    if layer.capture_time is None:
        props["dronegis:capture_date"] = "unknown"
    if layer.qa_override:
        props["dronegis:qa_override"] = layer.qa_override
    if layer.overrides:
        props["dronegis:overrides"] = dict(layer.overrides)
    if layer.accuracy is not None:
        props["dronegis:accuracy"] = layer.accuracy.figures()
    return props
