"""WMTS 1.0.0: GetCapabilities, GetTile and GetFeatureInfo, KVP and RESTful.

Tiles come from the layer's static pyramid when it has that tile, and are
rendered from the COG otherwise. Inside the pyramid's levels a missing tile
means "no data there" and is answered as a transparent tile (PNG) without
touching the COG.

Tiles may be cached, but are revalidated before each use (``Cache-Control: public, no-cache``)
against an ``ETag`` naming the layer's publication (its id, publication time and privacy zones):
after a re-publication or a privacy re-mask no client or proxy shows a tile of the old version
(issue 16), and an unchanged tile costs a ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import NamedTuple

from core.errors import LayerNotFound, UsageError
from webgis_export.models import Layer
from webgis_export.ogc.exceptions import OgcError, OgcResponse, Params
from webgis_export.ogc.featureinfo import Links, QueryPoint, feature_info
from webgis_export.ogc.wmts_capabilities import wmts_capabilities
from webgis_export.ogc.wmts_vectors import vector_info, vector_tile, vector_tile_version
from webgis_export.render import MIME_TYPES, ImageFormat, blank, encode
from webgis_export.service import LayerStore
from webgis_export.tms import get_tms, max_zoom, parse_matrix_id, supported_tms
from webgis_export.vectors.models import VectorLayer

CACHE_CONTROL = "public, no-cache"


class TileRequest(NamedTuple):
    """A parsed GetTile / GetFeatureInfo address."""

    layer: Layer | VectorLayer
    tms_id: str
    z: int
    row: int
    col: int


def handle_kvp(
    params: Params, store: LayerStore, *, internal: bool, base_url: str, token: str | None
) -> OgcResponse:
    """Dispatch one KVP WMTS request."""
    service = params.get("SERVICE")
    if service is not None and service.upper() != "WMTS":
        raise OgcError(
            "InvalidParameterValue", f"SERVICE={service!r}, this endpoint serves WMTS", "SERVICE", "WMTS"
        )
    request = (params.get("REQUEST") or "").lower()
    if request == "getcapabilities":
        return capabilities(store, internal=internal, base_url=base_url, token=token)
    if not request:
        raise OgcError("MissingParameterValue", "parameter REQUEST is required", "REQUEST", "WMTS")
    if request not in ("gettile", "getfeatureinfo"):
        raise OgcError("OperationNotSupported", f"REQUEST={params.get('REQUEST')!r}", "REQUEST", "WMTS")
    version = params.get("VERSION")
    if version is not None and version != "1.0.0":
        raise OgcError(
            "VersionNegotiationFailed", f"VERSION={version!r}; this server speaks 1.0.0", "VERSION", "WMTS"
        )
    tile = parse_tile(
        store,
        internal,
        params.require("LAYER"),
        params.require("STYLE"),
        params.require("TILEMATRIXSET"),
        params.require("TILEMATRIX"),
        params.require("TILEROW"),
        params.require("TILECOL"),
    )
    if request == "gettile":
        return get_tile(store, tile, tile_format(params.require("FORMAT")))
    i, j = params.require("I"), params.require("J")
    return get_feature_info(store, tile, i, j, params.require("INFOFORMAT"), links=(base_url, token))


def capabilities(store: LayerStore, *, internal: bool, base_url: str, token: str | None) -> OgcResponse:
    """The capabilities document for the caller's visible layers."""
    body = wmts_capabilities(store.visible(internal), base_url, token, store.vectors.visible(internal))
    return OgcResponse(body, "application/xml")


def tile_format(value: str) -> ImageFormat:
    """``png`` or ``jpeg`` from a MIME type or file extension."""
    fmt = MIME_TYPES.get(value.lower())
    if fmt is None:
        raise OgcError(
            "InvalidParameterValue", f"Format={value!r}; offered: image/png, image/jpeg", "Format", "WMTS"
        )
    return fmt


