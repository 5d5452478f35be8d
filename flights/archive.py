"""The immutable archive of a flight and its quarantine.

Every delivered file ends in exactly one of two places: the archive (a byte-identical,
read-only copy whose sha256 is in ``manifest.json``) or the quarantine (the copy plus
``<name>.reason.txt``; for entries that could not be read at all, only the reason file).

Copies are staged under a temporary name (``*.dronegis-tmp``), copied by the kernel and hashed
from what was written (:func:`flights.hashcopy.copy_hashed`), fsynced and renamed into place, so
a run killed at any moment leaves no half-written file. :meth:`Archive.open` sweeps the temporaries a
killed run left, and files already in place are recognised by their sha256, so the
next run completes the job without copying anything twice. The source is only read.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, NamedTuple

from core.atomic import TMP_SUFFIX, atomic_write_text, fsync_dir, sweep_temporaries
from core.errors import ArchiveError
from flights.hashcopy import copy_hashed, hash_file, make_durable
from flights.models import ArchiveEntry

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REASON_SUFFIX = ".reason.txt"
READ_ONLY = 0o444


class Staged(NamedTuple):
    """A copy written under a temporary name, not yet committed."""

    tmp: Path
    relpath: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Archive:
    """The archive and quarantine folders of one flight."""

    root: Path
    quarantine_root: Path

    @property
    def manifest_path(self) -> Path:
        """``manifest.json`` of the archive."""
        return self.root / MANIFEST

    def open(self) -> int:
        """Create the folders and sweep temporaries of killed runs; return how many were swept."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.quarantine_root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create archive folder {self.root}: {exc}") from exc
        swept = sweep_temporaries(self.root) + sweep_temporaries(self.quarantine_root)
        if swept:
            logger.info("swept %d temporaries left by an interrupted run in %s", swept, self.root)
        return swept

    def archived_path(self, relpath: str) -> Path:
        """Where the archived copy of ``relpath`` lives."""
        return self.root / relpath

    def quarantined_path(self, relpath: str) -> Path:
        """Where the quarantined copy of ``relpath`` lives."""
        return self.quarantine_root / relpath

    def reason_path(self, relpath: str) -> Path:
        """The reason file of a quarantined entry."""
        return self.quarantine_root / f"{relpath}{REASON_SUFFIX}"

    def load_manifest(self) -> dict[str, ArchiveEntry]:
        """Entries of a previous run, by relative path (empty when there is none)."""
        if not self.manifest_path.exists():
            return {}
        try:
            doc = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            entries = [ArchiveEntry.model_validate(e) for e in doc["entries"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArchiveError(f"archive manifest {self.manifest_path} is unreadable: {exc}") from exc
        return {e.path: e for e in entries}

    def existing(self, relpath: str, previous: dict[str, ArchiveEntry]) -> ArchiveEntry | None:
        """The entry already in place for ``relpath`` (from the manifest or a killed run's rename)."""
        entry = previous.get(relpath)
        if entry is not None and self._in_place(entry):
            return entry
        path = self.archived_path(relpath)
        if path.is_file() and not path.is_symlink():
            sha, size = hash_file(path)
            return ArchiveEntry(path=relpath, sha256=sha, size=size, status="archived")
        path = self.quarantined_path(relpath)
        if path.is_file() and not path.is_symlink():
            sha, size = hash_file(path)
            reason = self._read_reason(relpath)
            return ArchiveEntry(path=relpath, sha256=sha, size=size, status="quarantined", reason=reason)
        return None

    def stage(self, src: Path, relpath: str) -> Staged:
        """Copy ``src`` beside its archive place under a temporary name, hashing it.

        Raises:
            OSError: when the source cannot be read or the copy cannot be written.
        """
        final = self.archived_path(relpath)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".dg-{uuid.uuid4().hex}{TMP_SUFFIX}"  # short: any name length works
        try:
            sha, size = copy_hashed(src, tmp)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        return Staged(tmp, relpath, sha, size)

    def commit(self, staged: Staged, *, reason: str | None = None) -> ArchiveEntry:
        """Commit one staged copy (see :meth:`commit_all`)."""
        return self.commit_all([(staged, reason)])[0]

    def commit_all(self, items: list[tuple[Staged, str | None]]) -> list[ArchiveEntry]:
        """Flush staged copies to disk, make them read-only and rename each into place.

        A ``None`` reason archives the copy; a reason quarantines it beside ``<name>.reason.txt``.
        The data reach the disk (one ``syncfs``, or an fsync per file where that is missing)
        before any rename, so a crash never leaves a half-written file under a final name.
        """
        make_durable([staged.tmp for staged, _ in items])
        entries = []
        folders: set[Path] = set()
        for staged, reason in items:
            target = (
                self.archived_path(staged.relpath)
                if reason is None
                else self.quarantined_path(staged.relpath)
            )
            if target.exists():
                staged.tmp.unlink()
                raise ArchiveError(f"{target} already exists; the archive never overwrites a file")
            os.chmod(staged.tmp, READ_ONLY)
            if reason is not None:
                self._write_reason(staged.relpath, reason)
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(staged.tmp, target)
            folders.add(target.parent)
            status: Literal["archived", "quarantined"] = "archived" if reason is None else "quarantined"
            entries.append(
                ArchiveEntry(
                    path=staged.relpath, sha256=staged.sha256, size=staged.size, status=status, reason=reason
                )
            )
        for folder in folders:
            fsync_dir(folder)
        return entries

    def discard(self, staged: Staged) -> None:
        """Remove a staged copy that is not needed (the same bytes are already in place)."""
        with contextlib.suppress(FileNotFoundError):
            staged.tmp.unlink()

    def quarantine_unread(self, relpath: str, reason: str) -> ArchiveEntry:
        """Record an entry whose bytes were not read (symlink, FIFO, unreadable): reason file only."""
        self._write_reason(relpath, reason)
        return ArchiveEntry(path=relpath, sha256="", size=0, status="quarantined", reason=reason)

    def write_manifest(
        self, *, flight_id: str, source: str, entries: list[ArchiveEntry], now: datetime
    ) -> None:
        """Write ``manifest.json`` atomically (entries sorted by path)."""
        doc = {
            "flight": flight_id,
            "source": source,
            "written_at": now.isoformat(),
            "entries": [e.model_dump(mode="json") for e in sorted(entries, key=lambda e: e.path)],
        }
        atomic_write_text(self.manifest_path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        os.chmod(self.manifest_path, READ_ONLY)
        for folder in (self.root, self.quarantine_root):
            fsync_dir(folder)

    def _in_place(self, entry: ArchiveEntry) -> bool:
        if entry.status == "archived":
            return self.archived_path(entry.path).is_file()
        copy_ok = not entry.sha256 or self.quarantined_path(entry.path).is_file()
        return copy_ok and self.reason_path(entry.path).is_file()

    def _write_reason(self, relpath: str, reason: str) -> None:
        atomic_write_text(self.reason_path(relpath), reason.rstrip() + "\n")

    def _read_reason(self, relpath: str) -> str | None:
        path = self.reason_path(relpath)
        return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _move(tmp: Path, target: Path) -> None:
    """Rename within one file system; across file systems copy, fsync, then rename."""
    try:
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise ArchiveError(f"cannot move {tmp} to {target}: {exc}") from exc
        local = target.parent / f".dg-{uuid.uuid4().hex}{TMP_SUFFIX}"
        copy_hashed(tmp, local)
        fd = os.open(local, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(local, READ_ONLY)
        os.replace(local, target)
        tmp.unlink()
