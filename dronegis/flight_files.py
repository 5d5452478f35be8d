"""Every delivered file of a flight as the pilot reads it: kind, status, problems and the next step.

Pure composition of what the upload store and ingest recorded (no file is opened here):

- the upload index and open sessions (:mod:`dronegis.upload_store`): ``uploading`` (not
  complete) and ``uploaded`` (complete, waiting for finish, or changed since the last ingest),
  with the problems of the first look at each file (:mod:`dronegis.upload_check`);
- the flight manifest of ingest (:class:`flights.models.Flight`): ``archived``,
  ``quarantined`` or ``not_processed`` (archived but not used by processing: videos, logs,
  other files), with the problems of the CLI summary — the same codes
  (:mod:`flights.checks`, :mod:`flights.summary`);
- the files of other flights with the same sha256 (:func:`other_flights_by_hash`).

Texts come from the message catalogue in the language asked for (``problem.<code>``,
``problem_next.<code>``, ``files.*``): short, naming the file, with the next step, sizes
humanised, never a server path. The technical message of each problem is added only for
the GIS team (``technical=True``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal, NamedTuple

from pydantic import Field

from core.i18n import Lang, has, size, text
from core.models import Frozen
from core.workspace import Workspace
from dronegis.upload_models import UploadIndex, UploadSession
from flights.models import ArchiveEntry, FileKind, Flight, Problem, Severity

FileStatus = Literal["uploading", "uploaded", "archived", "quarantined", "not_processed"]
VIDEO_EXTS = frozenset({".mp4", ".mov", ".avi", ".mts", ".m2ts", ".m4v", ".mkv", ".wmv", ".3gp"})
NOT_PROCESSED = frozenset({FileKind.OTHER, FileKind.TELEMETRY, FileKind.ODM_OUTPUT})
FLIGHT_LEVEL = "."


class ProblemOut(Frozen):
    """One problem of a file in words: the CLI's code and severity, a message and the next step."""

    code: str
    severity: Severity
    message: str
    next_step: str
    detail: str | None = Field(None, description="the technical message (GIS team only)")


class FileOut(Frozen):
    """One delivered file as the flight API and page show it."""

    path: str
    size: int = Field(description="bytes (delivered, or received so far while uploading)")
    size_text: str = Field(description="the size as people read it, e.g. 3,2 MB")
    sha256: str | None = None
    kind: str = Field(description="flights.models.FileKind value, 'video', or 'unknown' while uploading")
    kind_text: str
    status: FileStatus
    status_text: str
    problems: tuple[ProblemOut, ...] = ()
    next_step: str
    duplicate_of: tuple[str, ...] = Field((), description="'flight/path' of files with the same content")
    versions_kept: int = Field(0, description="earlier versions replaced explicitly and kept")


class FlightNotice(Frozen):
    """A flight-level warning in words (e.g. the files duplicate another flight's)."""

    code: str
    message: str
    flights: tuple[str, ...] = ()


def problem_out(p: Problem, lang: Lang, *, technical: bool) -> ProblemOut:
    """``p`` in words: ``problem.<code>`` naming the file (its name only) and ``problem_next.<code>``."""
    name = PurePosixPath(p.file).name if p.file != FLIGHT_LEVEL else ""
    key = f"problem.{p.code}" if has(f"problem.{p.code}") else "problem.unknown"
    nxt = f"problem_next.{p.code}" if has(f"problem_next.{p.code}") else "problem_next.default"
    return ProblemOut(
        code=p.code,
        severity=p.severity,
        message=text(key, lang, file=name, code=p.code),
        next_step=text(nxt, lang),
        detail=p.message if technical else None,
    )


