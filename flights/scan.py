"""Walk a delivered flight folder without following symlinks.

The walk lists every regular file (hidden ones included) and records as problems
whatever it refuses to read: symlinks (inside links, links pointing outside the
folder, broken links and loops), special files (FIFOs, sockets, devices) and folders
it cannot list. It reads no file contents, so it is fast on folders of many files.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import NamedTuple

from core.errors import IngestError
from flights.models import Problem, Severity

logger = logging.getLogger(__name__)


class ScannedFile(NamedTuple):
    """One regular file of the folder.

    Example:
        >>> ScannedFile(Path("/f/a.jpg"), "a.jpg", 10, 1.7e9).relpath
        'a.jpg'
    """

    path: Path
    relpath: str
    size: int
    mtime: float
    name_escaped: bool = False


class Skipped(NamedTuple):
    """An entry the walk did not read (symlink, special file, unlistable folder)."""

    path: Path
    relpath: str
    problem: Problem
    link_target: str | None = None


class ScanResult(NamedTuple):
    """Regular files (sorted by relative path) and entries that were not read."""

    files: list[ScannedFile]
    skipped: list[Skipped]


def scan_folder(root: Path) -> ScanResult:
    """List every regular file below ``root``, never following symlinks.

    Args:
        root: the delivered flight folder.

    Returns:
        The regular files, sorted by POSIX relative path, and the skipped entries,
        each with a problem whose code starts with ``symlink_`` or is ``unreadable``.

    Raises:
        IngestError: when ``root`` is not a readable folder.
    """
    root = Path(root)
    if root.is_symlink() or not root.is_dir():
        raise IngestError(f"flight folder {root} is not a directory")
    real_root = root.resolve()
    files: list[ScannedFile] = []
    skipped: list[Skipped] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            rel = _relpath(root, folder)
            skipped.append(
                Skipped(folder, rel, _problem("unreadable", rel, f"folder {rel} cannot be listed: {exc}"))
            )
            continue
        for entry in entries:
            _visit(entry, root, real_root, files, skipped, stack)
    files.sort(key=lambda f: f.relpath)
    skipped.sort(key=lambda s: s.relpath)
    logger.debug("scanned %s: %d files, %d skipped", root, len(files), len(skipped))
    return ScanResult(files, skipped)


def _visit(
    entry: os.DirEntry[str],
    root: Path,
    real_root: Path,
    files: list[ScannedFile],
    skipped: list[Skipped],
    stack: list[Path],
) -> None:
    rel = _relpath(root, entry.path)
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError as exc:
        skipped.append(
            Skipped(Path(entry.path), rel, _problem("unreadable", rel, f"{rel} cannot be examined: {exc}"))
        )
        return
    if stat.S_ISREG(st.st_mode):
        escaped = "\\x" in rel and _not_utf8(entry.path)
        files.append(ScannedFile(Path(entry.path), rel, st.st_size, st.st_mtime, escaped))
    elif stat.S_ISDIR(st.st_mode):
        stack.append(Path(entry.path))
    elif stat.S_ISLNK(st.st_mode):
        skipped.append(_symlink(Path(entry.path), rel, real_root))
    else:
        what = _special_kind(st.st_mode)
        problem = _problem("unreadable", rel, f"{rel} is a {what}, not a regular file")
        skipped.append(Skipped(Path(entry.path), rel, problem))


def _symlink(path: Path, rel: str, real_root: Path) -> Skipped:
    """Classify a symlink: loop, broken, outside the folder, or inside (all not followed)."""
    target = os.readlink(path)
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:
        return Skipped(
            path, rel, _problem("symlink_loop", rel, f"{rel} is a symlink loop (-> {target})"), target
        )
    except OSError as exc:
        code = "symlink_loop" if exc.errno == 40 else "symlink_broken"
        text = "a symlink loop" if code == "symlink_loop" else "a broken symlink"
        return Skipped(path, rel, _problem(code, rel, f"{rel} is {text} (-> {target}); not followed"), target)
    if not resolved.is_relative_to(real_root):
        message = f"{rel} is a symlink pointing outside the flight folder (-> {target}); not followed"
        return Skipped(path, rel, _problem("symlink_outside", rel, message), target)
    message = (
        f"{rel} is a symlink inside the flight folder (-> {target}); not followed, the target is ingested"
    )
    return Skipped(path, rel, _problem("symlink_inside", rel, message, Severity.WARNING), target)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _relpath(root: Path, path: str | Path) -> str:
    """POSIX relative path; bytes that are not UTF-8 are shown as ``\\xNN`` escapes."""
    prefix = os.fspath(root).rstrip("/") + "/"
    text = os.fspath(path)
    rel = text[len(prefix) :] if text.startswith(prefix) else Path(text).relative_to(root).as_posix()
    if not rel or rel == ".":
        return "."
    if rel.isascii():
        return rel
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def _not_utf8(path: str) -> bool:
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _problem(code: str, rel: str, message: str, severity: Severity = Severity.ERROR) -> Problem:
    return Problem(code=code, severity=severity, file=rel, message=message)
