"""The flight as the pilot drives it over HTTP: create, change, see every file, remove a file, finish.

Endpoints (JSON API, bearer token only; texts in Danish, ``?lang=en`` or ``Accept-Language: en`` for English):

- ``POST /api/flights`` — create a flight (purpose by identifier or Danish name, conditions, thermal
  parameters, …).
- ``GET /api/flights/{id}`` — the flight: jobs, products, layers, every delivered file with its kind,
  status, problems and next step, the flight's conditions and warnings.
- ``PATCH /api/flights/{id}`` — change title, site, access, purpose, conditions or thermal parameters.
- ``GET /api/flights/{id}/files`` — every delivered file (uploading, uploaded, archived, quarantined,
  not processed) with the same problem codes as ``dronegis ingest``.
- ``DELETE /api/flights/{id}/files/{path}`` — remove a file (and its open uploads) before finish.
- ``POST /api/flights/{id}/finish`` — queue the ingest job. Refused on a published flight unless
  ``?new_version=true`` makes a new version of it explicitly; a flight whose files duplicate another
  flight's is accepted with a warning naming it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pyproj import CRS
from pyproj.exceptions import CRSError

from core.atomic import atomic_write_text
from core.errors import UploadConflict, UploadNotFound, UsageError
from core.i18n import Lang, accept_language, size, text
from core.workspace import Workspace
from dronegis.api.flight_models import (
    FilesView,
    FinishOut,
    FlightConditions,
    FlightCreate,
    FlightCreated,
    FlightThermal,
    FlightUpdate,
    FlightView,
)
from dronegis.api.flight_time import time_options
from dronegis.api.jobs import flight_status, plain_error, plain_record
from dronegis.api.roles import Principal, require_api_roles, runner_of, settings_of
from dronegis.catalog import Catalog, FlightRecord, JobStatus
from dronegis.flight_files import (
    duplicate_notices,
    file_report,
    flight_problems,
    other_flights_by_hash,
)
from dronegis.upload_check import CheckSettings, first_look
from dronegis.upload_cleanup import drop_orphans
from dronegis.upload_cleanup import remove_file as remove_upload
from dronegis.upload_names import check_flight_id
from dronegis.upload_store import UploadArea
from flights.ingest import load_flight
from flights.models import Flight, HeightDatums, Purpose

router = APIRouter(prefix="/api/flights", tags=["flights"])
Uploader = Annotated[Principal, Depends(require_api_roles("pilot", "gis"))]
Reader = Annotated[Principal, Depends(require_api_roles("pilot", "gis", "viewer"))]
RUNNING = [JobStatus.QUEUED, JobStatus.RUNNING]


def api_lang(request: Request) -> Lang:
    """The language of a JSON answer: ``?lang=``, else ``Accept-Language``, else Danish."""
    return accept_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def content_length(request: Request) -> int | None:
    """The request's declared body length (None when not declared, e.g. chunked)."""
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


def catalog_of(request: Request) -> Catalog:
    """The catalog of the app's workspace."""
    return Catalog(Workspace.at(settings_of(request).workspace).catalog)


def flight_record(catalog: Catalog, flight: str) -> FlightRecord:
    """The flight (:class:`UploadNotFound`, answered 404, when it does not exist)."""
    try:
        check_flight_id(flight)
        return catalog.flight(flight)
    except KeyError as exc:
        raise UploadNotFound(
            f"no flight {flight!r}", key="flight.not_found", params={"flight": flight}
        ) from exc


