"""The WMTS 1.0.0 capabilities tree (OGC 07-057r7): layers, View1 and WebMercatorQuad.

TileMatrix identifiers are ``0``…``N`` (see :mod:`webgis_export.tms`). Each layer
lists ``TileMatrixSetLimits`` from level 0 to its GSD level (+1), so clients such as
GDAL's WMTS driver size the raster to the product instead of the whole grid.
"""

from __future__ import annotations

from collections.abc import Sequence

from webgis_export.models import Layer
from webgis_export.ogc.capabilities import (
    SERVICE_TITLE,
    WELL_KNOWN,
    both,
    layer_abstract,
    layer_depth,
    tile_limits,
    with_token,
)
from webgis_export.ogc.wmts_layer import LayerEntry, layer_element
from webgis_export.ogc.wmts_vectors import vector_depth, vector_layer_element
from webgis_export.ogc.xmltree import OWS, WMTS_NS, XLINK, Element, document, href, serialise, sub
from webgis_export.tms import get_tms, supported_tms
from webgis_export.vectors.models import VectorLayer

W = f"{{{WMTS_NS}}}"
O = f"{{{OWS}}}"  # noqa: E741
TILE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg"}


def wmts_capabilities(
    layers: Sequence[Layer], base_url: str, token: str | None = None, vectors: Sequence[VectorLayer] = ()
) -> bytes:
    """The WMTS 1.0.0 capabilities XML: both matrix sets, KVP and RESTful encodings (and the
    ``vectors``, drawn per tile: :mod:`webgis_export.ogc.wmts_vectors`)."""
    return serialise(build_wmts(layers, base_url, token, vectors))


def build_wmts(
    layers: Sequence[Layer], base_url: str, token: str | None, vectors: Sequence[VectorLayer] = ()
) -> Element:
    """The ``Capabilities`` element, with the WMTS namespace as the default namespace."""
    root = document(
        f"{W}Capabilities",
        WMTS_NS,
        {"ows": OWS, "xlink": XLINK},
        "http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd",
        version="1.0.0",
    )
    ident = sub(root, f"{O}ServiceIdentification")
    sub(ident, f"{O}Title", SERVICE_TITLE)
    sub(ident, f"{O}Abstract", both("capabilities.service_abstract"))
    sub(ident, f"{O}ServiceType", "OGC WMTS")
    sub(ident, f"{O}ServiceTypeVersion", "1.0.0")
    _operations(root, base_url, token)
    contents = sub(root, f"{W}Contents")
    depth = dict.fromkeys(supported_tms(), 0)
    for layer in layers:
        for tms_id in supported_tms():
            if tile_limits(layer, tms_id, 0) is not None:
                depth[tms_id] = max(depth[tms_id], layer_depth(layer, tms_id))
        _layer(contents, layer, base_url, token)
    for vector in vectors:
        for tms_id in supported_tms():
            if tile_limits(vector, tms_id, 0) is not None:
                depth[tms_id] = max(depth[tms_id], vector_depth(vector, tms_id))
        vector_layer_element(contents, vector, base_url, token)
    for tms_id in supported_tms():
        _matrix_set(contents, tms_id, depth[tms_id])
    href(root, f"{W}ServiceMetadataURL", with_token(f"{base_url}/wmts/1.0.0/WMTSCapabilities.xml", token))
    return root


def _operations(root: Element, base_url: str, token: str | None) -> None:
    ops = sub(root, f"{O}OperationsMetadata")
    for name in ("GetCapabilities", "GetTile", "GetFeatureInfo"):
        op = sub(ops, f"{O}Operation", name=name)
        get_kvp = href(sub(sub(op, f"{O}DCP"), f"{O}HTTP"), f"{O}Get", with_token(f"{base_url}/wmts?", token))
        _encoding(get_kvp, "KVP")
        rest_url = (
            f"{base_url}/wmts/1.0.0/"
            if name != "GetCapabilities"
            else f"{base_url}/wmts/1.0.0/WMTSCapabilities.xml"
        )
        get_rest = href(op.find(f"{O}DCP/{O}HTTP"), f"{O}Get", with_token(rest_url, token))
        _encoding(get_rest, "RESTful")


def _encoding(get: Element, value: str) -> None:
    constraint = sub(get, f"{O}Constraint", name="GetEncoding")
    sub(sub(constraint, f"{O}AllowedValues"), f"{O}Value", value)


def _layer(contents: Element, layer: Layer, base_url: str, token: str | None) -> None:
    own = TILE_FORMATS[layer.tile_format]
    entry = LayerEntry(
        abstract=layer_abstract(layer),
        legend=f"{base_url}/legend/{layer.id}.png",
        formats=[own, *(f for f in TILE_FORMATS.values() if f != own)],
        depth=lambda tms_id: layer_depth(layer, tms_id),
    )
    layer_element(contents, layer, entry, base_url, token)


def _matrix_set(contents: Element, tms_id: str, depth: int) -> None:
    tms = get_tms(tms_id)
    node = sub(contents, f"{W}TileMatrixSet")
    sub(node, f"{O}Title", tms.title or tms_id)
    sub(node, f"{O}Identifier", tms_id)
    sub(node, f"{O}SupportedCRS", f"urn:ogc:def:crs:EPSG::{tms.crs.to_epsg()}")
    if tms_id in WELL_KNOWN:
        sub(node, f"{W}WellKnownScaleSet", WELL_KNOWN[tms_id])
    for z in range(0, depth + 1):
        matrix = tms.matrix(z)
        entry = sub(node, f"{W}TileMatrix")
        sub(entry, f"{O}Identifier", str(z))
        sub(entry, f"{W}ScaleDenominator", repr(float(matrix.scaleDenominator)))
        x0, y0 = matrix.pointOfOrigin
        sub(entry, f"{W}TopLeftCorner", f"{float(x0)!r} {float(y0)!r}")
        sub(entry, f"{W}TileWidth", str(matrix.tileWidth))
        sub(entry, f"{W}TileHeight", str(matrix.tileHeight))
        sub(entry, f"{W}MatrixWidth", str(matrix.matrixWidth))
        sub(entry, f"{W}MatrixHeight", str(matrix.matrixHeight))
