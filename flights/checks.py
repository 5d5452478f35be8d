"""The problem rules of ingest: each a stable code, a severity and a message naming the file.

Pure functions over frozen models: no file I/O, the clock and the areas are passed in.

Codes (stable, used by the API, the QA report and the tests):

=======================  ========  ===============================================================
code                     severity  rule
=======================  ========  ===============================================================
no_gps                   error     a frame without EXIF/XMP position (warning when a control file observes it)
invalid_coordinates      error     \\|lat\\| > 90, \\|lon\\| > 180, not finite, or exactly 0,0
gimbal_above_horizon     error     gimbal pitch >= 0 (-90 = nadir) on a mapping flight
gimbal_near_horizon      warning   gimbal pitch above ``NEAR_HORIZON_DEG`` on a mapping flight
gimbal_missing           warning   a DJI frame without gimbal pitch on a mapping flight
black_frame              error     lens cap / black frame (``flights.quality.is_black``)
underexposed             warning   strongly underexposed (``flights.quality.exposure``)
overexposed              warning   strongly overexposed (``flights.quality.exposure``)
blurry                   warning   variance of the Laplacian below the (configurable) threshold
outside_aoi              warning   frame position outside the AOI polygon
outside_municipality     warning   frame position or raster footprint outside the municipality
raster_undated           warning   a delivered raster without capture date: none in its metadata, no dated
                                   frames and no ``--captured`` declaration (its products are "capture date
                                   unknown" and are not published until a date is declared)
rtk_not_fixed            warning   RtkFlag present and not 50
time_missing             warning   no capture time
time_implausible         warning   a recorded time that is no date, or that UTC cannot hold (year 9999 west of
                                   Greenwich): the frame is kept without a time
time_in_future           warning   capture time after ``now`` (14 h slack when the offset is unknown)
duplicate_content        warning   a frame with the sha256 of an earlier frame (the later one is quarantined)
duplicate_name           warning   a frame with the same file name in another folder, different content
mixed_cameras            warning   RGB frames from more than one camera (flight level)
control_unknown_image    warning   a control file names images that are not frames of the flight (info when
                                   the delivery has no frames at all: the coordinates stay usable)
control_no_image         error     the flight has frames but none of those a control file names
control_pixel_outside    warning   pixel observations off their image (frame size known): those observations
                                   are rejected, the rest of the control file is used
=======================  ========  ===============================================================

Ingest adds file-level codes before these rules run: ``empty_file``, ``unreadable``,
``not_an_image``, ``metadata_error``, ``undecodable``, ``raster_error``, ``control_error``, ``symlink_loop``,
``symlink_outside``, ``symlink_broken``, ``symlink_inside``, ``name_not_utf8``, ``reserved_name``,
``archive_conflict``, ``implausible_size`` (a header announcing more pixels than a camera frame has:
never decoded), ``changed_during_copy``, and the flight-level ``kept_from_earlier``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

import shapely
from shapely.geometry.base import BaseGeometry

from flights.capture_time import IMPLAUSIBLE
from flights.models import (
    Capture,
    ControlFile,
    DeclaredCapture,
    DeliveredFile,
    FileKind,
    Problem,
    Purpose,
    Severity,
)
from flights.pixels import inside
from flights.quality import exposure, is_black, is_blurry
from flights.raster_time import CREATION

FLIGHT = "."
NEAR_HORIZON_DEG = -15.0
FUTURE_SLACK = timedelta(minutes=5)
FUTURE_SLACK_UNKNOWN_OFFSET = timedelta(hours=14)
MAPPING_PURPOSES = frozenset({Purpose.SURVEY, Purpose.NATURE_MONITORING, Purpose.OTHER})


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the rules need besides the capture: purpose, clock, thresholds and areas (EPSG:4326)."""

    purpose: Purpose
    now: datetime
    blur_threshold: float
    aoi: BaseGeometry | None = None
    municipality: BaseGeometry | None = None
    control_images: frozenset[str] = frozenset()  # lower-case names observed in the control files
    captured: DeclaredCapture | None = None  # the delivery's declared capture date (--captured)

    @property
    def mapping(self) -> bool:
        """True for flights whose frames should look down (everything but building inspection)."""
        return self.purpose in MAPPING_PURPOSES


def problem(code: str, severity: Severity, file: str, message: str) -> Problem:
    """Shorthand for a ``Problem``."""
    return Problem(code=code, severity=severity, file=file, message=message)


