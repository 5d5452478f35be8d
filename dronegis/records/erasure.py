"""Erasure of a flight from everything, as a journaled operation (``dronegis erase``).

1. **Plan and journal.** Every file of the flight is listed with its sha256 — archive, quarantine,
   products, QA, the flight record, its upload or sample folder inside the workspace, its retention
   and hold records, its published layer folders — and the plan is written to
   ``records/erasures/<id>.journal.json`` (atomically, fsynced). This write is the commit point:
   from then on the service withholds every layer of the flight (:mod:`webgis_export.privacy.gate`),
   so readers see the whole flight or nothing.
2. **Finish.** The flight's layers leave ``layers.json``, ``collections.json`` and STAC in one
   publication commit; the planned files and folders are removed; the catalog forgets the flight
   (rows deleted, file vacuumed); the access log's entries naming it are redacted (chain kept).
3. **Record.** ``records/erasures/<id>.json`` keeps who, when, why, what was removed and the
   checksums; the journal is deleted.

A SIGKILL at any point leaves either nothing changed (before the journal) or a journal that the
next ``dronegis erase FLIGHT`` (or the API call) finishes: every step is idempotent.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.atomic import atomic_write_text
from core.errors import ErasureError, LegalHoldError, UnknownRecord
from core.workspace import Workspace
from dronegis.catalog import Catalog, JobStatus
from dronegis.records.access import AccessLog
from dronegis.records.holds import is_held, read_hold
from dronegis.records.inventory import check_flight_id, flight_doc, known_flights, published
from dronegis.records.models import ErasureJournal, ErasurePlan, ErasureRecord, FileRecord
from dronegis.records.retention import history
from flights.archive import reasons_dir, staging_dir
from flights.hashcopy import hash_file
from flights.ingest_lock import lock_path
from webgis_export.privacy.gate import JOURNAL_SUFFIX
from webgis_export.publish import republish

log = logging.getLogger(__name__)

Step = Callable[[str], None]


def journal_path(workspace: Workspace, erasure_id: str) -> Path:
    """The journal of an erasure under way."""
    return workspace.erasures / f"{erasure_id}{JOURNAL_SUFFIX}"


def record_path(workspace: Workspace, erasure_id: str) -> Path:
    """The record of a finished erasure."""
    return workspace.erasures / f"{erasure_id}.json"


def pending(workspace: Workspace, flight: str) -> ErasureJournal | None:
    """The journal of an unfinished erasure of ``flight``, if one was begun."""
    if not workspace.erasures.exists():
        return None
    for path in sorted(workspace.erasures.glob(f"*{JOURNAL_SUFFIX}")):
        journal = ErasureJournal.model_validate_json(path.read_text(encoding="utf-8"))
        if journal.flight == flight:
            return journal
    return None


def roots_of(workspace: Workspace, flight: str) -> list[Path]:
    """Every file and folder that belongs to the flight alone (those that exist)."""
    candidates = [
        workspace.archive(flight),
        lock_path(workspace.archive(flight)),
        staging_dir(workspace.archive(flight)),
        workspace.quarantine(flight),
        reasons_dir(workspace.quarantine(flight)),
        workspace.products(flight),
        workspace.qa(flight),
        workspace.flight_json(flight),
        workspace.uploads / flight,
        workspace.hold(flight),
        workspace.retention_record(flight),
    ]
    # siblings the stages keep beside a flight's folders (<flight>.lock, .staging, .reasons …): a flight
    # id holds no dot, so "<flight>." names no other flight
    for parent in {path.parent for path in candidates if path.parent != workspace.records}:
        if parent.is_dir():
            candidates += [p for p in parent.iterdir() if p.name.startswith(f"{flight}.")]
    source = _source_inside(workspace, flight)
    if source is not None:
        candidates.append(source)
    candidates += [
        workspace.published_layer(str(d["id"])) for d in published(workspace) if d.get("flight") == flight
    ]
    return sorted({p for p in candidates if p.exists() or p.is_symlink()})


def _source_inside(workspace: Workspace, flight: str) -> Path | None:
    """The delivery folder (catalog or flight record), when it lies inside the workspace (uploads, demo)."""
    source = str((flight_doc(workspace, flight) or {}).get("source") or "")
    if not source and workspace.catalog.exists():
        try:
            source = Catalog(workspace.catalog, readonly=True).flight(flight).source or ""
        except UnknownRecord:
            return None
    if not source:
        return None
    folder = Path(source).resolve()
    if workspace.root not in folder.parents or flight not in (folder.name, folder.parent.name):
        return None
    return folder if folder.name == flight else folder.parent


def _files(workspace: Workspace, roots: list[Path]) -> tuple[FileRecord, ...]:
    found = []
    for root in roots:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            sha, size = hash_file(path)
            found.append(FileRecord(path=path.relative_to(workspace.root).as_posix(), sha256=sha, size=size))
    return tuple(found)


def begin(workspace: Workspace, flight: str, *, reason: str, by: str, now: datetime) -> ErasureJournal:
    """Check, plan and journal an erasure (the commit point).

    Raises:
        LegalHoldError: the flight is under legal hold.
        ErasureError: nothing is known of the flight, or one of its jobs is running.
    """
    check_flight_id(flight)
    held = is_held(workspace, flight)
    if held is not None:
        raise LegalHoldError(
            f"flight {flight!r} is under legal hold ({held}); release it first (dronegis hold --release)"
        )
    if flight not in known_flights(workspace) and not roots_of(workspace, flight):
        raise ErasureError(f"no flight {flight!r} in workspace {workspace.root}")
    if workspace.catalog.exists():
        running = Catalog(workspace.catalog, readonly=True).jobs(flight, statuses=[JobStatus.RUNNING])
        if running:
            raise ErasureError(
                f"flight {flight!r}: job {running[0].id} is running; erase it when the job has stopped"
            )
    roots = roots_of(workspace, flight)
    layers = tuple(sorted(str(d["id"]) for d in published(workspace) if d.get("flight") == flight))
    hold = read_hold(workspace, flight)
    journal = ErasureJournal(
        id=f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        flight=flight,
        reason=reason,
        by=by,
        at=now,
        plan=ErasurePlan(
            layers=layers,
            files=_files(workspace, roots),
            roots=tuple(p.relative_to(workspace.root).as_posix() for p in roots),
        ),
        retention=history(workspace, flight),
        holds=hold.events if hold else (),
    )
    atomic_write_text(journal_path(workspace, journal.id), journal.model_dump_json(indent=1) + "\n")
    return journal


def erase(
    workspace: Workspace, flight: str, *, reason: str, by: str, now: datetime, step: Step | None = None
) -> ErasureRecord:
    """Erase ``flight`` (or finish its unfinished erasure); the record kept.

    Raises:
        LegalHoldError, ErasureError: see :func:`begin` (nothing is changed).
    """
    tell = step or (lambda name: None)
    check_flight_id(flight)
    journal = pending(workspace, flight) or begin(workspace, flight, reason=reason, by=by, now=now)
    tell("journal")
    layers = set(journal.plan.layers) | {
        str(d["id"]) for d in published(workspace) if d.get("flight") == flight
    }
    republish(workspace, lambda stage, current, vectors: [], removed=sorted(layers))
    _sweep_staging(workspace)
    tell("unpublished")
    for rel in journal.plan.roots:
        _remove(workspace.root / rel)
    tell("files")
    rows = Catalog(workspace.catalog).forget_flight(flight) if workspace.catalog.exists() else {}
    tell("catalog")
    access = AccessLog(workspace.access_log)
    gone = layers | {flight}
    redacted = access.redact(
        lambda body: bool(gone & {*body.get("layers", ()), *body.get("flights", ())}), f"erasure {journal.id}"
    )
    tell("access-log")
    record = ErasureRecord(
        id=journal.id, flight=flight, reason=journal.reason, by=journal.by, at=journal.at, finished=now,
        layers=tuple(sorted(layers)), files=journal.plan.files, catalog_rows=rows,
        access_log_redacted=tuple(redacted), access_log_head=access.head().hash,
        retention=journal.retention, holds=journal.holds,
    )  # fmt: skip
    atomic_write_text(record_path(workspace, journal.id), record.model_dump_json(indent=1) + "\n")
    journal_path(workspace, journal.id).unlink(missing_ok=True)
    tell("record")
    log.info("erased flight %s (%d files, %d layers)", flight, len(record.files), len(record.layers))
    return record


def paused(step: Step | None, seconds: float) -> Step:
    """A step reporter that also sleeps ``seconds`` after each step (crash tests kill in between)."""

    def tell(name: str) -> None:
        if step is not None:
            step(name)
        if seconds > 0:
            time.sleep(seconds)

    return tell


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onexc=_writable_and_retry)
    else:
        path.unlink(missing_ok=True)


def _writable_and_retry(function: Callable[..., object], path: str, exc: BaseException) -> None:
    """Read-only folders (archive copies are read-only) are made writable so rmtree can go on."""
    Path(path).parent.chmod(0o755)
    function(path)


def _sweep_staging(workspace: Workspace) -> None:
    """Remove staging folders a killed publication left (they may hold the flight's layers)."""
    if not workspace.publish.exists():
        return
    with open(workspace.publish / ".lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            for stale in workspace.publish.glob(".staging-*"):
                shutil.rmtree(stale, ignore_errors=True)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
