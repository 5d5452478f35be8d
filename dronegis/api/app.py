"""The FastAPI application: ``create_app(settings)`` composes the routers (nothing is built at import)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from core.workspace import Workspace
from dronegis import __version__
from dronegis.api import cards, features, jobs, ogc, pages, uploads
from dronegis.api.caching import PrivateWhenAuthorized
from dronegis.api.errors import install_error_handlers
from dronegis.api.openapi import install_openapi
from dronegis.api.records import install_records, publication_gate
from dronegis.service import install_job_service
from dronegis.settings import Settings
from webgis_export.ogc.lanes import RenderLanes
from webgis_export.render import configure_gdal
from webgis_export.service import LayerStore


def create_app(settings: Settings | None = None) -> FastAPI:
    """The dronegis service for ``settings`` (default: from the environment)."""
    settings = settings or Settings()
    app = FastAPI(
        title="dronegis",
        version=__version__,
        description="Uploads, jobs, QA pages, map viewer, WMS 1.3.0 and WMTS 1.0.0 of dronegis.",
        docs_url=None,  # /docs is served from the local Swagger UI copy (pages.api_docs), not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    install_ogc(app, settings)
    app.include_router(uploads.router)
    app.include_router(jobs.router)
    app.include_router(pages.router)
    app.mount("/static", pages.static_files(), name="static")
    install_openapi(app)
    install_job_service(app, settings)
    return app


def install_ogc(app: FastAPI, settings: Settings) -> None:
    """Error handlers, the layer store and the OGC/map routes (WMS, WMTS, tiles, layers, STAC,
    OGC API – Features, WFS), with private caching for token holders."""
    install_error_handlers(app)
    app.state.layer_store = _layer_store(settings)
    install_render_lanes(app, settings)
    app.include_router(ogc.router)
    app.include_router(features.router)
    app.include_router(cards.router)
    app.add_middleware(PrivateWhenAuthorized)
    install_records(app, settings)


def _layer_store(settings: Settings) -> LayerStore:
    """The published layers of the workspace, with GDAL set up for serving tiles."""
    configure_gdal()
    return LayerStore(Workspace.at(settings.workspace), publication_gate(settings))


def install_render_lanes(app: FastAPI, settings: Settings) -> None:
    """The render lanes of the map routes (:mod:`webgis_export.ogc.lanes`), stopped on shutdown."""
    limits = settings.server
    lanes = RenderLanes(limits.render_threads or None, limits.bulk_threads)
    app.state.render_lanes = lanes
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        try:
            async with inner(application) as state:
                yield state
        finally:
            lanes.close()

    app.router.lifespan_context = lifespan
