"""Vector routes: OGC API – Features at ``/ogcapi``, WFS 2.0.0 at ``/wfs``, the published GeoPackages.

- ``GET /ogcapi`` — landing page; ``/ogcapi/conformance``; ``/ogcapi/api`` (this app's OpenAPI)
- ``GET /ogcapi/collections`` and ``/ogcapi/collections/{collectionId}``
- ``GET /ogcapi/collections/{collectionId}/queryables`` and ``…/schema`` (JSON Schema)
- ``GET /ogcapi/collections/{collectionId}/items`` (GeoJSON, paging, bbox, datetime, crs, ``?prop=value``)
- ``GET /ogcapi/collections/{collectionId}/items/{featureId}``
- ``GET /wfs`` — WFS 2.0.0 KVP
- ``GET|HEAD /layers/{layer}/features.gpkg`` — the published GeoPackage (the STAC asset)

Every page answers JSON or HTML (``f=json|html``, else the ``Accept`` header; Danish, ``lang=en``
for English). Collections the caller may not see (internal, without a token) do not exist for
them in any route or format. The query parameters are declared in the OpenAPI document by hand
(``openapi_extra``) and checked by :mod:`webgis_export.ogc.oapif_params`, so a bad value is the
standard's 400 with an OGC exception, never a framework 422.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from dronegis.api.auth import Caller, current_caller
from dronegis.api.ogc import base_url, store_of
from webgis_export.ogc import oapif, oapif_html, wfs
from webgis_export.ogc.exceptions import OgcError, Params
from webgis_export.ogc.feature_texts import Lang, label
from webgis_export.ogc.oapif_params import COMMON, LIMIT_DEFAULT, LIMIT_MAX, check_names, parse_items
from webgis_export.vectors.crs import reprojected_bounds, short
from webgis_export.vectors.geojson import collection as geojson_collection
from webgis_export.vectors.geojson import single as geojson_single
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.query import FeaturePage, by_id, select
from webgis_export.vectors.stac import GEOPACKAGE_MEDIA_TYPE
from webgis_export.vectors.store import VectorStore

router = APIRouter(tags=["features"])
Who = Annotated[Caller, Depends(current_caller)]


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


F = _param(
    "f",
    "json or html (default: by the Accept header, else json)",
    {"type": "string", "enum": ["json", "html"]},
)
LANG = _param("lang", "language of the texts: da (default) or en", {"type": "string", "enum": ["da", "en"]})
CRS = _param(
    "crs", "CRS of the coordinates: CRS84 (default) or EPSG:25832 (URI)", {"type": "string", "format": "uri"}
)
LIMIT = {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT}
PAGE_PARAMS = {"parameters": [F, LANG]}
ITEMS_PARAMS = {
    "parameters": [
        F,
        LANG,
        _param("limit", "features per page (at most 10 000)", LIMIT),
        _param("offset", "features to skip", {"type": "integer", "minimum": 0, "default": 0}),
        _param("bbox", "minx,miny,maxx,maxy in bbox-crs", {"type": "string"}),
        _param(
            "bbox-crs",
            "CRS of bbox: CRS84 (default) or EPSG:25832 (URI)",
            {"type": "string", "format": "uri"},
        ),
        CRS,
        _param("datetime", "RFC 3339 instant or start/end interval ('..' open)", {"type": "string"}),
    ]
}
ITEM_PARAMS = {"parameters": [F, LANG, CRS]}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid parameter"},
    404: {"description": "not found"},
}


def vectors_of(request: Request) -> VectorStore:
    """The app's published vector layers."""
    return store_of(request).vectors


def _lang(request: Request) -> Lang:
    return "en" if (request.query_params.get("lang") or "").lower().startswith("en") else "da"


def _links(request: Request, who: Caller) -> oapif.Links:
    return oapif.Links(base_url(request), who.token if who.token_in_query else None, _lang(request))


