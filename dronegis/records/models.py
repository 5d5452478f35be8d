"""Frozen models of the records: holds, retention runs, erasure journals and records."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from core.models import Frozen


class HoldEvent(Frozen):
    """A legal hold placed or released."""

    action: Literal["hold", "release"]
    reason: str
    by: str
    at: datetime


class LegalHold(Frozen):
    """The legal hold of a flight: whether it is active, and its history."""

    flight: str
    active: bool
    reason: str | None = None
    events: tuple[HoldEvent, ...] = ()


class FileRecord(Frozen):
    """A file removed (or to be removed): where, its sha256 and size."""

    path: str = Field(description="relative to the workspace root")
    sha256: str
    size: int


class RetentionItem(Frozen):
    """One file a retention run looked at past its term."""

    flight: str
    category: str = Field(description="raw_frames, raw_files, quarantine, products, qa_reports")
    path: str
    sha256: str
    size: int
    term: str = Field(description="the policy's term: 90d, 5y, layer, forever")
    expired: datetime | None = Field(description="when the term ended (None: 'layer' terms)")
    action: Literal["delete", "keep"]
    why: str = Field(description="Danish, then English: why it goes or stays")


class RetentionRun(Frozen):
    """What one ``dronegis retention --apply`` deleted of one flight (``records/retention/<flight>.json``)."""

    at: datetime
    now: datetime = Field(description="the clock the terms were measured with (--now)")
    policy: str
    policy_sha256: str
    deleted: tuple[RetentionItem, ...]
    access_log_head: str


class ErasurePlan(Frozen):
    """What an erasure removes: layers, files (with checksums), folders."""

    layers: tuple[str, ...]
    files: tuple[FileRecord, ...]
    roots: tuple[str, ...] = Field(description="files and folders removed whole, relative to the workspace")


class ErasureJournal(Frozen):
    """An erasure under way (``records/erasures/<id>.journal.json``): written before anything is removed."""

    id: str
    flight: str
    reason: str
    by: str
    at: datetime
    plan: ErasurePlan
    retention: tuple[RetentionRun, ...] = ()
    holds: tuple[HoldEvent, ...] = ()


class ErasureRecord(Frozen):
    """What is kept of an erased flight (``records/erasures/<id>.json``): who, when, why, what, checksums."""

    id: str
    flight: str
    reason: str
    by: str
    at: datetime
    finished: datetime
    layers: tuple[str, ...]
    files: tuple[FileRecord, ...]
    catalog_rows: dict[str, int]
    access_log_redacted: tuple[int, ...]
    access_log_head: str
    retention: tuple[RetentionRun, ...] = ()
    holds: tuple[HoldEvent, ...] = ()