def parse_tile(
    store: LayerStore, internal: bool, layer_id: str, style: str, tms_id: str, matrix: str, row: str, col: str
) -> TileRequest:
    """Validate a tile address; raises the OWS exception a WMTS client expects."""
    layer: Layer | VectorLayer | None = store.vectors.find(layer_id, internal)
    if layer is None or layer.bounds is None:
        try:
            layer = store.get(layer_id, internal)
        except LayerNotFound as exc:
            raise OgcError("InvalidParameterValue", str(exc), "Layer", "WMTS") from None
    if style not in (layer.style.name, "default", ""):
        raise OgcError("InvalidParameterValue", f"layer {layer.id} has no style {style!r}", "Style", "WMTS")
    if tms_id not in supported_tms():
        raise OgcError("InvalidParameterValue", f"unknown TileMatrixSet {tms_id!r}", "TileMatrixSet", "WMTS")
    try:
        z = parse_matrix_id(matrix)
    except UsageError as exc:
        raise OgcError("InvalidParameterValue", str(exc), "TileMatrix", "WMTS") from None
    if z > max_zoom(tms_id):
        raise OgcError(
            "InvalidParameterValue",
            f"TileMatrix {matrix} deeper than {max_zoom(tms_id)}",
            "TileMatrix",
            "WMTS",
        )
    try:
        r, c = int(row), int(col)
    except ValueError:
        raise OgcError(
            "InvalidParameterValue", f"TileRow={row!r}/TileCol={col!r}", "TileRow", "WMTS"
        ) from None
    m = get_tms(tms_id).matrix(z)
    if not (0 <= r < m.matrixHeight):
        raise OgcError("TileOutOfRange", f"TileRow {r} outside 0..{m.matrixHeight - 1}", "TileRow", "WMTS")
    if not (0 <= c < m.matrixWidth):
        raise OgcError("TileOutOfRange", f"TileCol {c} outside 0..{m.matrixWidth - 1}", "TileCol", "WMTS")
    return TileRequest(layer, tms_id, z, r, c)


@lru_cache(maxsize=4)
def empty_tile(fmt: ImageFormat, size: int = 256) -> bytes:
    """A transparent PNG (or white JPEG) tile."""
    return encode(blank(size, size), fmt)


def tile_version(layer: Layer, fmt: ImageFormat) -> str:
    """The ETag of a layer's tiles: changes whenever the layer is published again or re-masked."""
    zones = layer.privacy.zones if layer.privacy is not None else None
    key = f"{layer.id}|{layer.published_at.isoformat()}|{zones}|{fmt}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:20] + '"'


def get_tile(store: LayerStore, tile: TileRequest, fmt: ImageFormat) -> OgcResponse:
    """One tile: static when the pyramid has it, rendered from the COG otherwise."""
    layer, tms_id, z, row, col = tile
    media = f"image/{fmt}"
    if isinstance(layer, VectorLayer):
        cache = {"Cache-Control": CACHE_CONTROL, "ETag": vector_tile_version(layer, fmt)}
        body = vector_tile(store, layer, (tms_id, z, row, col), fmt)
        return OgcResponse(body, media, 200, {**cache, "X-Tile-Source": "vector"})
    cache = {"Cache-Control": CACHE_CONTROL, "ETag": tile_version(layer, fmt)}
    static = store.static_tile(layer, tms_id, z, row, col, fmt)
    if static is not None:
        return OgcResponse(static.read_bytes(), media, 200, {**cache, "X-Tile-Source": "pyramid"})
    if store.in_pyramid(layer, tms_id, z, fmt):
        return OgcResponse(empty_tile(fmt), media, 200, {**cache, "X-Tile-Source": "empty"})
    rendered = store.render_tile(layer, tms_id, z, row, col)
    body = empty_tile(fmt) if rendered is None else encode(rendered, fmt)
    return OgcResponse(body, media, 200, {**cache, "X-Tile-Source": "cog"})


def get_feature_info(
    store: LayerStore, tile: TileRequest, i: str, j: str, info_format: str, links: Links = ("", None)
) -> OgcResponse:
    """Values at pixel (I, J) of a tile; of a vector layer, the features there (``links``: card URLs)."""
    tms = get_tms(tile.tms_id)
    matrix = tms.matrix(tile.z)
    try:
        px, py = int(i), int(j)
    except ValueError:
        raise OgcError("InvalidParameterValue", f"I={i!r}, J={j!r} are not integers", "I", "WMTS") from None
    if not (0 <= px < matrix.tileWidth and 0 <= py < matrix.tileHeight):
        raise OgcError("PointIJOutOfRange", f"I={px}, J={py} outside the tile", "I", "WMTS")
    x0, y0 = matrix.pointOfOrigin
    size = matrix.cellSize
    x = x0 + (tile.col * matrix.tileWidth + px + 0.5) * size
    y = y0 - (tile.row * matrix.tileHeight + py + 0.5) * size
    if isinstance(tile.layer, VectorLayer):
        return vector_info(store, tile.layer, (x, y, size), tile.tms_id, info_format, links)
    crs_name = f"EPSG:{tms.crs.to_epsg()}"
    point = QueryPoint(x, y, tms.rasterio_crs, crs_name)
    return feature_info(store, [tile.layer], point, info_format, service="WMTS")