def check_capture(capture: Capture, ctx: CheckContext) -> tuple[Problem, ...]:
    """Every per-frame rule for one capture (position, gimbal, time, RTK, quality, areas)."""
    found = [*_position(capture, ctx), *_gimbal(capture, ctx), *_time(capture, ctx), *_rtk(capture)]
    if capture.kind == FileKind.RGB_FRAME:
        found.extend(_quality(capture, ctx))
    return tuple(found)


def valid_position(capture: Capture) -> bool:
    """True when the capture has a finite, plausible, non-0,0 position."""
    pos = capture.position
    if pos is None or not (math.isfinite(pos.lat) and math.isfinite(pos.lon)):
        return False
    return abs(pos.lat) <= 90 and abs(pos.lon) <= 180 and not (pos.lat == 0 and pos.lon == 0)


def _position(capture: Capture, ctx: CheckContext) -> list[Problem]:
    f, pos = capture.path, capture.position
    if pos is None:
        if PurePosixPath(f).name.lower() in ctx.control_images:
            msg = f"{f} has no GPS position; it is observed in a control file, so GCPs can place it"
            return [problem("no_gps", Severity.WARNING, f, msg)]
        return [problem("no_gps", Severity.ERROR, f, f"{f} has no GPS position")]
    if not valid_position(capture):
        msg = f"{f} has invalid coordinates lat={pos.lat}, lon={pos.lon}"
        return [problem("invalid_coordinates", Severity.ERROR, f, msg)]
    found = []
    point = shapely.Point(pos.lon, pos.lat)
    if ctx.aoi is not None and not ctx.aoi.covers(point):
        msg = f"{f} at lat={pos.lat:.6f}, lon={pos.lon:.6f} is outside the AOI"
        found.append(problem("outside_aoi", Severity.WARNING, f, msg))
    if ctx.municipality is not None and not ctx.municipality.covers(point):
        msg = f"{f} at lat={pos.lat:.6f}, lon={pos.lon:.6f} is outside the municipality"
        found.append(problem("outside_municipality", Severity.WARNING, f, msg))
    return found


def _gimbal(capture: Capture, ctx: CheckContext) -> list[Problem]:
    f, pitch = capture.path, capture.attitude.gimbal_pitch
    if not ctx.mapping:
        return []
    if pitch is None:
        make = (capture.camera.make or "").upper()
        if make.startswith("DJI") and capture.kind == FileKind.RGB_FRAME:
            return [
                problem("gimbal_missing", Severity.WARNING, f, f"{f} (DJI) has no gimbal pitch in its XMP")
            ]
        return []
    if pitch >= 0:
        msg = f"{f} has gimbal pitch {pitch:+.1f}° (at or above the horizon) on a {ctx.purpose.value} flight"
        return [problem("gimbal_above_horizon", Severity.ERROR, f, msg)]
    if pitch > NEAR_HORIZON_DEG:
        msg = f"{f} has gimbal pitch {pitch:+.1f}° (near the horizon) on a {ctx.purpose.value} flight"
        return [problem("gimbal_near_horizon", Severity.WARNING, f, msg)]
    return []


def _time(capture: Capture, ctx: CheckContext) -> list[Problem]:
    f, t = capture.path, capture.time_utc
    if t is None and capture.time_source.startswith(IMPLAUSIBLE):
        why = capture.time_source.removeprefix(IMPLAUSIBLE)
        msg = f"{f} has an implausible capture time ({why}); it is not used"
        return [problem("time_implausible", Severity.WARNING, f, msg)]
    if t is None:
        return [problem("time_missing", Severity.WARNING, f, f"{f} has no capture time")]
    source = capture.time_source.lower()
    slack = (
        FUTURE_SLACK
        if ("offset" in source or "gps" in source or "utc" in source)
        else FUTURE_SLACK_UNKNOWN_OFFSET
    )
    if t.tzinfo is not None and ctx.now.tzinfo is not None and t > ctx.now + slack:
        msg = f"{f} was captured at {t.isoformat()}, after now ({ctx.now.isoformat()}): wrong camera clock?"
        return [problem("time_in_future", Severity.WARNING, f, msg)]
    return []


def _rtk(capture: Capture) -> list[Problem]:
    flag = capture.rtk.flag
    if flag is None or flag == 50:
        return []
    f = capture.path
    return [problem("rtk_not_fixed", Severity.WARNING, f, f"{f} has RtkFlag {flag} (50 = fixed)")]


