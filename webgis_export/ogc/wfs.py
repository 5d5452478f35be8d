"""WFS 2.0.0 over KVP GET: GetCapabilities, DescribeFeatureType, GetFeature — what municipal clients use.

GetFeature takes ``TYPENAMES`` (``TYPENAME`` too; several types as ``a,b`` or ``(a)(b)``, read
as one query each), ``BBOX=minx,miny,maxx,maxy[,crs]`` (the CRS's axis order: latitude first
for ``urn:ogc:def:crs:EPSG::4326``), ``COUNT``/``STARTINDEX`` over the concatenated result,
``SRSNAME`` (EPSG:25832 in every spelling), ``RESULTTYPE=hits`` and ``OUTPUTFORMAT`` GML 3.2
(default) or ``application/json``. Errors are OWS 1.1 exception reports (``version="2.0.0"``).
Types the caller may not see do not exist for them: not listed, and named they are unknown.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from webgis_export.ogc.exceptions import OgcError, OgcResponse, Params
from webgis_export.ogc.wfs_capabilities import (
    COUNT_DEFAULT,
    GML32,
    GML32_ALIASES,
    JSON_FORMATS,
    wfs_capabilities,
)
from webgis_export.vectors.crs import CRS84, WGS84_LATLON, canonical, epsg_uri, lat_first, short, urn
from webgis_export.vectors.geojson import features as geojson_features
from webgis_export.vectors.gml import feature_collection, members, schema, type_name
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.query import FeaturePage, FeatureQuery, select
from webgis_export.vectors.store import VectorStore

VERSION = "2.0.0"
UNSUPPORTED = ("FILTER", "SORTBY", "STOREDQUERY_ID", "RESOURCEID", "PROPERTYNAME")


def _error(code: str, message: str, locator: str | None = None) -> OgcError:
    return OgcError(code, message, locator, "WFS")


def handle(
    params: Params, store: VectorStore, *, internal: bool, base_url: str, token: str | None
) -> OgcResponse:
    """Dispatch one WFS request."""
    service = params.get("SERVICE")
    if service is not None and service.upper() != "WFS":
        raise _error("InvalidParameterValue", f"SERVICE={service!r}; this endpoint serves WFS", "service")
    request = (params.get("REQUEST") or "").lower()
    if not request:
        raise _error("MissingParameterValue", "parameter REQUEST is required", "request")
    layers = store.visible(internal)
    if request == "getcapabilities":
        accepted = params.get("ACCEPTVERSIONS")
        if accepted and VERSION not in [v.strip() for v in accepted.split(",")]:
            raise _error(
                "VersionNegotiationFailed", f"ACCEPTVERSIONS={accepted!r}; this server speaks WFS 2.0.0"
            )
        return OgcResponse(wfs_capabilities(layers, base_url, token), "application/xml")
    if request not in ("describefeaturetype", "getfeature"):
        raise _error(
            "OperationNotSupported", f"REQUEST={params.get('REQUEST')!r} is not supported", "request"
        )
    version = params.get("VERSION")
    if version is not None and not version.startswith("2.0"):
        raise _error("InvalidParameterValue", f"VERSION={version!r}; this server speaks WFS 2.0.0", "version")
    if request == "describefeaturetype":
        return describe_feature_type(params, layers)
    return get_feature(params, store, layers, base_url, token)


def requested_types(params: Params, layers: list[VectorLayer], required: bool) -> list[VectorLayer]:
    """The layers named by TYPENAMES/TYPENAME (any or no namespace prefix); all when absent and optional."""
    text = params.get("TYPENAMES") or params.get("TYPENAME")
    if not text:
        if required:
            raise _error("MissingParameterValue", "parameter TYPENAMES is required", "typeNames")
        return layers
    by_name = {type_name(layer.id): layer for layer in layers}
    chosen = []
    for name in (n for n in re.split(r"[(),\s]+", text) if n):
        layer = by_name.get(name.rsplit(":", 1)[-1])
        if layer is None:
            raise _error(
                "InvalidParameterValue", f"feature type {name!r} is not offered by this server", "typeNames"
            )
        chosen.append(layer)
    return chosen


def describe_feature_type(params: Params, layers: list[VectorLayer]) -> OgcResponse:
    """The GML 3.2 application schema of the requested types (GDAL's, as GetFeature writes them)."""
    fmt = params.get("OUTPUTFORMAT")
    if fmt and fmt.strip().lower() not in GML32_ALIASES:
        raise _error("InvalidParameterValue", f"OUTPUTFORMAT={fmt!r}; the schema is {GML32}", "outputFormat")
    chosen = requested_types(params, layers, required=False)
    if not chosen:
        raise _error(
            "InvalidParameterValue", "this server offers no feature type to this caller", "typeNames"
        )
    return OgcResponse(schema([(layer, layer.crs) for layer in chosen]), "text/xml; subtype=gml/3.2")


def _number(params: Params, name: str, default: int, minimum: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _error("InvalidParameterValue", f"{name}={text!r} is not an integer", name.lower()) from None
    if value < minimum:
        raise _error("InvalidParameterValue", f"{name}={value} must be at least {minimum}", name.lower())
    return value


def _bbox(params: Params, default_crs: str) -> tuple[tuple[float, float, float, float], str] | None:
    """BBOX in x/y order and the pyproj name of its CRS (EPSG:4326 x/y = lon/lat)."""
    text = params.get("BBOX")
    if not text:
        return None
    parts = text.split(",")
    uri = canonical(parts[4]) if len(parts) == 5 else default_crs
    if len(parts) not in (4, 5) or uri is None:
        raise _error("InvalidParameterValue", f"BBOX={text!r} must be minx,miny,maxx,maxy[,crs]", "bbox")
    try:
        a, b, c, d = (float(v) for v in parts[:4])
    except ValueError:
        raise _error("InvalidParameterValue", f"BBOX={text!r} is not four numbers", "bbox") from None
    if uri not in (CRS84, default_crs, WGS84_LATLON):
        raise _error(
            "InvalidParameterValue", f"BBOX CRS {parts[4]!r} is not offered; use {urn(default_crs)}", "bbox"
        )
    box = (b, a, d, c) if lat_first(uri) else (a, b, c, d)
    if box[0] > box[2] or box[1] > box[3]:
        raise _error("InvalidParameterValue", f"BBOX={text!r}: the lower corner must come first", "bbox")
    return box, ("EPSG:4326" if uri != CRS84 and lat_first(uri) else short(uri))


def get_feature(
    params: Params, store: VectorStore, layers: list[VectorLayer], base_url: str, token: str | None
) -> OgcResponse:
    """Features of the requested types as a WFS FeatureCollection (GML 3.2) or GeoJSON."""
    for name in UNSUPPORTED:
        if params.get(name):
            raise _error(
                "OperationNotSupported", f"{name} is not supported; query with TYPENAMES and BBOX", name
            )
    chosen = requested_types(params, layers, required=True)
    storage = epsg_uri(chosen[0].crs)
    asked = params.get("SRSNAME")
    if asked is not None and canonical(asked) != storage:
        raise _error(
            "InvalidParameterValue", f"SRSNAME={asked!r} is not offered; use {urn(storage)}", "srsName"
        )
    fmt = (params.get("OUTPUTFORMAT") or GML32).strip().lower()
    if fmt not in GML32_ALIASES | JSON_FORMATS:
        raise _error(
            "InvalidParameterValue",
            f"OUTPUTFORMAT={params.get('OUTPUTFORMAT')!r} is not offered",
            "outputFormat",
        )
    hits = (params.get("RESULTTYPE") or "results").lower() == "hits"
    count = min(_number(params, "COUNT", _number(params, "MAXFEATURES", COUNT_DEFAULT, 0), 0), COUNT_DEFAULT)
    skip = _number(params, "STARTINDEX", 0, 0)
    box = _bbox(params, storage)
    matched, pages = 0, list[tuple[VectorLayer, FeaturePage]]()
    for layer in chosen:
        query = FeatureQuery(
            bbox=box[0] if box else None,
            bbox_crs=box[1] if box else "OGC:CRS84",
            offset=0 if hits else skip,
            limit=1 if hits or count == 0 else count,
        )
        page = select(store.path(layer), layer, query)
        matched += page.matched
        if not hits and count:
            pages.append((layer, page))
            count -= page.returned
        skip = max(0, skip - page.matched)
    returned = sum(page.returned for _, page in pages)
    if fmt in JSON_FORMATS:
        return _json(pages, matched, returned, short(storage))
    names = ",".join(f"dronegis:{type_name(layer.id)}" for layer in chosen)
    schema_url = f"{base_url}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES={names}"
    if token:
        schema_url += f"&token={token}"
    elements = [element for layer, page in pages for element in members(page, layer, short(storage))]
    return OgcResponse(feature_collection(elements, matched, returned, schema_url), GML32)


def _json(pages: list[tuple[VectorLayer, FeaturePage]], matched: int, returned: int, crs: str) -> OgcResponse:
    texts = [text for layer, page in pages for text in geojson_features(page, layer, crs)]
    members_ = {
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crs": {"type": "name", "properties": {"name": urn(canonical(crs) or CRS84)}},
    }
    body = '{"type":"FeatureCollection","features":[' + ",".join(texts) + "]," + json.dumps(members_)[1:]
    return OgcResponse(body.encode(), "application/json")
