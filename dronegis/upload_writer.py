"""Writing one request's bytes into an upload session: locked, within its length and the flight's limit."""

from __future__ import annotations

import fcntl
import os
from typing import BinaryIO

from core.errors import UploadConflict, UploadError
from dronegis.upload_models import Outcome, UploadSession
from dronegis.upload_store import UploadArea


def open_writer(area: UploadArea, session: UploadSession, *, start: int) -> SessionWriter:
    """A writer of ``session`` from byte ``start`` (its stored offset, or 0 to restart it).

    The session's bytes are locked while a request writes them: a second writer of the
    same session gets :class:`UploadConflict` and cannot change a byte of the first's.
    """
    try:
        handle = os.fdopen(os.open(area.part_path(session.id), os.O_RDWR), "r+b")
    except FileNotFoundError:
        raise area.gone(session) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UploadConflict(
            f"flight {area.flight}: {session.path} (upload {session.id}) is being written now",
            key="upload.busy",
            params={"file": session.path},
        ) from None
    offset = os.fstat(handle.fileno()).st_size
    if not area.meta_path(session.id).is_file():
        handle.close()
        raise area.gone(session)
    if start not in (offset, 0):
        handle.close()
        raise UploadConflict(
            f"flight {area.flight}: {session.path} resumes at byte {offset}, not {start}",
            key="upload.offset",
            params={"file": session.path, "offset": offset, "start": start},
        )
    handle.truncate(start)
    handle.seek(start)
    return SessionWriter(area, session, handle, start)


class SessionWriter:
    """Writes one request's bytes into a session, within its declared length and the flight's limit."""

    def __init__(self, area: UploadArea, session: UploadSession, handle: BinaryIO, start: int) -> None:
        self.area, self.session, self.handle = area, session, handle
        self.offset = start

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` (refused past the declared length or the flight's limit)."""
        end = self.offset + len(chunk)
        length = self.session.length
        if length is not None and end > length:
            raise UploadError(
                f"flight {self.area.flight}: {self.session.path} is longer than its declared {length} bytes",
                key="upload.longer",
                params={"file": self.session.path, "total_bytes": length},
            )
        if end > self.session.reserved:
            self.session = self.area.reserve(self.session, end)
        self.handle.write(chunk)
        self.offset = end

    def close(self) -> int:
        """Flush and unlock what arrived (the session stays open for a resume); returns the offset."""
        if not self.handle.closed:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
        return self.offset

    def complete(self) -> Outcome:
        """Flush, then turn the session into a file (:meth:`UploadArea.commit`)."""
        self.handle.flush()
        os.fsync(self.handle.fileno())
        try:
            return self.area.commit(self.session)
        finally:
            self.handle.close()

    def discard(self) -> None:
        """Drop the session (a refused upload)."""
        self.handle.close()
        self.area.drop(self.session)
