"""Staging of uploaded flight files: upload sessions, atomic versions, a limit that holds under concurrency.

The HTTP layer (:mod:`dronegis.api.uploads`) only parses requests; everything that touches
the disk is here, testable without a server. Layout under ``Workspace.uploads/<flight>``:

- ``files/`` — complete files only (the ingest stage's source folder);
- ``partial/<id>.part`` + ``<id>.json`` — one upload session each (tus-style): bound to its
  path, its declared length (when known) and its id, so two writers never share bytes;
- ``versions/<id>/<path>`` — a file replaced explicitly by upload ``id`` (the old version kept);
- ``index.json`` — every complete file with its sha256 and size, and the versions it replaced.

A session becomes a file only when all its bytes are there (rename under the flight lock):
identical to the stored file → nothing changes (``unchanged``); new → ``stored``; different
→ ``conflict`` unless the session was opened with ``replace`` (then ``replaced``). The
flight's limit counts what is stored, kept and *reserved*: a session reserves its declared
length when it starts, or step by step as bytes arrive when no length was declared, under
the flight lock — so parallel requests can never stage more than the limit together.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from core.atomic import atomic_write_text, fsync_dir
from core.errors import UploadConflict, UploadError, UploadNotFound, UploadTooLarge
from core.workspace import Workspace
from dronegis.upload_models import (
    Checker,
    OldVersion,
    Outcome,
    StoredFile,
    UploadIndex,
    UploadSession,
    UploadState,
    now,
    sha256_of,
)
from dronegis.upload_names import check_flight_id, safe_relative_path, short
from flights.classify import classify

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
RESERVE_STEP = 8 << 20
"""Bytes reserved at a time by a session without a declared length."""


class UploadArea:
    """The staging folders of one flight, with a byte limit over everything staged.

    Args:
        workspace: the workspace.
        flight: flight id (checked).
        limit: most bytes the flight may stage (files, kept versions and open sessions).
        checker: a first look at each stored file (its kind and problems, kept in the index).
    """

    def __init__(self, workspace: Workspace, flight: str, limit: int, checker: Checker | None = None) -> None:
        self.flight = check_flight_id(flight)
        self.checker = checker
        self.files = workspace.upload(flight)
        self.partial = workspace.upload_partial(flight)
        self.versions = workspace.upload_versions(flight)
        self.index_path = workspace.upload_index(flight)
        self.limit = limit

    # -- the flight lock and the index --------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the flight's lock (index, reservations, renames into ``files/``). Never held across awaits."""
        self.partial.mkdir(parents=True, exist_ok=True)
        with open(self.partial / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def index(self) -> UploadIndex:
        """The index, reconciled with ``files/`` (a file without an entry is hashed; a lost file dropped)."""
        index = (
            UploadIndex.model_validate_json(self.index_path.read_bytes())
            if self.index_path.is_file()
            else UploadIndex()
        )
        on_disk = set(self._walk_files())
        if on_disk == set(index.files):
            return index
        files = {rel: entry for rel, entry in index.files.items() if rel in on_disk}
        for rel in on_disk - set(files):
            path = self.files / rel
            files[rel] = StoredFile(
                sha256=sha256_of(path), size=path.stat().st_size, kind=classify(path), stored_at=now()
            )
        return UploadIndex(files=dict(sorted(files.items())))

    def _walk_files(self) -> Iterator[str]:
        if self.files.is_dir():
            for path in self.files.rglob("*"):
                if path.is_file():
                    yield path.relative_to(self.files).as_posix()

    def save_index(self, index: UploadIndex) -> None:
        """Write the index atomically (call under the lock)."""
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.index_path, index.model_dump_json(indent=1))

    def completed(self) -> list[str]:
        """Relative paths of the complete files, sorted."""
        return sorted(self.index().files)

    def sessions(self) -> list[UploadSession]:
        """Every open upload session, oldest first."""
        if not self.partial.is_dir():
            return []
        found = []
        for meta in self.partial.glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                found.append(UploadSession.model_validate_json(meta.read_bytes()))
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def pending(self) -> list[str]:
        """Relative paths of unfinished uploads, sorted."""
        return sorted({s.path for s in self.sessions() if not s.archive})

    def used_bytes(self) -> int:
        """Bytes counted against the limit: complete files, kept versions and every session's reservation."""
        index = self.index()
        stored = sum(f.size + sum(v.size for v in f.versions) for f in index.files.values())
        return stored + sum(s.reserved for s in self.sessions())

    def offset(self, session: UploadSession) -> int:
        """Bytes of ``session`` stored so far."""
        part = self.part_path(session.id)
        return part.stat().st_size if part.is_file() else 0

    def state(self, name: str) -> UploadState:
        """Where the upload of ``name`` stands (the newest open session when it is not complete)."""
        rel = safe_relative_path(name).as_posix()
        stored = self.index().files.get(rel)
        if stored is not None:
            return UploadState(path=rel, offset=stored.size, complete=True, total=stored.size)
        open_ = [s for s in self.sessions() if s.path == rel]
        if not open_:
            return UploadState(path=rel, offset=0, complete=False)
        return UploadState(path=rel, offset=self.offset(open_[-1]), complete=False, total=open_[-1].length)

    # -- sessions -----------------------------------------------------------------------------

    def session(self, upload_id: str) -> UploadSession:
        """The open session ``upload_id`` (:class:`UploadNotFound` when it is unknown or finished)."""
        meta = self.meta_path(upload_id) if UPLOAD_ID.match(upload_id) else None
        if meta is None or not meta.is_file():
            raise UploadNotFound(
                f"flight {self.flight}: no open upload {short(upload_id, 70)!r}",
                key="upload.no_session",
                params={"flight": self.flight},
            )
        return UploadSession.model_validate_json(meta.read_bytes())

    def begin(
        self,
        name: str,
        *,
        length: int | None,
        sha256: str | None = None,
        replace: bool = False,
        upload_id: str | None = None,
        archive: bool = False,
    ) -> UploadSession:
        """Open a session for ``name`` (checked), reserving ``length`` bytes of the limit when declared."""
        rel = safe_relative_path(name)
        if upload_id is not None and not UPLOAD_ID.match(upload_id):
            raise UploadError(
                f"upload id {short(upload_id, 70)!r}: use 8-64 letters, digits, '_' or '-'",
                key="upload.bad_id",
            )
        with self.locked():
            if not archive:
                self.check_path(rel)
            if upload_id is not None and self.meta_path(upload_id).is_file():
                raise UploadConflict(
                    f"flight {self.flight}: upload id {upload_id} is taken",
                    key="upload.id_taken",
                    params={"file": rel.as_posix()},
                )
            reserved = self._room_for(rel.as_posix(), length or 0, 0)
            session = UploadSession(
                id=upload_id or uuid.uuid4().hex,
                path=rel.as_posix(),
                length=length,
                sha256=sha256.lower() if sha256 else None,
                replace=replace,
                reserved=reserved,
                archive=archive,
                created_at=now(),
            )
            self.part_path(session.id).touch()
            atomic_write_text(self.meta_path(session.id), session.model_dump_json())
        return session

    def reserve(self, session: UploadSession, needed: int) -> UploadSession:
        """Hold at least ``needed`` bytes for ``session`` (:class:`UploadTooLarge` past the limit)."""
        with self.locked():
            current = self.session(session.id)
            if needed <= current.reserved:
                return current
            reserved = self._room_for(current.path, needed, current.reserved, step=RESERVE_STEP)
            current = current.model_copy(update={"reserved": reserved})
            atomic_write_text(self.meta_path(current.id), current.model_dump_json())
            return current

    def _room_for(self, rel: str, needed: int, held: int, step: int = 0) -> int:
        """Bytes to reserve for ``needed`` (up to ``step`` more when there is room); call under the lock."""
        free = self.limit - (self.used_bytes() - held)
        if needed > free:
            raise UploadTooLarge(
                f"flight {self.flight}: {rel} needs {needed} bytes, {max(free, 0)} of the limit of "
                f"{self.limit} bytes are free",
                key="upload.too_large",
                params={"file": rel, "limit_bytes": self.limit, "free_bytes": max(free, 0)},
            )
        return needed + min(step, (free - needed) // 4)  # a little ahead, leaving room for others

    def drop(self, session: UploadSession) -> None:
        """Forget ``session`` and its bytes (a refused, cancelled or already-stored upload)."""
        with self.locked():
            self.meta_path(session.id).unlink(missing_ok=True)
            self.part_path(session.id).unlink(missing_ok=True)

    def commit(self, session: UploadSession) -> Outcome:
        """Turn a complete session into a file (see the module doc for the outcomes); the session ends.

        Raises:
            UploadError: the bytes are fewer than declared, or their sha256 is not the declared one.
            UploadConflict: the path is now a folder, or a folder of it is a file.
        """
        part = self.part_path(session.id)
        size = part.stat().st_size
        if session.length is not None and size != session.length:
            raise UploadError(
                f"flight {self.flight}: {session.path} has {size} of {session.length} bytes",
                key="upload.short",
                params={"file": session.path, "got_bytes": size, "total_bytes": session.length},
            )
        digest = sha256_of(part)
        if session.sha256 is not None and digest != session.sha256:
            self.drop(session)
            raise UploadError(
                f"flight {self.flight}: {session.path} has sha256 {digest}, declared {session.sha256}",
                key="upload.checksum",
                params={"file": session.path},
            )
        with self.locked():
            try:
                outcome = self._install(part, session.path, session.replace, session.id, digest)
            finally:
                self.meta_path(session.id).unlink(missing_ok=True)
                part.unlink(missing_ok=True)
        return self._look(session.path, digest, outcome)

    def commit_file(self, staged: Path, name: str, *, replace: bool, upload_id: str) -> Outcome:
        """Install a staged file (a zip entry) as ``name``, with the outcomes of :meth:`commit`."""
        digest = sha256_of(staged)
        with self.locked():
            try:
                outcome = self._install(staged, name, replace, upload_id, digest)
            finally:
                staged.unlink(missing_ok=True)
        return self._look(name, digest, outcome)

    def _look(self, name: str, digest: str, outcome: Outcome) -> Outcome:
        """Record the checker's first look at a newly stored file (outside the lock while it reads)."""
        if self.checker is None or outcome not in (Outcome.STORED, Outcome.REPLACED):
            return outcome
        path = self.files / name
        kind, problems = self.checker(path, name, digest, path.stat().st_size)
        with self.locked():
            index = self.index()
            entry = index.files.get(name)
            if entry is not None and entry.sha256 == digest:
                looked = entry.model_copy(update={"kind": kind, "problems": problems})
                self.save_index(UploadIndex(files={**index.files, name: looked}))
        return outcome

    def _install(self, part: Path, name: str, replace: bool, upload_id: str, digest: str) -> Outcome:
        """Move ``part`` into ``files/`` as ``name`` (call under the lock)."""
        rel = PurePosixPath(name)
        size = part.stat().st_size
        self.check_path(rel)
        index = self.index()
        old = index.files.get(name)
        if old is not None and old.sha256 == digest:
            return Outcome.UNCHANGED
        if old is not None and not replace:
            return Outcome.CONFLICT
        target = self.files / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        versions = old.versions if old is not None else ()
        if old is not None:
            kept = self.versions / upload_id / rel
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, kept)
            fsync_dir(kept.parent)
            versions += (
                OldVersion(
                    sha256=old.sha256,
                    size=old.size,
                    replaced_at=now(),
                    kept_as=kept.relative_to(self.versions).as_posix(),
                ),
            )
        os.replace(part, target)
        fsync_dir(target.parent)
        stored = StoredFile(
            sha256=digest, size=size, kind=classify(target), stored_at=now(), versions=versions
        )
        files = {**index.files, name: stored}
        self.save_index(UploadIndex(files=dict(sorted(files.items()))))
        return Outcome.REPLACED if old is not None else Outcome.STORED

    def check_path(self, rel: PurePosixPath) -> None:
        """Refuse a path whose folder is a stored file, or that is a folder of stored files."""
        for parent in rel.parents:
            if parent != PurePosixPath(".") and (self.files / parent).is_file():
                raise UploadConflict(
                    f"flight {self.flight}: {short(rel.as_posix())} cannot be stored: {parent} is a file",
                    key="upload.under_file",
                    params={"file": rel.as_posix(), "parent": parent.as_posix()},
                )
        if (self.files / rel).is_dir():
            raise UploadConflict(
                f"flight {self.flight}: {short(rel.as_posix())} is a folder of uploaded files",
                key="upload.is_folder",
                params={"file": rel.as_posix()},
            )

    def gone(self, session: UploadSession) -> UploadNotFound:
        """The error for a session that was cancelled or finished meanwhile."""
        return UploadNotFound(
            f"flight {self.flight}: upload {session.id} of {session.path} was cancelled or finished",
            key="upload.no_session",
            params={"flight": self.flight},
        )

    def part_path(self, upload_id: str) -> Path:
        """The bytes of upload ``upload_id``."""
        return self.partial / f"{upload_id}.part"

    def meta_path(self, upload_id: str) -> Path:
        """The session record of upload ``upload_id``."""
        return self.partial / f"{upload_id}.json"
