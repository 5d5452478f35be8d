"""HTML pages: a status page per flight, its QA report, and the map viewer.

- ``GET /`` → the viewer.
- ``GET /viewer`` — the OpenLayers map viewer (bundled from npm into ``static/ol/``; no CDN).
- ``GET /docs`` — the API documentation: Swagger UI from npm ``swagger-ui-dist`` in
  ``static/swagger-ui/`` (no CDN; works offline).
- ``GET /flights/{id}`` — live status of a flight (server-sent events), products, layers.
- ``GET /flights/{id}/qa`` — the flight's QA report (``Workspace.qa(flight)/report.html``).

The flight pages need a token of any role, as a bearer header or ``?token=`` (browsers).
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from core.workspace import Workspace
from dronegis.api.jobs import flight_status
from dronegis.api.roles import Principal, require_roles, settings_of
from pipeline.catalog import Catalog

router = APIRouter(tags=["pages"])
Reader = Annotated[Principal, Depends(require_roles("pilot", "gis", "viewer"))]
STATIC = Path(str(files("dronegis.api"))) / "static"
NPM_BUILD = "run `bash scripts/setup.sh` (or `cd viewer && npm install && npm run build`)"


def static_files() -> StaticFiles:
    """The static folder (viewer JS/CSS and the OpenLayers bundle), mounted at ``/static``."""
    return StaticFiles(directory=STATIC, check_dir=False)


@router.get("/", include_in_schema=False)
def index() -> RedirectResponse:
    """The viewer is the front page."""
    return RedirectResponse("/viewer")


@router.get("/viewer", response_class=HTMLResponse)
def viewer() -> HTMLResponse:
    """The map viewer page."""
    page = STATIC / "viewer.html"
    if not (STATIC / "ol" / "ol.js").exists():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the OpenLayers bundle is missing: {NPM_BUILD}"
        )
    return HTMLResponse(page.read_text(encoding="utf-8"))


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, entirely from this server (works without internet)."""
    if not (STATIC / "swagger-ui" / "swagger-ui-bundle.js").exists():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"Swagger UI is missing: {NPM_BUILD}")
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} — API",
        swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )


_STATUS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flight {flight}</title>
<link rel="stylesheet" href="/static/status.css"></head>
<body data-flight="{flight}" data-events="{events}">
<h1>Flight {flight}</h1>
<p>Purpose: <b>{purpose}</b> · flight status: <b id="flight-status">{fstatus}</b></p>
<section id="job"><h2>Job</h2>
<p>Stage <b id="stage">{stage}</b> · <b id="status">{jstatus}</b>
<progress id="progress" max="{total}" value="{done}"></progress> <span id="count">{done}/{total}</span></p>
<p id="error" class="error">{error}</p></section>
<section><h2>QA</h2><p>QA status: <b id="qa">{qa}</b> · <a href="{qa_link}">QA report</a></p></section>
<section><h2>Products</h2><ul>{products}</ul></section>
<section><h2>Layers</h2><ul>{layers}</ul><p><a href="/viewer{token_q}">Open the map viewer</a></p></section>
<script src="/static/status.js"></script>
</body></html>
"""


@router.get("/flights/{flight}", response_class=HTMLResponse)
def flight_page(flight: str, request: Request, who: Reader) -> HTMLResponse:
    """Live status page of a flight."""
    info = flight_status(Catalog(Workspace.at(settings_of(request).workspace).catalog), flight)
    job = info.job
    token = request.query_params.get("token")
    token_q = html.escape(f"?token={quote(token, safe='')}") if token else ""
    esc = html.escape
    page = _STATUS_PAGE.format(
        flight=esc(flight),
        purpose=esc(info.flight.purpose),
        fstatus=esc(info.flight.status),
        stage=esc(job.stage if job else "-"),
        jstatus=esc(job.status.value if job else "no job"),
        done=job.done if job else 0,
        total=max(job.total, 1) if job else 1,
        error=esc(job.error or "") if job else "",
        qa=esc((job.qa_status if job else None) or "not run"),
        qa_link=esc(f"/flights/{flight}/qa") + token_q,
        events=esc(f"/api/flights/{flight}/events") + token_q,
        token_q=token_q,
        products="".join(f"<li>{esc(str(p['id']))} ({esc(str(p['kind']))})</li>" for p in info.products)
        or "<li>none yet</li>",
        layers="".join(
            f"<li>{esc(str(layer.get('id')))}: {esc(str(layer.get('title', '')))}</li>"
            for layer in info.layers
        )
        or "<li>none yet</li>",
    )
    return HTMLResponse(page)


@router.get(
    "/flights/{flight}/qa",
    response_class=FileResponse,
    responses={200: {"content": {"text/html": {}}}, 404: {"description": "no QA report yet"}},
)
def qa_report(flight: str, request: Request, who: Reader) -> FileResponse:
    """The flight's QA report (HTML written by the qa stage)."""
    workspace = Workspace.at(settings_of(request).workspace)
    flight_status(Catalog(workspace.catalog), flight)  # 404 for unknown flights
    report = workspace.qa_report_html(flight)
    if not report.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"flight {flight} has no QA report yet")
    return FileResponse(report, media_type="text/html")
