"""Per-file work of ingest: stage (copy + hash) one file, classify it and read what it is.

Everything a single file can go wrong with becomes a file-level ``Problem`` here
(``empty_file``, ``unreadable``, ``not_an_image``, ``metadata_error``, ``implausible_size``,
``raster_error``, ``control_error``, ``archive_conflict``, ``changed_during_copy``); nothing
raises, so the rest of the flight goes on. A file that changes while it is copied is copied again
(``COPY_ATTEMPTS`` in all); still changing, its last copy is quarantined. Messages hold no raw
bytes of a name that is not UTF-8 (:func:`core.names.printable`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path, PurePosixPath

from core.errors import ArchiveError, ControlFileError, ImplausibleImageError, MetadataError
from core.names import printable
from flights.archive import MANIFEST, Archive, Staged
from flights.classify import classify
from flights.control import read_control_file
from flights.exif import DEFAULT_LOCAL_TZ, read_capture
from flights.hashcopy import hash_file
from flights.models import ArchiveEntry, Capture, ControlFile, DeliveredFile, FileKind, Problem, Severity
from flights.rasters import read_raster
from flights.scan import ScannedFile, Skipped

logger = logging.getLogger(__name__)

FRAME_KINDS = (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME, FileKind.MULTISPECTRAL_FRAME)
RASTER_KINDS = (FileKind.ORTHOPHOTO, FileKind.DSM, FileKind.DTM)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".tif", ".tiff", ".png", ".dng"})
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: Copies of a file that keeps changing before its last copy is quarantined.
COPY_ATTEMPTS = 3
_CONFLICT = re.compile(r"(.+)\.conflict-[0-9a-f]{12}", re.DOTALL)


@dataclass
class Analysed:
    """What ingest learned about one regular file."""

    file: ScannedFile
    kind: FileKind = FileKind.OTHER
    sha256: str = ""
    size: int = 0
    staged: Staged | None = None
    previous: ArchiveEntry | None = None
    superseded: ArchiveEntry | None = None  # the older archived version when the file changed
    capture: Capture | None = None
    delivered: DeliveredFile | None = None
    control: ControlFile | None = None
    error: Problem | None = None
    problems: list[Problem] = field(default_factory=list)


def analyse(
    file: ScannedFile,
    archive: Archive,
    previous: dict[str, ArchiveEntry],
    local_tz: tzinfo | None = None,
) -> Analysed:
    """Stage or recognise one file, classify it and read its metadata. Never raises for bad input.

    ``local_tz`` is the zone assumed for capture times without an offset (default
    ``flights.exif.DEFAULT_LOCAL_TZ``).
    """
    result = Analysed(file=file)
    rel = file.relpath
    if file.name_escaped:
        msg = f"{rel}: the file name is not valid UTF-8; archived under the escaped name"
        result.problems.append(_problem("name_not_utf8", Severity.WARNING, rel, msg))
    try:
        _stage(result, archive, previous)
    except ArchiveError:
        raise  # the archive side failed (disk full...): stop, the next run completes the job
    except OSError as exc:
        result.error = _problem(
            "unreadable", Severity.ERROR, rel, f"{rel} cannot be read: {exc.strerror or exc}"
        )
        return result
    if result.error is not None:
        return result
    if rel == MANIFEST:
        msg = f"{rel}: name reserved for the archive manifest; the file is kept unchanged in quarantine"
        result.error = _problem("reserved_name", Severity.ERROR, rel, msg)
        return result
    if result.size == 0:
        result.error = _problem("empty_file", Severity.ERROR, rel, f"{rel} is empty (0 bytes)")
        return result
    _read(result, local_tz)
    return result


def _stage(result: Analysed, archive: Archive, previous: dict[str, ArchiveEntry]) -> None:
    """Copy to a staged temporary while hashing, or only hash when the path is already in place."""
    rel = result.file.relpath
    prior = archive.existing(rel, previous)
    if prior is None:
        _copy(result, archive, rel)
        return
    result.sha256, result.size = hash_file(result.file.path)
    if not prior.sha256 or prior.sha256 == result.sha256:
        result.previous = prior
        return
    # Changed since it was archived: the archived copy is never overwritten; the new bytes go to
    # the quarantine under a name carrying their hash, so nothing delivered is lost.
    alt = conflict_name(rel, result.sha256)
    result.superseded = prior
    result.previous = archive.existing(alt, previous)
    if result.previous is None and _copy(result, archive, alt):
        return
    msg = (
        f"{rel} differs from the copy already {prior.status} for this flight "
        f"(sha256 {result.sha256[:12]}… vs {prior.sha256[:12]}…); the archive is never overwritten: "
        f"the new version is quarantined as {PurePosixPath(alt).name}; "
        "ingest a new delivery under a new --flight-id"
    )
    result.error = _problem("archive_conflict", Severity.ERROR, rel, msg)


def conflict_name(relpath: str, sha256: str) -> str:
    """The path a changed re-delivery of ``relpath`` is quarantined under."""
    return f"{relpath}.conflict-{sha256[:12]}"


def conflict_of(relpath: str) -> str | None:
    """The delivered path a conflict copy (:func:`conflict_name`) stands for, else None."""
    found = _CONFLICT.fullmatch(relpath)
    return found.group(1) if found else None


def _copy(result: Analysed, archive: Archive, relpath: str) -> bool:
    """Stage a copy of the file under ``relpath``; True when it kept changing (then an error is set)."""
    for _ in range(COPY_ATTEMPTS):
        staged = archive.stage(result.file.path, relpath)
        result.staged, result.sha256, result.size = staged, staged.sha256, staged.size
        if staged.changed is None:
            return False
        logger.info("%s %s; copying it again", printable(result.file.relpath), staged.changed)
        archive.discard(staged)
    result.staged = archive.stage(result.file.path, relpath)
    result.sha256, result.size = result.staged.sha256, result.staged.size
    if result.staged.changed is None:
        return False
    rel = result.file.relpath
    msg = (
        f"{rel} {result.staged.changed} (after {COPY_ATTEMPTS + 1} copies); the last copy is kept in "
        "quarantine: deliver the file again once it is complete"
    )
    result.error = _problem("changed_during_copy", Severity.ERROR, rel, msg)
    return True


def _read(result: Analysed, local_tz: tzinfo | None = None) -> None:
    """Classify and read the metadata of a staged file; errors become the file's error problem."""
    f, rel = result.file, result.file.relpath
    try:
        result.kind = classify(f.path)
        if result.kind in FRAME_KINDS:
            result.capture = read_capture(
                f.path,
                rel,
                sha256=result.sha256,
                size=result.size,
                kind=result.kind,
                local_tz=local_tz or DEFAULT_LOCAL_TZ,
            )
        elif result.kind in RASTER_KINDS:
            zone = local_tz or DEFAULT_LOCAL_TZ  # for a TIFF DateTime without offset, as for frames
            result.delivered = read_raster(
                f.path, rel, sha256=result.sha256, size=result.size, kind=result.kind, zone=zone
            )
        elif result.kind == FileKind.CONTROL:
            result.control = read_control_file(f.path, rel)
        elif f.path.suffix.lower() in IMAGE_SUFFIXES:
            _probe_image(result)
    except ControlFileError as exc:
        result.error = _problem("control_error", Severity.ERROR, rel, _named(rel, exc))
    except ImplausibleImageError as exc:
        result.error = _problem("implausible_size", Severity.ERROR, rel, _named(rel, exc))
    except MetadataError as exc:
        code = "raster_error" if result.kind in RASTER_KINDS else "metadata_error"
        result.error = _problem(code, Severity.ERROR, rel, _named(rel, exc))
    except Exception as exc:  # a reader bug or a library error must not stop the flight
        logger.warning("reading %s failed unexpectedly", rel, exc_info=True)
        result.error = _problem("metadata_error", Severity.ERROR, rel, f"{rel}: {type(exc).__name__}: {exc}")


