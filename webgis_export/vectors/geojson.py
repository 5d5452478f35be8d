"""GeoJSON of a page of features, written fast: GEOS writes the geometries, ``json`` the rest.

Geometries are encoded by ``shapely.to_geojson`` (GEOS's GeoJSON writer, vectorised) after
reprojection to the output CRS, attributes column by column by the standard library's C
encoder (:func:`webgis_export.vectors.columns.encoded`, nulls for NaN), and the pieces are
joined as text, so a page of 1 000 buildings never goes through a Python dict per feature nor
per coordinate. Coordinates are x/y in the
output CRS (CRS84: longitude, latitude).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring as encode_string
from typing import Any

import shapely

from webgis_export.vectors.columns import encoded
from webgis_export.vectors.crs import reproject
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.query import FeaturePage


def features(page: FeaturePage, layer: VectorLayer, crs: str) -> Iterator[str]:
    """One GeoJSON Feature (text) per feature of the page, coordinates in ``crs`` (``EPSG:n``/CRS84)."""
    geometries = reproject(page.geometries, layer.crs, crs)
    shapes = shapely.to_geojson(geometries).tolist() if len(geometries) else []
    keys = [encode_string(info.name) + ":" for info in layer.fields]
    values = [encoded(info, column) for info, column in zip(layer.fields, page.columns, strict=True)]
    rows = zip(*values, strict=True) if values else ((),) * page.returned
    for fid, shape, row in zip(page.fids.tolist(), shapes, rows, strict=True):
        properties = ",".join([key + value for key, value in zip(keys, row, strict=True)])
        yield f'{{"type":"Feature","id":{fid},"geometry":{shape or "null"},"properties":{{{properties}}}}}'


def collection(page: FeaturePage, layer: VectorLayer, crs: str, members: dict[str, Any]) -> bytes:
    """A FeatureCollection of the page; ``members`` (links, numberMatched …) follow the features."""
    head = '{"type":"FeatureCollection","features":['
    tail = json.dumps(members, ensure_ascii=False, separators=(",", ":"))[1:]
    body = ",".join(features(page, layer, crs))
    return (head + body + "]" + ("," + tail if len(tail) > 1 else "}")).encode()


def single(page: FeaturePage, layer: VectorLayer, crs: str, members: dict[str, Any]) -> bytes:
    """The page's one Feature, with ``members`` (links) added."""
    (text,) = features(page, layer, crs)
    tail = json.dumps(members, ensure_ascii=False, separators=(",", ":"))[1:]
    return (text[:-1] + ("," + tail if len(tail) > 1 else "}")).encode()
