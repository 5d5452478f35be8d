"""Ingest a delivered flight folder: scan, read, check, archive or quarantine every file.

The stages of :func:`ingest_folder`, all under the flight's exclusive ingest lock
(:mod:`flights.ingest_lock`: a second ingest of the same flight waits for the first):

1. sweep temporaries of a killed run, load the previous manifest (re-ingest);
2. walk the folder (never following symlinks); files an earlier ingest archived or quarantined
   that the folder no longer holds stay where they are and in the manifest (archived ones are
   read again from the archive, so their captures stay in the Flight; flight info
   ``kept_from_earlier``), as do files a killed run committed before writing its manifest;
3. per file, in a thread pool: copy it to a staged temporary while hashing it (or, when
   the same path is already in place, only hash the source), classify it and read its
   metadata (frames: ``flights.exif``; rasters: ``flights.rasters``; control files:
   ``flights.control``);
4. decide: files that could not be read or parsed, later duplicates and control files
   naming no frame of the flight go to the quarantine; everything else to the archive;
   commit every staged copy (flush, read-only, rename);
5. image quality (reduced decode) of the archived RGB frames;
6. the problem rules of :mod:`flights.checks`; the manifest and the Flight JSON.

Archive or quarantine: the quarantine takes what cannot be used as a file at all: files that
cannot be read, empty files, non-images with image extensions, malformed metadata, undecodable
pixels, rasters without georeference, malformed control files, control files naming none of the
frames, later byte-identical duplicate frames, a changed re-delivery of an archived file (kept
as ``<name>.conflict-<sha12>``), the reserved name ``manifest.json``, and every entry that is not
a regular file (symlinks, FIFOs; reason file only). Frames that are intact but unusable for
mapping (no GPS, black, blurry, gimbal up, outside the AOI) stay in the archive: they are the
pilot's originals; their error problems make ``Capture.usable`` false.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo
from pathlib import Path, PurePosixPath

from shapely.geometry import mapping

from core.atomic import atomic_write_text
from core.errors import UsageError
from core.names import fit_path, printable
from flights import checks
from flights.aoi import load_area, load_municipality
from flights.archive import MANIFEST, Archive, copy_threads
from flights.capture_time import camera_zone
from flights.checks import FLIGHT, CheckContext
from flights.ingest_config import IngestConfig
from flights.ingest_files import Analysed, analyse, conflict_of, unread_entry
from flights.ingest_lock import flight_lock
from flights.models import (
    ArchiveEntry,
    Capture,
    ControlFile,
    DeliveredFile,
    FileKind,
    Flight,
    HeightDatums,
    Problem,
    Severity,
    load_flight,
)
from flights.quality import DEFAULT_BLUR_THRESHOLD, iter_assess
from flights.scan import ScannedFile, Skipped, scan_folder
from flights.summary import FlightSummary, summarize

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
__all__ = ["FlightSummary", "IngestConfig", "ingest_folder", "load_flight", "summarize"]


def ingest_folder(source: Path, config: IngestConfig, *, progress: Progress | None = None) -> Flight:
    """Ingest one flight folder into its archive and quarantine and return the Flight manifest.

    The source folder is only read. Rerunning on the same folder adds nothing (and says so
    with a flight-level ``nothing_new`` info); rerunning after a killed run completes it.

    Args:
        source: the delivered folder (a copy of the SD card).
        config: where the flight goes, what was declared with it and the rules' settings.
        progress: called with (done, total) as files are processed.

    Raises:
        IngestError: the folder is not a directory; AreaError for a bad AOI/municipality file;
            ArchiveError when the archive cannot be written or another process still ingests
            the flight after ``lock_timeout``; UsageError when the archive or quarantine folder
            lies inside the source folder or ``camera_timezone`` is not an IANA zone.
    """
    ctx = _context(config)
    before = _declared_before(config.flight_json)
    declared = config.captured if config.captured is not None or before is None else before.captured
    ctx = dataclasses.replace(ctx, captured=declared)
    tz = config.camera_timezone
    zone = camera_zone(tz) if isinstance(tz, str) else tz
    archive_dir, quarantine_dir = Path(config.archive_dir), Path(config.quarantine_dir)
    _check_outside(Path(source), archive_dir, quarantine_dir)
    if config.height_datum is None:
        config = config.model_copy(update={"height_datum": before.height_datum if before else HeightDatums()})
    if config.site is None and before is not None:
        config = config.model_copy(update={"site": before.site})
    with flight_lock(archive_dir, config.flight_id, timeout=config.lock_timeout):
        return _ingest_locked(Path(source), config, ctx, zone, progress)


def _declared_before(flight_json: Path | None) -> Flight | None:
    """The Flight of a previous ingest, whose declarations (datum, capture date, site) a re-ingest keeps."""
    if flight_json is None or not Path(flight_json).exists():
        return None
    return load_flight(Path(flight_json))


def _ingest_locked(
    source: Path, config: IngestConfig, ctx: CheckContext, zone: tzinfo | None, progress: Progress | None
) -> Flight:
    """Stages 1–6 of :func:`ingest_folder`, under the flight's ingest lock."""
    purpose, now, flight_id, workers = ctx.purpose, ctx.now, config.flight_id, config.workers
    archive = Archive(Path(config.archive_dir), Path(config.quarantine_dir))
    archive.open()
    previous = archive.load_manifest()
    scan = scan_folder(source)
    again, kept = _earlier(archive, scan.files, scan.skipped, previous)
    todo = scan.files + again
    done = _Counter(progress, len(todo) + len(scan.skipped))

    with ThreadPoolExecutor(max_workers=copy_threads(workers)) as pool:
        analysed = list(pool.map(lambda f: done.tick(analyse(f, archive, previous, zone)), todo))
    _assess_quality(analysed, workers, done)
    extra = _cross_file_problems(analysed)
    decisions = [(a, _quarantine_reason(a, extra.get(a.file.relpath, []))) for a in analysed]
    entries = _commit(archive, decisions, scan.skipped, previous, done)
    listed = {e.path for e in entries}
    entries += [e for e in kept if e.path not in listed]
    captures, files, control = _assemble(decisions, extra, entries)
    observed = frozenset(
        PurePosixPath(o.image).name.lower() for c in control for p in c.points for o in p.observations
    )
    ctx = dataclasses.replace(ctx, control_images=observed)
    captures = [
        c.model_copy(update={"problems": c.problems + checks.check_capture(c, ctx)}) for c in captures
    ]
    files = checks.check_rasters(files, captures, ctx)
    flight_problems = [s.problem for s in scan.skipped]
    flight_problems += checks.mixed_cameras(captures) + _reingest_note(analysed, scan.skipped, previous)
    flight_problems += _kept_note(again, kept, scan.files, source)
    flight_problems += checks.outside_summary(captures, files)
    flight = Flight(
        id=flight_id,
        source=printable(str(Path(source).resolve())),
        purpose=purpose,
        ingested_at=now,
        captures=tuple(captures),
        files=tuple(files),
        control=tuple(control),
        aoi=dict(mapping(ctx.aoi)) if ctx.aoi is not None else None,
        problems=tuple(flight_problems),
        entries=tuple(sorted(entries, key=lambda e: e.path)),
        captured=ctx.captured,
        height_datum=config.height_datum if config.height_datum is not None else HeightDatums(),
        site=config.site,
    )
    archive.write_manifest(flight_id=flight_id, source=flight.source, entries=list(flight.entries), now=now)
    if config.flight_json is not None:
        atomic_write_text(config.flight_json, flight.model_dump_json(indent=1) + "\n")
        os.chmod(config.flight_json, 0o644)
    logger.info("ingested %s: %d captures, %d other files", flight_id, len(captures), len(files))
    return flight


