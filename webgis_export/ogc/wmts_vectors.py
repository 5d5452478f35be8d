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

from webgis_export.ogc.capabilities import tile_limits, with_token
from webgis_export.ogc.exceptions import OgcResponse
from webgis_export.ogc.featureinfo import Links, feature_info
from webgis_export.ogc.xmltree import OWS, WMTS_NS, XLINK, Element, num, sub
from webgis_export.render import ImageFormat, blank, encode
from webgis_export.service import LayerStore, bounds_in
from webgis_export.tms import get_tms, max_zoom, supported_tms, zoom_for_gsd
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.render import draw_layer, features_at, over

W = f"{{{WMTS_NS}}}"
O = f"{{{OWS}}}"  # noqa: E741
VECTOR_CELL_M = 0.05
"""Finest cell advertised for a vector layer (its levels reach 5 cm cells)."""
INFO_EXT = {"application/json": "json", "text/plain": "txt", "text/html": "html"}


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
        x,
        y,
        tms.rasterio_crs,
        crs_name,
        info,
        service="WMTS",
        vectors=[(layer, page, geometries)],
        links=links,
    )


def vector_layer_element(contents: Element, layer: VectorLayer, base_url: str, token: str | None) -> None:
    """The ``Layer`` element of a vector layer (nothing for a layer without features)."""
    if layer.bounds is None or layer.bounds_wgs84 is None:
        return
    node = sub(contents, f"{W}Layer")
    sub(node, f"{O}Title", layer.title)
    sub(node, f"{O}Abstract", f"{layer.kind.value.replace('_', ' ')}; {layer.feature_count} features")
    west, south, east, north = layer.bounds_wgs84
    box = sub(node, f"{O}WGS84BoundingBox", crs="urn:ogc:def:crs:OGC:2:84")
    sub(box, f"{O}LowerCorner", f"{num(west)} {num(south)}")
    sub(box, f"{O}UpperCorner", f"{num(east)} {num(north)}")
    for epsg in (25832, 3857):
        left, bottom, right, top = bounds_in(layer.crs, layer.bounds, f"EPSG:{epsg}")
        native = sub(node, f"{O}BoundingBox", crs=f"urn:ogc:def:crs:EPSG::{epsg}")
        sub(native, f"{O}LowerCorner", f"{num(left)} {num(bottom)}")
        sub(native, f"{O}UpperCorner", f"{num(right)} {num(top)}")
    sub(node, f"{O}Identifier", layer.id)
    style = sub(node, f"{W}Style", isDefault="true")
    sub(style, f"{O}Title", layer.style.title)
    sub(style, f"{O}Identifier", layer.style.name)
    legend = (
        f"{base_url}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={layer.id}"
    )
    sub(style, f"{W}LegendURL", format="image/png", **{f"{{{XLINK}}}href": with_token(legend, token)})
    sub(node, f"{W}Format", "image/png")
    for info in INFO_EXT:
        sub(node, f"{W}InfoFormat", info)
    for tms_id in supported_tms():
        _matrix_link(node, layer, tms_id)
    root = (
        f"{base_url}/wmts/1.0.0/{layer.id}/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/{{TileCol}}"
    )
    sub(
        node,
        f"{W}ResourceURL",
        format="image/png",
        resourceType="tile",
        template=with_token(f"{root}.png", token),
    )
    for info, ext in INFO_EXT.items():
        template = with_token(f"{root}/{{J}}/{{I}}.{ext}", token)
        sub(node, f"{W}ResourceURL", format=info, resourceType="FeatureInfo", template=template)


def _matrix_link(node: Element, layer: VectorLayer, tms_id: str) -> None:
    if tile_limits(layer, tms_id, 0) is None:
        return
    link = sub(node, f"{W}TileMatrixSetLink")
    sub(link, f"{W}TileMatrixSet", tms_id)
    limits = sub(link, f"{W}TileMatrixSetLimits")
    for z in range(0, vector_depth(layer, tms_id) + 1):
        box = tile_limits(layer, tms_id, z)
        if box is None:
            continue
        entry = sub(limits, f"{W}TileMatrixLimits")
        sub(entry, f"{W}TileMatrix", str(z))
        for tag, value in zip(("MinTileRow", "MaxTileRow", "MinTileCol", "MaxTileCol"), box, strict=True):
            sub(entry, f"{W}{tag}", str(value))
