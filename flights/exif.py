"""Read one capture's metadata (EXIF, XMP, FLIR) from its header, decoding no pixels.

``read_capture`` is the only EXIF/XMP reader of dronegis. For a JPEG it walks the
header segments (:mod:`flights.jpeg`), decodes the wanted EXIF tags with the strict
IFD walker of :mod:`flights.tiff` and flattens the XMP packet (:mod:`flights.xmp`).
For a TIFF/DNG frame the same walker reads the file through an mmap; for a bare FLIR
``.fff`` only the thermal parameters are read.

Capture time: see :mod:`flights.capture_time` (UTC, and ``time_source`` says how).

For FLIR files the FFF GPS record is the position fallback (``source="flir"``) and
the FFF camera model fills a missing EXIF model (bare ``.fff`` files: make "FLIR").

A JPEG without its end-of-image marker is rejected as truncated (``MetadataError``;
ingest quarantines it), even when every header segment and the thermal APP3/APP4
data are complete. The message names the file and says what is missing (the end of
the compressed image data and the FF D9 marker) and what is intact. Decided on
thermal_parser's ``DJI_XTS.jpg`` (DJI XT S, 640x512, exiftool: "JPEG format error"):
its header and 32 kB APP3 thermal block are complete and the DJI decoder reads them,
but its scan data are cut too, not only the marker: all 15 restart markers of the
16 restart intervals are there, yet libjpeg reports "premature end of data segment"
even with FF D9 appended, so the last MCUs are missing. Telling "only the marker is
missing" from "the scan is cut" needs an entropy decode of the whole scan, which
ingest does not do for thermal frames; a file that was cut off is not an intact
delivery, so quarantine (with the reason file) is the honest default.
``read_capture(..., check_eoi=False)`` still reads such a file's metadata for callers
that want the thermal block anyway.
"""

from __future__ import annotations

import logging
import math
import mmap
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.errors import ImplausibleImageError, MetadataError
from flights.capture_time import (
    DATETIME_ORIGINAL,
    GPS_DATE,
    GPS_TIME,
    OFFSET_TIME,
    OFFSET_TIME_ORIGINAL,
    SUBSEC_ORIGINAL,
    capture_time,
)
from flights.fff_meta import FffCapture, read_fff_capture
from flights.jpeg import FileStart, jpeg_header, read_start
from flights.models import AltitudeRef, CameraInfo, Capture, FileKind, Position, Rtk, ThermalParameters
from flights.sensors import SENSORS
from flights.tiff import Ifd, TiffTags, read_sub_ifds, read_tiff_tags
from flights.xmp import XmpValues, parse_xmp, xmp_float
from flights.xmp_pose import (
    NUMERIC_KEYS,
    RecordedCamera,
    attitude_from,
    camera_from,
    rtk_from,
    velocity_from,
    xmp_numbers,
)

log = logging.getLogger(__name__)

DEFAULT_LOCAL_TZ: tzinfo = ZoneInfo("Europe/Copenhagen")
#: A frame wider or taller than this is not a camera frame (and not decodable safely).
MAX_FRAME_SIDE = 100_000
#: More pixels than this (200 MPix; the largest survey cameras have 150) is not a camera frame:
#: a header claiming it is refused before any decode (a 146 kB JPEG claiming 60 000 x 60 000
#: pixels would cost 10 GiB to decode).
MAX_FRAME_PIXELS = 200_000_000

# Tag ids (EXIF 2.32 / TIFF 6).
MAKE, MODEL, WIDTH, HEIGHT, XMP_TAG = 0x010F, 0x0110, 0x0100, 0x0101, 0x02BC
EXPOSURE_TIME, FOCAL_LENGTH, FOCAL_35MM = 0x829A, 0x920A, 0xA405
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT = 1, 2, 3, 4, 5, 6

NEW_SUBFILE_TYPE, SUB_IFDS, DNG_VERSION = 0x00FE, 0x014A, 0xC612

