"""The SQLite catalog: flights, jobs, products and layers of one workspace.

One process writes it (the service's job runner and the API handlers living in the
same process); everyone else opens it read-only. WAL mode lets readers go on while
the writer commits. Each operation opens its own short-lived connection, so the
catalog is safe to use from several threads of the writing process.

Layers are stored as JSON documents, as publication (:mod:`webgis_export`) wrote them. The catalog
and the job runner (:mod:`dronegis.jobs`) belong to the front door: only the service and the CLI use
them, so they live on its floor.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from core.errors import JobError, UnknownRecord
from core.models import Frozen
from pipeline.models import Product

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS flights (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flight TEXT NOT NULL REFERENCES flights(id),
    stage TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    status TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    qa_status TEXT,
    approved_by TEXT,
    approval_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_flight ON jobs(flight);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    flight TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS layers (
    id TEXT PRIMARY KEY,
    flight TEXT NOT NULL,
    doc TEXT NOT NULL,
    published_at TEXT NOT NULL
);
"""


class JobStatus(StrEnum):
    """Where a job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    WAITING_APPROVAL = "waiting_approval"


ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING_APPROVAL})


class FlightRecord(Frozen):
    """A flight as the catalog knows it (before and after ingest)."""

    id: str
    purpose: str
    status: str = Field(
        description="uploading, queued, processing, waiting_approval, published, done, failed"
    )
    source: str | None = Field(None, description="folder the ingest stage reads")
    created_at: datetime
    updated_at: datetime
    meta: dict[str, Any] = Field(default_factory=dict)


class JobRecord(Frozen):
    """One run of the stages of a flight, from ``from_stage`` on."""

    id: int
    flight: str
    stage: str = Field(description="the stage running now, or the one the job stopped at")
    from_stage: str
    status: JobStatus
    done: int = 0
    total: int = 0
    error: str | None = None
    attempts: int = 0
    qa_status: str | None = None
    approved_by: str | None = None
    approval_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Catalog:
    """The workspace catalog (``Workspace.catalog``).

    Args:
        path: the SQLite file.
        readonly: open read-only (every process but the writer).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect(transaction=False) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connect(self, *, transaction: bool = True) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            if not self.path.exists():
                raise JobError(f"catalog {self.path} does not exist")
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10.0)
        else:
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            write = transaction and not self.readonly
            if write:
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("BEGIN IMMEDIATE")
            yield conn
            if write:
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    # -- flights -----------------------------------------------------------------------------

    def upsert_flight(
        self,
        flight: str,
        *,
        purpose: str,
        status: str,
        source: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> FlightRecord:
        """Create a flight, or update its purpose, status, source and meta."""
        now = _now()
        doc = json.dumps(dict(meta or {}), default=str)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO flights (id, purpose, status, source, created_at, updated_at, meta)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET purpose=excluded.purpose,"
                " status=excluded.status, source=COALESCE(excluded.source, flights.source),"
                " updated_at=excluded.updated_at, meta=excluded.meta",
                (flight, purpose, status, source, now, now, doc),
            )
        return self.flight(flight)

    def set_flight_status(self, flight: str, status: str) -> None:
        """Change a flight's status."""
        with self._connect() as conn:
            conn.execute("UPDATE flights SET status=?, updated_at=? WHERE id=?", (status, _now(), flight))

    def flight(self, flight: str) -> FlightRecord:
        """One flight; :class:`JobError` (a KeyError too) when unknown."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM flights WHERE id=?", (flight,)).fetchone()
        if row is None:
            raise UnknownRecord(f"catalog {self.path}: no flight {flight!r}")
        return FlightRecord(**{**dict(row), "meta": json.loads(row["meta"])})

    def flights(self) -> list[FlightRecord]:
        """Every flight, newest first."""
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM flights ORDER BY created_at DESC, id").fetchall()
        return [FlightRecord(**{**dict(r), "meta": json.loads(r["meta"])}) for r in rows]

    # -- jobs --------------------------------------------------------------------------------

    def enqueue(self, flight: str, from_stage: str) -> JobRecord:
        """Queue a job for ``flight`` starting at ``from_stage``."""
        now = _now()
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO jobs (flight, stage, from_stage, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (flight, from_stage, from_stage, JobStatus.QUEUED.value, now, now),
            )
            job_id = int(cur.lastrowid or 0)
        return self.job(job_id)

    def job(self, job_id: int) -> JobRecord:
        """One job; :class:`UnknownRecord` when unknown."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise UnknownRecord(f"catalog {self.path}: no job {job_id}")
        return JobRecord(**dict(row))

    def jobs(self, flight: str | None = None, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]:
        """Jobs, oldest first, optionally of one flight and some statuses."""
        sql, args = "SELECT * FROM jobs WHERE 1=1", []
        if flight is not None:
            sql, args = sql + " AND flight=?", [flight]
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args += [s.value for s in statuses]
        with self._connect() as conn:
            rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        return [JobRecord(**dict(r)) for r in rows]

    def latest_job(self, flight: str) -> JobRecord | None:
        """The newest job of a flight, if any."""
        jobs = self.jobs(flight)
        return jobs[-1] if jobs else None

    def next_queued(self) -> JobRecord | None:
        """The oldest queued job."""
        queued = self.jobs(statuses=[JobStatus.QUEUED])
        return queued[0] if queued else None

    def update_job(self, job_id: int, **fields: Any) -> JobRecord:
        """Set columns of a job (status, stage, done, total, error, ...) and touch ``updated_at``."""
        allowed = {
            "stage",
            "status",
            "done",
            "total",
            "error",
            "attempts",
            "qa_status",
            "approved_by",
            "approval_reason",
            "started_at",
            "finished_at",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise JobError(f"catalog {self.path}: cannot set job columns {sorted(unknown)}")
        values = {k: (v.value if isinstance(v, StrEnum) else v) for k, v in fields.items()}
        values["updated_at"] = _now()
        assignments = ", ".join(f"{k}=?" for k in values)
        with self._connect() as conn:
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id=?", [*values.values(), job_id])
        return self.job(job_id)

    def claim(self, job_id: int) -> JobRecord:
        """Mark a queued job running (one more attempt)."""
        now = _now()
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status=?, attempts=attempts+1, started_at=COALESCE(started_at, ?),"
                " updated_at=?, error=NULL WHERE id=? AND status=?",
                (JobStatus.RUNNING.value, now, now, job_id, JobStatus.QUEUED.value),
            )
            if cur.rowcount != 1:
                raise JobError(f"catalog {self.path}: job {job_id} is not queued")
        return self.job(job_id)

    def requeue_running(self) -> list[JobRecord]:
        """Put jobs left 'running' by a killed process back in the queue, at their stage."""
        with self._connect() as conn:
            rows = conn.execute("SELECT id FROM jobs WHERE status=?", (JobStatus.RUNNING.value,)).fetchall()
            conn.execute(
                "UPDATE jobs SET status=?, updated_at=? WHERE status=?",
                (JobStatus.QUEUED.value, _now(), JobStatus.RUNNING.value),
            )
        return [self.job(int(r["id"])) for r in rows]

    # -- products and layers -----------------------------------------------------------------

    def record_products(self, flight: str, products: Sequence[Product]) -> None:
        """Replace the products of a flight."""
        with self._connect() as conn:
            conn.execute("DELETE FROM products WHERE flight=?", (flight,))
            conn.executemany(
                "INSERT OR REPLACE INTO products (id, flight, kind, path, doc) VALUES (?, ?, ?, ?, ?)",
                [(p.id, flight, p.kind.value, p.path, p.model_dump_json()) for p in products],
            )

    def products(self, flight: str | None = None) -> list[Product]:
        """Products, optionally of one flight."""
        sql, args = (
            ("SELECT doc FROM products WHERE flight=? ORDER BY id", (flight,))
            if flight
            else ("SELECT doc FROM products ORDER BY id", ())
        )
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [Product.model_validate_json(r["doc"]) for r in rows]

    def record_layers(self, flight: str, layers: Sequence[Mapping[str, Any]]) -> None:
        """Replace the layers published from a flight (each a JSON-able mapping with an ``id``)."""
        now = _now()
        with self._connect() as conn:
            conn.execute("DELETE FROM layers WHERE flight=?", (flight,))
            conn.executemany(
                "INSERT OR REPLACE INTO layers (id, flight, doc, published_at) VALUES (?, ?, ?, ?)",
                [(str(layer["id"]), flight, json.dumps(dict(layer), default=str), now) for layer in layers],
            )

    def forget_flight(self, flight: str) -> dict[str, int]:
        """Delete every row of a flight (jobs, products, layers, the flight) and compact the file.

        ``VACUUM`` and a truncating WAL checkpoint follow, so the deleted rows leave no bytes behind
        in free pages or the write-ahead log (erasure). Returns the rows deleted per table.
        """
        counts: dict[str, int] = {}
        with self._connect() as conn:
            for table, column in (
                ("jobs", "flight"),
                ("products", "flight"),
                ("layers", "flight"),
                ("flights", "id"),
            ):
                counts[table] = conn.execute(f"DELETE FROM {table} WHERE {column}=?", (flight,)).rowcount
        with self._connect(transaction=False) as conn:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return counts

    def layers(self, flight: str | None = None) -> list[dict[str, Any]]:
        """Layer documents, optionally of one flight."""
        sql, args = (
            ("SELECT doc FROM layers WHERE flight=? ORDER BY id", (flight,))
            if flight
            else ("SELECT doc FROM layers ORDER BY id", ())
        )
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [json.loads(r["doc"]) for r in rows]