def file_report(
    index: UploadIndex,
    sessions: Iterable[UploadSession],
    offsets: Mapping[str, int],
    manifest: Flight | None,
    duplicates: Mapping[str, tuple[str, ...]],
    lang: Lang,
    *,
    technical: bool = False,
) -> list[FileOut]:
    """Every delivered file, sorted by path (see the module doc for the statuses).

    Args:
        index: the flight's complete uploads.
        sessions: its open upload sessions.
        offsets: bytes received per session id.
        manifest: the flight after its last ingest (None before).
        duplicates: 'flight/path' of other flights' files by sha256.
        lang: language of the texts.
        technical: add each problem's technical message (GIS team).
    """
    entries = {e.path: e for e in manifest.entries} if manifest else {}
    problems = _problems_by_file(manifest) if manifest else {}
    kinds = _kinds(manifest) if manifest else {}
    out: dict[str, FileOut] = {}
    for path, entry in entries.items():
        stored = index.files.get(path)
        if stored is not None and stored.sha256 != entry.sha256:
            continue  # replaced since the last ingest: shown as uploaded below
        found = tuple(problem_out(p, lang, technical=technical) for p in problems.get(path, ()))
        found = found or _reason_problem(entry, lang, technical)
        copies = duplicates.get(entry.sha256, ())
        versions = len(stored.versions) if stored else 0
        d = _Delivered(path, entry.size, entry.sha256, _kind_name(path, kinds.get(path)), copies, versions)
        out[path] = _file(d, _archived_status(entry, kinds.get(path)), found, lang)
    for path, stored in index.files.items():
        if path not in out:
            looked = tuple(problem_out(p, lang, technical=technical) for p in stored.problems)
            copies = duplicates.get(stored.sha256, ())
            kind = _kind_name(path, stored.kind)
            d = _Delivered(path, stored.size, stored.sha256, kind, copies, len(stored.versions))
            out[path] = _file(d, "uploaded", looked, lang)
    for session in sessions:
        if session.path not in out and not session.archive:
            d = _Delivered(session.path, offsets.get(session.id, 0), None, "unknown")
            out[session.path] = _file(d, "uploading", (), lang)
    return [out[path] for path in sorted(out)]


def flight_problems(manifest: Flight | None, lang: Lang, *, technical: bool = False) -> list[ProblemOut]:
    """Problems of the flight as a whole (mixed cameras, frames outside the municipality …)."""
    if manifest is None:
        return []
    return [problem_out(p, lang, technical=technical) for p in manifest.problems if p.file == FLIGHT_LEVEL]


def duplicate_notices(duplicates: Iterable[tuple[str, ...]], lang: Lang) -> list[FlightNotice]:
    """One notice per other flight holding files with the same content, naming it and the count.

    Args:
        duplicates: per file of this flight, the 'flight/path' of files with its content elsewhere.
        lang: language of the message.
    """
    counts: dict[str, int] = {}
    for where in duplicates:
        for other in {d.split("/", 1)[0] for d in where}:
            counts[other] = counts.get(other, 0) + 1
    return [
        FlightNotice(
            code="duplicate_of_flight",
            message=text("flight.duplicate_of", lang, n=n, other=other),
            flights=(other,),
        )
        for other, n in sorted(counts.items())
    ]


class _Delivered(NamedTuple):
    """What is known of a delivered file before its status: name, bytes, content, kind, copies, versions."""

    path: str
    size: int
    sha256: str | None
    kind: str
    duplicate_of: tuple[str, ...] = ()
    versions: int = 0


def _file(d: _Delivered, status: FileStatus, problems: tuple[ProblemOut, ...], lang: Lang) -> FileOut:
    return FileOut(
        path=d.path,
        size=d.size,
        size_text=size(d.size, lang),
        sha256=d.sha256,
        kind=d.kind,
        kind_text=text(f"filekind.{d.kind}", lang) if has(f"filekind.{d.kind}") else d.kind,
        status=status,
        status_text=text(f"files.status.{status}", lang),
        problems=problems,
        next_step=_next_step(status, d.kind, problems, lang),
        duplicate_of=d.duplicate_of,
        versions_kept=d.versions,
    )


