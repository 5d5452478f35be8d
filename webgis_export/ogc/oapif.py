"""OGC API – Features documents: landing page, conformance, collections, queryables, item links.

Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS: ``crs``/``bbox-crs`` with CRS84 and
EPSG:25832, ``storageCrs``, ``Content-Crs``) and Part 3's queryables as query parameters. The
functions know nothing of HTTP frameworks: they take what the caller may see and return dicts.
Every link carries the caller's ``token`` when it came in the query (GIS clients that cannot
send headers keep their access while following links) and ``lang=en`` when English was asked
for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from webgis_export.ogc.feature_texts import Lang, describe, kind_name, label
from webgis_export.ogc.oapif_params import FILTERABLE, LIMIT_DEFAULT, LIMIT_MAX, offered_crs
from webgis_export.stac import capture_times
from webgis_export.vectors.crs import epsg_uri
from webgis_export.vectors.models import VectorLayer

ROOT = "/ogcapi"
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)
JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "LineString": "geometry-linestring",
    "Polygon": "geometry-polygon",
}


class Links:
    """Absolute hrefs of the API for one caller: the service root, their token, their language."""

    def __init__(self, base_url: str, token: str | None, lang: Lang) -> None:
        self.base, self.token, self.lang = base_url.rstrip("/"), token, lang

    def href(self, path: str, query: Mapping[str, str | int] | None = None) -> str:
        """``base/ogcapi{path}`` with ``query``, ``lang=en`` and the token appended."""
        items = [(k, str(v)) for k, v in (query or {}).items() if k not in ("token", "lang")]
        if self.lang == "en":
            items.append(("lang", "en"))
        if self.token:
            items.append(("token", self.token))
        return f"{self.base}{ROOT}{path}" + (f"?{urlencode(items)}" if items else "")

    def link(self, rel: str, media_type: str, path: str, title: str, **query: str | int) -> dict[str, str]:
        """A link object."""
        return {"rel": rel, "type": media_type, "title": title, "href": self.href(path, query)}

    def pair(self, path: str, title: str, media_type: str = JSON) -> list[dict[str, str]]:
        """``self`` (JSON) and ``alternate`` (HTML) links of a resource."""
        return [
            self.link("self", media_type, path, title, f="json"),
            self.link("alternate", HTML, path, f"{title} (HTML)", f="html"),
        ]


def landing(links: Links, lang: Lang) -> dict[str, Any]:
    """The landing page."""
    return {
        "title": label("service", lang),
        "description": label("service_intro", lang),
        "links": [
            *links.pair("", label("service", lang)),
            {"rel": "service-desc", "type": OPENAPI, "title": label("api", lang), "href": links.href("/api")},
            {
                "rel": "service-doc",
                "type": HTML,
                "title": label("docs", lang),
                "href": f"{links.base}/docs",
            },
            links.link("conformance", JSON, "/conformance", label("conformance", lang), f="json"),
            links.link("data", JSON, "/collections", label("collections", lang), f="json"),
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance classes this API implements."""
    return {"conformsTo": list(CONFORMANCE)}


def collection(layer: VectorLayer, links: Links, lang: Lang) -> dict[str, Any]:
    """The description of one collection (``/collections/{id}`` and an entry of ``/collections``)."""
    path = f"/collections/{layer.id}"
    when, start, end = capture_times(layer)
    first, last = (when, when) if when is not None else (start, end)
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": describe(layer, lang),
        "itemType": "feature",
        "crs": offered_crs(layer),
        "storageCrs": epsg_uri(layer.crs),
        "extent": {
            "temporal": {
                "interval": [[_iso(first), _iso(last)]],
                "trs": GREGORIAN,
            }
        },
        "links": [
            *links.pair(path, layer.title),
            links.link("items", GEOJSON, f"{path}/items", label("items", lang), f="json"),
            links.link("items", HTML, f"{path}/items", f"{label('items', lang)} (HTML)", f="html"),
            links.link(QUERYABLES_REL, SCHEMA, f"{path}/queryables", label("queryables", lang), f="json"),
            links.link("describedby", SCHEMA, f"{path}/schema", layer.title, f="json"),
            {"rel": "related", "type": JSON, "title": "STAC", "href": _root_href(links, layer.stac_item)},
        ],
        "dronegis:kind": layer.kind.value,
        "dronegis:kind_title": kind_name(layer.kind.value, lang),
        "dronegis:flight": layer.flight,
        "dronegis:access": layer.access,
        "dronegis:feature_count": layer.feature_count,
        "dronegis:geometry_type": layer.geometry_type,
        "dronegis:qa_status": layer.qa_status,
        "dronegis:qa_findings": [finding.model_dump() for finding in layer.qa_findings],
        "dronegis:accuracy_evidence": layer.accuracy_evidence,
        "dronegis:freshness": layer.freshness,
        "dronegis:accuracy": layer.accuracy.figures() if layer.accuracy is not None else {},
        "dronegis:capture_time_source": layer.capture_time_source,
        "dronegis:published_at": _iso(layer.published_at),
    }
    if layer.bounds_wgs84 is not None:
        doc["extent"]["spatial"] = {"bbox": [list(layer.bounds_wgs84)], "crs": offered_crs(layer)[0]}
    return doc