def _probe_image(result: Analysed) -> None:
    """A file with an image extension that classify left as OTHER: is it an image at all?

    A TIFF is probed with the frame reader (absurd dimensions, broken IFDs raise); anything
    without a JPEG/TIFF/PNG signature is refused as ``not_an_image``.
    """
    f, rel = result.file, result.file.relpath
    with open(f.path, "rb") as handle:
        head = handle.read(8)
    if head[:4] in TIFF_MAGICS:
        read_capture(f.path, rel, sha256=result.sha256, size=result.size, kind=FileKind.RGB_FRAME)
    elif not (head[:3] == b"\xff\xd8\xff" or head == b"\x89PNG\r\n\x1a\n"):
        msg = f"{rel} has an image extension but is not a JPEG, TIFF or PNG (starts with {head[:8]!r})"
        result.error = _problem("not_an_image", Severity.ERROR, rel, msg)


def unread_entry(archive: Archive, skipped: Skipped, previous: dict[str, ArchiveEntry]) -> ArchiveEntry:
    """The quarantine entry of an entry whose bytes are not read (symlink, FIFO, unlistable folder)."""
    prior = archive.existing(skipped.relpath, previous) if skipped.relpath in previous else None
    if prior is not None and prior.status == "quarantined" and not prior.sha256:
        return prior
    reason = f"{skipped.problem.code}: {skipped.problem.message}"
    return archive.quarantine_unread(skipped.relpath, reason)


def _named(rel: str, exc: Exception) -> str:
    text = printable(str(exc))
    return text if rel in text or Path(rel).name in text else f"{rel}: {text}"


def _problem(code: str, severity: Severity, file: str, message: str) -> Problem:
    return Problem(code=code, severity=severity, file=file, message=printable(message))
