"""The immutable archive of a flight and its quarantine.

Every delivered file ends in exactly one of two places: the archive (a byte-identical,
read-only copy whose sha256 is in ``manifest.json``) or the quarantine (the copy plus
``<name>.reason.txt``; for entries that could not be read at all, only the reason file).

Copies are staged under a temporary name (``*.dronegis-tmp``), copied by the kernel
and hashed from what was written (see :func:`copy_hashed`), fsynced and renamed into place, so a run killed at
any moment leaves no half-written file. :meth:`Archive.open` sweeps the temporaries a
killed run left, and files already in place are recognised by their sha256, so the
next run completes the job without copying anything twice. The source is only read.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import hashlib
import io
import json
import logging
import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from core.atomic import TMP_SUFFIX, atomic_write_text, fsync_dir, sweep_temporaries
from core.errors import ArchiveError
from flights.models import ArchiveEntry

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REASON_SUFFIX = ".reason.txt"
BUFFER_SIZE = 4 << 20
READ_ONLY = 0o444


class Staged(NamedTuple):
    """A copy written under a temporary name, not yet committed."""

    tmp: Path
    relpath: str
    sha256: str
    size: int


_buffers = threading.local()
#: Block of one ``copy_file_range`` call, hashed back from the page cache while the next is copied.
COPY_BLOCK = 1 << 20
#: Files under this size are hashed in the copying thread: handing one small block to another
#: thread costs more than it saves.
PIPELINE_FROM = 256 << 10
#: ``copy_file_range`` refused for this pair of files: fall back to read + write.
_NO_COPY_RANGE = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF, errno.EPERM}
)
#: Errors of the destination (the archive is at fault, not the delivered file).
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _buffer(size: int) -> memoryview:
    """A per-thread reusable buffer of ``size`` bytes (allocating per small file would dominate)."""
    bufs: dict[int, bytearray] | None = getattr(_buffers, "bufs", None)
    if bufs is None:
        bufs = _buffers.bufs = {}
    if size not in bufs:
        if len(bufs) >= 2:
            bufs.clear()  # two sizes at most (copy block, hash buffer): memory stays bounded
        bufs[size] = bytearray(size)
    return memoryview(bufs[size])


@functools.cache
def _hasher() -> ThreadPoolExecutor:
    """Threads that hash one block while the copying thread copies the next (hashlib drops the GIL)."""
    return ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="sha256")


def hash_file(path: Path, *, buffer_size: int = BUFFER_SIZE) -> tuple[str, int]:
    """Return (sha256 hex, size) of a file, read once with a reusable buffer.

    Raises:
        OSError: when the file cannot be read.
    """
    digest = hashlib.sha256()
    view = _buffer(buffer_size)
    size = 0
    with open(path, "rb", buffering=0) as source:
        while n := source.readinto(view):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size


def copy_hashed(src: Path, dst: Path, *, buffer_size: int = BUFFER_SIZE) -> tuple[str, int]:
    """Copy ``src`` to the new file ``dst`` and return the sha256 and size of what was written.

    The kernel copies (``copy_file_range``: one copy between page caches, as ``cp`` does)
    in blocks of ``COPY_BLOCK``; each block is then read back from ``dst`` (from the page
    cache) and hashed in a second thread while the next block is copied, so the sha256 is
    of the bytes in the archived file and hashing overlaps the copy. Files under
    ``PIPELINE_FROM`` are hashed in this thread. Where ``copy_file_range`` is refused
    (another file system, an old kernel) each block is read into a buffer, hashed and
    written from it. The copy is not fsynced here (see :meth:`Archive.commit_all`);
    modification times are kept.

    Raises:
        ArchiveError: the copy cannot be written (disk full, ``dst`` exists): the archive is at fault.
        OSError: the source cannot be read: the delivered file is at fault.
    """
    digest = hashlib.sha256()
    with open(src, "rb", buffering=0) as source:
        st = os.fstat(source.fileno())
        if st.st_size > buffer_size:
            os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        fd = _create(dst, os.O_RDWR)
        try:
            size = _copy_kernel(source.fileno(), fd, dst, digest, expect=st.st_size)
            if size is None:
                size = _copy_buffered(source, fd, dst, digest, _buffer(buffer_size))
        finally:
            os.close(fd)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    return digest.hexdigest(), size


def _copy_kernel(src_fd: int, fd: int, dst: Path, digest: Hash, *, expect: int) -> int | None:
    """``copy_file_range`` block by block, each block hashed back from ``dst`` (for files of
    ``PIPELINE_FROM`` bytes and more in the hashing thread while the next is copied). None when
    the kernel refuses the first block (or copies nothing of a non-empty file)."""
    pipelined = expect >= PIPELINE_FROM
    view = _buffer(COPY_BLOCK)  # one block is hashed at a time: one buffer per copying thread
    pending: Future[None] | None = None
    offset = 0
    try:
        while True:
            try:
                n = os.copy_file_range(src_fd, fd, COPY_BLOCK, offset, offset)
            except OSError as exc:
                if offset == 0 and exc.errno in _NO_COPY_RANGE:
                    return None
                if exc.errno in _WRITE_ERRNOS:
                    raise ArchiveError(f"cannot write {dst}: {exc.strerror or exc}") from exc
                raise
            if n == 0:
                return None if offset == 0 and expect > 0 else offset
            if pending is not None:
                pending.result()  # blocks enter the digest in order; the buffer is free again
            if pipelined:
                pending = _hasher().submit(_hash_back, fd, offset, view[:n], digest, dst)
            else:
                _hash_back(fd, offset, view[:n], digest, dst)
            offset += n
    finally:
        if pending is not None:
            pending.result()


def _hash_back(fd: int, offset: int, view: memoryview, digest: Hash, dst: Path) -> None:
    """Read a block just written back from ``dst`` (page cache) and add it to the digest."""
    got = os.preadv(fd, [view], offset)
    if got != len(view):
        raise ArchiveError(f"{dst}: read back {got} of {len(view)} bytes written at offset {offset}")
    digest.update(view)


def _copy_buffered(source: io.FileIO, fd: int, dst: Path, digest: Hash, view: memoryview) -> int:
    """The fallback: read a block into ``view``, hash it and write it from the same buffer."""
    size = 0
    while n := source.readinto(view):
        chunk = view[:n]
        digest.update(chunk)
        _write_all(fd, chunk, dst)
        size += n
    return size


def _create(dst: Path, mode: int = os.O_WRONLY) -> int:
    try:
        return os.open(dst, mode | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ArchiveError(f"cannot create {dst}: {exc.strerror or exc}") from exc


def _write_all(fd: int, chunk: memoryview, dst: Path) -> None:
    written = 0
    try:
        while written < len(chunk):
            written += os.write(fd, chunk[written:])
    except OSError as exc:
        raise ArchiveError(f"cannot write {dst}: {exc.strerror or exc}") from exc


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
        _flush([staged.tmp for staged, _ in items])
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


def _flush(paths: list[Path]) -> None:
    """Make the data of ``paths`` durable: one ``syncfs`` of their file system, else fsync each."""
    if not paths:
        return
    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is not None and len(paths) > 1:
        fd = os.open(paths[0], os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@functools.cache
def _libc() -> object | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


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