def _html_wanted(request: Request) -> bool:
    """``f=html``/``f=json``, else HTML when the ``Accept`` header prefers it (browsers)."""
    fmt = request.query_params.get("f")
    if fmt is not None:
        if fmt.lower() not in ("json", "html", "geojson"):
            raise OgcError("InvalidParameterValue", f"f={fmt!r}; use json or html", "f", "OAPIF")
        return fmt.lower() == "html"
    accept = request.headers.get("accept", "")
    html = accept.find("text/html")
    json_at = min((i for i in (accept.find("json"),) if i >= 0), default=-1)
    return html >= 0 and (json_at < 0 or html < json_at)


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _collection(request: Request, who: Caller, collection_id: str) -> VectorLayer:
    layer = vectors_of(request).find(collection_id, who.internal)
    if layer is None:
        raise OgcError("NotFound", f"no collection {collection_id!r}", "collectionId", "OAPIF")
    return layer


def _html(request: Request, who: Caller, name: str, title: str, context: dict[str, Any]) -> Response:
    lang = _lang(request)
    links = _links(request, who)
    other = "da" if lang == "en" else "en"
    switch = str(request.url.include_query_params(lang=other))
    body = oapif_html.page(
        name,
        lang,
        {
            "title": title,
            "base": links.base,
            "home": links.href("", {"f": "html"}),
            "switch": switch,
            **context,
        },
    )
    return Response(body, media_type="text/html; charset=utf-8", headers={"Content-Language": lang})


def _json(doc: dict[str, Any], media_type: str = oapif.JSON) -> Response:
    return JSONResponse(doc, media_type=media_type)


@router.get("/ogcapi", summary="OGC API – Features landing page", openapi_extra=PAGE_PARAMS)
def landing(request: Request, who: Who) -> Response:
    """Links to the collections, conformance, the API definition and the WFS."""
    check_names(_params(request), COMMON)
    doc = oapif.landing(_links(request, who), _lang(request))
    if _html_wanted(request):
        wfs_url = f"{base_url(request)}/wfs?SERVICE=WFS&REQUEST=GetCapabilities"
        return _html(
            request,
            who,
            "landing",
            doc["title"],
            {"doc": doc, "wfs": wfs_url, "json_links": doc["links"][:1]},
        )
    return _json(doc)


@router.get("/ogcapi/conformance", summary="Conformance classes", openapi_extra=PAGE_PARAMS)
def conformance(request: Request, who: Who) -> Response:
    """The OGC API conformance classes implemented."""
    check_names(_params(request), COMMON)
    doc = oapif.conformance()
    if _html_wanted(request):
        return _html(request, who, "conformance", label("conformance", _lang(request)), {"doc": doc})
    return _json(doc)


@router.get("/ogcapi/api", summary="The API definition (OpenAPI 3)", openapi_extra=PAGE_PARAMS)
def api_definition(request: Request, who: Who) -> Response:
    """This service's OpenAPI document (HTML: the interactive documentation)."""
    check_names(_params(request), COMMON)
    if _html_wanted(request):
        return RedirectResponse(f"{base_url(request)}/docs", status_code=303)
    return _json(request.app.openapi(), oapif.OPENAPI)


@router.get(
    "/ogcapi/collections", summary="Feature collections visible to the caller", openapi_extra=PAGE_PARAMS
)
def collections(request: Request, who: Who) -> Response:
    """Every published vector layer the caller may see."""
    check_names(_params(request), COMMON)
    lang = _lang(request)
    doc = oapif.collections(vectors_of(request).visible(who.internal), _links(request, who), lang)
    if _html_wanted(request):
        rows = oapif_html.collection_rows(doc["collections"], lang)
        return _html(
            request,
            who,
            "collections",
            label("collections", lang),
            {"rows": rows, "json_links": doc["links"][:1]},
        )
    return _json(doc)