IFD0_TAGS = frozenset({MAKE, MODEL, WIDTH, HEIGHT, XMP_TAG, SUB_IFDS, DNG_VERSION})
_SUB_TAGS = frozenset({NEW_SUBFILE_TYPE, WIDTH, HEIGHT})
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
    container: str = "jpeg"
    """``jpeg``, ``tiff`` or ``fff``."""


def read_raw(path: Path, *, check_eoi: bool = True) -> RawMetadata:
    """Read the metadata blocks of a JPEG, TIFF/DNG or FLIR FFF file.

    ``check_eoi=False`` accepts a JPEG without its end-of-image marker (see
    :func:`flights.jpeg.read_jpeg_header`).

    Raises:
        MetadataError: Empty, truncated or malformed file, or not an image.
    """
    start = read_start(path)
    head = start.head
    if not head:
        raise MetadataError(f"{path}: empty file")
    if start.jpeg is not None:
        return _raw_jpeg(start, path, check_eoi)
    if head[:4] in TIFF_MAGICS:
        return _raw_tiff(path)
    if head[:4] == FFF_MAGIC:
        return RawMetadata(_EMPTY, {}, None, None, True, False, "fff")
    raise MetadataError(f"{path}: not a JPEG, TIFF or FLIR file (starts with {head[:8]!r})")


def _raw_jpeg(start: FileStart, path: Path, check_eoi: bool) -> RawMetadata:
    hdr = jpeg_header(start, path, check_eoi=check_eoi)
    tags = jpeg_tags(start)
    xmp = parse_xmp(hdr.xmp, path) if hdr.xmp else {}
    return RawMetadata(tags, xmp, hdr.width, hdr.height, hdr.flir_segments > 0, hdr.dji_thermal)


@lru_cache(maxsize=32)
def jpeg_tags(start: FileStart) -> TiffTags:
    """The IFD0, EXIF and GPS tags ``read_capture`` uses, of a JPEG sniffed by :func:`read_start`.

    Cached per sniff (:class:`flights.jpeg.FileStart` is hashed by identity), so
    :func:`flights.classify.classify` and ``read_capture`` decode them once.

    Raises:
        MetadataError: An IFD or value offset lies outside the EXIF block.
    """
    exif = start.jpeg.exif if start.jpeg is not None else None
    if exif is None:
        return _EMPTY
    return read_tiff_tags(exif, start.name, ifd0_tags=IFD0_TAGS, exif_tags=EXIF_TAGS, gps_tags=GPS_TAGS)


def _raw_tiff(path: Path) -> RawMetadata:
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        tags = read_tiff_tags(
            mm, path, ifd0_tags=IFD0_TAGS, exif_tags=EXIF_TAGS, gps_tags=GPS_TAGS, what="TIFF"
        )
        width, height = _int(tags.ifd0.get(WIDTH)), _int(tags.ifd0.get(HEIGHT))
        subs = tags.ifd0.get(SUB_IFDS)
        if DNG_VERSION in tags.ifd0 and isinstance(subs, tuple):
            # DNG: IFD0 is often a preview; the full-resolution image is the sub-IFD
            # whose NewSubfileType is 0
            for sub in read_sub_ifds(mm, path, subs, _SUB_TAGS):
                if _int(sub.get(NEW_SUBFILE_TYPE)) == 0 and WIDTH in sub:
                    width, height = _int(sub.get(WIDTH)), _int(sub.get(HEIGHT))
                    break
    packet = tags.ifd0.get(XMP_TAG)
    xmp = parse_xmp(packet, path) if isinstance(packet, bytes) else {}
    if width is None or height is None:
        raise MetadataError(f"{path}: TIFF without ImageWidth/ImageLength")
    return RawMetadata(tags, xmp, width, height, False, False, "tiff")


