"""Atomic file writes: temporary name in the same folder, fsync, rename.

A process killed at any moment leaves either the old file or the new one, never a
half-written file. Leftover temporaries carry the ``.dronegis-tmp`` suffix so that a
later run can sweep them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, Literal, overload

TMP_SUFFIX = ".dronegis-tmp"
FILE_MODE = 0o644


def fsync_dir(folder: Path) -> None:
    """Flush a directory entry (the rename) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@overload
def atomic_open(path: Path, mode: Literal["wb"] = ...) -> AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_open(path: Path, mode: Literal["w"]) -> AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(path: Path, mode: str) -> AbstractContextManager[IO[Any]]: ...


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    os.fchmod(fd, FILE_MODE)  # mkstemp creates 0600; products are shared with the service and GIS users
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(src: Path, dst: Path, *, buffer_size: int = 1 << 20) -> None:
    """Copy ``src`` to ``dst`` atomically, preserving modification times."""
    with open(src, "rb") as source, atomic_open(dst, "wb") as target:
        shutil.copyfileobj(source, target, buffer_size)
    shutil.copystat(src, dst)


def sweep_temporaries(folder: Path) -> int:
    """Remove temporaries left by killed runs below ``folder``; return how many."""
    count = 0
    if folder.exists():
        for tmp in folder.rglob(f"*{TMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                count += 1
    return count
