"""One map from dronegis exceptions to HTTP statuses, and the handlers that apply it.

OGC endpoints raise :class:`webgis_export.ogc.exceptions.OgcError`, which is answered
with the service's own exception document (WMS ServiceExceptionReport or OWS
ExceptionReport); every other :class:`DroneGisError` becomes a JSON ``detail``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from core.errors import (
    DroneGisError,
    ExportError,
    IngestError,
    JobError,
    LayerNotFound,
    QAError,
    UsageError,
)
from webgis_export.ogc.exceptions import OgcError

log = logging.getLogger(__name__)

STATUS_CODES: dict[type[DroneGisError], int] = {
    LayerNotFound: 404,
    UsageError: 400,
    IngestError: 422,
    QAError: 422,
    ExportError: 409,
    JobError: 409,
    DroneGisError: 500,
}


def status_for(exc: DroneGisError) -> int:
    """The HTTP status of ``exc``: its most specific class in :data:`STATUS_CODES`."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


async def _ogc_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OgcError)
    answer = exc.response()
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)


async def _dronegis_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DroneGisError)
    status = status_for(exc)
    if status >= 500:
        log.exception("unhandled dronegis error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Install the handlers once per app (a second call does nothing)."""
    if getattr(app.state, "error_handlers_installed", False):
        return
    app.add_exception_handler(OgcError, _ogc_handler)
    app.add_exception_handler(DroneGisError, _dronegis_handler)
    app.state.error_handlers_installed = True