def area_of(request: Request, flight: str, *, write: bool = False) -> UploadArea:
    """The flight's upload area (404 for unknown flights; 409 for writes while its job runs).

    Every file stored through it gets a first look (:func:`dronegis.upload_check.first_look`)
    with the flight's purpose and camera zone, so its problems show before finish.
    """
    catalog = catalog_of(request)
    record = flight_record(catalog, flight)
    if write and catalog.jobs(flight, statuses=RUNNING):
        raise UploadConflict(
            f"flight {flight} is being processed; upload after its job stops",
            key="upload.job_running",
            params={"flight": flight},
        )
    settings = settings_of(request)
    options = record.meta.get("options") or {}
    look = CheckSettings(
        purpose=Purpose(record.purpose),
        now=datetime.now(UTC),
        camera_timezone=str(options.get("camera_timezone") or settings.camera_timezone),
        municipality=settings.municipality,
        municipality_code=settings.municipality_code,
    )
    checker = functools.partial(first_look, settings=look)
    return UploadArea(Workspace.at(settings.workspace), flight, settings.max_upload_bytes, checker)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FlightCreated)
def create_flight(body: FlightCreate, request: Request, who: Uploader) -> FlightCreated:
    """Create a flight to upload into (conditions and thermal parameters may be given now or later)."""
    flight = body.id or f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
    catalog = catalog_of(request)
    known = [r.id for r in catalog.flights()] + Workspace.at(settings_of(request).workspace).flights()
    same = next((f for f in known if f.lower() == flight.lower()), None)  # ids are case-insensitive
    if same is not None:
        raise UploadConflict(f"flight {same!r} exists", key="flight.exists", params={"flight": same})
    options = _with_conditions_file(request, flight, _flight_options(body))
    catalog.upsert_flight(
        flight,
        purpose=body.purpose.value,
        status="uploading",
        meta={"title": body.title, "created_by": who.name, "version": 1, "options": options},
    )
    base = f"/api/flights/{flight}"
    return FlightCreated(
        id=flight,
        purpose=body.purpose,
        status="uploading",
        files_url=f"{base}/files",
        finish_url=f"{base}/finish",
        flight_url=base,
    )


