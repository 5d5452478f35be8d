"""Hashed copies: the kernel copies, the sha256 is of what was written.

:func:`copy_hashed` copies with ``copy_file_range`` block by block and hashes each block back
from the destination (in a second thread while the next block is copied); :func:`hash_file`
hashes a file once; :func:`make_durable` flushes many written files with one ``syncfs``. Used by
the archive (:mod:`flights.archive`) and the records room.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import hashlib
import io
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ArchiveError

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

BUFFER_SIZE = 4 << 20
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


def make_durable(paths: list[Path]) -> None:
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
