"""Read one capture's metadata (EXIF, XMP, FLIR) from its header, decoding no pixels.

``read_capture`` is the only EXIF/XMP reader of dronegis. For a JPEG it walks the
header segments (:mod:`flights.jpeg`), decodes the wanted EXIF tags with the strict
IFD walker of :mod:`flights.tiff` and flattens the XMP packet (:mod:`flights.xmp`).
For a TIFF/DNG frame the same walker reads the file through an mmap; for a bare FLIR
``.fff`` only the thermal parameters are read.

Capture time, in order of preference (``Capture.time_source`` says which was used):

1. ``xmp:UTCAtExposure`` — DJI's UTC exposure time.
2. ``exif+OffsetTimeOriginal`` (or ``exif+OffsetTime``) — DateTimeOriginal with the
   offset the camera recorded.
3. ``exif:GPSDateStamp+GPSTimeStamp`` — the GPS time, UTC by definition.
4. ``flir:DateTimeOriginal`` — the FLIR record's time, when it carries a non-zero
   zone offset (:mod:`flights.fff_meta`).
5. ``xmp:sensefly:UTCTime`` — the senseFly autopilot's UTC time.
6. ``exif+assumed:<zone>`` — DateTimeOriginal without an offset is taken as local
   time in ``local_tz`` (default Europe/Copenhagen, the municipality's zone: DJI
   controllers stamp the phone's local time). This is an assumption and the source
   says so; brighton_beach (USA, no zone) gets a wrong absolute time this way.
7. ``flir+assumed:<zone>`` — the FLIR wall-clock time, same assumption.

For FLIR files the FFF GPS record is the position fallback (``source="flir"``) and
the FFF camera model fills a missing EXIF model (bare ``.fff`` files: make "FLIR").

SubSecTimeOriginal, when present, adds the fraction of a second.
"""

from __future__ import annotations

import logging
import math
import mmap
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flights.errors import MetadataError, ThermalError
from flights.fff_meta import FffCapture, read_fff_capture
from flights.jpeg import is_jpeg, read_jpeg_header
from flights.models import Capture, FileKind, Position, ThermalParameters
from flights.tiff import Ifd, TiffTags, read_tiff_tags
from flights.xmp import XmpValues, first_float, parse_xmp
from flights.xmp_pose import attitude_from, camera_from, check_numbers, rtk_from, velocity_from

log = logging.getLogger(__name__)

DEFAULT_LOCAL_TZ: tzinfo = ZoneInfo("Europe/Copenhagen")
#: A frame wider or taller than this is not a camera frame (and not decodable safely).
MAX_FRAME_SIDE = 100_000

# Tag ids (EXIF 2.32 / TIFF 6).
MAKE, MODEL, WIDTH, HEIGHT, XMP_TAG = 0x010F, 0x0110, 0x0100, 0x0101, 0x02BC
DATETIME_ORIGINAL, OFFSET_TIME, OFFSET_TIME_ORIGINAL = 0x9003, 0x9010, 0x9011
SUBSEC_ORIGINAL, EXPOSURE_TIME, FOCAL_LENGTH, FOCAL_35MM = 0x9291, 0x829A, 0x920A, 0xA405
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT = 1, 2, 3, 4, 5, 6
GPS_TIME, GPS_DATE = 7, 0x1D

IFD0_TAGS = frozenset({MAKE, MODEL, WIDTH, HEIGHT, XMP_TAG})
EXIF_TAGS = frozenset(
    {
        DATETIME_ORIGINAL,
        OFFSET_TIME,
        OFFSET_TIME_ORIGINAL,
        SUBSEC_ORIGINAL,
        EXPOSURE_TIME,
        FOCAL_LENGTH,
        FOCAL_35MM,
    }
)
GPS_TAGS = frozenset({GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT, GPS_TIME, GPS_DATE})
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
FFF_MAGIC = b"FFF\x00"

_EMPTY = TiffTags({}, {}, {})


class RawMetadata(NamedTuple):
    """Undecoded metadata of one file: EXIF directories, flat XMP, frame size, thermal markers."""

    tags: TiffTags
    xmp: XmpValues
    width: int | None
    height: int | None
    flir: bool
    dji_thermal: bool


