"""Pilot uploads over HTTP: create a flight, stream files (multipart, resumable PUT, or one zip), finish.

Endpoints (pilot or gis role):

- ``POST /api/flights`` — create a flight (id, purpose, title).
- ``POST /api/flights/{id}/files`` — multipart/form-data, one or many files, streamed to disk.
- ``PUT /api/flights/{id}/files/{path}`` — one file as the raw body; with ``Content-Range: bytes a-b/n``
  a big file goes up in pieces, and an interrupted upload continues from the stored offset.
- ``HEAD``/``GET /api/flights/{id}/files/{path}`` — the stored offset (``Upload-Offset`` header).
- ``POST /api/flights/{id}/zip`` — one zip as the raw body, streamed, checked, then extracted.
- ``POST /api/flights/{id}/finish`` — queue the ingest job.

Bodies are parsed while they arrive (python-multipart's streaming parser), never
buffered whole in memory; the flight's byte limit (``Settings.max_upload_bytes``) is
enforced as bytes arrive.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from core.errors import JobError, UploadConflict, UploadError, UploadTooLarge
from core.workspace import Workspace
from dronegis.api.flight_time import CAPTURED_HELP, time_options
from dronegis.api.roles import Principal, require_roles, runner_of, settings_of
from dronegis.upload_store import PartWriter, UploadArea, check_flight_id, extract_zip
from flights.models import HeightDatums, HeightDeclaration, Purpose
from pipeline.catalog import Catalog, JobStatus

router = APIRouter(prefix="/api/flights", tags=["uploads"])
Uploader = Annotated[Principal, Depends(require_roles("pilot", "gis"))]
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class FlightThermal(BaseModel):
    """Thermal measurement parameters of a flight (pipeline.thermal.ThermalOverrides); unset: the file's."""

    model_config = ConfigDict(extra="forbid")

    emissivity: float | None = Field(None, gt=0.0, le=1.0, description="emissivity (0–1]")
    reflected_temp_c: float | None = Field(None, gt=-273.15, description="reflected apparent temperature, °C")
    relative_humidity_pct: float | None = Field(None, ge=0.0, le=100.0, description="relative humidity, %")
    atmospheric_temp_c: float | None = Field(None, gt=-273.15, description="air temperature, °C")
    object_distance_m: float | None = Field(
        None, ge=0.0, description="object distance for every frame, m (default: each frame's height)"
    )


class FlightCreate(BaseModel):
    """A new flight."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="flight id; generated when absent"
    )
    purpose: Purpose = Purpose.OTHER
    title: str = Field("", max_length=200)
    access: Literal["public", "internal"] = Field("internal", description="access of the published layers")
    target_crs: str | None = Field(
        None, max_length=64, pattern=r"^EPSG:\d{4,6}$", description="CRS of the products (default EPSG:25832)"
    )
    pyramids: bool = Field(
        True, description="render static tile pyramids when publishing (else tiles come from the COG)"
    )
    thermal: FlightThermal | None = Field(
        None, description="thermal measurement parameters replacing the images' values (thermal frames)"
    )
    camera_timezone: str | None = Field(
        None,
        max_length=64,
        description="IANA zone of camera clocks for times stored without offset (default: the settings')",
    )
    captured: str | None = Field(None, max_length=40, description=CAPTURED_HELP)
    height_datum: HeightDeclaration | HeightDatums | None = Field(None, description=HeightDatums.__doc__)


class FlightCreated(BaseModel):
    """The created flight and where to upload."""

    id: str
    purpose: Purpose
    status: str
    files_url: str
    finish_url: str


class UploadStateOut(BaseModel):
    """How far one file's upload got."""

    path: str
    offset: int
    complete: bool
    total: int | None = None


class FilesOut(BaseModel):
    """Files stored by one request, and everything the flight has so far."""

    stored: list[str]
    files: list[str]
    bytes: int


class FinishOut(BaseModel):
    """The queued ingest job."""

    flight: str
    job: int
    status: str
    files: int


