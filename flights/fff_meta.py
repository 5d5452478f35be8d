"""Capture metadata inside a FLIR FFF block: camera model, time with offset, GPS.

The radiometric constants are :func:`flights.flir.read_flir_metadata`'s job; this
module reads the two records ingest needs beyond them from the same parse
(:func:`flights.flir.read_flir_file`: one per file), with offsets from ExifTool's
FLIR tables (checked here against exiftool 12.57 on flirpy's Duo Pro R frame and
thermal_parser's FLIR.jpg):

- CameraInfo (record type 0x20): CameraModel, string[32] at 0xD4; DateTimeOriginal
  at 0x384 as int32u Unix seconds (UTC), int32u whose low 16 bits are milliseconds,
  and int16s minutes *west* of UTC (the offset is its negative).
- GPSInfo (record type 0x2B): GPSValid int32u at 0x00; latitude and longitude as
  signed doubles at 0x10 and 0x18; altitude float at 0x20.

A zero time-zone field is what cameras without a zone setting write (DJI Zenmuse
XT R stamps local wall-clock time with +00:00), so ``offset_known`` is False then.
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from core.errors import MetadataError, ThermalError
from flights.flir import read_flir_file
from flights.models import ThermalParameters

RECORD_CAMERA_INFO = 0x20
RECORD_GPS = 0x2B
_MODEL, _DATE = 0xD4, 0x384


class FffCapture(NamedTuple):
    """What a FLIR FFF block says about the capture."""

    model: str | None
    time_utc: datetime | None
    offset_known: bool
    local_time: datetime | None
    """Wall-clock time of the camera (naive), for when the offset is unknown."""
    lat: float | None
    lon: float | None
    altitude_m: float | None
    params: ThermalParameters
    """The radiometric parameters (:func:`flights.flir.read_flir_metadata`), from the same parse."""


def read_fff_capture(path: Path, data: bytes | None = None) -> FffCapture:
    """Model, time and GPS from the FFF block of a FLIR R-JPEG or bare ``.fff``.

    ``data``: the file's bytes when the caller has them (the file is then not read).

    Raises:
        MetadataError: The FLIR segments, FFF structure or radiometric parameters
            are broken (:func:`flights.flir.read_flir_file`).
    """
    try:
        parsed = read_flir_file(path if data is None else data, name=str(path))
    except ThermalError as exc:
        problem = str(exc).removeprefix(f"{path}: ")  # named once, here
        raise MetadataError(f"{path}: FLIR metadata: {problem}") from exc
    camera, gps = parsed.records.get(RECORD_CAMERA_INFO), parsed.records.get(RECORD_GPS)
    model, when, known, local = _camera_info(camera.data if camera is not None else None)
    lat, lon, alt = _gps(gps.data if gps is not None else None)
    return FffCapture(model, when, known, local, lat, lon, alt, parsed.params)


def _camera_info(rec: memoryview | None) -> tuple[str | None, datetime | None, bool, datetime | None]:
    if rec is None or len(rec) < _DATE + 10:
        return None, None, False, None
    order = ">" if struct.unpack_from(">H", rec, 0)[0] < 0x100 else "<"
    model = bytes(rec[_MODEL : _MODEL + 32]).split(b"\x00", 1)[0].decode("latin-1").strip() or None
    seconds, sub, west = struct.unpack_from(order + "IIh", rec, _DATE)
    if seconds == 0:
        return model, None, False, None
    when = datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=sub & 0xFFFF)
    local = (when - timedelta(minutes=west)).replace(tzinfo=None)
    return model, when, west != 0, local


def _gps(rec: memoryview | None) -> tuple[float | None, float | None, float | None]:
    if rec is None or len(rec) < 0x24:
        return None, None, None
    order = "<" if struct.unpack_from("<I", rec, 0)[0] in (0, 1) else ">"
    (valid,) = struct.unpack_from(order + "I", rec, 0)
    lat, lon, alt = struct.unpack_from(order + "ddf", rec, 0x10)
    if valid != 1 or not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None, None, None
    return lat, lon, (alt if math.isfinite(alt) else None)
