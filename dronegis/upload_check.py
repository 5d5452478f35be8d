"""A first look at each uploaded file, so the pilot sees its problems before pressing finish.

When a file is stored, it is classified and read by the readers ingest uses
(:func:`flights.classify.classify`, :func:`flights.exif.read_capture`,
:func:`flights.rasters.read_raster`, :func:`flights.control.read_control_file`) and a frame
goes through the per-frame rules of :func:`flights.checks.check_capture` — so the problems
carry the codes of ``dronegis ingest`` (``metadata_error`` for a truncated JPEG, ``no_gps``,
``outside_municipality`` …). Rules that need the whole flight (duplicates, mixed cameras)
and the image-quality pass (pixels) run at ingest, after finish. Nothing raises: a file the
readers refuse gets its error problem, like in ingest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from core.errors import ControlFileError, DroneGisError, MetadataError
from flights.aoi import load_municipality
from flights.capture_time import camera_zone
from flights.checks import CheckContext, check_capture, problem
from flights.classify import classify
from flights.control import read_control_file
from flights.exif import read_capture
from flights.models import FileKind, Problem, Purpose, Severity
from flights.quality import DEFAULT_BLUR_THRESHOLD
from flights.rasters import read_raster

log = logging.getLogger(__name__)
FRAME_KINDS = (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME, FileKind.MULTISPECTRAL_FRAME)
RASTER_KINDS = (FileKind.ORTHOPHOTO, FileKind.DSM, FileKind.DTM)


@dataclass(frozen=True)
class CheckSettings:
    """What the first look needs: the flight's purpose, camera zone, the municipality and the clock."""

    purpose: Purpose
    now: datetime
    camera_timezone: str = "Europe/Copenhagen"
    municipality: Path | None = None
    municipality_code: str = "0746"


@lru_cache(maxsize=4)
def _municipality(path: Path | None, code: str) -> BaseGeometry | None:
    try:
        return load_municipality(path, code)
    except DroneGisError:
        log.warning("municipality %s (%s) cannot be read; uploads are checked without it", path, code)
        return None


def first_look(
    path: Path, rel: str, sha256: str, size: int, settings: CheckSettings
) -> tuple[FileKind, tuple[Problem, ...]]:
    """The kind and problems of one stored file, with the codes of ingest (never raises)."""
    if size == 0:
        return FileKind.OTHER, (problem("empty_file", Severity.ERROR, rel, f"{rel} is empty (0 bytes)"),)
    kind = classify(path)
    try:
        if kind in FRAME_KINDS:
            zone = camera_zone(settings.camera_timezone)
            capture = read_capture(path, rel, sha256=sha256, size=size, kind=kind, local_tz=zone)
            ctx = CheckContext(
                purpose=settings.purpose,
                now=settings.now,
                blur_threshold=DEFAULT_BLUR_THRESHOLD,
                municipality=_municipality(settings.municipality, settings.municipality_code),
            )
            return kind, check_capture(capture, ctx)
        if kind in RASTER_KINDS:
            zone = camera_zone(settings.camera_timezone)
            read_raster(path, rel, sha256=sha256, size=size, kind=kind, zone=zone)
        elif kind == FileKind.CONTROL:
            read_control_file(path, rel)
    except ControlFileError as exc:
        return kind, (problem("control_error", Severity.ERROR, rel, _named(path, rel, exc)),)
    except MetadataError as exc:
        code = "raster_error" if kind in RASTER_KINDS else "metadata_error"
        return kind, (problem(code, Severity.ERROR, rel, _named(path, rel, exc)),)
    except Exception as exc:  # a reader bug must not refuse an upload; ingest reports it again
        log.warning("first look at %s failed unexpectedly", rel, exc_info=True)
        return kind, (problem("metadata_error", Severity.ERROR, rel, f"{rel}: {type(exc).__name__}: {exc}"),)
    return kind, ()


def _named(path: Path, rel: str, exc: Exception) -> str:
    """The reader's message with the stored file's server path replaced by the delivered name."""
    text = str(exc).replace(str(path), rel)
    return text if rel in text or Path(rel).name in text else f"{rel}: {text}"