def _status_for(exc: Exception) -> int:
    if isinstance(exc, UploadTooLarge):
        return status.HTTP_413_CONTENT_TOO_LARGE
    if isinstance(exc, UploadConflict | JobError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def _area(request: Request, flight: str, *, write: bool = False) -> UploadArea:
    """The flight's upload area (404 for unknown flights; 409 for writes while its job runs)."""
    settings = settings_of(request)
    catalog = Catalog(Workspace.at(settings.workspace).catalog)
    try:
        check_flight_id(flight)
        catalog.flight(flight)
    except (UploadError, KeyError) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no flight {flight!r}") from exc
    if write and catalog.jobs(flight, statuses=[JobStatus.QUEUED, JobStatus.RUNNING]):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"flight {flight} is being processed; upload after its job stops"
        )
    return UploadArea(Workspace.at(settings.workspace), flight, settings.max_upload_bytes)


def _flight_options(body: FlightCreate) -> dict[str, Any]:
    """Stage options chosen when the flight was created (checked here, used by the job runner)."""
    options: dict[str, Any] = {"access": body.access, "title": body.title, "pyramids": body.pyramids}
    thermal = body.thermal.model_dump(exclude_none=True) if body.thermal is not None else {}
    if thermal:
        options["thermal"] = thermal  # pipeline.thermal.ThermalOverrides fields, for the process stage
    if body.height_datum is not None:  # for ingest (the flight stores it for process)
        options["height_datum"] = HeightDatums.of(body.height_datum).model_dump(exclude_none=True)
    options.update(time_options(body.camera_timezone, body.captured))
    if body.target_crs:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(body.target_crs)
        except CRSError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown CRS {body.target_crs!r}"
            ) from exc
        options["target_crs"] = body.target_crs
    return options


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FlightCreated)
def create_flight(body: FlightCreate, request: Request, who: Uploader) -> FlightCreated:
    """Create a flight to upload into."""
    flight = body.id or f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
    catalog = Catalog(Workspace.at(settings_of(request).workspace).catalog)
    try:
        catalog.flight(flight)
    except KeyError:
        pass
    else:
        raise HTTPException(status.HTTP_409_CONFLICT, f"flight {flight!r} exists")
    catalog.upsert_flight(
        flight,
        purpose=body.purpose.value,
        status="uploading",
        meta={
            "title": body.title,
            "created_by": who.name,
            "options": _flight_options(body),
        },
    )
    base = f"/api/flights/{flight}"
    return FlightCreated(
        id=flight,
        purpose=body.purpose,
        status="uploading",
        files_url=f"{base}/files",
        finish_url=f"{base}/finish",
    )


class _MultipartSink:
    """python-multipart callbacks that stream each file part into the upload area."""

    def __init__(self, area: UploadArea) -> None:
        self.area = area
        self.stored: list[str] = []
        self.writer: PartWriter | None = None
        self._field, self._value = b"", b""
        self._headers: dict[bytes, bytes] = {}
        self.error: Exception | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._hfield,
            "on_header_value": self._hvalue,
            "on_header_end": self._hend,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self.writer = {}, None

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _hend(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        filename = params.get(b"filename")
        if filename is not None:
            self.writer = self.area.open_part(filename.decode("utf-8", "replace"), start=0, total=None)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.writer is not None:
            self.writer.write(data[start:end])

    def _end(self) -> None:
        if self.writer is not None:
            self.stored.append(self.writer.close(complete=True).path)
            self.writer = None


@router.post("/{flight}/files", response_model=FilesOut)
async def upload_files(flight: str, request: Request, who: Uploader) -> FilesOut:
    """Store the files of a multipart/form-data body (any field name; the part's filename is the path)."""
    area = _area(request, flight, write=True)
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "expected multipart/form-data with a boundary"
        )
    sink = _MultipartSink(area)
    parser = MultipartParser(boundary, sink.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (UploadError, ValueError) as exc:
        if sink.writer is not None:
            sink.writer.discard()
        raise HTTPException(_status_for(exc), str(exc)) from exc
    except ClientDisconnect:
        if sink.writer is not None:
            sink.writer.discard()
        return Response(status_code=status.HTTP_400_BAD_REQUEST)  # type: ignore[return-value]
    if sink.writer is not None:
        sink.writer.discard()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "multipart body ended inside a file part")
    return FilesOut(stored=sink.stored, files=area.completed(), bytes=area.used_bytes())


def _parse_range(header: str | None) -> tuple[int, int | None, int | None]:
    """(start, end, total) from ``Content-Range: bytes a-b/n``; (0, None, None) without one."""
    if header is None:
        return 0, None, None
    match = _RANGE.match(header.strip())
    if not match:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Content-Range {header!r} is not 'bytes a-b/n'")
    start, end, total = (int(g) for g in match.groups())
    if end < start or end >= total:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Content-Range {header!r} is inconsistent")
    return start, end, total


