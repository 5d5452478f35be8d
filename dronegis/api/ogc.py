"""OGC and map routes: WMS 1.3.0, WMTS 1.0.0 (KVP + RESTful), XYZ tiles, layers, legends, STAC.

The rendering routes (WMS, WMTS, tiles) hand their work to the app's render lanes
(:mod:`webgis_export.ogc.lanes`): a few threads for map users, two lower-priority threads for
GetMaps above 1024 x 1024, first come first served in each; GDAL reads, OpenCV and the encoders
release the GIL, so both cores draw. The other routes are plain ``def`` functions in FastAPI's
threadpool.

- ``GET /wms`` — WMS 1.3.0 KVP (GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic)
- ``GET /wmts`` — WMTS 1.0.0 KVP (GetCapabilities, GetTile, GetFeatureInfo)
- ``GET /wmts/1.0.0/WMTSCapabilities.xml`` — RESTful capabilities
- ``GET /wmts/1.0.0/{layer}/{style}/{tms}/{z}/{row}/{col}.{ext}`` — RESTful tile
- ``GET /wmts/1.0.0/{layer}/{style}/{tms}/{z}/{row}/{col}/{j}/{i}.{ext}`` — RESTful FeatureInfo
- ``GET /tiles/{layer}/{tms}/{z}/{x}/{y}.{ext}`` — XYZ tiles (x = column, y = row)
- ``GET /layers`` — JSON list of visible layers
- ``GET|HEAD /layers/{layer}/cog.tif`` — the layer's COG, with HTTP range requests (GDAL ``/vsicurl/``)
- ``GET /legend/{layer}.png`` — legend
- ``GET /stac/{path}`` — the published STAC catalog (items of internal layers need a token)

Every link in ``/layers`` and in the STAC documents a caller gets resolves for that caller:
the STAC asset href ``../../../layers/{id}/cog.tif`` of ``/stac/{kind}/{id}/{id}.json`` is
the COG route, and links to STAC documents of hidden layers are left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response

from core.errors import LayerNotFound
from core.i18n import lang_of
from core.localtime import local_text
from dronegis.api.auth import Caller, current_caller
from dronegis.api.roles import settings_of
from webgis_export.layer_text import LayerText, describe_layers
from webgis_export.legend import people_legend_png
from webgis_export.models import Layer
from webgis_export.ogc import wms, wmts
from webgis_export.ogc.exceptions import OgcError, OgcResponse, Params
from webgis_export.ogc.lanes import Lane, RenderLanes, map_lane
from webgis_export.service import LayerStore
from webgis_export.stac import COG_MEDIA_TYPE
from webgis_export.stac_access import hidden_documents, without_hidden_links
from webgis_export.vectors.models import VectorLayer

router = APIRouter(tags=["ogc"])
Who = Annotated[Caller, Depends(current_caller)]
RAW_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg"}
INFO_EXTENSIONS = {"json": "application/json", "txt": "text/plain", "html": "text/html"}


def store_of(request: Request) -> LayerStore:
    """The app's layer store."""
    store: LayerStore = request.app.state.layer_store
    return store


async def in_lane(request: Request, lane: Lane, call: Callable[[], OgcResponse]) -> OgcResponse:
    """``call()`` on a thread of the app's render ``lane``."""
    lanes: RenderLanes = request.app.state.render_lanes
    return await lanes.run(lane, call)


def base_url(request: Request) -> str:
    """External base URL: ``Settings.public_url`` or the one the request came in on."""
    configured = settings_of(request).public_url
    return (configured or str(request.base_url)).rstrip("/")


def _send(answer: OgcResponse, request: Request | None = None) -> Response:
    """The answer; ``304 Not Modified`` when the client's ``If-None-Match`` names its ``ETag``."""
    tag = (answer.headers or {}).get("ETag")
    if request is not None and tag is not None and answer.status == 200:
        asked = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
        if tag in asked or "*" in asked:
            kept = {k: v for k, v in (answer.headers or {}).items() if k in ("ETag", "Cache-Control")}
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=kept)
    return Response(
        answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers
    )


def _params(request: Request, service: str) -> Params:
    items = {k: v for k, v in request.query_params.items() if k.lower() != "token"}
    return Params(items, service)  # type: ignore[arg-type]


@router.get("/wms", summary="WMS 1.3.0 (KVP)")
async def wms_endpoint(request: Request, who: Who) -> Response:
    """WMS 1.3.0: GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic."""
    params = _params(request, "WMS")
    call = partial(
        wms.handle,
        params,
        store_of(request),
        internal=who.internal,
        base_url=base_url(request),
        token=who.token if who.token_in_query else None,
    )
    lane = map_lane(params.get("REQUEST"), params.get("WIDTH"), params.get("HEIGHT"))
    return _send(await in_lane(request, lane, call))