def _quality(capture: Capture, ctx: CheckContext) -> list[Problem]:
    """Black, under/over-exposed and blurry frames, by the rules of :mod:`flights.quality`."""
    q, f = capture.quality, capture.path
    if q is None:
        return []
    if is_black(q):
        msg = f"{f} is black (mean {q.mean_brightness:.1f}, {q.dark_fraction:.0%} dark): lens cap?"
        return [problem("black_frame", Severity.ERROR, f, msg)]
    found = []
    exposed = exposure(q)
    if exposed is not None:
        figures = (
            f"mean {q.mean_brightness:.1f}, {q.dark_fraction:.0%} dark, {q.saturated_fraction:.0%} saturated"
        )
        found.append(
            problem(f"{exposed}exposed", Severity.WARNING, f, f"{f} is {exposed}exposed ({figures})")
        )
    if is_blurry(q, ctx.blur_threshold):
        msg = f"{f} is blurry (Laplacian variance {q.blur_score:.1f} < threshold {ctx.blur_threshold:g})"
        found.append(problem("blurry", Severity.WARNING, f, msg))
    return found


def duplicates(files: Iterable[tuple[str, str]]) -> dict[str, Problem]:
    """Files whose sha256 equals an earlier file's (by sorted path): ``{path: duplicate_content}``.

    Args:
        files: (relative path, sha256) pairs; empty hashes (unread entries) are ignored.
    """
    first: dict[str, str] = {}
    found: dict[str, Problem] = {}
    for path, sha in sorted(files):
        if not sha:
            continue
        if sha in first:
            msg = f"{path} has the same content (sha256 {sha[:12]}…) as {first[sha]}"
            found[path] = problem("duplicate_content", Severity.WARNING, path, msg)
        else:
            first[sha] = path
    return found


def duplicate_names(files: Iterable[tuple[str, str]]) -> dict[str, Problem]:
    """Files sharing a name (case-insensitive) with a file in another folder but not its content."""
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, sha in files:
        by_name[PurePosixPath(path).name.lower()].append((path, sha))
    found: dict[str, Problem] = {}
    for group in by_name.values():
        if len(group) < 2 or len({sha for _, sha in group}) < 2:
            continue
        for path, _ in group:
            others = ", ".join(p for p, _ in group if p != path)
            msg = f"{path} has the same name as {others} (different content); ODM flattens folders"
            found[path] = problem("duplicate_name", Severity.WARNING, path, msg)
    return found


def mixed_cameras(captures: Iterable[Capture]) -> list[Problem]:
    """A flight-level warning when RGB frames come from more than one camera."""
    cameras = sorted(
        {f"{c.camera.make or '?'} {c.camera.model or '?'}" for c in captures if c.kind == FileKind.RGB_FRAME}
    )
    if len(cameras) < 2:
        return []
    msg = f"RGB frames come from {len(cameras)} cameras: {', '.join(cameras)}"
    return [problem("mixed_cameras", Severity.WARNING, FLIGHT, msg)]


def check_control(control: ControlFile, frame_names: set[str]) -> list[Problem]:
    """Control files naming images that are not in the flight (by file name, case-insensitive)."""
    named = {PurePosixPath(o.image).name for p in control.points for o in p.observations}
    if not named:
        return []
    known = {n.lower() for n in frame_names}
    missing = sorted(n for n in named if n.lower() not in known)
    if not missing:
        return []
    f = control.path
    shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    if not frame_names:
        msg = f"{f}: no frames in this delivery, so its pixel observations are unused (coordinates are kept)"
        return [problem("control_unknown_image", Severity.INFO, f, msg)]
    if len(missing) == len(named):
        msg = f"{f} names only images that are not frames of this flight ({len(missing)}: {shown})"
        return [problem("control_no_image", Severity.ERROR, f, msg)]
    msg = f"{f} names {len(missing)} of {len(named)} images that are not frames of this flight: {shown}"
    return [problem("control_unknown_image", Severity.WARNING, f, msg)]