@router.get(
    "/ogcapi/collections/{collectionId}",
    summary="One feature collection",
    openapi_extra=PAGE_PARAMS,
    responses=ERRORS,
)
def collection(request: Request, who: Who, collectionId: str) -> Response:  # noqa: N803 - the standard's name
    """Title, extent, CRS, capture time, QA status and links of a collection."""
    check_names(_params(request), COMMON)
    layer = _collection(request, who, collectionId)
    lang = _lang(request)
    doc = oapif.collection(layer, _links(request, who), lang)
    if _html_wanted(request):
        facts = oapif_html.collection_facts(layer, doc, lang)
        return _html(
            request,
            who,
            "collection",
            layer.title,
            {"doc": doc, "facts": facts, "json_links": doc["links"][:1]},
        )
    return _json(doc)


@router.get(
    "/ogcapi/collections/{collectionId}/queryables",
    summary="Properties a collection's items can be filtered on",
    openapi_extra=PAGE_PARAMS,
    responses=ERRORS,
)
def queryables(request: Request, who: Who, collectionId: str) -> Response:  # noqa: N803
    """JSON Schema of the filterable properties (``?name=value`` on the items)."""
    check_names(_params(request), COMMON)
    layer = _collection(request, who, collectionId)
    return _json(oapif.schema(layer, _links(request, who), queryables=True), oapif.SCHEMA)


@router.get(
    "/ogcapi/collections/{collectionId}/schema",
    summary="Schema of a collection's features",
    openapi_extra=PAGE_PARAMS,
    responses=ERRORS,
)
def feature_schema(request: Request, who: Who, collectionId: str) -> Response:  # noqa: N803
    """JSON Schema of every property of the features."""
    check_names(_params(request), COMMON)
    layer = _collection(request, who, collectionId)
    return _json(oapif.schema(layer, _links(request, who), queryables=False), oapif.SCHEMA)


@router.get(
    "/ogcapi/collections/{collectionId}/items",
    summary="Features of a collection (GeoJSON)",
    openapi_extra=ITEMS_PARAMS,
    responses={
        200: {"content": {oapif.GEOJSON: {}, oapif.HTML: {}}, "description": "a page of features"},
        **ERRORS,
    },
)
def items(request: Request, who: Who, collectionId: str) -> Response:  # noqa: N803
    """A page of features: ``limit``/``offset``, ``bbox``/``bbox-crs``, ``datetime``, ``crs``, ``?p=v``."""
    layer = _collection(request, who, collectionId)
    params = _params(request)
    asked = parse_items(params, layer)
    page = select(vectors_of(request).path(layer), layer, asked.query)
    links, lang = _links(request, who), _lang(request)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    members = oapif.items_members(
        layer, params, (page.matched, page.returned, asked.query.offset), links, lang, stamp
    )
    headers = {"Content-Crs": f"<{asked.crs}>"}
    if _html_wanted(request):
        return _items_html(request, who, layer, page, members, asked.query.offset)
    body = geojson_collection(page, layer, short(asked.crs), members)
    return Response(body, media_type=oapif.GEOJSON, headers=headers)


def _items_html(
    request: Request, who: Caller, layer: VectorLayer, page: FeaturePage, members: dict[str, Any], offset: int
) -> Response:
    lang, links = _lang(request), _links(request, who)
    doc = json.loads(geojson_collection(page, layer, "OGC:CRS84", {}))
    for feature in doc["features"]:
        feature["html"] = links.href(f"/collections/{layer.id}/items/{feature['id']}", {"f": "html"})
    header, rows = oapif_html.feature_table(doc["features"])
    returned, matched = members["numberReturned"], members["numberMatched"]
    showing = label("showing", lang, first=offset + 1, last=offset + returned, matched=matched)
    paging = [
        dict(link, href=link["href"].replace("f=json", "f=html"))
        for link in members["links"]
        if link["rel"] in ("prev", "next")
    ]
    context = {
        "features": rows,
        "header": header,
        "showing": showing if returned else label("none", lang),
        "paging": paging,
        "json_links": members["links"][:1],
        "wms": _wms_map(request, who, layer),
    }
    return _html(request, who, "items", f"{layer.title} – {label('items', lang)}", context)