@router.get("/wmts", summary="WMTS 1.0.0 (KVP)")
async def wmts_endpoint(request: Request, who: Who) -> Response:
    """WMTS 1.0.0 KVP: GetCapabilities, GetTile, GetFeatureInfo."""
    call = partial(
        wmts.handle_kvp,
        _params(request, "WMTS"),
        store_of(request),
        internal=who.internal,
        base_url=base_url(request),
        token=who.token if who.token_in_query else None,
    )
    return _send(await in_lane(request, "interactive", call), request)


@router.get("/wmts/1.0.0/WMTSCapabilities.xml", summary="WMTS 1.0.0 capabilities (RESTful)")
def wmts_capabilities(request: Request, who: Who) -> Response:
    """The RESTful WMTS capabilities document."""
    token = who.token if who.token_in_query else None
    return _send(
        wmts.capabilities(store_of(request), internal=who.internal, base_url=base_url(request), token=token)
    )


@dataclass(frozen=True)
class TileAddress:
    """A RESTful WMTS tile address: the path segments ``{layer}/{style}/{tms}/{z}/{row}/{col}``."""

    layer: str
    style: str
    tms: str
    z: str
    row: str
    col: str

    def parse(self, store: LayerStore, internal: bool) -> wmts.TileRequest:
        """The validated tile (the OWS exception a WMTS client expects otherwise)."""
        return wmts.parse_tile(store, internal, self.layer, self.style, self.tms, self.z, self.row, self.col)


Address = Annotated[TileAddress, Depends()]


@router.get("/wmts/1.0.0/{layer}/{style}/{tms}/{z}/{row}/{col}.{ext}", summary="WMTS tile (RESTful)")
async def wmts_rest_tile(request: Request, who: Who, address: Address, ext: str) -> Response:
    """One tile by its RESTful address."""
    fmt = wmts.tile_format(ext)
    store = store_of(request)

    def draw() -> OgcResponse:
        return wmts.get_tile(store, address.parse(store, who.internal), fmt)

    return _send(await in_lane(request, "interactive", draw), request)


@router.get(
    "/wmts/1.0.0/{layer}/{style}/{tms}/{z}/{row}/{col}/{j}/{i}.{ext}", summary="WMTS FeatureInfo (RESTful)"
)
async def wmts_rest_info(request: Request, who: Who, address: Address, j: str, i: str, ext: str) -> Response:
    """Values at pixel (i, j) of a tile; ext is json, txt or html."""
    info = INFO_EXTENSIONS.get(ext)
    if info is None:
        raise OgcError(
            "InvalidParameterValue", f"unknown FeatureInfo extension {ext!r}", "InfoFormat", "WMTS"
        )
    store = store_of(request)
    links = (base_url(request), who.token if who.token_in_query else None)

    def answer() -> OgcResponse:
        return wmts.get_feature_info(store, address.parse(store, who.internal), i, j, info, links=links)

    return _send(await in_lane(request, "interactive", answer))


@router.get("/tiles/{layer}/{tms}/{z}/{x}/{y}.{ext}", summary="XYZ tile")
async def xyz_tile(
    request: Request, who: Who, layer: str, tms: str, z: int, x: int, y: int, ext: str
) -> Response:
    """A tile by XYZ address (x = column, y = row from the top) in View1 or WebMercatorQuad."""
    fmt = RAW_FORMATS.get(ext)
    if fmt is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"tile format {ext!r}; use png or jpg")
    store = store_of(request)

    def draw() -> OgcResponse:
        try:
            tile = wmts.parse_tile(store, who.internal, layer, "default", tms, str(z), str(y), str(x))
        except OgcError as exc:
            code = status.HTTP_404_NOT_FOUND if exc.locator in ("Layer", "TileRow", "TileCol") else 400
            raise HTTPException(code, exc.message) from None
        return wmts.get_tile(store, tile, fmt)  # type: ignore[arg-type]

    return _send(await in_lane(request, "interactive", draw), request)


