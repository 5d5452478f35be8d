"""The pilot summary of an ingested flight (pure: computed from the Flight model)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from pydantic import Field

from core.models import Frozen
from flights.models import (
    Capture,
    DeclaredCapture,
    DeliveredFile,
    FileKind,
    Flight,
    Problem,
    Purpose,
    Severity,
)

FRAME_KINDS = (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME, FileKind.MULTISPECTRAL_FRAME)
RASTER_KINDS = (FileKind.ORTHOPHOTO, FileKind.DSM, FileKind.DTM, FileKind.ODM_OUTPUT)


class Range(Frozen):
    """Smallest and largest value of a figure over the frames."""

    min: float
    max: float


class FlightSummary(Frozen):
    """What the pilot reads after ingest (also the ``--json`` output of ``dronegis ingest``)."""

    flight_id: str
    source: str
    purpose: Purpose
    files: int = Field(description="entries of the folder (regular files and skipped entries)")
    kinds: dict[str, int] = Field(description="files per kind (frames in the archive plus other files)")
    archived: int
    quarantined: int
    nothing_new: bool = Field(description="a re-ingest that added nothing")
    frames: int = Field(description="RGB and thermal frames in the archive")
    usable_frames: int = Field(description="frames without an error problem")
    time_start: datetime | None = None
    time_end: datetime | None = None
    captured: DeclaredCapture | None = Field(None, description="capture date declared for the delivery")
    relative_altitude_m: Range | None = Field(None, description="above take-off (drone-dji:RelativeAltitude)")
    gps_altitude_m: Range | None = Field(None, description="EXIF GPS altitude")
    gsd_cm: float | None = Field(
        None, description="median estimated nadir GSD of RGB frames, H·p/f (REFERENCE §1.6)"
    )
    gsd_cm_range: Range | None = None
    rtk_fix_ratio: float | None = Field(
        None, description="share of frames with RtkFlag 50 among frames reporting it"
    )
    cameras: tuple[str, ...] = ()
    problem_counts: dict[str, int] = Field(default_factory=dict, description="per problem code")
    problems: dict[str, tuple[Problem, ...]] = Field(
        default_factory=dict, description="per file ('.' = flight)"
    )
    usable: bool
    verdict: str


def nadir_gsd_m(capture: Capture) -> float | None:
    """Estimated nadir GSD in metres: H·p/f with H = RelativeAltitude (REFERENCE §1.6).

    Uses the calibrated focal length in pixels when present (GSD = H / f_px), else the
    pixel pitch (sensor profile, or sensor width / image width) over the focal length in mm.

    Example:
        H = 100 m, 13.2 mm sensor, 5472 px, f = 8.8 mm  ->  GSD = 0.0274 m.
    """
    pos, cam = capture.position, capture.camera
    if pos is None or pos.relative_altitude_m is None or pos.relative_altitude_m <= 0:
        return None
    height = pos.relative_altitude_m
    if cam.calibrated_focal_px:
        return height / cam.calibrated_focal_px
    pitch_mm = cam.pixel_pitch_um / 1000 if cam.pixel_pitch_um else None
    if pitch_mm is None and cam.sensor_width_mm and cam.width:
        pitch_mm = cam.sensor_width_mm / cam.width
    if pitch_mm is None or not cam.focal_length_mm:
        return None
    return height * pitch_mm / cam.focal_length_mm


def summarize(flight: Flight) -> FlightSummary:
    """The pilot summary: counts, time span, altitudes, GSD, RTK ratio, cameras, problems, verdict."""
    frames = flight.frames()
    usable_frames = [c for c in frames if c.usable]
    statuses = Counter(e.status for e in flight.entries)
    kinds = Counter(str(c.kind) for c in frames) + Counter(str(f.kind) for f in flight.files)
    problems = _problems_by_file(flight)
    span = flight.time_span
    gsds = [g * 100 for c in frames if c.kind == FileKind.RGB_FRAME and (g := nadir_gsd_m(c)) is not None]
    usable_rasters = [f for f in flight.files if f.kind in RASTER_KINDS and _no_error(f.problems)]
    usable = bool(usable_frames or usable_rasters or flight.control)
    return FlightSummary(
        flight_id=flight.id,
        source=flight.source,
        purpose=flight.purpose,
        files=len(flight.entries),
        kinds=dict(sorted(kinds.items())),
        archived=statuses.get("archived", 0),
        quarantined=statuses.get("quarantined", 0),
        nothing_new=any(p.code == "nothing_new" for p in flight.problems),
        frames=len(frames),
        usable_frames=len(usable_frames),
        time_start=span[0] if span else None,
        time_end=span[1] if span else None,
        captured=flight.captured,
        relative_altitude_m=_range([c.position.relative_altitude_m for c in frames if c.position]),
        gps_altitude_m=_range([c.position.altitude_m for c in frames if c.position]),
        gsd_cm=round(statistics.median(gsds), 3) if gsds else None,
        gsd_cm_range=_range(gsds),
        rtk_fix_ratio=_rtk_ratio(frames),
        cameras=tuple(sorted({f"{c.camera.make or '?'} {c.camera.model or '?'}" for c in frames})),
        problem_counts=dict(sorted(Counter(p.code for ps in problems.values() for p in ps).items())),
        problems=problems,
        usable=usable,
        verdict=_verdict(len(frames), len(usable_frames), usable_rasters, flight),
    )


def _problems_by_file(flight: Flight) -> dict[str, tuple[Problem, ...]]:
    by_file: dict[str, list[Problem]] = {}
    owners: list[Capture | DeliveredFile] = [*flight.captures, *flight.files]
    for owner in owners:
        if owner.problems:
            by_file.setdefault(owner.path, []).extend(owner.problems)
    for p in flight.problems:
        by_file.setdefault(p.file, []).append(p)
    return {k: tuple(v) for k, v in sorted(by_file.items())}


def _no_error(problems: tuple[Problem, ...]) -> bool:
    return not any(p.severity == Severity.ERROR for p in problems)


def _range(values: Sequence[float | None]) -> Range | None:
    present = [v for v in values if v is not None]
    return Range(min=round(min(present), 3), max=round(max(present), 3)) if present else None


def _rtk_ratio(frames: tuple[Capture, ...]) -> float | None:
    flags = [c.rtk.flag for c in frames if c.rtk.flag is not None]
    return round(sum(1 for f in flags if f == 50) / len(flags), 4) if flags else None


def _verdict(frames: int, usable: int, rasters: Sequence[object], flight: Flight) -> str:
    if usable:
        return f"usable: {usable} of {frames} frames can be processed"
    if rasters:
        return f"usable: {len(rasters)} georeferenced product raster(s), no usable frame"
    if flight.control:
        return "usable: control files only (no usable frame)"
    return "nothing usable: no frame, product raster or control file could be used"
