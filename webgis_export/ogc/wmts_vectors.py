"""Vector layers in WMTS: each tile drawn like WMS GetMap draws the layer, features under a tile pixel.

A published vector layer (footprints, buildings by heat class, hot spots …) is a WMTS layer in
both tile matrix sets: a tile is the layer drawn over the tile's bounds
(:func:`webgis_export.vectors.render.draw_layer`, the WMS style), transparent where nothing is;
its legend is WMS GetLegendGraphic's; GetFeatureInfo answers the features under the pixel, with
a building's ``card_url``. Levels are advertised down to 5 cm cells (a vector has no GSD of
its own); tiles have no static pyramid and are drawn on request.
"""

from __future__ import annotations

import hashlib

import morecantile

from webgis_export.ogc.exceptions import OgcResponse
from webgis_export.ogc.feature_texts import describe
from webgis_export.ogc.featureinfo import Links, QueryPoint, feature_info
from webgis_export.ogc.wmts_layer import LayerEntry, layer_element
from webgis_export.ogc.xmltree import Element
from webgis_export.render import ImageFormat, blank, encode
from webgis_export.service import LayerStore
from webgis_export.tms import get_tms, max_zoom, zoom_for_gsd
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.render import draw_layer, features_at, over

VECTOR_CELL_M = 0.05
"""Finest cell advertised for a vector layer (its levels reach 5 cm cells)."""


def vector_depth(layer: VectorLayer, tms_id: str) -> int:
    """Deepest level advertised for a vector layer: 5 cm cells, capped at the set's depth."""
    assert layer.bounds_wgs84 is not None
    lat = (layer.bounds_wgs84[1] + layer.bounds_wgs84[3]) / 2
    return min(zoom_for_gsd(tms_id, VECTOR_CELL_M, latitude=lat), max_zoom(tms_id))


def vector_tile_version(layer: VectorLayer, fmt: ImageFormat) -> str:
    """The ETag of a vector layer's tiles: changes whenever the layer is published again."""
    key = f"{layer.id}|{layer.published_at.isoformat()}|{fmt}|vector"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:20] + '"'


def vector_tile(
    store: LayerStore, layer: VectorLayer, address: tuple[str, int, int, int], fmt: ImageFormat
) -> bytes:
    """The tile (``address``: matrix set, level, row, column) of a vector layer, encoded."""
    tms_id, z, row, col = address
    tms = get_tms(tms_id)
    size = tms.matrix(z).tileWidth
    box = tms.xy_bounds(morecantile.Tile(col, row, z))
    crs = f"EPSG:{tms.crs.to_epsg()}"
    drawn = draw_layer(
        store.vectors.path(layer), layer, (box.left, box.bottom, box.right, box.top), crs, (size, size)
    )
    image = blank(size, size)
    return encode(over(image, drawn) if drawn is not None else image, fmt)


def vector_info(
    store: LayerStore,
    layer: VectorLayer,
    point: tuple[float, float, float],
    tms_id: str,
    info: str,
    links: Links,
) -> OgcResponse:
    """The features of ``layer`` under a tile pixel (``point``: x, y and the cell size, in the set's CRS)."""
    tms = get_tms(tms_id)
    crs_name = f"EPSG:{tms.crs.to_epsg()}"
    x, y, cell = point
    page, geometries = features_at(store.vectors.path(layer), layer, (x, y), crs_name, cell, 1)
    return feature_info(
        store,
        [],
        QueryPoint(x, y, tms.rasterio_crs, crs_name),
        info,
        service="WMTS",
        vectors=[(layer, page, geometries)],
        links=links,
    )


def vector_layer_element(contents: Element, layer: VectorLayer, base_url: str, token: str | None) -> None:
    """The ``Layer`` element of a vector layer (nothing for a layer without features)."""
    if layer.bounds is None or layer.bounds_wgs84 is None:
        return
    legend = (
        f"{base_url}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={layer.id}"
    )
    entry = LayerEntry(
        abstract=describe(layer, "da") + " / " + describe(layer, "en"),
        legend=legend,
        formats=["image/png"],
        depth=lambda tms_id: vector_depth(layer, tms_id),
    )
    layer_element(contents, layer, entry, base_url, token)
