"""What the upload store records: stored files and their versions, open sessions, outcomes (frozen models)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from core.models import Frozen
from flights.models import FileKind, Problem

CHUNK = 1 << 20


class Outcome(StrEnum):
    """What a complete upload did to the flight's files."""

    STORED = "stored"
    UNCHANGED = "unchanged"
    REPLACED = "replaced"
    CONFLICT = "conflict"


class OldVersion(Frozen):
    """A file version replaced explicitly, kept in ``versions/``."""

    sha256: str
    size: int
    replaced_at: datetime
    kept_as: str = Field(description="path under the flight's versions folder")


class StoredFile(Frozen):
    """One complete uploaded file."""

    sha256: str
    size: int
    kind: FileKind | None = Field(None, description="what the file is (flights.classify), before ingest")
    problems: tuple[Problem, ...] = Field((), description="what the first look found (ingest's codes)")
    stored_at: datetime
    versions: tuple[OldVersion, ...] = ()


class UploadIndex(Frozen):
    """The complete files of a flight by relative path."""

    files: dict[str, StoredFile] = Field(default_factory=dict)


class UploadSession(Frozen):
    """One upload in progress: its id, the path it becomes, its declared length and what it reserved."""

    id: str
    path: str
    length: int | None = Field(None, description="declared total bytes; None: known when complete")
    sha256: str | None = Field(None, description="declared sha256 of the whole file, checked when complete")
    replace: bool = Field(False, description="may replace a stored file with different content")
    reserved: int = Field(0, description="bytes of the flight's limit held for this session")
    archive: bool = Field(False, description="a zip being received and unpacked, not a file of the flight")
    created_at: datetime


Checker = Callable[[Path, str, str, int], tuple[FileKind, tuple[Problem, ...]]]
"""A first look at a stored file: (path, delivered name, sha256, size) → its kind and problems."""


class UploadState(Frozen):
    """How far a file's upload got."""

    path: str
    offset: int
    complete: bool
    total: int | None = None


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def now() -> datetime:
    """The current time in UTC (recorded in the index and sessions)."""
    return datetime.now(UTC)


def prune_empty(folder: Path, root: Path) -> None:
    """Remove empty folders from ``folder`` up to (not including) ``root``."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def remove_tree(path: Path) -> None:
    """Remove a staging folder (missing is fine)."""
    shutil.rmtree(path, ignore_errors=True)