def _next_step(status: FileStatus, kind: str, problems: tuple[ProblemOut, ...], lang: Lang) -> str:
    errors = [p for p in problems if p.severity == Severity.ERROR]
    if errors:
        return errors[0].next_step
    if status == "quarantined":
        return text("files.next.quarantined", lang)
    if kind == "video" and status in ("uploaded", "not_processed"):
        return text("files.next.video", lang)
    if status == "not_processed":
        return text("files.next.not_processed", lang)
    if status in ("uploaded", "uploading"):
        return text(f"files.next.{status}", lang)
    warnings = [p for p in problems if p.severity == Severity.WARNING]
    return warnings[0].next_step if warnings else text("files.next.ok", lang)


def _archived_status(entry: ArchiveEntry, kind: FileKind | None) -> FileStatus:
    if entry.status == "quarantined":
        return "quarantined"
    return "not_processed" if kind is None or kind in NOT_PROCESSED else "archived"


def _kind_name(path: str, kind: FileKind | None) -> str:
    if PurePosixPath(path).suffix.lower() in VIDEO_EXTS and kind in (None, FileKind.OTHER):
        return "video"
    return kind.value if kind is not None else "unknown"


def _reason_problem(entry: ArchiveEntry, lang: Lang, technical: bool) -> tuple[ProblemOut, ...]:
    """A quarantined file without a recorded problem: its reason's code (``code: message``)."""
    if entry.status != "quarantined" or not entry.reason:
        return ()
    code, _, message = entry.reason.partition(":")
    p = Problem(code=code.strip(), severity=Severity.ERROR, file=entry.path, message=message.strip())
    return (problem_out(p, lang, technical=technical),)


def _problems_by_file(flight: Flight) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = {}
    for capture in flight.captures:
        found.setdefault(capture.path, []).extend(capture.problems)
    for file in flight.files:
        found.setdefault(file.path, []).extend(file.problems)
    for p in flight.problems:
        if p.file != FLIGHT_LEVEL:
            found.setdefault(p.file, []).append(p)
    return found


def _kinds(flight: Flight) -> dict[str, FileKind]:
    kinds = {c.path: c.kind for c in flight.captures}
    kinds.update({f.path: f.kind for f in flight.files})
    kinds.update({c.path: FileKind.CONTROL for c in flight.control})
    return kinds


# -- other flights with the same content -------------------------------------------------------


def other_flights_by_hash(
    workspace: Workspace, flight: str, hashes: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """'flight/path' of the files of *other* flights (uploads and ingested archives) with these sha256."""
    wanted = set(hashes)
    found: dict[str, set[str]] = {}
    for other, pairs in _all_flight_hashes(workspace):
        if other == flight:
            continue
        for sha, path in pairs:
            if sha in wanted:
                found.setdefault(sha, set()).add(f"{other}/{path}")
    return {sha: tuple(sorted(where)) for sha, where in found.items()}


def _all_flight_hashes(workspace: Workspace) -> Iterable[tuple[str, tuple[tuple[str, str], ...]]]:
    if workspace.uploads.is_dir():
        for index in sorted(workspace.uploads.glob("*/index.json")):
            yield index.parent.name, _hashes(index, *_stamp(index), uploaded=True)
    for flight in workspace.flights():
        path = workspace.flight_json(flight)
        yield flight, _hashes(path, *_stamp(path), uploaded=False)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return 0, 0
    return info.st_mtime_ns, info.st_size


@lru_cache(maxsize=256)
def _hashes(path: Path, mtime_ns: int, nbytes: int, *, uploaded: bool) -> tuple[tuple[str, str], ...]:
    """(sha256, path) of an upload index or a flight manifest, cached while the file is unchanged."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return ()
    if uploaded:
        return tuple((f["sha256"], p) for p, f in (data.get("files") or {}).items())
    return tuple((e["sha256"], e["path"]) for e in data.get("entries") or () if e.get("status") == "archived")