def _context(config: IngestConfig) -> CheckContext:
    """The rule context: areas loaded (EPSG:4326), the default blur threshold filled in."""
    aoi, town, blur = config.aoi, config.municipality, config.blur_threshold
    return CheckContext(
        purpose=config.purpose,
        now=config.now,
        blur_threshold=DEFAULT_BLUR_THRESHOLD if blur is None else blur,
        aoi=load_area(aoi) if isinstance(aoi, Path) else aoi,
        municipality=load_municipality(town) if isinstance(town, Path) else town,
    )


def _commit(
    archive: Archive,
    decisions: list[tuple[Analysed, str | None]],
    skipped: list[Skipped],
    previous: dict[str, ArchiveEntry],
    done: _Counter,
) -> list[ArchiveEntry]:
    """Commit the staged copies; record reused, superseded and unread entries."""
    entries = archive.commit_all([(a.staged, reason) for a, reason in decisions if a.staged is not None])
    for a, reason in decisions:
        if a.staged is None:
            entries.append(a.previous or archive.quarantine_unread(a.file.relpath, reason or "unreadable"))
        if a.superseded is not None:
            entries.append(a.superseded)
    for entry in skipped:
        entries.append(unread_entry(archive, entry, previous))
        done.tick(None)
    return entries


def _check_outside(source: Path, *targets: Path) -> None:
    """Refuse an archive inside the delivered folder: the source must never be modified."""
    real = source.resolve()
    for target in targets:
        if target.resolve().is_relative_to(real):
            raise UsageError(
                f"the archive folder {target} lies inside the flight folder {source}, "
                "which is never modified; use a workspace outside it (--workspace)"
            )