def _wms_map(
    request: Request, who: Caller, layer: VectorLayer, bbox: list[float] | None = None
) -> dict[str, Any] | None:
    """What the page's map script needs: the WMS, the layer, the box to show (WGS84), the token."""
    box = bbox or (list(layer.bounds_wgs84) if layer.bounds_wgs84 else None)
    if box is None:
        return None
    token = who.token if who.token_in_query else None
    return {"url": f"{base_url(request)}/wms", "layer": layer.id, "bbox": box, "token": token}


@router.get(
    "/ogcapi/collections/{collectionId}/items/{featureId}",
    summary="One feature (GeoJSON)",
    openapi_extra=ITEM_PARAMS,
    responses={200: {"content": {oapif.GEOJSON: {}, oapif.HTML: {}}, "description": "the feature"}, **ERRORS},
)
def item(request: Request, who: Who, collectionId: str, featureId: str) -> Response:  # noqa: N803
    """One feature by its id, coordinates in ``crs`` (default CRS84)."""
    layer = _collection(request, who, collectionId)
    params = _params(request)
    check_names(params, COMMON | {"crs"})
    crs = parse_items({k: v for k, v in params.items() if k == "crs"}, layer).crs
    page = by_id(vectors_of(request).path(layer), layer, int(featureId)) if featureId.isdigit() else None
    if page is None:
        raise OgcError(
            "NotFound", f"collection {layer.id} has no feature {featureId!r}", "featureId", "OAPIF"
        )
    links, lang = _links(request, who), _lang(request)
    members = oapif.item_members(layer, int(featureId), links, lang)
    if _html_wanted(request):
        feature = json.loads(geojson_single(page, layer, "OGC:CRS84", {}))
        bounds = tuple(page.geometries[0].bounds) if page.geometries[0] is not None else None
        context = {
            "rows": oapif_html.property_rows(feature["properties"]),
            "back": links.href(f"/collections/{layer.id}/items", {"f": "html"}),
            "json_links": members["links"][:1],
            "wms": _wms_map(request, who, layer, _wgs84(layer, bounds)),
        }
        return _html(request, who, "item", f"{layer.title} – {label('item', lang)} {featureId}", context)
    body = geojson_single(page, layer, short(crs), members)
    return Response(body, media_type=oapif.GEOJSON, headers={"Content-Crs": f"<{crs}>"})


def _wgs84(layer: VectorLayer, bounds: tuple[float, float, float, float] | None) -> list[float] | None:
    return list(reprojected_bounds(bounds, layer.crs, "EPSG:4326")) if bounds is not None else None


@router.get("/wfs", summary="WFS 2.0.0 (KVP)")
def wfs_endpoint(request: Request, who: Who) -> Response:
    """WFS 2.0.0: GetCapabilities, DescribeFeatureType, GetFeature."""
    items_ = {k: v for k, v in request.query_params.items() if k.lower() != "token"}
    answer = wfs.handle(
        Params(items_, "WFS"),
        vectors_of(request),
        internal=who.internal,
        base_url=base_url(request),
        token=who.token if who.token_in_query else None,
    )
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)


@router.head("/layers/{layer}/features.gpkg", include_in_schema=False)
@router.get(
    "/layers/{layer}/features.gpkg",
    summary="The published GeoPackage of a vector layer",
    response_class=FileResponse,
    responses={404: {"description": "no such layer"}},
)
def geopackage(request: Request, who: Who, layer: str) -> FileResponse:
    """The published copy of a vector layer (EPSG:25832), as its STAC item names it."""
    store = vectors_of(request)
    return FileResponse(store.path(store.get(layer, who.internal)), media_type=GEOPACKAGE_MEDIA_TYPE)