def read_capture(
    path: Path,
    relpath: str,
    *,
    sha256: str,
    size: int,
    kind: FileKind,
    local_tz: tzinfo = DEFAULT_LOCAL_TZ,
    check_eoi: bool = True,
    data: bytes | None = None,
) -> Capture:
    """Read one frame's time, position, attitude, RTK, camera and thermal parameters.

    Args:
        path: The file.
        relpath: Its path relative to the flight folder (POSIX separators).
        sha256: Its checksum (computed by the caller while archiving).
        size: Its size in bytes.
        kind: Its kind from :func:`flights.classify.classify`.
        local_tz: Zone assumed for DateTimeOriginal without an offset (module docstring).
        check_eoi: Treat a JPEG without end-of-image marker as truncated (default;
            see the module docstring). thermal_parser's DJI_XTS.jpg is such a file:
            its scan is cut, its metadata intact and readable with ``check_eoi=False``.
        data: The file's bytes when the caller has read them (``dronegis thermal`` hashes
            them): a FLIR file's FFF block is then parsed from them, not read again.

    Returns:
        The capture, without problems or quality figures (ingest adds those).

    Raises:
        MetadataError: The file or its EXIF/XMP/FLIR metadata is malformed.
    """
    raw = read_raw(path, check_eoi=check_eoi)
    for side in (raw.width, raw.height):
        if side is not None and not 0 < side <= MAX_FRAME_SIDE:
            raise ImplausibleImageError(f"{path}: absurd image size {raw.width}x{raw.height} pixels")
    check_frame_size(raw.width or 0, raw.height or 0, path)
    numbers = xmp_numbers(raw.xmp, path) if raw.xmp else {}
    fff = read_fff_capture(path, data) if raw.flir else None
    time_utc, time_source = capture_time(raw.tags.exif, raw.tags.gps, raw.xmp, path, local_tz, fff)
    rtk = rtk_from(raw.xmp, numbers, path)
    return Capture(
        path=relpath,
        sha256=sha256,
        size=size,
        kind=kind,
        time_utc=time_utc,
        time_source=time_source,
        position=_position(path, raw, numbers, rtk, fff),
        attitude=attitude_from(raw.xmp, numbers),
        rtk=rtk,
        velocity=velocity_from(raw.xmp, numbers),
        camera=_camera(path, raw, numbers, fff),
        thermal=_thermal(raw, kind, fff),
    )


def check_frame_size(width: int, height: int, path: Path | str) -> None:
    """Refuse a frame whose header announces more than ``MAX_FRAME_PIXELS`` pixels.

    Raises:
        ImplausibleImageError: it does (the frame is never decoded).
    """
    if width * height > MAX_FRAME_PIXELS:
        raise ImplausibleImageError(
            f"{path}: the header announces {width}x{height} pixels ({width * height / 1e6:,.0f} MPix), "
            f"more than a camera frame has (limit {MAX_FRAME_PIXELS / 1e6:.0f} MPix); not decoded"
        )


def _position(
    path: Path, raw: RawMetadata, numbers: dict[str, float], rtk: Rtk, fff: FffCapture | None
) -> Position | None:
    """EXIF/XMP position, else the FLIR FFF GPS record."""
    position = position_from(
        raw.tags.gps,
        raw.xmp,
        numbers,
        path,
        rtk_fixed_ellipsoidal=rtk.fixed and rtk.altitude_type == "RtkAlt",
    )
    if position is None and fff is not None and fff.lat is not None and fff.lon is not None:
        position = Position(lat=fff.lat, lon=fff.lon, altitude_m=fff.altitude_m, source="flir")
    return position


def _camera(path: Path, raw: RawMetadata, numbers: dict[str, float], fff: FffCapture | None) -> CameraInfo:
    """Camera and lens from IFD0/EXIF, XMP, or the FFF record of a bare ``.fff`` file."""
    ifd0, exif = raw.tags.ifd0, raw.tags.exif
    make = _str(ifd0.get(MAKE)) or raw.xmp.get("tiff:Make") or None
    model = _str(ifd0.get(MODEL)) or raw.xmp.get("tiff:Model") or None
    if fff is not None and not ifd0:
        make, model = "FLIR", fff.model
    recorded = RecordedCamera(
        make=make,
        model=model,
        width=raw.width,
        height=raw.height,
        focal_length_mm=_float(exif.get(FOCAL_LENGTH)),
        focal_length_35mm=_float(exif.get(FOCAL_35MM)) or None,
        exposure_time_s=_float(exif.get(EXPOSURE_TIME)),
    )
    return camera_from(recorded, raw.xmp, numbers, path)


