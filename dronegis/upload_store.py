"""Staging of uploaded flight files: safe names, resumable writes, safe zip extraction.

The HTTP layer (:mod:`dronegis.api.uploads`) only parses requests; everything that
touches the disk is here so that it can be tested without a server. Files arrive in
``Workspace.upload_partial(flight)`` and move (rename) into ``Workspace.upload(flight)``
once complete, so the ingest stage never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from core.atomic import fsync_dir
from core.errors import UploadConflict, UploadError, UploadTooLarge
from core.workspace import Workspace

FLIGHT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME_LENGTH = 1024
MAX_ZIP_ENTRIES = 100_000
MAX_ZIP_RATIO = 200.0
CHUNK = 1 << 20


def check_flight_id(flight: str) -> str:
    """Return ``flight`` if it is a safe id (letters, digits, ``_``/``-``, at most 64)."""
    if not FLIGHT_ID.match(flight):
        raise UploadError(f"flight id {flight!r} is not allowed: use letters, digits, '_' and '-' (max 64)")
    return flight


def safe_relative_path(name: str) -> PurePosixPath:
    """A delivered file name as a safe relative POSIX path, or :class:`UploadError`.

    Refuses absolute paths, drive letters, ``..`` components, control characters and
    over-long names; backslashes count as separators (Windows tools).
    """
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
        raise UploadError(f"file name {name!r} is empty, too long or has control characters")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise UploadError(f"file name {name!r} is absolute")
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise UploadError(f"file name {name!r} leaves the flight folder")
    return PurePosixPath(*parts)


@dataclass(frozen=True)
class UploadState:
    """How far a file's upload got."""

    path: str
    offset: int
    complete: bool
    total: int | None = None


class UploadArea:
    """The staging folders of one flight, with a byte limit over everything staged.

    Args:
        workspace: the workspace.
        flight: flight id (checked).
        limit: most bytes the flight may stage (complete + partial files).
    """

    def __init__(self, workspace: Workspace, flight: str, limit: int) -> None:
        self.flight = check_flight_id(flight)
        self.files = workspace.upload(flight)
        self.partial = workspace.upload_partial(flight)
        self.limit = limit

    def used_bytes(self) -> int:
        """Bytes staged so far."""
        return sum(
            p.stat().st_size
            for d in (self.files, self.partial)
            if d.exists()
            for p in d.rglob("*")
            if p.is_file()
        )

    def completed(self) -> list[str]:
        """Relative paths of the complete files, sorted."""
        if not self.files.exists():
            return []
        return sorted(p.relative_to(self.files).as_posix() for p in self.files.rglob("*") if p.is_file())

    def pending(self) -> list[str]:
        """Relative paths of unfinished uploads, sorted."""
        if not self.partial.exists():
            return []
        return sorted(p.relative_to(self.partial).as_posix() for p in self.partial.rglob("*") if p.is_file())

    def state(self, name: str) -> UploadState:
        """Where the upload of ``name`` stands (offset 0, incomplete, when never started)."""
        rel = safe_relative_path(name)
        done = self.files / rel
        if done.is_file():
            size = done.stat().st_size
            return UploadState(rel.as_posix(), size, True, size)
        part = self.partial / rel
        return UploadState(rel.as_posix(), part.stat().st_size if part.is_file() else 0, False)

    def open_part(self, name: str, *, start: int, total: int | None) -> PartWriter:
        """A writer that appends to the partial file of ``name`` from byte ``start``.

        ``start`` must equal the stored offset (0 restarts a file that is not complete). The
        partial file is locked while a request writes it: a resume that arrives while the
        interrupted request is still flushing gets :class:`UploadConflict` and retries.
        """
        rel = safe_relative_path(name)
        if (self.files / rel).exists():
            raise UploadConflict(f"flight {self.flight}: {rel} was already uploaded completely")
        part = self.partial / rel
        part.parent.mkdir(parents=True, exist_ok=True)
        handle = os.fdopen(os.open(part, os.O_RDWR | os.O_CREAT, 0o644), "r+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise UploadConflict(f"flight {self.flight}: {rel} is being written by another request") from None
        try:
            self._check_resume(rel, os.fstat(handle.fileno()).st_size, start, total)
        except UploadError:
            if os.fstat(handle.fileno()).st_size == 0:
                part.unlink(missing_ok=True)
            handle.close()
            raise
        handle.truncate(start)
        handle.seek(start)
        return PartWriter(self, rel, handle, start, total)

    def _check_resume(self, rel: PurePosixPath, offset: int, start: int, total: int | None) -> None:
        if start not in (offset, 0):
            raise UploadConflict(f"flight {self.flight}: {rel} resumes at byte {offset}, not {start}")
        if total is None:
            return
        if total < start:
            raise UploadError(f"flight {self.flight}: {rel} range starts at {start}, past its total {total}")
        if self.used_bytes() - (offset - start) + (total - start) > self.limit:
            raise UploadTooLarge(
                f"flight {self.flight}: {rel} ({total} bytes) would exceed the upload limit "
                f"of {self.limit} bytes"
            )

    def finalize(self, rel: PurePosixPath) -> None:
        """Move a complete partial file into the files folder (atomic rename)."""
        target = self.files / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.partial / rel, target)
        fsync_dir(target.parent)


