"""The capture time of a frame as UTC, and where it came from.

In order of preference (``Capture.time_source`` says which was used):

1. ``xmp:UTCAtExposure`` — DJI's UTC exposure time.
2. ``exif+OffsetTimeOriginal`` (or ``exif+OffsetTime``) — DateTimeOriginal with the
   offset the camera recorded.
3. ``exif:GPSDateStamp+GPSTimeStamp`` — the GPS time, UTC by definition.
4. ``flir:DateTimeOriginal+offset`` — the FLIR record's time, when it carries a non-zero
   zone offset (:mod:`flights.fff_meta`).
5. ``xmp:sensefly:UTCTime`` — the senseFly autopilot's UTC time.
6. ``exif+assumed:<zone>`` — DateTimeOriginal without an offset is taken as local
   time in ``local_tz`` (default Europe/Copenhagen, the municipality's zone: DJI
   controllers stamp the phone's local time). This is an assumption and the source
   says so; brighton_beach (USA, no zone) gets a wrong absolute time unless the zone is
   given (``dronegis ingest --camera-timezone America/Chicago``, :func:`camera_zone`).
7. ``flir+assumed:<zone>`` — the FLIR wall-clock time, same assumption.

SubSecTimeOriginal, when present, adds the fraction of a second.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import MetadataError, UsageError
from flights.tiff import Ifd
from flights.xmp import XmpValues

if TYPE_CHECKING:
    from flights.fff_meta import FffCapture

DATETIME_ORIGINAL, OFFSET_TIME, OFFSET_TIME_ORIGINAL, SUBSEC_ORIGINAL = 0x9003, 0x9010, 0x9011, 0x9291
GPS_TIME, GPS_DATE = 7, 0x1D
#: How ``Capture.time_source`` starts when the recorded time is not a usable date.
IMPLAUSIBLE = "implausible: "

_DT = re.compile(
    r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+\-]\d{2}:?\d{2})?$"
)
_OFFSET = re.compile(r"^([+\-])(\d{2}):?(\d{2})$")


def camera_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. ``America/Chicago``) assumed for capture times without offset.

    Raises:
        UsageError: ``name`` is not an IANA zone known to ``zoneinfo``.
    """
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UsageError(
            f"camera time zone {name!r} is not an IANA zone name (e.g. Europe/Copenhagen, America/Chicago)"
        ) from exc


def offset_assumed(time_source: str) -> bool:
    """True when the UTC time rests on an assumed zone (``...+assumed:<zone>``) or is missing."""
    return "assumed" in time_source or time_source == "none"


def capture_time(
    exif: Ifd, gps: Ifd, xmp: XmpValues, path: Path, local_tz: tzinfo, fff: FffCapture | None = None
) -> tuple[datetime | None, str]:
    """UTC capture time and where it came from (see the module docstring for the order).

    A date that is not one (month 13) or that UTC cannot hold (year 9999 west of Greenwich, year 1 east
    of it) is a metadata problem, not a broken file: the time is ``None`` and the source reads
    ``implausible: <tag> '<value>': <why>`` (``flights.checks`` reports it as ``time_implausible``).
    """
    try:
        return _capture_time(exif, gps, xmp, local_tz, fff)
    except (MetadataError, OverflowError) as exc:
        return None, f"{IMPLAUSIBLE}{exc}"


def _capture_time(
    exif: Ifd, gps: Ifd, xmp: XmpValues, local_tz: tzinfo, fff: FffCapture | None
) -> tuple[datetime | None, str]:
    utc_x = xmp.get("drone-dji:UTCAtExposure")
    if utc_x:
        return _parse_dt(utc_x, "XMP UTCAtExposure", UTC), "xmp:UTCAtExposure"
    dto = _str(exif.get(DATETIME_ORIGINAL))
    if dto and dto.strip(" :0"):
        sub = _str(exif.get(SUBSEC_ORIGINAL))
        stamp = f"{dto}.{sub.strip()}" if sub and sub.strip().isdigit() else dto
        for tag, name in ((OFFSET_TIME_ORIGINAL, "OffsetTimeOriginal"), (OFFSET_TIME, "OffsetTime")):
            off = _str(exif.get(tag))
            if off and _OFFSET.match(off.strip()):
                return _parse_dt(stamp, "DateTimeOriginal", _tz(off.strip())), f"exif+{name}"
    gps_time = _gps_time(gps)
    if gps_time is not None:
        return gps_time, "exif:GPSDateStamp+GPSTimeStamp"
    if fff is not None and fff.time_utc is not None and fff.offset_known:
        return fff.time_utc, "flir:DateTimeOriginal+offset"
    sf = xmp.get("sensefly:UTCTime")
    if sf:
        return _parse_dt(sf, "XMP sensefly:UTCTime", UTC), "xmp:sensefly:UTCTime"
    zone = getattr(local_tz, "key", None) or str(local_tz)
    if dto and dto.strip(" :0"):
        return _parse_dt(stamp, "DateTimeOriginal", local_tz), f"exif+assumed:{zone}"
    if fff is not None and fff.local_time is not None:
        return fff.local_time.replace(tzinfo=local_tz).astimezone(UTC), f"flir+assumed:{zone}"
    return None, "none"


def _tz(offset: str) -> timezone:
    m = _OFFSET.match(offset)
    assert m is not None
    sign = -1 if m.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def _parse_dt(text: str, what: str, tz: tzinfo) -> datetime:
    m = _DT.match(text.strip())
    if not m:
        raise MetadataError(f"{what} {text!r} is not a date and time")
    y, mo, d, h, mi, s, frac, offset = m.groups()
    micro = round(float(frac) * 1_000_000) if frac else 0
    if offset:
        tz = UTC if offset == "Z" else _tz(offset)
    try:
        local = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=tz)
        if micro:  # (adding a zero timedelta changes nothing)
            local += timedelta(microseconds=micro)
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MetadataError(f"{what} {text!r}: {exc}") from None


def _gps_time(gps: Ifd) -> datetime | None:
    date, hms = _str(gps.get(GPS_DATE)), gps.get(GPS_TIME)
    if not date or not isinstance(hms, tuple) or len(hms) != 3 or not all(math.isfinite(v) for v in hms):
        return None
    m = re.match(r"(\d{4}):(\d{2}):(\d{2})$", date.strip())
    if not m:
        return None
    try:
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
        return day + timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2])
    except (ValueError, OverflowError) as exc:
        raise MetadataError(f"GPSDateStamp {date!r} GPSTimeStamp {hms!r}: {exc}") from None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