class _Counter:
    """Calls the progress callback (done, total) once per processed entry, from any thread."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self._lock = threading.Lock()

    def tick(self, value: Analysed | None) -> Analysed:
        with self._lock:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)
        return value  # type: ignore[return-value]


def _cross_file_problems(analysed: list[Analysed]) -> dict[str, list[Problem]]:
    """Duplicate frames (content or name), control files naming images not in the flight or pixels off them.

    Only frames are checked for duplicates: other files (world files, READMEs) legitimately
    repeat, and quarantining one would separate a raster from its world file.
    """
    extra: dict[str, list[Problem]] = {}
    frames = [(a.file.relpath, a.sha256) for a in analysed if a.capture is not None and a.error is None]
    for found_by_path in (checks.duplicates(frames), checks.duplicate_names(frames)):
        for path, found in found_by_path.items():
            extra.setdefault(path, []).append(found)
    names = {PurePosixPath(path).name for path, _ in frames}
    sizes = {
        PurePosixPath(a.file.relpath).name.lower(): (a.capture.camera.width, a.capture.camera.height)
        for a in analysed
        if a.capture is not None and a.error is None and a.capture.camera.width and a.capture.camera.height
    }
    for a in analysed:
        if a.control is not None:
            extra.setdefault(a.file.relpath, []).extend(checks.check_control(a.control, names))
            a.control, off = checks.pixels_outside(a.control, sizes)  # off-image observations rejected
            extra[a.file.relpath].extend(off)
    return extra


def _quarantine_reason(a: Analysed, extra: list[Problem]) -> str | None:
    """The reason a file goes to the quarantine, or None when it is archived."""
    if a.error is not None:
        return f"{a.error.code}: {a.error.message}"
    for found in extra:
        if found.code == "duplicate_content" or found.severity == Severity.ERROR:
            return f"{found.code}: {found.message}"
    return None


def _assemble(
    decisions: list[tuple[Analysed, str | None]],
    extra: dict[str, list[Problem]],
    entries: list[ArchiveEntry],
) -> tuple[list[Capture], list[DeliveredFile], list[ControlFile]]:
    """Archived frames become captures; everything else a DeliveredFile; archived control files parsed."""
    status = {e.path: e.status for e in entries}
    captures: list[Capture] = []
    files: list[DeliveredFile] = []
    control: list[ControlFile] = []
    for a, _reason in decisions:
        rel = a.file.relpath
        found = ((a.error,) if a.error else ()) + tuple(a.problems) + tuple(extra.get(rel, ()))
        archived = status.get(rel) == "archived"
        if a.capture is not None and archived:
            captures.append(a.capture.model_copy(update={"problems": a.capture.problems + found}))
            continue
        if a.control is not None and archived:
            control.append(a.control)
        base = a.delivered or DeliveredFile(path=rel, sha256=a.sha256, size=a.size, kind=a.kind)
        files.append(base.model_copy(update={"problems": base.problems + found}))
    return captures, files, control


def _assess_quality(analysed: list[Analysed], workers: int, done: _Counter) -> None:
    """Image quality (reduced decode, ``workers`` processes) of readable RGB frames, before the
    archive decision: a frame whose pixels cannot be decoded is quarantined as ``undecodable``."""
    todo = [a for a in analysed if a.capture is not None and a.kind == FileKind.RGB_FRAME and a.error is None]
    done.total += len(todo)
    for a, (_path, result) in zip(
        todo, iter_assess([a.file.path for a in todo], workers=workers), strict=True
    ):
        done.tick(None)
        rel = a.file.relpath
        if isinstance(result, Exception):
            msg = printable(f"{rel}: the pixels cannot be decoded: {result}")
            a.error = Problem(code="undecodable", severity=Severity.ERROR, file=rel, message=msg)
        else:
            a.capture = a.capture.model_copy(update={"quality": result}) if a.capture else None


def _earlier(
    archive: Archive, files: list[ScannedFile], skipped: list[Skipped], previous: dict[str, ArchiveEntry]
) -> tuple[list[ScannedFile], list[ArchiveEntry]]:
    """What an earlier ingest left in place that the folder no longer holds.

    Returns the archived copies to read again (from the archive) and the quarantine entries to
    keep as they are. Files in the archive or quarantine that no manifest lists (a run killed
    after committing them) count too; entries whose copy is gone are dropped.
    """
    seen = {f.relpath for f in files} | {s.relpath for s in skipped}
    again: list[ScannedFile] = []
    kept: list[ArchiveEntry] = []
    for entry in previous.values():
        if entry.path in seen or archive.existing(entry.path, previous) is None:
            continue
        if entry.status == "archived":
            again.append(_in_archive(archive, entry.path))
        else:
            kept.append(entry)
    stored = {fit_path(p) for p in seen | set(previous)}  # names in the archive (long ones shortened)
    again += [f for f in scan_folder(archive.root).files if f.relpath not in stored | {MANIFEST}]
    for found in scan_folder(archive.quarantine_root).files:
        orphan = archive.existing(found.relpath, {}) if found.relpath not in stored else None
        if orphan is not None:
            kept.append(orphan)
    return again, kept


def _in_archive(archive: Archive, relpath: str) -> ScannedFile:
    """The archived copy of ``relpath`` as a file to read."""
    path = archive.archived_path(relpath)
    st = path.stat()
    return ScannedFile(path, relpath, st.st_size, st.st_mtime)


def _kept_note(
    again: list[ScannedFile], kept: list[ArchiveEntry], files: list[ScannedFile], source: Path
) -> list[Problem]:
    """``kept_from_earlier`` when files of an earlier ingest are no longer in the folder.

    The quarantined new version of a file still delivered (``<name>.conflict-<sha>``) is not one.
    """
    seen = {f.relpath for f in files}
    count = len(again) + sum(1 for e in kept if conflict_of(e.path) not in seen)
    if not count:
        return []
    msg = (
        f"{count} files archived or quarantined by an earlier ingest of this flight are no longer in "
        f"{printable(str(source))}; they stay in the archive and in its manifest"
    )
    return [Problem(code="kept_from_earlier", severity=Severity.INFO, file=FLIGHT, message=msg)]


def _reingest_note(
    analysed: list[Analysed], skipped: list[Skipped], previous: dict[str, ArchiveEntry]
) -> list[Problem]:
    """``nothing_new`` when every entry was already in place, ``partly_archived`` when some were."""
    total = len(analysed) + len(skipped)
    reused = sum(1 for a in analysed if a.staged is None and a.previous is not None)
    reused += sum(1 for s in skipped if s.relpath in previous)
    if total == 0 or reused == 0:
        return []
    if reused == total:
        msg = f"all {total} files were already in the archive or quarantine of this flight; nothing added"
        return [Problem(code="nothing_new", severity=Severity.INFO, file=FLIGHT, message=msg)]
    msg = f"{reused} of {total} files were already archived (an earlier run); {total - reused} added now"
    return [Problem(code="partly_archived", severity=Severity.INFO, file=FLIGHT, message=msg)]
