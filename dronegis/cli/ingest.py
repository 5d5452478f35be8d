"""``dronegis ingest FOLDER``: archive a delivered flight folder and tell the pilot what is wrong."""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import Field
from tqdm import tqdm

from core.errors import AreaError, DroneGisError, UsageError
from core.localtime import local, local_date, local_text
from core.models import Frozen
from core.workspace import Workspace
from dronegis.cli.heights import (
    decisions,
    decisions_json,
    height_datum_option,
    parse_height_datum,
    render_decisions,
)
from dronegis.cli.options import PurposeType, common_options, emit_json, settings_for
from dronegis.settings import Settings
from flights.aoi import load_municipality
from flights.capture_time import camera_zone
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import PURPOSE_ALIASES, HeightDatums, Purpose, Severity
from flights.raster_time import declared_capture
from flights.scan import ScannedFile, scan_folder
from flights.summary import FlightSummary, summarize

PROGRESS_MIN_FILES = 20
FLIGHT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
SEVERITY_MARK = {Severity.ERROR: "ERROR", Severity.WARNING: "warn ", Severity.INFO: "info "}


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@common_options
@click.option(
    "--purpose",
    type=PurposeType(),
    default=Purpose.OTHER.value,
    show_default=True,
    help="Why the flight was flown (mapping purposes get the gimbal-at-horizon rule): "
    f"{', '.join(p.value for p in Purpose)} or a Danish name ({', '.join(sorted(PURPOSE_ALIASES))}).",
)
@click.option(
    "--site",
    default=None,
    metavar="NAME",
    help="Site name, e.g. 'Skanderborg Rådhus': the place in the layers' titles (kept for re-ingests).",
)
@click.option(
    "--aoi", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="AOI (GeoJSON/GPKG, any CRS)."
)
@click.option(
    "--municipality",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Municipality boundary file (default: $DRONEGIS_MUNICIPALITY, else Skanderborg's boundary shipped "
    "with dronegis); frames and rasters outside it are flagged.",
)
@click.option(
    "--municipality-code",
    default=None,
    help="KOMKODE selecting one municipality of a national file (default: $DRONEGIS_MUNICIPALITY_CODE or "
    "0746 = Skanderborg).",
)
@click.option(
    "--blur-threshold", type=float, default=None, help="Laplacian variance below which a frame is blurry."
)
@click.option(
    "--flight-id", default=None, help="Flight id (default: folder name slug + date of the oldest file)."
)
@click.option(
    "--camera-timezone",
    default=None,
    metavar="TZ",
    help="IANA zone of camera clocks without an offset in the files, e.g. America/Chicago "
    "(default: $DRONEGIS_CAMERA_TIMEZONE or Europe/Copenhagen).",
)
@height_datum_option
@click.option(
    "--captured",
    default=None,
    metavar="DATE",
    help="When the delivery was flown, for rasters whose files and frames carry no date: a date "
    "(2025-06-12, the whole day in the camera zone) or a date and time (2025-06-12T10:30).",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Parallel workers.")
def ingest(
    folder: Path,
    workspace: Path | None,
    as_json: bool,
    purpose: Purpose,
    site: str | None,
    aoi: Path | None,
    municipality: Path | None,
    municipality_code: str | None,
    blur_threshold: float | None,
    flight_id: str | None,
    camera_timezone: str | None,
    height_datum: tuple[str, ...],
    captured: str | None,
    workers: int,
) -> None:
    """Archive FOLDER (a flight delivery), check every file and print the pilot summary.

    Exit code 0 when the flight holds something usable, 1 when nothing usable was found,
    2 for usage errors.
    """
    request = IngestRequest(
        folder=folder,
        workspace=workspace,
        as_json=as_json,
        purpose=purpose,
        site=site.strip() or None if site is not None else None,
        aoi=aoi,
        municipality=municipality,
        municipality_code=municipality_code,
        blur_threshold=blur_threshold,
        flight_id=flight_id,
        camera_timezone=camera_timezone,
        height_datum=parse_height_datum(height_datum),
        captured=captured,
        workers=workers,
    )
    summary = run_ingest(request)
    settings = settings_for(workspace)
    heights = decisions(settings.workspace, summary.flight_id, settings.proj_grids, settings.target_crs)
    if request.as_json:
        emit_json({**summary.model_dump(mode="json"), "heights": decisions_json(heights)})
    else:
        click.echo("\n".join([render_summary(summary), *render_decisions(heights)]))
    sys.exit(0 if summary.usable else 1)


class IngestRequest(Frozen):
    """The options of ``dronegis ingest`` (also what ``dronegis demo`` asks for); None: the settings'."""

    folder: Path
    workspace: Path | None = None
    as_json: bool = False
    purpose: Purpose = Purpose.OTHER
    site: str | None = Field(None, max_length=120)
    aoi: Path | None = None
    municipality: Path | None = None
    municipality_code: str | None = None
    blur_threshold: float | None = None
    flight_id: str | None = None
    camera_timezone: str | None = None
    height_datum: HeightDatums | None = None
    captured: str | None = None
    workers: int = 2
    now: datetime | None = Field(None, description="the clock (injected by tests and the demo)")


def run_ingest(request: IngestRequest) -> FlightSummary:
    """Ingest the requested folder into the workspace and return the summary (``ingest`` and ``demo``).

    Raises:
        click.BadParameter: a bad flight id, camera time zone or declared capture date.
        click.UsageError: a bad AOI or municipality file, an archive inside the folder.
        click.ClickException: any other ingest error.
    """
    settings = settings_for(request.workspace)
    config = _ingest_config(request, settings)
    try:
        with _progress_bar() as progress:
            flight = ingest_folder(request.folder, config, progress=progress)
    except (AreaError, UsageError) as exc:
        raise click.UsageError(str(exc)) from exc
    except DroneGisError as exc:
        raise click.ClickException(str(exc)) from exc
    return summarize(flight)


def _ingest_config(request: IngestRequest, settings: Settings) -> IngestConfig:
    """The library's config for a request: flight id, zone, declaration and areas resolved."""
    folder, now = request.folder, request.now or datetime.now(UTC)
    fid = request.flight_id or default_flight_id(folder, scan_folder(folder).files)
    if not FLIGHT_ID.match(fid):
        raise click.BadParameter(f"{fid!r}: use letters, digits, '.', '_' and '-'", param_hint="--flight-id")
    twin = next(
        (f for f in Workspace.at(settings.workspace).flights() if f != fid and f.lower() == fid.lower()), None
    )
    if twin is not None:  # one flight in URLs, layer ids and case-insensitive file systems
        raise click.BadParameter(
            f"{fid!r}: flight {twin!r} exists (ids differ only in case)", param_hint="--flight-id"
        )
    try:
        zone = camera_zone(request.camera_timezone or settings.camera_timezone)
    except UsageError as exc:
        raise click.BadParameter(str(exc), param_hint="--camera-timezone") from exc
    try:
        declared = declared_capture(request.captured, zone, now) if request.captured else None
    except UsageError as exc:
        raise click.BadParameter(str(exc), param_hint="--captured") from exc
    try:
        town = load_municipality(
            request.municipality or settings.municipality,
            request.municipality_code or settings.municipality_code,
        )
    except AreaError as exc:
        raise click.UsageError(str(exc)) from exc
    blur = request.blur_threshold
    return IngestConfig.for_workspace(
        Workspace.at(settings.workspace),
        fid,
        now,
        purpose=request.purpose,
        aoi=request.aoi,
        municipality=town,
        blur_threshold=blur if blur is not None else settings.blur_threshold,
        workers=request.workers,
        camera_timezone=zone,
        lock_timeout=settings.ingest_lock_timeout,
        height_datum=request.height_datum,
        captured=declared,
        site=request.site,
    )


def default_flight_id(folder: Path, files: list[ScannedFile]) -> str:
    """Folder name as a slug plus the date (UTC) of its oldest file: stable across re-ingests."""
    name = folder.resolve().name.translate(DANISH)
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "flight"
    oldest = min((f.mtime for f in files), default=folder.stat().st_mtime)
    return f"{slug[:80]}-{datetime.fromtimestamp(oldest, UTC):%Y%m%d}"


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr, shown once a folder has at least ``PROGRESS_MIN_FILES`` entries."""
    bar: tqdm | None = None
    lock = threading.Lock()

    def update(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_MIN_FILES:
            return
        with lock:
            if bar is None:
                bar = tqdm(total=total, file=sys.stderr, unit="file", desc="ingest", leave=False)
            bar.total = total
            if done > bar.n:
                bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def _end(start: datetime, end: datetime) -> str:
    """The span's end in Copenhagen, with its length (a span over days hints at mixed deliveries)."""
    seconds = (end - start).total_seconds()
    if local_date(start) == local_date(end):
        return f"{local(end):%H:%M:%S %Z} ({seconds / 60:.1f} min)"
    return f"{local_text(end)} ({seconds / 86400:.1f} days)"


def render_summary(s: FlightSummary) -> str:
    """The pilot summary as readable text."""
    lines = [f"Flight {s.flight_id}  (purpose: {s.purpose.value})", f"  source:   {s.source}"]
    note = "  — re-ingest: nothing new, nothing copied" if s.nothing_new else ""
    lines.append(f"  files:    {s.files} (archived {s.archived}, quarantined {s.quarantined}){note}")
    lines.append("  kinds:    " + (", ".join(f"{k} {n}" for k, n in s.kinds.items()) or "none"))
    lines.append(f"  frames:   {s.usable_frames} usable of {s.frames}")
    if s.time_start and s.time_end:
        start = local(s.time_start)
        lines.append(f"  time:     {start:%Y-%m-%d %H:%M:%S} – {_end(s.time_start, s.time_end)}")
    if s.captured is not None:
        lines.append(f"  declared: captured {s.captured.text} (--captured; dates rasters without a date)")
    if s.relative_altitude_m:
        lines.append(
            f"  height:   {s.relative_altitude_m.min:.1f}–{s.relative_altitude_m.max:.1f} m above take-off"
        )
    if s.gps_altitude_m:
        lines.append(f"  GPS alt:  {s.gps_altitude_m.min:.1f}–{s.gps_altitude_m.max:.1f} m")
    if s.gsd_cm is not None and s.gsd_cm_range:
        rng = s.gsd_cm_range
        lines.append(f"  GSD:      {s.gsd_cm:.2f} cm/px nadir estimate ({rng.min:.2f}–{rng.max:.2f})")
    if s.rtk_fix_ratio is not None:
        lines.append(f"  RTK:      {s.rtk_fix_ratio:.0%} of frames fixed")
    lines.append("  cameras:  " + (", ".join(s.cameras) or "none"))
    shown = {f: ps for f, ps in s.problems.items() if any(p.severity != Severity.INFO for p in ps)}
    lines.append(
        f"  problems: {sum(s.problem_counts.values())} in {len(shown)} files" if shown else "  problems: none"
    )
    for file, problems in shown.items():
        lines.append(f"    {file}")
        for p in problems:
            lines.append(f"      {SEVERITY_MARK[p.severity]} {p.code}: {p.message}")
    lines.append(f"  verdict:  {s.verdict}")
    return "\n".join(lines)
