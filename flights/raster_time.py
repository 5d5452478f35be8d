"""When a delivered orthophoto, DSM or DTM was captured, and where that came from.

What the raster itself says (:func:`raster_time`, read at ingest from GDAL's metadata):

1. ``gdal:IMAGERY/ACQUISITIONDATETIME`` — GDAL's standard acquisition time (UTC, RFC 46).
2. ``xmp:exif:DateTimeOriginal`` / ``xmp:photoshop:DateCreated`` — the moment of capture in XMP.
3. ``tiff:DateTime (ODM …)`` — TIFF tag 306 of a raster whose ``Software`` tag names ODM:
   since ODM pull request #1797 (2024) ``add_raster_meta_tags`` writes the *mean capture time
   of the photos* there, in UTC with ``+00:00``.
4. ``tiff:DateTime=file creation (…)`` — TIFF tag 306 written by any other software: by the TIFF
   6.0 definition the time the *file* was made, i.e. processing, not flying (an upper bound of
   the capture time).

Which time a product gets (:func:`raster_capture`, in this order): the raster's capture
metadata (1–3); else the span of the flight's frames; else the delivery's declaration
(``dronegis ingest --captured``, :func:`declared_capture`); else the file-creation time (4),
labelled so; else none — "capture date unknown" (QA warns, publication refuses).

A value without an offset is taken in the camera zone (default Europe/Copenhagen) and the
source says ``+assumed:<zone>``. Unparseable values are ignored (logged), never fatal: a bad
date must not quarantine a good raster.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from core.errors import MetadataError, UsageError
from flights.models import DeclaredCapture, DeliveredFile, Flight
from flights.xmp import parse_xmp

logger = logging.getLogger(__name__)

PHOTOSHOP = "{http://ns.adobe.com/photoshop/1.0/}DateCreated"
XMP_KEYS = (("exif:DateTimeOriginal", "xmp:exif:DateTimeOriginal"), (PHOTOSHOP, "xmp:photoshop:DateCreated"))
CREATION = "file creation"
_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})")


def parse_stamp(text: str, zone: tzinfo) -> tuple[datetime, bool] | None:
    """``text`` (ISO 8601 or EXIF ``YYYY:MM:DD HH:MM:SS``) in UTC; True when ``zone`` was assumed.

    None when ``text`` is not a date and time.
    """
    value = _EXIF_DATE.sub(r"\1-\2-\3", text.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone).astimezone(UTC), True
    return parsed.astimezone(UTC), False


def raster_time(
    tags: Mapping[str, str], imagery: Mapping[str, str], xmp_packet: str | None, path: Path, zone: tzinfo
) -> tuple[datetime | None, str]:
    """The capture (or file-creation) time a raster's metadata gives, and its source (module docstring).

    Args:
        tags: GDAL's default metadata domain (``TIFFTAG_DATETIME``, ``TIFFTAG_SOFTWARE``, …).
        imagery: GDAL's ``IMAGERY`` domain.
        xmp_packet: GDAL's ``xml:XMP`` domain (the XMP packet), if any.
        path: the file, for log messages.
        zone: the zone assumed for values without an offset.
    """
    name = getattr(zone, "key", None) or str(zone)
    candidates: list[tuple[str | None, str, tzinfo]] = [
        (imagery.get("ACQUISITIONDATETIME"), "gdal:IMAGERY/ACQUISITIONDATETIME", UTC)
    ]
    values = _xmp(xmp_packet, path)
    candidates += [(values.get(key), source, zone) for key, source in XMP_KEYS]
    software = (tags.get("TIFFTAG_SOFTWARE") or "").strip()
    odm = software.upper().startswith("ODM")
    tiff_source = f"tiff:DateTime ({software}: mean capture time)" if odm else _creation(software)
    candidates.append((tags.get("TIFFTAG_DATETIME"), tiff_source, zone))
    for text, source, assumed_zone in candidates:
        if not text or not text.strip(" :0"):
            continue
        found = parse_stamp(text, assumed_zone)
        if found is None:
            logger.warning("%s: %s %r is not a date and time; ignored", path, source, text)
            continue
        when, assumed = found
        return when, f"{source}+assumed:{name}" if assumed and assumed_zone is zone else source
    return None, "none"


def _creation(software: str) -> str:
    return f"tiff:DateTime={CREATION} ({software or 'software unknown'})"


def _xmp(packet: str | None, path: Path) -> Mapping[str, str]:
    if not packet:
        return {}
    try:
        return parse_xmp(packet.encode("utf-8"), path)
    except MetadataError as exc:
        logger.warning("%s: XMP packet ignored: %s", path, exc)
        return {}


def declared_capture(text: str, zone: tzinfo, now: datetime | None = None) -> DeclaredCapture:
    """Parse ``--captured``: a date (the whole day in ``zone``) or a date and time (naive = ``zone``).

    Raises:
        UsageError: not a date/date-time, or later than ``now``.
    """
    raw = text.strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        found = parse_stamp(raw, zone) if "T" in raw or " " in raw else None
        if found is None:
            raise UsageError(
                f"--captured {text!r} is neither a date (2025-06-12) nor a date and time (2025-06-12T10:30)"
            ) from None
        start = end = found[0]
    else:
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = (datetime.combine(day + timedelta(days=1), time(0), zone) - timedelta(seconds=1)).astimezone(
            UTC
        )
    if now is not None and start > now:
        raise UsageError(f"--captured {text!r} lies in the future (now {now.isoformat()})")
    return DeclaredCapture(text=raw, start=start, end=end)


def raster_capture(delivered: DeliveredFile, flight: Flight) -> tuple[datetime, datetime, str] | None:
    """Start, end and source of a delivered raster's capture time (order: the module docstring)."""
    own = delivered.time_utc
    creation = CREATION in delivered.time_source
    if own is not None and not creation:
        return own, own, delivered.time_source
    span = flight.time_span
    if span is not None:
        count = sum(1 for c in flight.captures if c.time_utc is not None)
        return span[0], span[1], f"frames: {count} captures of the flight"
    if flight.captured is not None:
        declared = flight.captured
        return declared.start, declared.end, f"declared: --captured {declared.text}"
    if own is not None:
        return own, own, delivered.time_source
    return None
