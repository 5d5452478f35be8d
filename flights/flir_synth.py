"""Build valid FLIR R-JPEGs from raw counts and parameters (demo data, malformed-file tests).

The layout mirrors what FLIR cameras write (REFERENCE.md §4.1) and what
:mod:`flights.flir` reads: a big-endian FFF with a RawData record (16-bit PNG with
byte-swapped samples, or raw little-endian words) and a CameraInfo record whose
temperatures are stored in kelvin and humidity as a fraction, split over APP1
``FLIR`` segments.
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

from core.errors import ThermalError
from flights.flir import (
    CAMERA_FLOATS,
    CHUNK_HEADER,
    FFF_MAGIC,
    FLIR_MAGIC,
    KELVIN,
    KELVIN_FIELDS,
    PLANCK_O_OFFSET,
    RECORD_CAMERA_INFO,
    RECORD_RAW,
)
from flights.models import ThermalParameters

CAMERA_INFO_SIZE = 0x400
MAX_CHUNK = 65533 - CHUNK_HEADER
_DEFAULTS = {
    "emissivity": 1.0,
    "object_distance_m": 1.0,
    "reflected_temp_c": 20.0,
    "atmospheric_temp_c": 20.0,
    "ir_window_temp_c": 20.0,
    "ir_window_transmission": 1.0,
    "relative_humidity_pct": 50.0,
    "ata1": 0.006569,
    "ata2": 0.01262,
    "atb1": -0.002276,
    "atb2": -0.00667,
    "atx": 1.9,
}


def flir_app1_segments(raw: np.ndarray, params: ThermalParameters, *, png: bool = True) -> list[bytes]:
    """The complete APP1 segments (marker, length, ``FLIR\\0`` chunk header, payload).

    Args:
        raw: uint16 counts (H×W).
        params: Planck constants are required; other missing values get Thermimage defaults.
        png: store the pixels as byte-swapped 16-bit PNG (as most FLIR cameras do),
            else as raw little-endian words.
    """
    fff = build_fff(raw, params, png=png)
    chunks = [fff[i : i + MAX_CHUNK] for i in range(0, len(fff), MAX_CHUNK)]
    if len(chunks) > 256:
        raise ThermalError(f"FFF of {len(fff)} bytes needs {len(chunks)} FLIR chunks, at most 256 fit")
    last = len(chunks) - 1
    segments = []
    for index, chunk in enumerate(chunks):
        body = FLIR_MAGIC + bytes((1, index, last)) + chunk
        segments.append(b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body)
    return segments


def make_flir_rjpeg(
    raw: np.ndarray, params: ThermalParameters, preview_rgb: np.ndarray | None = None
) -> bytes:
    """A FLIR R-JPEG: a visible preview JPEG carrying the FLIR APP1 segments.

    Args:
        raw: uint16 counts (H×W).
        params: the file's parameters (Planck constants required).
        preview_rgb: H×W×3 uint8 preview; default a grey stretch of ``raw``.
    """
    if preview_rgb is None:
        span = max(int(raw.max()) - int(raw.min()), 1)
        grey = ((raw.astype(np.float64) - raw.min()) * (255.0 / span)).astype(np.uint8)
        preview_bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    else:
        preview_bgr = cv2.cvtColor(np.ascontiguousarray(preview_rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", preview_bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ThermalError("preview JPEG could not be encoded")
    jpeg = encoded.tobytes()
    insert_at = 2
    if jpeg[2:4] == b"\xff\xe0":
        insert_at = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:insert_at] + b"".join(flir_app1_segments(raw, params)) + jpeg[insert_at:]


def build_fff(raw: np.ndarray, params: ThermalParameters, *, png: bool = True) -> bytes:
    """A big-endian FFF file with RawData and CameraInfo records."""
    raw = np.asarray(raw)
    if raw.ndim != 2 or raw.dtype != np.uint16:
        raise ThermalError(f"raw must be a 2-D uint16 array, got {raw.dtype} {raw.shape}")
    records = [
        (RECORD_RAW, 3 if png else 2, _raw_record(raw, png)),
        (RECORD_CAMERA_INFO, 1, _camera_record(params)),
    ]
    header_size, entry = 0x40, 0x20
    offset = header_size + entry * len(records)
    directory, blobs = b"", b""
    for rtype, subtype, blob in records:
        directory += struct.pack(">HHIIIIIII", rtype, subtype, 100, 1, offset, len(blob), 0, 0, 0)
        blobs += blob
        offset += len(blob)
    header = FFF_MAGIC + b"dronegis".ljust(16, b"\0") + struct.pack(">III", 100, header_size, len(records))
    header = header.ljust(header_size, b"\0")
    return header + directory + blobs


def _raw_record(raw: np.ndarray, png: bool) -> bytes:
    height, width = raw.shape
    head = struct.pack("<HHH", 2, width, height).ljust(32, b"\0")
    if not png:
        return head + raw.astype("<u2").tobytes()

    ok, encoded = cv2.imencode(".png", raw.byteswap())
    if not ok:
        raise ThermalError("raw PNG could not be encoded")
    return head + encoded.tobytes()


def _camera_record(params: ThermalParameters) -> bytes:
    blob = bytearray(CAMERA_INFO_SIZE)
    struct.pack_into(">HHH", blob, 0, 2, params.raw_width or 0, params.raw_height or 0)
    for key, offset in CAMERA_FLOATS.items():
        value = getattr(params, key)
        if value is None:
            if key.startswith("planck"):
                raise ThermalError(f"cannot build a FLIR file without {key}")
            value = _DEFAULTS[key]
        if key in KELVIN_FIELDS:
            value += KELVIN
        if key == "relative_humidity_pct":
            value /= 100.0
        struct.pack_into(">f", blob, offset, value)
    if params.planck_o is None:
        raise ThermalError("cannot build a FLIR file without planck_o")
    struct.pack_into(">i", blob, PLANCK_O_OFFSET, round(params.planck_o))
    return bytes(blob)
