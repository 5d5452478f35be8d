"""Privacy records over HTTP, the access log on every read, and the privacy gate of the layer store.

- ``GET|HEAD /layers/{layer}/thumbnails/{name}`` — a photo thumbnail of a photo-points layer, to
  token holders (or anyone when single frames were made public with a recorded reason).
- ``POST /api/flights/{flight}/erase`` — GIS role (bearer header): erase a flight from everything,
  with a reason; answers the erasure record (who, when, why, what, checksums). A rerun finishes an
  interrupted erasure. 409 under a legal hold or while a job of the flight runs; 404 when unknown.

:func:`install_records` adds the access-log middleware (:class:`dronegis.records.recorder.AccessRecorder`),
the token filter of the server's logs and this router; :func:`publication_gate` is the gate the
layer store asks before serving a layer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from core.errors import ErasureError, LegalHoldError
from core.workspace import Workspace
from dronegis.api.auth import Caller, current_caller
from dronegis.api.roles import Principal, require_api_roles, settings_of
from dronegis.records.access import AccessLog
from dronegis.records.erasure import erase
from dronegis.records.recorder import AccessRecorder, install_log_redaction
from dronegis.settings import Settings
from webgis_export.privacy.apply import PUBLIC_FRAMES
from webgis_export.privacy.gate import PublicationGate

router = APIRouter(tags=["records"])
Gis = Annotated[Principal, Depends(require_api_roles("gis"))]
Who = Annotated[Caller, Depends(current_caller)]


class ErasureRequest(BaseModel):
    """Why a flight is erased."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000, description="the request and its case number")


@router.post(
    "/api/flights/{flight}/erase",
    summary="Erase a flight from everything (GIS role)",
    responses={404: {"description": "no such flight"}, 409: {"description": "legal hold, or a job runs"}},
)
def erase_flight(request: Request, flight: str, body: ErasureRequest, who: Gis) -> dict[str, Any]:
    """Remove the flight from archive, products, QA, publications, catalog and caches; the erasure record."""
    workspace = Workspace.at(settings_of(request).workspace)
    try:
        record = erase(
            workspace, flight, reason=body.reason, by=f"{who.name} ({who.role})", now=datetime.now(UTC)
        )
    except LegalHoldError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ErasureError as exc:
        unknown = "no flight" in str(exc) or "no flight id" in str(exc)
        code = status.HTTP_404_NOT_FOUND if unknown else status.HTTP_409_CONFLICT
        raise HTTPException(code, str(exc)) from None
    return record.model_dump(mode="json")


@router.api_route(
    "/layers/{layer}/thumbnails/{name}",
    methods=["GET", "HEAD"],
    summary="A photo thumbnail of a photo-points layer",
    response_class=FileResponse,
    responses={404: {"description": "no such thumbnail, or not for this caller"}},
)
def thumbnail(request: Request, who: Who, layer: str, name: str) -> FileResponse:
    """A published thumbnail: token holders only, unless single frames were made public with a reason."""
    store = request.app.state.layer_store
    found = store.vectors.get(layer, who.internal)
    folder = (store.workspace.published_layer(found.id) / "thumbnails").resolve()
    target = (folder / name).resolve()
    public = PUBLIC_FRAMES in found.overrides
    if not (who.internal or public) or target.parent != folder or not target.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no thumbnail {name!r} of layer {layer!r}")
    return FileResponse(target, media_type="image/jpeg")


def publication_gate(settings: Settings) -> PublicationGate:
    """The gate of the service's layer store: current privacy zones, erasures under way."""
    return PublicationGate(Workspace.at(settings.workspace), settings.privacy_zones)


def install_records(app: FastAPI, settings: Settings) -> None:
    """The access-log middleware, the token filter of the server's logs, and the erase route."""
    install_log_redaction()
    access = AccessLog(Workspace.at(settings.workspace).access_log)
    app.add_middleware(AccessRecorder, settings=settings, access_log=access)
    app.include_router(router)