def collections(layers: Sequence[VectorLayer], links: Links, lang: Lang) -> dict[str, Any]:
    """``/collections``: every collection the caller may see."""
    return {
        "links": links.pair("/collections", label("collections", lang)),
        "collections": [collection(layer, links, lang) for layer in layers],
    }


def schema(layer: VectorLayer, links: Links, *, queryables: bool) -> dict[str, Any]:
    """JSON Schema of the features' properties: all of them, or only the filterable ones (queryables)."""
    what = "queryables" if queryables else "schema"
    properties: dict[str, Any] = {}
    for info in layer.fields:
        if info.type in FILTERABLE:
            properties[info.name] = {"title": info.name, "type": JSON_TYPES[info.type]}
        elif not queryables:
            properties[info.name] = {
                "title": info.name,
                "type": "string",
                "format": info.type.replace("datetime", "date-time"),
            }
    base = layer.geometry_type.removeprefix("Multi").split(" ")[0]
    geometry = {"format": GEOMETRY_FORMATS.get(base, "geometry-any")}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": links.href(f"/collections/{layer.id}/{what}"),
        "type": "object",
        "title": layer.title,
        "properties": {"geometry": geometry, **properties},
        "additionalProperties": False,
    }


def items_members(
    layer: VectorLayer,
    params: Mapping[str, str],
    page: tuple[int, int, int],
    links: Links,
    lang: Lang,
    timestamp: str,
) -> dict[str, Any]:
    """The members of an items response after its features: links, counts, time stamp.

    ``page`` is (numberMatched, numberReturned, offset); ``params`` are the request's
    parameters, repeated in the paging links with another ``offset``.
    """
    matched, returned, offset = page
    path = f"/collections/{layer.id}/items"
    limit = min(int(params.get("limit", LIMIT_DEFAULT)), LIMIT_MAX)
    query = {k: v for k, v in params.items() if k not in ("offset", "f", "token", "lang")}
    result = [
        links.link("self", GEOJSON, path, label("items", lang), **query, offset=offset, f="json"),
        links.link(
            "alternate", HTML, path, f"{label('items', lang)} (HTML)", **query, offset=offset, f="html"
        ),
        links.link("collection", JSON, f"/collections/{layer.id}", layer.title, f="json"),
    ]
    if offset + returned < matched:
        result.append(
            links.link(
                "next", GEOJSON, path, label("next", lang), **query, offset=offset + returned, f="json"
            )
        )
    if offset > 0:
        back = max(0, offset - limit)
        result.append(links.link("prev", GEOJSON, path, label("prev", lang), **query, offset=back, f="json"))
    return {"numberMatched": matched, "numberReturned": returned, "timeStamp": timestamp, "links": result}


def item_members(layer: VectorLayer, fid: int, links: Links, lang: Lang) -> dict[str, Any]:
    """The links of one feature."""
    path = f"/collections/{layer.id}/items/{fid}"
    return {
        "links": [
            *links.pair(path, f"{label('item', lang)} {fid}", GEOJSON),
            links.link("collection", JSON, f"/collections/{layer.id}", layer.title, f="json"),
        ]
    }


def _root_href(links: Links, relative: str) -> str:
    suffix = f"?token={links.token}" if links.token else ""
    return f"{links.base}/{relative}{suffix}"


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