def layer_summary(
    layer: Layer, root: str, now: datetime, token: str | None, display: LayerText | None = None
) -> dict[str, Any]:
    """The JSON description of one layer for the layer list (``display``: what people read)."""
    suffix = f"?token={token}" if token else ""
    captured = layer.capture_time
    age_days = None
    if captured is not None:
        stamp = captured if captured.tzinfo else captured.replace(tzinfo=UTC)
        age_days = round((now - stamp).total_seconds() / 86400.0, 1)
    ext = "jpg" if layer.tile_format == "jpeg" else "png"
    return {
        "id": layer.id,
        "title": layer.title,
        "kind": layer.kind.value,
        "access": layer.access,
        "flight": layer.flight,
        "capture_start": layer.time_start.isoformat() if layer.time_start else None,
        "capture_end": layer.time_end.isoformat() if layer.time_end else None,
        "captured_local": local_text(captured) if captured else None,
        "capture_time_source": layer.capture_time_source,
        "age_days": age_days,
        "freshness": layer.freshness,
        "qa_status": layer.qa_status,
        "accuracy": layer.accuracy.figures() if layer.accuracy is not None else None,
        "accuracy_evidence": layer.accuracy_evidence,
        "qa_findings": [finding.model_dump() for finding in layer.qa_findings],
        "approval": layer.approval.model_dump() if layer.approval else None,
        "site": layer.site,
        "locality": layer.locality,
        "gsd_m": layer.gsd_m,
        "height_datum": layer.height_datum.value,
        "unit": layer.style.unit,
        "bounds_wgs84": layer.bounds_wgs84,
        "published_at": layer.published_at.isoformat(),
        "links": {
            "legend": f"{root}/legend/{layer.id}.png{suffix}",
            "xyz_webmercator": f"{root}/tiles/{layer.id}/WebMercatorQuad/{{z}}/{{x}}/{{y}}.{ext}{suffix}",
            "xyz_view1": f"{root}/tiles/{layer.id}/View1/{{z}}/{{x}}/{{y}}.{ext}{suffix}",
            "wms": f"{root}/wms?SERVICE=WMS&REQUEST=GetCapabilities{suffix.replace('?', '&')}",
            "wmts": f"{root}/wmts/1.0.0/WMTSCapabilities.xml{suffix}",
            "stac": f"{root}/{layer.stac_item}{suffix}",
            "cog": f"{root}/layers/{layer.id}/cog.tif{suffix}",
        },
        "display": display.model_dump() if display is not None else None,
    }


@router.get("/layers", summary="Published layers visible to the caller")
def layers(request: Request, who: Who, lang: str | None = None) -> list[dict[str, Any]]:
    """Id, title, kind, capture time, age, accuracy, access and links of every visible layer.

    ``display`` holds what people read, in Danish (default) or English (``lang=en``): a title
    unique among the caller's layers (place, purpose, date), date flown and age, freshness now,
    accuracy in words, height datum, this layer's QA status with its reasons, the approval.
    """
    now = datetime.now(UTC)
    token = who.token if who.token_in_query else None
    root = base_url(request)
    visible = store_of(request).visible(who.internal)
    texts = describe_layers(visible, lang_of(lang), now)
    return [layer_summary(layer, root, now, token, texts[layer.id]) for layer in visible]


@router.api_route(
    "/layers/{layer}/cog.tif",
    methods=["GET", "HEAD"],
    summary="The layer's Cloud Optimized GeoTIFF",
    response_class=FileResponse,
    responses={206: {"description": "the requested byte range"}, 404: {"description": "no such layer"}},
)
def cog(request: Request, who: Who, layer: str) -> FileResponse:
    """The published COG; ``Range`` requests are answered 206 (GDAL's ``/vsicurl/`` reads it directly)."""
    store = store_of(request)
    return FileResponse(store.cog_path(store.get(layer, who.internal)), media_type=COG_MEDIA_TYPE)


@router.get("/legend/{layer}.png", summary="Legend of a layer")
def legend(request: Request, who: Who, layer: str, lang: str | None = None) -> Response:
    """The PNG legend, drawn from the same colormap and range as the tiles.

    With ``lang`` (``da``/``en``) the colour bar is drawn for people: no title (the page
    shows it), the quantity in that language (``Temperatur (°C)``).
    """
    store = store_of(request)
    found = store.get(layer, who.internal)
    if lang is not None:
        drawn = people_legend_png(found, lang_of(lang))
        if drawn is not None:
            return Response(drawn, media_type="image/png")
    path = store.workspace.publish / found.legend if found.legend else None
    if path is None or not path.exists():
        raise LayerNotFound(f"layer {layer!r} has no legend")
    return FileResponse(path, media_type="image/png")


@router.get("/stac/{path:path}", summary="Published STAC catalog")
def stac(request: Request, who: Who, path: str) -> Response:
    """A file of the STAC catalog; items of internal layers only with a valid token.

    Without a token, links to hidden items (and to collections holding only hidden items)
    are left out of the documents, and those documents answer 404.
    """
    store = store_of(request)
    root = store.workspace.published_stac.resolve()
    target = (root / path).resolve()
    if root not in target.parents and target != root or not target.is_file() or target.suffix != ".json":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no STAC document {path!r}")
    published: list[Layer | VectorLayer] = [*store.layers(), *store.vectors.layers()]
    hidden_layers = [layer.id for layer in published if layer.access == "internal" and not who.internal]
    hidden_layers += store.withheld_ids()  # other privacy zones, or a flight being erased
    hidden = hidden_documents(root, hidden_layers)
    if target in hidden:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no STAC document {path!r}")
    if not hidden:
        return FileResponse(target, media_type="application/json")
    doc = json.loads(target.read_text(encoding="utf-8"))
    return JSONResponse(without_hidden_links(target, doc, hidden))
