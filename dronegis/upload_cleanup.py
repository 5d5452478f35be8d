"""Removing what a pilot sent by mistake, and the upload sessions nobody will finish.

- :func:`remove_file` — a delivered file and its open sessions go (before finish);
- :func:`drop_orphans` — at finish, idle sessions of files already stored (a client that
  lost its connection and sent the file again) and idle zip receptions are forgotten, so a
  flight is never stuck on an upload nobody can resume; the sessions left are returned.

A session a request is writing right now is never dropped (:func:`is_idle`).
"""

from __future__ import annotations

import fcntl

from core.errors import UploadConflict, UploadNotFound
from dronegis.upload_models import UploadIndex, UploadSession, prune_empty
from dronegis.upload_names import safe_relative_path, short
from dronegis.upload_store import UploadArea


def is_idle(area: UploadArea, session: UploadSession) -> bool:
    """True when no request writes ``session`` now."""
    try:
        handle = open(area.part_path(session.id), "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return True
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


def remove_file(area: UploadArea, name: str) -> list[str]:
    """Remove the file ``name`` and its open sessions. Returns what was removed.

    Raises:
        UploadNotFound: nothing of that name was sent.
        UploadConflict: a request is writing one of its sessions now.
    """
    rel = safe_relative_path(name).as_posix()
    removed = []
    for session in area.sessions():
        if session.path == rel:
            if not is_idle(area, session):
                raise UploadConflict(
                    f"flight {area.flight}: {session.path} (upload {session.id}) is being written now",
                    key="upload.busy",
                    params={"file": session.path},
                )
            area.drop(session)
            removed.append(f"upload {session.id}")
    with area.locked():
        index = area.index()
        if rel in index.files:
            path = area.files / rel
            path.unlink(missing_ok=True)
            prune_empty(path.parent, area.files)
            area.save_index(UploadIndex(files={k: v for k, v in index.files.items() if k != rel}))
            removed.append(rel)
    if not removed:
        raise UploadNotFound(
            f"flight {area.flight}: no uploaded file {short(rel)!r}",
            key="upload.not_found",
            params={"file": rel, "flight": area.flight},
        )
    return removed


def drop_orphans(area: UploadArea) -> list[UploadSession]:
    """Forget idle sessions of paths already stored (not replacements) and idle zip receptions.

    Returns:
        The sessions left open (their files are not complete).
    """
    stored = set(area.index().files)
    left = []
    for session in area.sessions():
        orphan = session.archive or (session.path in stored and not session.replace)
        if orphan and is_idle(area, session):
            area.drop(session)
        else:
            left.append(session)
    return left
