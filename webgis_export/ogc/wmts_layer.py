"""One WMTS ``Layer`` element for raster and vector layers alike (what differs is a :class:`LayerEntry`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from webgis_export.models import Layer
from webgis_export.ogc.capabilities import INFO_FORMATS, tile_limits, with_token
from webgis_export.ogc.xmltree import OWS, WMTS_NS, XLINK, Element, num, sub
from webgis_export.service import bounds_in
from webgis_export.tms import supported_tms
from webgis_export.vectors.models import VectorLayer

W = f"{{{WMTS_NS}}}"
O = f"{{{OWS}}}"  # noqa: E741
INFO_EXT = {"application/json": "json", "text/plain": "txt", "text/html": "html"}
TILE_EXT = {"image/png": "png", "image/jpeg": "jpg"}


class LayerEntry(NamedTuple):
    """What a layer kind says in its ``Layer`` element."""

    abstract: str
    legend: str
    """URL of the legend image (the token is added by :func:`layer_element`)."""
    formats: Sequence[str]
    """Tile media types, the layer's own first."""
    depth: Callable[[str], int]
    """Deepest level advertised in a tile matrix set."""


def layer_element(
    contents: Element, layer: Layer | VectorLayer, entry: LayerEntry, base_url: str, token: str | None
) -> None:
    """Append the ``Layer`` of ``layer``: extents, style and legend, formats, matrix set limits, URLs."""
    assert layer.bounds is not None and layer.bounds_wgs84 is not None
    node = sub(contents, f"{W}Layer")
    sub(node, f"{O}Title", layer.title)
    sub(node, f"{O}Abstract", entry.abstract)
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
    sub(style, f"{W}LegendURL", format="image/png", **{f"{{{XLINK}}}href": with_token(entry.legend, token)})
    for fmt in entry.formats:
        sub(node, f"{W}Format", fmt)
    for info in INFO_FORMATS:
        sub(node, f"{W}InfoFormat", info)
    for tms_id in supported_tms():
        _matrix_link(node, layer, tms_id, entry.depth(tms_id))
    root = (
        f"{base_url}/wmts/1.0.0/{layer.id}/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/{{TileCol}}"
    )
    for fmt in entry.formats:
        template = with_token(f"{root}.{TILE_EXT[fmt]}", token)
        sub(node, f"{W}ResourceURL", format=fmt, resourceType="tile", template=template)
    for info, ext in INFO_EXT.items():
        template = with_token(f"{root}/{{J}}/{{I}}.{ext}", token)
        sub(node, f"{W}ResourceURL", format=info, resourceType="FeatureInfo", template=template)


def _matrix_link(node: Element, layer: Layer | VectorLayer, tms_id: str, depth: int) -> None:
    if tile_limits(layer, tms_id, 0) is None:
        return
    link = sub(node, f"{W}TileMatrixSetLink")
    sub(link, f"{W}TileMatrixSet", tms_id)
    limits = sub(link, f"{W}TileMatrixSetLimits")
    for z in range(0, depth + 1):
        box = tile_limits(layer, tms_id, z)
        if box is None:
            continue
        entry = sub(limits, f"{W}TileMatrixLimits")
        sub(entry, f"{W}TileMatrix", str(z))
        for tag, value in zip(("MinTileRow", "MaxTileRow", "MinTileCol", "MaxTileCol"), box, strict=True):
            sub(entry, f"{W}{tag}", str(value))