def _thermal(raw: RawMetadata, kind: FileKind, fff: FffCapture | None) -> ThermalParameters | None:
    if fff is not None:  # a FLIR file: its parameters come with the capture time and GPS (one parse)
        return fff.params
    if raw.dji_thermal or kind == FileKind.THERMAL_FRAME:
        fmt = "dji-rjpeg" if raw.dji_thermal else ("radiometric-tiff" if raw.container == "tiff" else None)
        width, height = raw.width, raw.height
        profile = SENSORS.get(_str(raw.tags.ifd0.get(MAKE)), _str(raw.tags.ifd0.get(MODEL)), width=raw.width)
        if raw.dji_thermal and profile is not None and profile.kind == "thermal" and profile.native_width:
            # the M30T writes a 1280x1024 JPEG around a 640x512 radiometric core
            width, height = profile.native_width, profile.native_height
        return ThermalParameters(format=fmt, raw_width=width, raw_height=height)
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

_CHECKED = frozenset(NUMERIC_KEYS)
_ALTITUDE_REFS: dict[int, AltitudeRef] = {0: "above_sea_level", 1: "below_sea_level"}


def position_from(
    gps: Ifd, xmp: XmpValues, numbers: dict[str, float], path: Path, *, rtk_fixed_ellipsoidal: bool = False
) -> Position | None:
    """Position from EXIF GPS, falling back to XMP (DJI, senseFly) coordinates.

    ``numbers`` are the file's numeric XMP values (:func:`flights.xmp_pose.xmp_numbers`).
    ``altitude_ref`` is ``ellipsoidal`` when the drone reports an RTK fixed solution
    with ``AltitudeType=RtkAlt`` (REFERENCE.md §2.5), otherwise what GPSAltitudeRef says.

    Raises:
        MetadataError: The XMP coordinate read is not a finite number.
    """
    lat = _dms(gps.get(GPS_LAT), _str(gps.get(GPS_LAT_REF)), "S")
    lon = _dms(gps.get(GPS_LON), _str(gps.get(GPS_LON_REF)), "W")
    source = "exif"
    if lat is None or lon is None:
        lat, lon = _first(xmp, numbers, _XMP_LAT, path), _first(xmp, numbers, _XMP_LON, path)
        source = "xmp"
    if lat is None or lon is None:
        return None
    altitude = _float(gps.get(GPS_ALT))
    ref_raw = _int(gps.get(GPS_ALT_REF))
    ref: AltitudeRef = _ALTITUDE_REFS.get(ref_raw if ref_raw is not None else -1, "unknown")
    if altitude is not None and ref_raw == 1:
        altitude = -altitude
    if rtk_fixed_ellipsoidal:
        ref = "ellipsoidal"
    return Position(
        lat=lat,
        lon=lon,
        altitude_m=altitude,
        altitude_ref=ref,
        absolute_altitude_m=numbers.get("drone-dji:AbsoluteAltitude"),
        relative_altitude_m=numbers.get("drone-dji:RelativeAltitude"),
        source=source,
    )


def _first(xmp: XmpValues, numbers: dict[str, float], keys: tuple[str, ...], path: Path) -> float | None:
    """The first of ``keys`` that the file has, as a number: from ``numbers`` when the key is one
    of ``NUMERIC_KEYS`` (checked up front), else read here (senseFly's coordinates)."""
    for key in keys:
        value = numbers.get(key) if key in _CHECKED else xmp_float(xmp, key, path)
        if value is not None:
            return value
    return None


def _dms(value: object, ref: str | None, negative: str) -> float | None:
    if not isinstance(value, tuple) or not value or not all(map(math.isfinite, value)):
        return None
    minutes = value[1] if len(value) > 1 else 0.0
    seconds = value[2] if len(value) > 2 else 0.0
    deg = float(value[0]) + minutes / 60 + seconds / 3600
    return -deg if ref and ref.upper().startswith(negative) else deg


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