def _with_conditions_file(request: Request, flight: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the QA stage's conditions file written from ``conditions_measured``.

    The QA stage reads the file named by the ``conditions`` option, as ``dronegis qa --conditions``
    does: the logged values become its ``[measured]`` table (JSON), so they reach the thermography
    gate by the same path as the CLI's. Without logged values the file and the option go.
    """
    path = Workspace.at(settings_of(request).workspace).qa_conditions(flight)
    measured = options.get("conditions_measured")
    if not measured:
        path.unlink(missing_ok=True)
        return {k: v for k, v in options.items() if k != "conditions"}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"measured": measured}, indent=1))
    return {**options, "conditions": str(path)}


def _flight_options(body: FlightCreate) -> dict[str, Any]:
    """Stage options chosen when the flight was created (checked here, used by the job runner)."""
    options: dict[str, Any] = {"access": body.access, "title": body.title, "pyramids": body.pyramids}
    if body.site.strip():
        options["site"] = body.site.strip()
    thermal = body.thermal.model_dump(exclude_none=True) if body.thermal is not None else {}
    if thermal:
        options["thermal"] = thermal  # pipeline.models.ThermalOverrides fields, for the process stage
    conditions = body.conditions.model_dump(exclude_none=True) if body.conditions is not None else {}
    if conditions:
        options["conditions_measured"] = conditions  # qa.conditions.Measured, for the QA stage
    if body.height_datum is not None:  # for ingest (the flight stores it for process)
        options["height_datum"] = HeightDatums.of(body.height_datum).model_dump(exclude_none=True)
    options.update(time_options(body.camera_timezone, body.captured))
    if body.target_crs:
        try:
            CRS.from_user_input(body.target_crs)
        except CRSError as exc:
            raise UsageError(f"unknown CRS {body.target_crs!r}") from exc
        options["target_crs"] = body.target_crs
    return options


@router.get("/{flight}", response_model=FlightView)
def get_flight(flight: str, request: Request, who: Reader) -> FlightView:
    """The flight: latest job, products, layers, every delivered file with its problems, conditions."""
    return flight_view(request, flight, technical=who.role == "gis")


def flight_view(request: Request, flight: str, *, technical: bool) -> FlightView:
    """Everything the flight API shows (a job's error without server paths unless ``technical``)."""
    catalog = catalog_of(request)
    record = flight_record(catalog, flight)
    info = flight_status(catalog, flight)
    lang = api_lang(request)
    view = files_view(request, flight, lang, technical=technical)
    jobs = (
        info.jobs if technical else [j.model_copy(update={"error": plain_error(j.error)}) for j in info.jobs]
    )
    options = record.meta.get("options") or {}
    latest = jobs[-1] if jobs else None
    message = None
    if latest is not None and latest.status == JobStatus.FAILED:
        message = _job_message(latest.stage, lang)
    return FlightView(
        flight=record if technical else plain_record(record),
        job=latest,
        jobs=jobs,
        products=info.products,
        layers=info.layers,
        links={**info.links, "files": f"/api/flights/{flight}/files"},
        lang=lang,
        version=int(record.meta.get("version") or 1),
        files=view.files,
        flight_problems=view.flight_problems,
        warnings=view.warnings,
        conditions=FlightConditions(**options["conditions_measured"])
        if options.get("conditions_measured")
        else None,
        thermal=FlightThermal(**options["thermal"]) if options.get("thermal") else None,
        job_message=message,
    )


def _job_message(stage: str, lang: Lang) -> str:
    return text("flight.job_failed", lang, stage=text(f"page.stage.{stage}", lang))


@router.patch("/{flight}", response_model=FlightView)
def update_flight(flight: str, body: FlightUpdate, request: Request, who: Uploader) -> FlightView:
    """Change a flight's title, site, access, purpose, conditions or thermal parameters."""
    catalog = catalog_of(request)
    record = flight_record(catalog, flight)
    area_of(request, flight, write=True)  # 409 while the job runs
    sent = body.model_dump(exclude_unset=True)
    options = dict(record.meta.get("options") or {})
    for key, option in (("conditions", "conditions_measured"), ("thermal", "thermal")):
        if key in sent:
            merged = {**options.get(option, {}), **(sent[key] or {})}
            options[option] = {k: v for k, v in merged.items() if v is not None}
            if not options[option]:
                del options[option]
    for key in ("title", "site", "access"):
        if sent.get(key) is not None:
            options[key] = sent[key].strip() if isinstance(sent[key], str) else sent[key]
    meta = {**record.meta, "options": _with_conditions_file(request, flight, options)}
    if sent.get("title") is not None:
        meta["title"] = sent["title"]
    purpose = body.purpose.value if body.purpose is not None else record.purpose
    catalog.upsert_flight(flight, purpose=purpose, status=record.status, meta=meta)
    return flight_view(request, flight, technical=who.role == "gis")


@router.get("/{flight}/files", response_model=FilesView)
def list_files(flight: str, request: Request, who: Reader) -> FilesView:
    """Every delivered file: kind, status, size, problems (the codes of ``dronegis ingest``), next step."""
    return files_view(request, flight, api_lang(request), technical=who.role == "gis")


def files_view(request: Request, flight: str, lang: Lang, *, technical: bool) -> FilesView:
    """The files of ``flight`` with their problems, the flight's own problems and duplicate warnings."""
    area = area_of(request, flight)
    workspace = Workspace.at(settings_of(request).workspace)
    index, sessions = area.index(), area.sessions()
    manifest = _manifest(workspace, flight)
    hashes = [f.sha256 for f in index.files.values()] + [
        e.sha256 for e in (manifest.entries if manifest else ())
    ]
    duplicates = other_flights_by_hash(workspace, flight, hashes)
    offsets = {s.id: area.offset(s) for s in sessions}
    files = file_report(index, sessions, offsets, manifest, duplicates, lang, technical=technical)
    counts: dict[str, int] = {}
    for file in files:
        counts[file.status] = counts.get(file.status, 0) + 1
    total = sum(f.size for f in files)
    return FilesView(
        flight=flight,
        lang=lang,
        files=files,
        counts=counts,
        bytes=total,
        size_text=size(total, lang),
        flight_problems=flight_problems(manifest, lang, technical=technical),
        warnings=duplicate_notices([f.duplicate_of for f in files], lang),
    )


def _manifest(workspace: Workspace, flight: str) -> Flight | None:
    path = workspace.flight_json(flight)
    return load_flight(path) if path.is_file() else None


@router.delete("/{flight}/files/{path:path}", status_code=status.HTTP_204_NO_CONTENT)
def remove_file(flight: str, path: str, request: Request, who: Uploader) -> Response:
    """Remove a delivered file and its unfinished uploads, before the flight is finished."""
    record = flight_record(catalog_of(request), flight)
    area = area_of(request, flight, write=True)
    if record.status != "uploading":
        raise UploadConflict(
            f"flight {flight} was finished (status {record.status}); files cannot be removed",
            key="upload.finished",
            params={"flight": flight},
        )
    remove_upload(area, path)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{flight}/finish", status_code=status.HTTP_202_ACCEPTED, response_model=FinishOut)
def finish(
    flight: str,
    request: Request,
    who: Uploader,
    new_version: Annotated[
        bool, Query(description="on a published flight: process and publish the files again as a new version")
    ] = False,
) -> FinishOut:
    """Close the upload and queue the ingest job.

    Refused (409, with the next step) while files are not complete, when nothing was sent, when a
    published flight is finished without ``new_version=true``, and when a flight waiting for approval
    is finished again without changes.
    """
    catalog = catalog_of(request)
    record = flight_record(catalog, flight)
    area = area_of(request, flight)
    unfinished = sorted({s.path for s in drop_orphans(area) if not s.archive})
    if unfinished:
        raise UploadConflict(
            f"flight {flight}: unfinished uploads {', '.join(unfinished[:10])}",
            key="flight.unfinished",
            params={"n": len(unfinished), "files": ", ".join(unfinished[:5])},
        )
    index = area.index()
    if not index.files:
        raise UploadConflict(
            f"flight {flight}: nothing was uploaded", key="flight.empty", params={"flight": flight}
        )
    fingerprint = hashlib.sha256(
        "\n".join(f"{path} {f.sha256}" for path, f in index.files.items()).encode()
    ).hexdigest()
    version = _version(record, fingerprint, new_version)
    meta = {**record.meta, "version": version, "finished": {"fingerprint": fingerprint, "by": who.name}}
    catalog.upsert_flight(flight, purpose=record.purpose, status=record.status, meta=meta)
    job = runner_of(request).submit(flight, from_stage="ingest", source=area.files)
    lang = api_lang(request)
    workspace = Workspace.at(settings_of(request).workspace)
    duplicates = other_flights_by_hash(workspace, flight, [f.sha256 for f in index.files.values()])
    return FinishOut(
        flight=flight,
        job=job.id,
        status=job.status.value,
        files=len(index.files),
        version=version,
        warnings=duplicate_notices([duplicates.get(f.sha256, ()) for f in index.files.values()], lang),
    )


def _version(record: FlightRecord, fingerprint: str, new_version: bool) -> int:
    """The flight's version after this finish; refuses a finish that would only repeat the last one."""
    version = int(record.meta.get("version") or 1)
    if record.status == "published":
        if not new_version:
            raise UploadConflict(
                f"flight {record.id} is already published; finish with new_version=true for a new version",
                key="flight.published",
                params={"flight": record.id},
            )
        return version + 1
    last = (record.meta.get("finished") or {}).get("fingerprint")
    if record.status == "waiting_approval" and last == fingerprint:
        raise UploadConflict(
            f"flight {record.id} waits for approval and nothing changed since it was finished",
            key="flight.waiting",
            params={"flight": record.id},
        )
    return version