def read_raw(path: Path, *, check_eoi: bool = True) -> RawMetadata:
    """Read the metadata blocks of a JPEG, TIFF/DNG or FLIR FFF file.

    ``check_eoi=False`` accepts a JPEG without its end-of-image marker (see
    :func:`flights.jpeg.read_jpeg_header`).

    Raises:
        MetadataError: Empty, truncated or malformed file, or not an image.
    """
    with open(path, "rb") as fh:
        head = fh.read(16)
    if not head:
        raise MetadataError(f"{path}: empty file")
    if is_jpeg(head):
        return _raw_jpeg(path, check_eoi)
    if head[:4] in TIFF_MAGICS:
        return _raw_tiff(path)
    if head[:4] == FFF_MAGIC:
        return RawMetadata(_EMPTY, {}, None, None, True, False)
    raise MetadataError(f"{path}: not a JPEG, TIFF or FLIR file (starts with {head[:8]!r})")


def _raw_jpeg(path: Path, check_eoi: bool) -> RawMetadata:
    hdr = read_jpeg_header(path, check_eoi=check_eoi)
    tags = _EMPTY
    if hdr.exif is not None:
        tags = read_tiff_tags(hdr.exif, path, ifd0_tags=IFD0_TAGS, exif_tags=EXIF_TAGS, gps_tags=GPS_TAGS)
    xmp = parse_xmp(hdr.xmp, path) if hdr.xmp else {}
    return RawMetadata(tags, xmp, hdr.width, hdr.height, hdr.flir_segments > 0, hdr.dji_thermal)


def _raw_tiff(path: Path) -> RawMetadata:
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        tags = read_tiff_tags(
            mm, path, ifd0_tags=IFD0_TAGS, exif_tags=EXIF_TAGS, gps_tags=GPS_TAGS, what="TIFF"
        )
    packet = tags.ifd0.get(XMP_TAG)
    xmp = parse_xmp(packet, path) if isinstance(packet, bytes) else {}
    width, height = _int(tags.ifd0.get(WIDTH)), _int(tags.ifd0.get(HEIGHT))
    if width is None or height is None:
        raise MetadataError(f"{path}: TIFF without ImageWidth/ImageLength")
    return RawMetadata(tags, xmp, width, height, False, False)


def read_capture(
    path: Path,
    relpath: str,
    *,
    sha256: str,
    size: int,
    kind: FileKind,
    local_tz: tzinfo = DEFAULT_LOCAL_TZ,
    check_eoi: bool = True,
) -> Capture:
    """Read one frame's time, position, attitude, RTK, camera and thermal parameters.

    Args:
        path: The file.
        relpath: Its path relative to the flight folder (POSIX separators).
        sha256: Its checksum (computed by the caller while archiving).
        size: Its size in bytes.
        kind: Its kind from :func:`flights.classify.classify`.
        local_tz: Zone assumed for DateTimeOriginal without an offset (module docstring).
        check_eoi: Treat a JPEG without end-of-image marker as truncated (default).
            thermal_parser's DJI_XTS.jpg is such a file: 22 bytes short, the last
            rows grey; its metadata is intact and readable with ``check_eoi=False``.

    Returns:
        The capture, without problems or quality figures (ingest adds those).

    Raises:
        MetadataError: The file or its EXIF/XMP/FLIR metadata is malformed.
    """
    raw = read_raw(path, check_eoi=check_eoi)
    for side in (raw.width, raw.height):
        if side is not None and not 0 < side <= MAX_FRAME_SIDE:
            raise MetadataError(f"{path}: absurd image size {raw.width}x{raw.height} pixels")
    ifd0, exif, gps, _ = raw.tags
    if raw.xmp:
        check_numbers(raw.xmp, path)
    fff = read_fff_capture(path) if raw.flir else None
    time_utc, time_source = capture_time(exif, gps, raw.xmp, path, local_tz, fff)
    rtk = rtk_from(raw.xmp, path)
    position = position_from(
        gps, raw.xmp, path, rtk_fixed_ellipsoidal=rtk.fixed and rtk.altitude_type == "RtkAlt"
    )
    if position is None and fff is not None and fff.lat is not None and fff.lon is not None:
        position = Position(lat=fff.lat, lon=fff.lon, altitude_m=fff.altitude_m, source="flir")
    make = _str(ifd0.get(MAKE)) or raw.xmp.get("tiff:Make") or None
    model = _str(ifd0.get(MODEL)) or raw.xmp.get("tiff:Model") or None
    if fff is not None and not ifd0:
        make, model = "FLIR", fff.model
    return Capture(
        path=relpath,
        sha256=sha256,
        size=size,
        kind=kind,
        time_utc=time_utc,
        time_source=time_source,
        position=position,
        attitude=attitude_from(raw.xmp, path),
        rtk=rtk,
        velocity=velocity_from(raw.xmp, path),
        camera=camera_from(
            make=make,
            model=model,
            width=raw.width,
            height=raw.height,
            focal_mm=_float(exif.get(FOCAL_LENGTH)),
            focal_35=_float(exif.get(FOCAL_35MM)),
            exposure_s=_float(exif.get(EXPOSURE_TIME)),
            xmp=raw.xmp,
            path=path,
        ),
        thermal=_thermal(path, raw, kind),
    )


