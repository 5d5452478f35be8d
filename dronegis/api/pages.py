"""HTML pages: a status page per flight, its QA report, and the map viewer.

- ``GET /`` → the viewer.
- ``GET /viewer``, ``/guide``, ``/search``, ``/basemap.geojson`` — the case handler's map
  (:mod:`dronegis.api.viewer`; OpenLayers bundled from npm into ``static/ol/``; no CDN), and
  ``GET /print.pdf`` (:mod:`dronegis.api.printing`), included in this router.
- ``GET /docs`` — the API documentation: Swagger UI from npm ``swagger-ui-dist`` in
  ``static/swagger-ui/`` (no CDN; works offline).
- ``GET /flights/{id}`` — live status of a flight (server-sent events), products, layers.
- ``GET /flights/{id}/qa`` — the flight's QA report (rendered from ``report.json``).

Pages are Danish; ``?lang=en`` gives English (texts from :mod:`core.i18n`).

The flight pages need a token of any role, as a bearer header or ``?token=`` (browsers).
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from core.i18n import Lang, has, number, section, text
from core.workspace import Workspace
from dronegis.api import printing, viewer
from dronegis.api.flights import files_view
from dronegis.api.jobs import flight_status, plain_error
from dronegis.api.roles import Principal, require_roles, settings_of
from dronegis.api.templates import render, request_lang, url_in
from dronegis.catalog import Catalog
from qa.report import read_report, render_html

router = APIRouter(tags=["pages"])
router.include_router(viewer.router)  # /viewer, /guide, /search, /basemap.geojson
router.include_router(printing.router)  # /print.pdf
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


def _label(lang: Lang, group: str, value: str | None) -> str:
    """A status, stage or QA value in words (``done`` → ``færdig``), or the value itself if unlisted."""
    key = f"{group}.{value}"
    return text(key, lang) if value and has(key) else (value or "-")


@router.get("/flights/{flight}", response_class=HTMLResponse)
def flight_page(flight: str, request: Request, who: Reader) -> HTMLResponse:
    """Live status page of a flight (Danish; ``?lang=en`` for English)."""
    info = flight_status(Catalog(Workspace.at(settings_of(request).workspace).catalog), flight)
    job = info.job
    lang = request_lang(request)
    token = request.query_params.get("token")
    token_q = f"token={quote(token, safe='')}" if token else ""
    labels = {
        "status": section("page.status", lang),
        "stage": section("page.stage", lang),
        "qa": {k: v for k, v in section("qa", lang).items() if "." not in k},
    }
    purpose = info.flight.purpose
    technical = who.role == "gis"
    files = files_view(request, flight, lang, technical=technical)
    options = info.flight.meta.get("options") or {}
    return render(
        request,
        "flight.html",
        flight=flight,
        purpose=text(f"purpose.{purpose}", lang) if has(f"purpose.{purpose}") else purpose,
        flight_status=info.flight.status,
        stage=job.stage if job else "-",
        job_status=job.status.value if job else text("page.no_job", lang),
        done=job.done if job else 0,
        total=max(job.total, 1) if job else 1,
        error=((job.error if technical else plain_error(job.error)) or "") if job else "",
        qa=(job.qa_status if job else None) or "not_run",
        qa_link=f"/flights/{quote(flight)}/qa?lang={lang}" + (f"&{token_q}" if token_q else ""),
        events=f"/api/flights/{quote(flight)}/events" + (f"?{token_q}" if token_q else ""),
        viewer_link=f"/viewer?lang={lang}" + (f"&{token_q}" if token_q else ""),
        products=info.products,
        layers=info.layers,
        files=files,
        conditions={k: number(v, lang, 2) for k, v in (options.get("conditions_measured") or {}).items()},
        thermal={k: number(v, lang, 3) for k, v in (options.get("thermal") or {}).items()},
        label=lambda group, value: _label(lang, group, value),
        labels_json=json.dumps(labels, ensure_ascii=False).replace("</", "<\\/"),
    )


@router.get(
    "/flights/{flight}/qa",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, 404: {"description": "no QA report yet"}},
)
def qa_report(flight: str, request: Request, who: Reader) -> Response:
    """The flight's QA report: rendered from report.json in Danish (``?lang=en``: English).

    A report folder without report.json (written by other tools) is served as its report.html.
    """
    workspace = Workspace.at(settings_of(request).workspace)
    flight_status(Catalog(workspace.catalog), flight)  # 404 for unknown flights
    report_json, report_html = workspace.qa_report_json(flight), workspace.qa_report_html(flight)
    if report_json.is_file():
        report = read_report(report_json)
        images = {
            name: (workspace.qa(flight) / rel).read_bytes()
            for name, rel in report.plots.items()
            if (workspace.qa(flight) / rel).is_file()
        }
        lang = request_lang(request)
        other: Lang = "en" if lang == "da" else "da"
        switch = (url_in(request, other), text("lang.switch", lang))
        return HTMLResponse(render_html(report, images, lang, switch))
    if not report_html.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"flight {flight} has no QA report yet")
    return FileResponse(report_html, media_type="text/html")
