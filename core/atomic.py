"""Atomic file writes: temporary name in the same folder, fsync, rename.

A process killed at any moment leaves either the old file or the new one, never a
half-written file. Leftover temporaries carry the ``.dronegis-tmp`` marker (at the end of their
name, or before a format suffix such as ``.gpkg``) so that a later run can sweep them.
:func:`atomic_open` is for writers that take a file object; :func:`atomic_path` for writers that
create a file by name (GDAL rasters, OGR vectors); :func:`scratch_path` for intermediate files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, Literal, overload

from core.names import fit_name

TMP_SUFFIX = ".dronegis-tmp"
FILE_MODE = 0o644
#: Bytes of the target's name kept in a temporary's name (any name length works).
TMP_NAME_BYTES = 64


def fsync_dir(folder: Path) -> None:
    """Flush a directory entry (the rename) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@overload
def atomic_open(
    path: Path, mode: Literal["wb"] = ..., *, tmp_dir: Path | None = ...
) -> AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_open(
    path: Path, mode: Literal["w"], *, tmp_dir: Path | None = ...
) -> AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(
    path: Path, mode: str, *, tmp_dir: Path | None = ...
) -> AbstractContextManager[IO[Any]]: ...


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb", *, tmp_dir: Path | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync and rename it into place.

    ``tmp_dir`` holds the temporary instead (same file system): for folders whose every name
    belongs to someone else (the archive of delivered files), where no temporary may appear.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent if tmp_dir is None else Path(tmp_dir)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f".{fit_name(path.name, TMP_NAME_BYTES)}."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=TMP_SUFFIX)
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


SIDECARS = (".aux.xml", ".ovr", "-journal", "-wal")


def _remove(tmp: Path) -> None:
    """Remove a temporary and the sidecars GDAL or SQLite may leave beside it (:data:`SIDECARS`)."""
    for leftover in (tmp, *(Path(f"{tmp}{end}") for end in SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _temporary_name(path: Path, suffix: str) -> Path:
    name = fit_name(path.name, TMP_NAME_BYTES)
    return path.parent / f".{name}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}{suffix}"


@contextlib.contextmanager
def atomic_path(path: Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that creates its file by name (GDAL, OGR).

    When the block ends without error the file is fsynced and renamed to ``path``, and the folder
    fsynced; on error (or when the writer wrote nothing) ``path`` is untouched. The temporary does not
    exist when yielded; ``suffix`` ends its name for drivers that choose the format by extension
    (``.gpkg``). The temporary and the sidecars a writer may leave (``.aux.xml``, ``.ovr``, SQLite
    journals) are always removed.

    Raises:
        FileNotFoundError: the block ended without writing the temporary.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(path, suffix)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        _remove(tmp)


@contextlib.contextmanager
def scratch_path(near: Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``near`` (same disk) for an intermediate file, removed afterwards.

    Like :func:`atomic_path` it does not exist when yielded, ``suffix`` ends its name, and leftovers
    carry :data:`TMP_SUFFIX` so :func:`sweep_temporaries` removes what a killed run left.
    """
    near = Path(near)
    near.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(near, f".scratch{suffix}")
    try:
        yield tmp
    finally:
        _remove(tmp)


def atomic_write_bytes(path: Path, data: bytes, *, tmp_dir: Path | None = None) -> None:
    """Write ``data`` to ``path`` atomically (the temporary in ``tmp_dir``, see :func:`atomic_open`)."""
    with atomic_open(path, "wb", tmp_dir=tmp_dir) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str, *, tmp_dir: Path | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (the temporary in ``tmp_dir``)."""
    atomic_write_bytes(path, text.encode("utf-8"), tmp_dir=tmp_dir)


def atomic_copy(src: Path, dst: Path, *, buffer_size: int = 1 << 20) -> None:
    """Copy ``src`` to ``dst`` atomically, preserving modification times."""
    with open(src, "rb") as source, atomic_open(dst, "wb") as target:
        shutil.copyfileobj(source, target, buffer_size)
    shutil.copystat(src, dst)


def sweep_temporaries(folder: Path) -> int:
    """Remove temporaries left by killed runs below ``folder``; return how many."""
    count = 0
    if folder.exists():
        found = {*folder.rglob(f"*{TMP_SUFFIX}"), *folder.rglob(f"*{TMP_SUFFIX}.*")}
        for tmp in sorted(found):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                count += 1
    return count