def _thermal(path: Path, raw: RawMetadata, kind: FileKind) -> ThermalParameters | None:
    if raw.flir:
        try:
            from flights.flir import read_flir_metadata
        except ImportError:  # pragma: no cover - flir.py ships with the package
            log.warning("%s: flights.flir is not available; FLIR parameters not read", path)
            return None
        try:
            return read_flir_metadata(path)
        except ThermalError as exc:
            raise MetadataError(f"{path}: FLIR metadata: {exc}") from exc
    if raw.dji_thermal or kind == FileKind.THERMAL_FRAME:
        fmt = "dji-rjpeg" if raw.dji_thermal else ("radiometric-tiff" if raw.tags.ifd0 else None)
        return ThermalParameters(format=fmt, raw_width=raw.width, raw_height=raw.height)
    return None


# --- position -------------------------------------------------------------------------

_XMP_LAT = ("drone-dji:GpsLatitude", "drone-dji:GPSLatitude", "drone-dji:Latitude", "sensefly:Latitude")
_XMP_LON = (
    "drone-dji:GpsLongitude",
    "drone-dji:GPSLongitude",
    "drone-dji:GpsLongtitude",
    "drone-dji:GPSLongtitude",
    "drone-dji:Longitude",
    "sensefly:Longitude",
)


def position_from(
    gps: Ifd, xmp: XmpValues, path: Path, *, rtk_fixed_ellipsoidal: bool = False
) -> Position | None:
    """Position from EXIF GPS, falling back to XMP (DJI, senseFly) coordinates.

    ``altitude_ref`` is ``ellipsoidal`` when the drone reports an RTK fixed solution
    with ``AltitudeType=RtkAlt`` (REFERENCE.md §2.5), otherwise what GPSAltitudeRef says.
    """
    lat = _dms(gps.get(GPS_LAT), _str(gps.get(GPS_LAT_REF)), "S")
    lon = _dms(gps.get(GPS_LON), _str(gps.get(GPS_LON_REF)), "W")
    source = "exif"
    if lat is None or lon is None:
        lat, lon = first_float(xmp, _XMP_LAT, path), first_float(xmp, _XMP_LON, path)
        source = "xmp"
    if lat is None or lon is None:
        return None
    altitude = _float(gps.get(GPS_ALT))
    ref_raw = _int(gps.get(GPS_ALT_REF))
    ref = {0: "above_sea_level", 1: "below_sea_level"}.get(ref_raw if ref_raw is not None else -1, "unknown")
    if altitude is not None and ref_raw == 1:
        altitude = -altitude
    if rtk_fixed_ellipsoidal:
        ref = "ellipsoidal"
    return Position(
        lat=lat,
        lon=lon,
        altitude_m=altitude,
        altitude_ref=ref,  # type: ignore[arg-type]
        absolute_altitude_m=first_float(xmp, ("drone-dji:AbsoluteAltitude",), path),
        relative_altitude_m=first_float(xmp, ("drone-dji:RelativeAltitude",), path),
        source=source,
    )


