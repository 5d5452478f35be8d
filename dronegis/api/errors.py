"""The handlers that answer errors, with the one error -> status map (:data:`core.errors.HTTP_STATUS`).

OGC endpoints raise :class:`webgis_export.ogc.exceptions.OgcError`, which is answered
with the service's own exception document (WMS ServiceExceptionReport or OWS
ExceptionReport); every other :class:`DroneGisError` becomes a JSON ``detail``.

Every JSON error also carries a message for people from the catalogue
(:mod:`core.i18n`): ``message`` in the language asked for (``?lang=en``; Danish by
default) and ``messages`` in both, e.g. ``{"detail": "no layer 'x'", "message": "Laget
findes ikke …", "messages": {"da": …, "en": …}}``. ``detail`` stays the technical text
(English, naming the object and the value) that API clients and logs rely on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DroneGisError, LayerNotFound, UploadError, UserInputError, http_status
from core.i18n import Entry, accept_language, both
from webgis_export.ogc.exceptions import OgcError

log = logging.getLogger(__name__)

MESSAGE_FOR_STATUS = {
    400: "error.bad_request",
    401: "error.unauthorized",
    403: "error.forbidden",
    404: "error.not_found",
    409: "error.conflict",
    413: "error.too_large",
    422: "error.invalid",
    502: "error.upstream",
    503: "error.unavailable",
}


async def _ogc_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OgcError)
    answer = exc.response()
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)


def people_messages(status: int, detail: str, exc: Exception | None = None) -> Entry:
    """The message for people in Danish and English: the error's own catalogue entry, else by status."""
    if isinstance(exc, UserInputError | UploadError):
        return both(exc.key, **exc.params)
    if isinstance(exc, LayerNotFound):
        return both("error.layer_not_found")
    return both(MESSAGE_FOR_STATUS.get(status, "error.internal"), detail=detail)


def _with_messages(request: Request, body: Mapping[str, object], messages: Entry) -> dict[str, object]:
    # the JSON API (/api/…) also honours Accept-Language; pages and map routes follow ?lang= only
    header = request.headers.get("accept-language") if request.url.path.startswith("/api/") else None
    lang = accept_language(request.query_params.get("lang"), header)
    return {**body, "message": messages[lang], "messages": messages}


async def _dronegis_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DroneGisError)
    status = http_status(exc)
    if status >= 500 and status != 502:
        log.exception("unhandled dronegis error on %s", request.url.path, exc_info=exc)
    body = {"detail": str(exc), "error": type(exc).__name__}
    messages = people_messages(status, str(exc), exc)
    return JSONResponse(_with_messages(request, body, messages), status_code=status)


async def _http_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's answer (``detail``, headers) plus the message for people."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    body = _with_messages(request, {"detail": exc.detail}, people_messages(exc.status_code, detail))
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _validation_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 (the list of errors) plus one sentence for people naming the first field."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
    body = _with_messages(request, {"detail": jsonable_encoder(errors)}, people_messages(422, detail))
    return JSONResponse(body, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Install the handlers once per app (a second call does nothing)."""
    if getattr(app.state, "error_handlers_installed", False):
        return
    app.add_exception_handler(OgcError, _ogc_handler)
    app.add_exception_handler(DroneGisError, _dronegis_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.state.error_handlers_installed = True
