"""The case handler's map: the viewer page, its offline basemap and its search.

- ``GET /viewer[?lang=en]`` — the OpenLayers viewer (Danish by default), with the texts
  of the message catalogue and the configured basemap and geocoder embedded.
- ``GET /basemap.geojson`` — the offline basemap drawn when no WMTS/WMS basemap is
  configured (or it fails): the municipal boundary (``Settings.municipality``), the postal
  districts shipped with the package and the footprints of the caller's visible layers,
  in CRS84.
- ``GET /search?q=…[&lang=en]`` — coordinates (EPSG:25832 or latitude/longitude, always),
  the caller's layers by title or place, and addresses/place names when a geocoder is
  configured (:mod:`dronegis.geocoder`). A coordinate that cannot be read, or lies outside
  Denmark, is answered with a message in the page language — not an HTTP error.

Internal layers stay invisible without a token: their footprints, titles and search hits
appear only to callers whose token lets them see the layers.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
import shapely
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from pyproj import Transformer
from rasterio.warp import transform_bounds
from shapely.geometry import box

from core.errors import GeocoderError, UserInputError
from core.i18n import Lang, lang_of, section, text
from dronegis import geocoder
from dronegis.api.auth import Caller, current_caller
from dronegis.api.ogc import store_of
from dronegis.api.roles import settings_of
from dronegis.api.templates import render, request_lang
from dronegis.settings import Basemap, Settings
from flights.aoi import load_municipality
from webgis_export.coordsearch import looks_like_coordinate, parse_coordinate
from webgis_export.layer_text import describe_layers
from webgis_export.models import Layer
from webgis_export.places import POSTAL_SOURCE, postal_districts

log = logging.getLogger(__name__)
router = APIRouter(tags=["viewer"])
Who = Annotated[Caller, Depends(current_caller)]
MAX_QUERY = 200
STATIC = Path(__file__).with_name("static")
NPM_BUILD = "run `bash scripts/setup.sh` (or `cd viewer && npm install && npm run build`)"


def basemap_config(basemap: Basemap | None) -> dict[str, Any] | None:
    """What the viewer needs to draw a configured basemap (the token goes with every request)."""
    if basemap is None:
        return None
    return {
        "kind": basemap.kind,
        "url": basemap.url,
        "layer": basemap.layer,
        "matrixSet": basemap.matrix_set,
        "format": basemap.format,
        "token": basemap.token,
        "attribution": basemap.attribution,
        "title": basemap.title,
    }


def viewer_config(settings: Settings, lang: Lang) -> dict[str, Any]:
    """The JSON the viewer script reads: language, its texts, basemap, whether addresses can be searched."""
    return {
        "lang": lang,
        "texts": section("viewer", lang),
        "basemap": basemap_config(settings.basemap),
        "geocoder": settings.geocoder is not None,
        "offlineSource": POSTAL_SOURCE,
    }


@router.get("/viewer", response_class=HTMLResponse, summary="The map viewer (Danish; ?lang=en for English)")
def viewer(request: Request) -> HTMLResponse:
    """The map viewer page."""
    if not (STATIC / "ol" / "ol.js").exists():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the OpenLayers bundle is missing: {NPM_BUILD}"
        )
    settings = settings_of(request)
    config = viewer_config(settings, request_lang(request))
    return render(
        request,
        "viewer.html",
        config_json=json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
        geocoder=settings.geocoder is not None,
    )


@router.get("/guide", response_class=HTMLResponse, summary="Guide for case handlers (Danish; ?lang=en)")
def guide(request: Request) -> HTMLResponse:
    """How to read thermal maps, orthophoto accuracy, freshness, heights, volumes and vegetation indices."""
    lang = request_lang(request)
    token = request.query_params.get("token")
    back = f"/viewer?lang={lang}" + (f"&token={quote(token, safe='')}" if token else "")
    return render(request, "guide.html", viewer_url=back)


@lru_cache(maxsize=4)
def _municipality_geojson(path: str, code: str) -> dict[str, Any]:
    area = load_municipality(Path(path), code)
    return json.loads(shapely.to_geojson(area))  # type: ignore[no-any-return]


@router.get("/basemap.geojson", summary="Offline basemap: municipality, postal districts, layer footprints")
def basemap(request: Request, who: Who, lang: str | None = None) -> JSONResponse:
    """The offline basemap's features in CRS84 (footprints of the caller's visible layers only)."""
    settings = settings_of(request)
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {"kind": "municipality"},
            "geometry": _municipality_geojson(str(settings.municipality), settings.municipality_code),
        }
    ]
    for district in postal_districts():
        geometry = json.loads(shapely.to_geojson(district.geometry))
        props = {"kind": "district", "name": district.label}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    visible = store_of(request).visible(who.internal)
    titles = describe_layers(visible, lang_of(lang), datetime.now(UTC))
    for layer in visible:
        props = {"kind": "footprint", "layer": layer.id, "title": titles[layer.id].title}
        features.append({"type": "Feature", "properties": props, "geometry": _footprint(layer)})
    return JSONResponse({"type": "FeatureCollection", "features": features})


def _footprint(layer: Layer) -> dict[str, Any]:
    """The layer's bounds in its own CRS, densified and carried to CRS84 (its true outline)."""
    to_wgs84 = Transformer.from_crs(layer.crs, "EPSG:4326", always_xy=True)
    outline = shapely.segmentize(box(*layer.bounds), max(layer.bounds[2] - layer.bounds[0], 1.0) / 16)
    moved = shapely.transform(outline, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))
    return json.loads(shapely.to_geojson(moved))  # type: ignore[no-any-return]