@router.put(
    "/{flight}/files/{path:path}",
    response_model=UploadStateOut,
    responses={409: {"description": "resume offset differs (see Upload-Offset)"}},
)
async def put_file(
    flight: str, path: str, request: Request, response: Response, who: Uploader
) -> UploadStateOut:
    """Store one file from the raw body, whole or as the ``Content-Range`` piece of a resumable upload."""
    area = _area(request, flight, write=True)
    start, end, total = _parse_range(request.headers.get("content-range"))
    try:
        writer = area.open_part(path, start=start, total=total)
    except UploadError as exc:
        headers = {}
        if isinstance(exc, UploadConflict):
            headers["Upload-Offset"] = str(area.state(path).offset)
        raise HTTPException(_status_for(exc), str(exc), headers=headers) from exc
    try:
        async for chunk in request.stream():
            writer.write(chunk)
    except UploadError as exc:
        writer.discard()
        raise HTTPException(_status_for(exc), str(exc)) from exc
    except ClientDisconnect:
        writer.close(complete=False)  # keep what arrived: the client resumes from here
        return Response(status_code=status.HTTP_400_BAD_REQUEST)  # type: ignore[return-value]
    expected_end = end + 1 if end is not None else None
    if expected_end is not None and writer.offset != expected_end:
        writer.close(complete=False)
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"{path}: body ended at byte {writer.offset}, Content-Range said {expected_end}",
        )
    complete = total is None or writer.offset == total
    try:
        state = writer.close(complete=complete)
    except UploadError as exc:
        raise HTTPException(_status_for(exc), str(exc)) from exc
    response.headers["Upload-Offset"] = str(state.offset)
    response.status_code = status.HTTP_201_CREATED if complete else status.HTTP_200_OK
    return UploadStateOut(path=state.path, offset=state.offset, complete=state.complete, total=state.total)


@router.api_route("/{flight}/files/{path:path}", methods=["GET", "HEAD"], response_model=UploadStateOut)
def upload_state(
    flight: str, path: str, request: Request, response: Response, who: Uploader
) -> UploadStateOut:
    """The stored offset of a file's upload (``Upload-Offset`` header); resume from there."""
    area = _area(request, flight)
    try:
        state = area.state(path)
    except UploadError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    response.headers["Upload-Offset"] = str(state.offset)
    return UploadStateOut(path=state.path, offset=state.offset, complete=state.complete, total=state.total)


@router.post("/{flight}/zip", response_model=FilesOut)
async def upload_zip(flight: str, request: Request, who: Uploader) -> FilesOut:
    """Store one zip from the raw body (streamed to a temporary file), check it, and extract it."""
    area = _area(request, flight, write=True)
    area.files.mkdir(parents=True, exist_ok=True)
    room = area.limit - area.used_bytes()
    with tempfile.NamedTemporaryFile(dir=area.files.parent, prefix=".zip-", suffix=".zip") as tmp:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > room:
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    f"zip for flight {flight} exceeds the upload limit of {area.limit} bytes",
                )
            tmp.write(chunk)
        tmp.flush()
        try:
            stored = extract_zip(Path(tmp.name), area.files, max_total=room - size)
        except UploadError as exc:
            raise HTTPException(_status_for(exc), str(exc)) from exc
    return FilesOut(stored=stored, files=area.completed(), bytes=area.used_bytes())


@router.post("/{flight}/finish", status_code=status.HTTP_202_ACCEPTED, response_model=FinishOut)
def finish(flight: str, request: Request, who: Uploader) -> FinishOut:
    """Close the upload and queue the ingest job (pending partial uploads refuse it)."""
    area = _area(request, flight)
    if area.pending():
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"flight {flight}: unfinished uploads {', '.join(area.pending()[:10])}"
        )
    files = area.completed()
    if not files:
        raise HTTPException(status.HTTP_409_CONFLICT, f"flight {flight}: nothing was uploaded")
    try:
        job = runner_of(request).submit(flight, from_stage="ingest", source=area.files)
    except JobError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return FinishOut(flight=flight, job=job.id, status=job.status.value, files=len(files))
