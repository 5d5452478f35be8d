"""One ingest per flight at a time: an exclusive ``flock`` on ``<archive_dir>.lock``.

Two ingests of the same flight (a pilot re-running the command, the service and the CLI)
must not interleave their staging, commits and manifest writes. :func:`flight_lock` takes an
exclusive advisory lock on a lock file next to the archive folder (``archive/<flight>.lock``,
outside the archive so it never appears in it) for the whole ingest. A second ingest waits,
saying so on the log (stderr in the CLI), and gives up with :class:`ArchiveError` after
``timeout`` seconds. The lock file is left in place: deleting it would let a third process
lock a fresh inode while the second still holds the old one. The kernel drops the lock when
the holder exits, even when it is killed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import ArchiveError

logger = logging.getLogger(__name__)

#: Default wait for another ingest of the same flight to finish, in seconds.
DEFAULT_LOCK_TIMEOUT = 600.0
#: How often a waiting ingest retries the lock, in seconds.
POLL_INTERVAL = 0.2


def lock_path(archive_dir: Path) -> Path:
    """``<archive_dir>.lock``: the lock file of one flight, beside its archive folder."""
    return archive_dir.with_name(archive_dir.name + ".lock")


@contextmanager
def flight_lock(
    archive_dir: Path, flight_id: str, *, timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[Path]:
    """Hold the exclusive ingest lock of one flight for the duration of the ``with`` block.

    Args:
        archive_dir: The flight's archive folder (its parent is created if missing).
        flight_id: Named in the messages.
        timeout: Seconds to wait for another ingest of the flight; 0 fails at once.

    Yields:
        The lock file's path.

    Raises:
        ArchiveError: The lock file cannot be opened, or another process still ingests the
            flight after ``timeout`` seconds.
    """
    path = lock_path(Path(archive_dir))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise ArchiveError(f"cannot open the ingest lock {path}: {exc.strerror or exc}") from exc
    try:
        _acquire(fd, path, flight_id, timeout)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, flight_id: str, timeout: float) -> None:
    """Take the lock, waiting up to ``timeout`` seconds (logged once when it has to wait)."""
    deadline = time.monotonic() + max(0.0, timeout)
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        except OSError as exc:
            raise ArchiveError(f"cannot lock {path}: {exc.strerror or exc}") from exc
        else:
            if waited:
                logger.warning("flight %s: the other ingest finished; continuing", flight_id)
            return
        if time.monotonic() >= deadline:
            raise ArchiveError(
                f"flight {flight_id} is being ingested by another process "
                f"(lock {path} still held after {timeout:g} s); try again when it has finished"
            )
        if not waited:
            logger.warning(
                "flight %s is being ingested by another process; waiting up to %g s for it (lock %s)",
                flight_id,
                timeout,
                path,
            )
            waited = True
        time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
