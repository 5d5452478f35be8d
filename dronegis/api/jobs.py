"""Job and flight status over HTTP: JSON, server-sent events, approval and reruns.

- ``GET /api/jobs/{id}`` — one job (stage, status, done/total, error).
- ``GET /api/flights`` — every flight with its latest job.
- ``GET /api/flights/{id}/events`` — ``text/event-stream`` of ``progress`` events until the job
  stops (done, failed or waiting for approval). Browsers' EventSource cannot send headers, so this
  route also takes ``?token=``; every other route of the JSON API takes the bearer header only.
- ``POST /api/flights/{id}/approve`` — GIS role: publish a flight whose job waits, with a reason.
- ``POST /api/flights/{id}/rerun`` — GIS role: rerun a flight from a stage.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from core.errors import JobError, UsageError
from core.workspace import Workspace
from dronegis.api.roles import Principal, require_api_roles, require_roles, runner_of, settings_of
from dronegis.catalog import Catalog, FlightRecord, JobRecord, JobStatus
from dronegis.jobs import STAGES
from dronegis.upload_names import FLIGHT_ID

router = APIRouter(tags=["jobs"])
Reader = Annotated[Principal, Depends(require_api_roles("pilot", "gis", "viewer"))]
Follower = Annotated[Principal, Depends(require_roles("pilot", "gis", "viewer"))]
Gis = Annotated[Principal, Depends(require_api_roles("gis"))]
STOPPED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.WAITING_APPROVAL)
_INTERNAL_SIZE = re.compile(r"\s*\(~?\s*[\d.,]+\s*(?:[KMGTP]i?B|bytes)\)")
_ABSOLUTE = re.compile(r"(?<![\w.])/(?:[^\s/:'\"]+/)+([^\s/:'\"]+)")


class FlightStatus(BaseModel):
    """A flight with its jobs, products and layers."""

    flight: FlightRecord
    job: JobRecord | None
    jobs: list[JobRecord]
    products: list[dict[str, Any]]
    layers: list[dict[str, Any]]
    links: dict[str, str]


class Approval(BaseModel):
    """Why the GIS team publishes this flight."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class Rerun(BaseModel):
    """Rerun a flight from a stage."""

    model_config = ConfigDict(extra="forbid")

    from_stage: str = Field("process", pattern="^(" + "|".join(STAGES) + ")$")


def _catalog(request: Request) -> Catalog:
    return Catalog(Workspace.at(settings_of(request).workspace).catalog)


def _flight(catalog: Catalog, flight: str) -> FlightRecord:
    try:
        if not FLIGHT_ID.match(flight):
            raise KeyError(flight)
        return catalog.flight(flight)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no flight {flight!r}") from exc


def flight_status(catalog: Catalog, flight: str) -> FlightStatus:
    """Everything the status page and the JSON API show about a flight."""
    record = _flight(catalog, flight)
    jobs = catalog.jobs(flight)
    return FlightStatus(
        flight=record,
        job=jobs[-1] if jobs else None,
        jobs=jobs,
        products=[p.model_dump(mode="json") for p in catalog.products(flight)],
        layers=catalog.layers(flight),
        links={
            "page": f"/flights/{flight}",
            "qa_report": f"/flights/{flight}/qa",
            "events": f"/api/flights/{flight}/events",
            "viewer": "/viewer",
        },
    )


@router.get("/api/jobs/{job_id}", response_model=JobRecord)
def get_job(job_id: int, request: Request, who: Reader) -> JobRecord:
    """One job."""
    try:
        return _catalog(request).job(job_id)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}") from exc


@router.get("/api/flights", response_model=list[FlightStatus])
def list_flights(request: Request, who: Reader) -> list[FlightStatus]:
    """Every flight with its latest job (server paths and job internals only for the GIS team)."""
    catalog = _catalog(request)
    found = [flight_status(catalog, f.id) for f in catalog.flights()]
    if who.role == "gis":
        return found
    return [
        s.model_copy(
            update={
                "flight": plain_record(s.flight),
                "job": s.job.model_copy(update={"error": plain_error(s.job.error)}) if s.job else None,
                "jobs": [j.model_copy(update={"error": plain_error(j.error)}) for j in s.jobs],
            }
        )
        for s in found
    ]


def plain_record(record: FlightRecord) -> FlightRecord:
    """A flight record without server paths (its source folder, option values naming files), for pilots."""
    options = record.meta.get("options") or {}
    shown = {k: v for k, v in options.items() if not (isinstance(v, str) and v.startswith("/"))}
    return record.model_copy(update={"source": None, "meta": {**record.meta, "options": shown}})


def plain_error(error: str | None) -> str | None:
    """A job error for pilots: each absolute path shown as its file name, internal sizes left out.

    Example: ``/ws/products/f/thermal_mosaic.tif: … grid (~28,570,131.6 GiB) over …`` →
    ``thermal_mosaic.tif: … grid over …``. The GIS team sees the error as it was recorded.
    """
    return _INTERNAL_SIZE.sub("", _ABSOLUTE.sub(r"\1", error)) if error else error


def _event(job: JobRecord, technical: bool) -> str:
    payload = {
        "job": job.id,
        "flight": job.flight,
        "stage": job.stage,
        "status": job.status.value,
        "done": job.done,
        "total": job.total,
        "error": job.error if technical else plain_error(job.error),
        "qa_status": job.qa_status,
    }
    return f"event: progress\nid: {job.id}-{job.updated_at.timestamp():.6f}\ndata: {json.dumps(payload)}\n\n"


async def _events(
    catalog: Catalog, flight: str, interval: float, timeout: float, technical: bool
) -> AsyncIterator[str]:
    last: tuple[Any, ...] | None = None
    deadline = time.monotonic() + timeout
    yield "retry: 2000\n\n"
    while time.monotonic() < deadline:
        job = catalog.latest_job(flight)
        if job is not None:
            key = (job.id, job.stage, job.status, job.done, job.total, job.error)
            if key != last:
                last = key
                yield _event(job, technical)
            if job.status in STOPPED:
                return
        else:
            yield ": waiting for a job\n\n"
        await asyncio.sleep(interval)


@router.get(
    "/api/flights/{flight}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "progress events"}},
)
def flight_events(
    flight: str,
    request: Request,
    who: Follower,
    interval: Annotated[float, Query(ge=0.05, le=10)] = 0.5,
    timeout: Annotated[float, Query(gt=0, le=86400)] = 3600,
) -> StreamingResponse:
    """Server-sent events with the latest job's stage and done/total, until it stops."""
    catalog = _catalog(request)
    _flight(catalog, flight)
    return StreamingResponse(
        _events(catalog, flight, interval, timeout, who.role == "gis"),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/api/flights/{flight}/approve", response_model=JobRecord)
def approve(flight: str, body: Approval, request: Request, who: Gis) -> JobRecord:
    """Approve publication of a flight whose job waits for it; the reason is recorded."""
    _flight(_catalog(request), flight)
    try:
        return runner_of(request).approve(flight, by=who.name, reason=body.reason)
    except (JobError, UsageError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.post("/api/flights/{flight}/rerun", status_code=status.HTTP_202_ACCEPTED, response_model=JobRecord)
def rerun(flight: str, body: Rerun, request: Request, who: Gis) -> JobRecord:
    """Rerun a flight from a stage (each stage is idempotent)."""
    _flight(_catalog(request), flight)
    try:
        return runner_of(request).submit(flight, from_stage=body.from_stage)
    except (JobError, UsageError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