class PartWriter:
    """Appends chunks to a partial file, enforcing the flight's limit as bytes arrive."""

    def __init__(self, area: UploadArea, rel: PurePosixPath, handle: BinaryIO, start: int, total: int | None):
        self.area, self.rel, self.handle, self.total = area, rel, handle, total
        self.offset = start
        self._room = area.limit - area.used_bytes()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` (refused when the limit or the announced total would be passed)."""
        if len(chunk) > self._room:
            raise UploadTooLarge(
                f"flight {self.area.flight}: {self.rel} exceeds the upload limit of {self.area.limit} bytes"
            )
        if self.total is not None and self.offset + len(chunk) > self.total:
            raise UploadError(
                f"flight {self.area.flight}: {self.rel} is longer than its announced {self.total} bytes"
            )
        self.handle.write(chunk)
        self.offset += len(chunk)
        self._room -= len(chunk)

    def close(self, *, complete: bool) -> UploadState:
        """Flush what arrived; move the file into place when ``complete``."""
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        if complete:
            if self.total is not None and self.offset != self.total:
                raise UploadError(
                    f"flight {self.area.flight}: {self.rel} has {self.offset} of {self.total} bytes"
                )
            self.area.finalize(self.rel)
        return UploadState(self.rel.as_posix(), self.offset, complete, self.total)

    def discard(self) -> None:
        """Drop the partial file (a refused upload)."""
        self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            (self.area.partial / self.rel).unlink()


# -- zip ------------------------------------------------------------------------------------


def _check_zip_entries(
    archive: zipfile.ZipFile, source: str, *, max_total: int, max_ratio: float
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadError(f"{source}: {len(infos)} entries, more than {MAX_ZIP_ENTRIES}")
    entries, total = [], 0
    for info in infos:
        rel = safe_relative_path(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UploadError(f"{source}: {info.filename} is a symbolic link")
        if info.flag_bits & 0x1:
            raise UploadError(f"{source}: {info.filename} is encrypted")
        if info.is_dir():
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > CHUNK and ratio > max_ratio:
            raise UploadError(
                f"{source}: {info.filename} expands {ratio:.0f}x (limit {max_ratio:.0f}x): zip bomb"
            )
        total += info.file_size
        if total > max_total:
            raise UploadTooLarge(f"{source}: expands to more than {max_total} bytes: zip bomb or too large")
        entries.append((info, rel))
    return entries


def extract_zip(zip_path: Path, dest: Path, *, max_total: int, max_ratio: float = MAX_ZIP_RATIO) -> list[str]:
    """Check every entry of a zip, then extract it into ``dest``; nothing is extracted when one is refused.

    Refuses names that are absolute or leave ``dest`` (zip-slip), symbolic links,
    encrypted entries, entries expanding more than ``max_ratio`` times, and archives
    expanding past ``max_total`` — counted on the bytes actually decompressed, not
    only on the sizes the headers declare.

    Returns:
        The relative paths extracted.
    """
    source = zip_path.name
    try:
        with zipfile.ZipFile(zip_path) as archive:
            entries = _check_zip_entries(archive, source, max_total=max_total, max_ratio=max_ratio)
            staging = Path(tempfile.mkdtemp(prefix=".unzip-", dir=dest.parent))
            try:
                written = 0
                for info, rel in entries:
                    written = _extract_entry(archive, info, staging / rel, written, max_total, source)
                for _info, rel in entries:
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging / rel, dest / rel)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{source}: not a readable zip archive: {exc}") from exc
    return [rel.as_posix() for _info, rel in entries]


def _extract_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, written: int, max_total: int, source: str
) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as src, open(target, "wb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > max_total:
                raise UploadTooLarge(f"{source}: expands to more than {max_total} bytes")
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return written