def pixels_outside(
    control: ControlFile, sizes: Mapping[str, tuple[int, int]]
) -> tuple[ControlFile, list[Problem]]:
    """Reject the observations whose pixel position lies off their image (frame sizes known).

    ``sizes`` maps lower-case frame file names to (width, height). The observations off their
    image are removed from ``control`` (the rest of the file, its coordinates and the flight
    go on) and one warning names the file, each line, the value and the image size.
    """
    kept_points, rejected = [], []
    for point in control.points:
        kept = []
        for obs in point.observations:
            size = sizes.get(PurePosixPath(obs.image).name.lower())
            if size is not None and not inside(obs.col, obs.row, *size):
                rejected.append((obs, size))
            else:
                kept.append(obs)
        kept_points.append(point.model_copy(update={"observations": tuple(kept)}))
    if not rejected:
        return control, []
    shown = "; ".join(
        f"line {o.line if o.line is not None else '?'}: pixel ({o.col:g}, {o.row:g}) on {o.image} "
        f"({w}×{h} px)"
        for o, (w, h) in rejected[:5]
    ) + (" …" if len(rejected) > 5 else "")
    msg = (
        f"{control.path}: {len(rejected)} pixelobservation(er) uden for billedet afvist / "
        f"{len(rejected)} pixel observation(s) outside their image rejected — {shown}; "
        "pixel centres run from 0 to width − 1 (OpenSfM/ODM); the rest of the file is used"
    )
    fixed = control.model_copy(update={"points": tuple(kept_points)})
    return fixed, [problem("control_pixel_outside", Severity.WARNING, control.path, msg)]


def check_rasters(
    files: Iterable[DeliveredFile], captures: Iterable[Capture], ctx: CheckContext
) -> list[DeliveredFile]:
    """``files`` with the problems of :func:`check_raster` added to each delivered orthophoto/DSM/DTM."""
    frames = list(captures)
    kinds = (FileKind.ORTHOPHOTO, FileKind.DSM, FileKind.DTM)
    return [
        f.model_copy(update={"problems": f.problems + tuple(check_raster(f, frames, ctx))})
        if f.kind in kinds and not any(p.severity == Severity.ERROR for p in f.problems)
        else f
        for f in files
    ]


def check_raster(delivered: DeliveredFile, captures: Iterable[Capture], ctx: CheckContext) -> list[Problem]:
    """A delivered raster's date and place: undated (``raster_undated``), outside the municipality."""
    found = []
    f = delivered.path
    own = delivered.time_utc is not None and CREATION not in delivered.time_source
    if not own and ctx.captured is None and not any(c.time_utc is not None for c in captures):
        msg = (
            f"{f} har ingen optagelsesdato / {f} has no capture date: none in its metadata (TIFF DateTime, "
            "XMP), no dated frames in the delivery and no --captured declaration; declare it with "
            "dronegis ingest --captured YYYY-MM-DD"
        )
        found.append(problem("raster_undated", Severity.WARNING, f, msg))
    footprint = delivered_footprint(delivered)
    if ctx.municipality is not None and footprint is not None and not ctx.municipality.contains(footprint):
        where = "entirely" if not ctx.municipality.intersects(footprint) else "partly"
        west, south, east, north = footprint.bounds
        msg = (
            f"{f} ligger uden for kommunen / lies {where} outside the municipality "
            f"(lon {west:.4f}…{east:.4f}, lat {south:.4f}…{north:.4f})"
        )
        found.append(problem("outside_municipality", Severity.WARNING, f, msg))
    return found


def outside_summary(captures: Iterable[Capture], files: Iterable[DeliveredFile]) -> list[Problem]:
    """A flight-level ``outside_municipality`` warning counting the frames and rasters outside."""
    frames = list(captures)
    outside = sum(1 for c in frames if any(p.code == "outside_municipality" for p in c.problems))
    rasters = sum(1 for f in files if any(p.code == "outside_municipality" for p in f.problems))
    if not outside and not rasters:
        return []
    msg = (
        f"{outside} af {len(frames)} billeder og {rasters} rastere ligger uden for kommunen / {outside} of "
        f"{len(frames)} frames and {rasters} rasters lie outside the municipality: QA flags them and they "
        "are not published without an explicit approval"
    )
    return [problem("outside_municipality", Severity.WARNING, FLIGHT, msg)]


def delivered_footprint(delivered: DeliveredFile) -> BaseGeometry | None:
    """The raster's footprint in EPSG:4326 (from its header bounds), if they are known."""
    if delivered.bounds_wgs84 is None:
        return None
    return shapely.box(*delivered.bounds_wgs84)