def _dms(value: object, ref: str | None, negative: str) -> float | None:
    if not isinstance(value, tuple) or not value or not all(math.isfinite(v) for v in value):
        return None
    minutes = value[1] if len(value) > 1 else 0.0
    seconds = value[2] if len(value) > 2 else 0.0
    deg = float(value[0]) + minutes / 60 + seconds / 3600
    return -deg if ref and ref.upper().startswith(negative) else deg


# --- time -----------------------------------------------------------------------------

_DT = re.compile(
    r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+\-]\d{2}:?\d{2})?$"
)
_OFFSET = re.compile(r"^([+\-])(\d{2}):?(\d{2})$")


def capture_time(
    exif: Ifd, gps: Ifd, xmp: XmpValues, path: Path, local_tz: tzinfo, fff: FffCapture | None = None
) -> tuple[datetime | None, str]:
    """UTC capture time and where it came from (see the module docstring for the order)."""
    utc_x = xmp.get("drone-dji:UTCAtExposure")
    if utc_x:
        return _parse_dt(utc_x, path, "XMP UTCAtExposure", UTC), "xmp:UTCAtExposure"
    dto = _str(exif.get(DATETIME_ORIGINAL))
    if dto and dto.strip(" :0"):
        sub = _str(exif.get(SUBSEC_ORIGINAL))
        stamp = f"{dto}.{sub.strip()}" if sub and sub.strip().isdigit() else dto
        for tag, name in ((OFFSET_TIME_ORIGINAL, "OffsetTimeOriginal"), (OFFSET_TIME, "OffsetTime")):
            off = _str(exif.get(tag))
            if off and _OFFSET.match(off.strip()):
                return _parse_dt(stamp, path, "DateTimeOriginal", _tz(off.strip())), f"exif+{name}"
    gps_time = _gps_time(gps, path)
    if gps_time is not None:
        return gps_time, "exif:GPSDateStamp+GPSTimeStamp"
    if fff is not None and fff.time_utc is not None and fff.offset_known:
        return fff.time_utc, "flir:DateTimeOriginal"
    sf = xmp.get("sensefly:UTCTime")
    if sf:
        return _parse_dt(sf, path, "XMP sensefly:UTCTime", UTC), "xmp:sensefly:UTCTime"
    zone = getattr(local_tz, "key", None) or str(local_tz)
    if dto and dto.strip(" :0"):
        return _parse_dt(stamp, path, "DateTimeOriginal", local_tz), f"exif+assumed:{zone}"
    if fff is not None and fff.local_time is not None:
        return fff.local_time.replace(tzinfo=local_tz).astimezone(UTC), f"flir+assumed:{zone}"
    return None, "none"


def _tz(offset: str) -> timezone:
    m = _OFFSET.match(offset)
    assert m is not None
    sign = -1 if m.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def _parse_dt(text: str, path: Path, what: str, tz: tzinfo) -> datetime:
    m = _DT.match(text.strip())
    if not m:
        raise MetadataError(f"{path}: {what} {text!r} is not a date and time")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7)
    micro = round(float(frac) * 1_000_000) if frac else 0
    if m.group(8):
        tz = UTC if m.group(8) == "Z" else _tz(m.group(8))
    try:
        local = datetime(y, mo, d, h, mi, s, tzinfo=tz) + timedelta(microseconds=micro)
    except ValueError as exc:
        raise MetadataError(f"{path}: {what} {text!r}: {exc}") from None
    return local.astimezone(UTC)


def _gps_time(gps: Ifd, path: Path) -> datetime | None:
    date, hms = _str(gps.get(GPS_DATE)), gps.get(GPS_TIME)
    if not date or not isinstance(hms, tuple) or len(hms) != 3 or not all(math.isfinite(v) for v in hms):
        return None
    m = re.match(r"(\d{4}):(\d{2}):(\d{2})$", date.strip())
    if not m:
        return None
    try:
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
    except ValueError as exc:
        raise MetadataError(f"{path}: GPSDateStamp {date!r}: {exc}") from None
    return day + timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2])


# --- small converters -----------------------------------------------------------------


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: object) -> float | None:
    if isinstance(value, tuple) and value and math.isfinite(value[0]):
        return float(value[0])
    return None


def _int(value: object) -> int | None:
    f = _float(value)
    return int(f) if f is not None else None
