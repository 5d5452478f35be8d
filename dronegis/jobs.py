"""The job runner of the front door: named stages ingest → process → qa → publish, resumable, one writer.

A job is one run of a flight through the stages, from ``from_stage`` on. The stage
functions are injected (a mapping of stage name to callable), so this module knows
nothing of the packages above it; :mod:`dronegis.service` wires the real ones. Every
stage must be idempotent: rerunning it on what the previous stage wrote gives the same
outputs. That makes recovery simple: a job left ``running`` by a killed process is put
back in the queue at the stage it was in, and that stage runs again.

After ``qa`` the runner consults the publication policy: a purpose whose QA status is
listed as automatic goes on to ``publish``; otherwise the job waits for an approval
(GIS role) and its reason is recorded.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from core.errors import JobError, UsageError
from core.workspace import Workspace
from dronegis.catalog import ACTIVE_STATUSES, Catalog, JobRecord, JobStatus
from flights.models import Purpose
from pipeline.executors import Executor, SerialExecutor
from pipeline.models import Product

log = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("ingest", "process", "qa", "publish")


class Decision(StrEnum):
    """What happens after QA."""

    AUTO = "auto"
    APPROVAL = "approval"


#: Publication policy: purpose → QA status → decision. Anything not listed waits for approval.
#: Building inspection (thermography of named buildings, GDPR-relevant) always needs a GIS approval;
#: surveys and nature monitoring publish by themselves when every QA check passed.
PUBLICATION_POLICY: Mapping[str, Mapping[str, Decision]] = {
    Purpose.SURVEY.value: {"pass": Decision.AUTO, "warn": Decision.APPROVAL, "fail": Decision.APPROVAL},
    Purpose.NATURE_MONITORING.value: {
        "pass": Decision.AUTO,
        "warn": Decision.APPROVAL,
        "fail": Decision.APPROVAL,
    },
    Purpose.BUILDING_INSPECTION.value: {
        "pass": Decision.APPROVAL,
        "warn": Decision.APPROVAL,
        "fail": Decision.APPROVAL,
    },
    Purpose.OTHER.value: {"pass": Decision.APPROVAL, "warn": Decision.APPROVAL, "fail": Decision.APPROVAL},
}


def publication_decision(
    purpose: str, qa_status: str | None, policy: Mapping[str, Mapping[str, Decision]] = PUBLICATION_POLICY
) -> Decision:
    """Whether a flight of ``purpose`` with QA ``qa_status`` publishes by itself."""
    return policy.get(purpose, {}).get(qa_status or "", Decision.APPROVAL)


@dataclass(frozen=True)
class JobContext:
    """Everything a stage needs; nothing global.

    Attributes:
        workspace: the workspace every stage reads and writes.
        flight: flight id.
        job_id: catalog id of the running job.
        purpose: the flight's purpose (drives QA tolerances and publication).
        source: delivered folder (the ingest stage's input), if any.
        executor: where frames and windows run (local pool or Dask).
        options: stage options (target CRS, DEM, access, title, ...), JSON-able values.
        approved_by: who approved publication, when approval was needed.
        approval_reason: the recorded reason of that approval.
    """

    workspace: Workspace
    flight: str
    job_id: int
    purpose: str = Purpose.OTHER.value
    source: Path | None = None
    executor: Executor = field(default_factory=SerialExecutor)
    options: Mapping[str, Any] = field(default_factory=dict)
    approved_by: str | None = None
    approval_reason: str | None = None


class StageResult(NamedTuple):
    """What a stage reports back to the runner (which records it in the catalog)."""

    summary: str = ""
    qa_status: str | None = None
    products: tuple[Product, ...] | None = None
    layers: tuple[Mapping[str, Any], ...] | None = None


Progress = Callable[[int, int], None]


class Stage(Protocol):
    """A stage function: idempotent, reads what the previous stage wrote."""

    def __call__(self, ctx: JobContext, progress: Progress) -> StageResult:
        """Run the stage for ``ctx.flight``, reporting (done, total)."""
        ...


def stages_from(from_stage: str) -> tuple[str, ...]:
    """The stages of a job that starts at ``from_stage``."""
    if from_stage not in STAGES:
        raise UsageError(f"unknown stage {from_stage!r}; expected one of {', '.join(STAGES)}")
    return STAGES[STAGES.index(from_stage) :]


class _Throttle:
    """Writes progress to the catalog at most every ``interval`` seconds (and always at the end)."""

    def __init__(self, catalog: Catalog, job_id: int, interval: float = 0.25) -> None:
        self.catalog, self.job_id, self.interval = catalog, job_id, interval
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= self.interval:
            self._last = now
            self.catalog.update_job(self.job_id, done=int(done), total=int(total))


class JobRunner:
    """Runs queued jobs, one at a time, in a worker thread or synchronously.

    Args:
        workspace: the workspace.
        stages: stage name → stage function (all of :data:`STAGES`).
        executor: passed to every stage in its context.
        options: stage options passed in every context.
        policy: publication policy (default :data:`PUBLICATION_POLICY`).
        poll_interval: seconds between looks at the queue in the worker thread.
    """

    def __init__(
        self,
        workspace: Workspace,
        stages: Mapping[str, Stage],
        *,
        executor: Executor | None = None,
        options: Mapping[str, Any] | None = None,
        policy: Mapping[str, Mapping[str, Decision]] = PUBLICATION_POLICY,
        poll_interval: float = 0.5,
    ) -> None:
        missing = [s for s in STAGES if s not in stages]
        if missing:
            raise UsageError(f"job runner: no function for stage(s) {', '.join(missing)}")
        self.workspace = workspace
        self.catalog = Catalog(workspace.catalog)
        self.stages = dict(stages)
        self.executor = executor or SerialExecutor()
        self.options = dict(options or {})
        self.policy = policy
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock: IO[bytes] | None = None

    # -- queueing ----------------------------------------------------------------------------

    def submit(
        self,
        flight: str,
        *,
        from_stage: str = "ingest",
        purpose: str | None = None,
        source: Path | None = None,
    ) -> JobRecord:
        """Queue a job for ``flight`` from ``from_stage`` (a rerun when the flight ran before)."""
        stages_from(from_stage)
        for waiting in self.catalog.jobs(flight, statuses=[JobStatus.WAITING_APPROVAL]):
            self.catalog.update_job(
                waiting.id, status=JobStatus.FAILED, error="superseded by a rerun", finished_at=_now()
            )
        active = self.catalog.jobs(flight, statuses=sorted(ACTIVE_STATUSES))
        if active:
            raise JobError(f"flight {flight!r} already has job {active[-1].id} ({active[-1].status})")
        try:
            record = self.catalog.flight(flight)
            purpose = purpose or record.purpose
            src = str(source) if source else record.source
            meta = record.meta
        except KeyError:
            src, meta = (str(source) if source else None), {}
        self.catalog.upsert_flight(
            flight, purpose=purpose or Purpose.OTHER.value, status="queued", source=src, meta=meta
        )
        job = self.catalog.enqueue(flight, from_stage)
        self._wake.set()
        return job

    def approve(self, flight: str, *, by: str, reason: str) -> JobRecord:
        """Approve publication of a flight whose job waits for it; the job goes on to ``publish``."""
        if not reason.strip():
            raise UsageError(f"approval of flight {flight!r} needs a reason")
        waiting = self.catalog.jobs(flight, statuses=[JobStatus.WAITING_APPROVAL])
        if not waiting:
            raise JobError(f"flight {flight!r} has no job waiting for approval")
        job = self.catalog.update_job(
            waiting[-1].id,
            status=JobStatus.QUEUED,
            stage="publish",
            approved_by=by,
            approval_reason=reason.strip(),
            error=None,
        )
        self.catalog.set_flight_status(flight, "queued")
        self._wake.set()
        return job

    def recover(self) -> list[JobRecord]:
        """Re-queue jobs that a killed process left running (call once at start-up)."""
        jobs = self.catalog.requeue_running()
        for job in jobs:
            log.warning(
                "job %s of flight %s was interrupted in stage %s; resuming", job.id, job.flight, job.stage
            )
        return jobs

    # -- running -----------------------------------------------------------------------------

    def run_pending(self) -> list[JobRecord]:
        """Run queued jobs until the queue is empty; return the finished records."""
        finished = []
        while not self._stop.is_set() and (job := self.catalog.next_queued()) is not None:
            finished.append(self.run_job(job.id))
        return finished

    def run_job(self, job_id: int) -> JobRecord:
        """Run one queued job from its current stage to the end (or to a wait)."""
        job = self.catalog.claim(job_id)
        flight = self.catalog.flight(job.flight)
        ctx = JobContext(
            workspace=self.workspace,
            flight=job.flight,
            job_id=job.id,
            purpose=flight.purpose,
            source=Path(flight.source) if flight.source else None,
            executor=self.executor,
            options={**self.options, **dict(flight.meta.get("options") or {})},
            approved_by=job.approved_by,
            approval_reason=job.approval_reason,
        )
        self.catalog.set_flight_status(job.flight, "processing")
        for stage in stages_from(job.stage):
            if self._stop.is_set():
                self.catalog.update_job(job.id, status=JobStatus.QUEUED, stage=stage)
                return self.catalog.job(job.id)
            job = self.catalog.update_job(job.id, stage=stage, done=0, total=0)
            if stage == "publish" and not self._may_publish(job, ctx):
                return self.catalog.job(job.id)
            try:
                result = self.stages[stage](ctx, _Throttle(self.catalog, job.id))
            except Exception as exc:  # noqa: BLE001 - every failure is recorded with its reason
                return self._fail(job, stage, exc)
            self._record(job, stage, result)
        finished = self.catalog.update_job(job.id, status=JobStatus.DONE, finished_at=_now())
        self.catalog.set_flight_status(job.flight, "published")
        return finished

    def _may_publish(self, job: JobRecord, ctx: JobContext) -> bool:
        if job.approved_by:
            return True
        decision = publication_decision(ctx.purpose, job.qa_status, self.policy)
        if decision is Decision.AUTO:
            return True
        why = (
            f"QA status {job.qa_status or 'unknown'} for a {ctx.purpose} flight: publication waits for "
            "approval by the GIS team"
        )
        self.catalog.update_job(job.id, status=JobStatus.WAITING_APPROVAL, error=why)
        self.catalog.set_flight_status(job.flight, "waiting_approval")
        log.info("job %s: %s", job.id, why)
        return False

    def _record(self, job: JobRecord, stage: str, result: StageResult) -> None:
        if result.products is not None:
            self.catalog.record_products(job.flight, result.products)
        if result.layers is not None:
            self.catalog.record_layers(job.flight, result.layers)
        if result.qa_status is not None:
            self.catalog.update_job(job.id, qa_status=result.qa_status)
        log.info("job %s flight %s: %s done %s", job.id, job.flight, stage, result.summary)

    def _fail(self, job: JobRecord, stage: str, exc: Exception) -> JobRecord:
        reason = f"{stage} failed: {type(exc).__name__}: {exc}"
        log.error("job %s flight %s: %s\n%s", job.id, job.flight, reason, traceback.format_exc())
        self.catalog.set_flight_status(job.flight, "failed")
        return self.catalog.update_job(job.id, status=JobStatus.FAILED, error=reason, finished_at=_now())

    # -- worker thread -----------------------------------------------------------------------

    def start(self) -> bool:
        """Take the workspace's job lock, recover interrupted jobs and start the worker thread.

        Returns:
            False when another process holds the lock (it runs the jobs; this one only queues them).
        """
        if self._thread is not None:
            return True
        if not self._take_lock():
            log.info("another process runs the jobs of %s; this one only queues them", self.workspace.root)
            return False
        self.recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="dronegis-jobs", daemon=True)
        self._thread.start()
        return True

    def _take_lock(self) -> bool:
        self.workspace.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.workspace.job_lock, "a+b")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock = handle
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after the running stage, and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def wake(self) -> None:
        """Look at the queue now."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - the worker must survive a broken catalog row
                log.exception("job worker: unexpected error")
            self._wake.wait(self.poll_interval)
            self._wake.clear()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def with_options(ctx: JobContext, **options: Any) -> JobContext:
    """A copy of ``ctx`` with more options."""
    return replace(ctx, options={**ctx.options, **options})