def _layer_hits(request: Request, who: Caller, query: str, lang: Lang) -> list[dict[str, Any]]:
    """Visible layers whose title, place or id contains every word of ``query``."""
    visible = store_of(request).visible(who.internal)
    texts = describe_layers(visible, lang, datetime.now(UTC))
    words = query.lower().split()
    hits = []
    for layer in visible:
        shown = texts[layer.id]
        haystack = " ".join([shown.title, shown.place or "", shown.kind, layer.id, layer.flight]).lower()
        if words and all(word in haystack for word in words):
            minx, miny, maxx, maxy = _to_25832(layer)
            hits.append(
                {
                    "kind": "layer",
                    "kindLabel": text("search.layer", lang),
                    "label": shown.title,
                    "layer": layer.id,
                    "east": (minx + maxx) / 2,
                    "north": (miny + maxy) / 2,
                    "bbox": [minx, miny, maxx, maxy],
                }
            )
    return hits


def _to_25832(layer: Layer) -> tuple[float, float, float, float]:
    """The layer's bounds in EPSG:25832."""
    if layer.crs == "EPSG:25832":
        return layer.bounds
    return tuple(transform_bounds(layer.crs, "EPSG:25832", *layer.bounds))


@router.get("/search", summary="Search coordinates, layers, and addresses/places (with a geocoder)")
def search(
    request: Request,
    who: Who,
    q: Annotated[str, Query(description="what the person typed")] = "",
    lang: str | None = None,
) -> dict[str, Any]:
    """Hits (``kind``: coordinate, layer, address, place; points in EPSG:25832) and messages for people."""
    language = lang_of(lang)
    query = q.strip()
    messages: list[str] = []
    if not query:
        return {"query": q, "results": [], "messages": [text("search.empty", language)]}
    if len(query) > MAX_QUERY:
        raise UserInputError(
            text("search.too_long", "en", n=len(query), max=MAX_QUERY),
            key="search.too_long",
            params={"n": len(query), "max": MAX_QUERY},
        )
    results: list[dict[str, Any]] = []
    if looks_like_coordinate(query):
        try:
            point = parse_coordinate(query)
        except UserInputError as exc:
            messages.append(text(exc.key, language, **exc.params))
        else:
            results.append(
                {
                    "kind": "coordinate",
                    "kindLabel": text("search.coordinate", language),
                    "label": point.label(language),
                    "east": point.east,
                    "north": point.north,
                }
            )
    else:
        results.extend(_layer_hits(request, who, query, language))
    config = settings_of(request).geocoder
    if config is not None and not looks_like_coordinate(query):
        try:
            for place in geocoder.search(config, query):
                results.append(
                    {
                        "kind": place.kind,
                        "kindLabel": text(f"search.{place.kind}", language),
                        "label": place.label,
                        "detail": place.detail,
                        "east": place.east,
                        "north": place.north,
                    }
                )
        except GeocoderError as exc:
            log.warning("address search failed: %s", exc)
            messages.append(text("search.geocoder_failed", language))
    elif config is None and not looks_like_coordinate(query) and not results:
        messages.append(text("viewer.search_no_geocoder", language))
    if not results and not messages:
        messages.append(text("viewer.search_none", language, q=query))
    return {"query": q, "results": results, "messages": messages}
