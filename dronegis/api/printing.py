"""``GET /print.pdf`` — one layer on an A4 sheet for a case file (Danish unless ``lang=en``).

``/print.pdf?layer=ID&bbox=minx,miny,maxx,maxy&crs=EPSG:25832[&title=][&lang=][&orientation=]``:
the map is drawn at the first round scale that holds the box (:mod:`webgis_export.print_map`),
by the service's own WMS GetMap, over the municipal boundary; the sheet carries the title
(given, else the layer's title for people), scale, scale bar, north arrow, legend, date flown,
accuracy, height datum, QA status with reasons, approval, freshness, source and print date
(:mod:`webgis_export.print_pdf`). An internal layer prints only with a token (404 otherwise,
as everywhere else).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pyproj import Transformer

from dronegis.api.auth import Caller, current_caller
from dronegis.api.ogc import store_of
from dronegis.api.roles import settings_of
from flights.aoi import load_municipality
from webgis_export.layer_text import describe_layers
from webgis_export.legend import people_legend_png
from webgis_export.print_map import map_png, parse_request, sheet
from webgis_export.print_pdf import PrintContent, frame_mm, render_pdf

router = APIRouter(tags=["viewer"])
Who = Annotated[Caller, Depends(current_caller)]


@lru_cache(maxsize=4)
def boundary_25832(path: str, code: str) -> bytes:
    """The municipality's boundary in EPSG:25832 (WKB), for the print's background."""
    area = load_municipality(Path(path), code)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    projected = shapely.transform(area, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
    return bytes(shapely.to_wkb(projected))


@router.get(
    "/print.pdf",
    summary="A4 PDF of a layer at a stated scale, for case files",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 400: {"description": "bad box, CRS or title"}},
)
def print_pdf(
    request: Request,
    who: Who,
    layer: Annotated[str, Query(description="layer id")],
    bbox: Annotated[str, Query(description="minx,miny,maxx,maxy in crs")],
    crs: Annotated[str, Query(description="EPSG:25832 or EPSG:3857")] = "EPSG:25832",
    title: Annotated[str | None, Query(description="title on the sheet (default: the layer's)")] = None,
    lang: Annotated[str | None, Query(description="da (default) or en")] = None,
    orientation: Annotated[str | None, Query(description="portrait (default) or landscape")] = None,
) -> Response:
    """The PDF (``Content-Disposition: attachment``)."""
    asked = parse_request(layer, bbox, crs, title, lang, orientation)
    store = store_of(request)
    found = store.get(asked.layer, who.internal)
    now = datetime.now(UTC)
    shown = describe_layers(store.visible(who.internal), asked.lang, now)[found.id]
    map_sheet = sheet(asked.bbox, frame_mm(asked.orientation), asked.dpi)
    settings = settings_of(request)
    content = PrintContent(
        layer=found,
        shown=shown,
        title=asked.title or shown.title,
        lang=asked.lang,
        orientation=asked.orientation,
        printed=now,
        map_sheet=map_sheet,
        legend_png=people_legend_png(found, asked.lang),
        boundary_wkb=boundary_25832(str(settings.municipality), settings.municipality_code),
    )
    pdf = render_pdf(content, map_png(store, found, map_sheet, internal=who.internal))
    name = quote(f"{found.id}-{now:%Y%m%d}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
