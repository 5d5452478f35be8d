"""FLIR radiometric files in pure Python: R-JPEG (APP1 ``FLIR`` segments) and bare FFF.

Layout (REFERENCE.md §4.1, ExifTool's FLIR module):

- An R-JPEG splits an FFF file over APP1 segments that start with ``FLIR\\0``, one
  byte 0x01, the 0-based chunk index and the index of the last chunk. The payloads
  (after those 8 bytes), joined in index order, are the FFF file.
- The FFF header is big- or little-endian; the version at 0x14 (100..199) tells which.
  Its record directory (offset at 0x18, count at 0x1C) has 32-byte entries: type,
  subtype, version, index id, offset, length, ...
- Record 1 (RawData): its first u16 is 2 in the record's byte order; width and height
  follow; pixels start at +32, either a 16-bit PNG whose samples are byte-swapped or
  raw 16-bit words (subtype 1 big-endian, 2 little-endian).
- Record 32 (CameraInfo): float32 measurement parameters and Planck constants at
  fixed offsets; temperatures in kelvin, converted here to °C.

No exiftool at run time. PNG payloads are decoded with OpenCV.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from core.errors import ThermalError
from flights.models import ThermalParameters

log = logging.getLogger(__name__)

FLIR_MAGIC = b"FLIR\x00"
FFF_MAGIC = b"FFF\x00"
CHUNK_HEADER = 8
RECORD_RAW = 1
RECORD_CAMERA_INFO = 32
KELVIN = 273.15
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# CameraInfo float32 fields: name -> byte offset (REFERENCE.md §4.1 table).
CAMERA_FLOATS = {
    "emissivity": 0x20,
    "object_distance_m": 0x24,
    "reflected_temp_c": 0x28,
    "atmospheric_temp_c": 0x2C,
    "ir_window_temp_c": 0x30,
    "ir_window_transmission": 0x34,
    "relative_humidity_pct": 0x3C,
    "planck_r1": 0x58,
    "planck_b": 0x5C,
    "planck_f": 0x60,
    "ata1": 0x70,
    "ata2": 0x74,
    "atb1": 0x78,
    "atb2": 0x7C,
    "atx": 0x80,
    "planck_r2": 0x30C,
}
KELVIN_FIELDS = ("reflected_temp_c", "atmospheric_temp_c", "ir_window_temp_c")
PLANCK_O_OFFSET = 0x308
_CAMERA_INFO_MIN = 0x310


class FlirImage(NamedTuple):
    """A decoded FLIR frame: raw sensor counts and the file's own parameters."""

    raw: np.ndarray
    params: ThermalParameters


class FffRecord(NamedTuple):
    """One record of an FFF file: its subtype and its bytes."""

    subtype: int
    data: memoryview


class FlirFile(NamedTuple):
    """A FLIR file parsed without its pixels: the first record of each type and the parameters."""

    records: Mapping[int, FffRecord]
    params: ThermalParameters
    """With ``raw_width``/``raw_height`` from the RawData header."""


def is_flir(data: bytes) -> bool:
    """True if ``data`` is a bare FFF file or a JPEG carrying a FLIR APP1 segment."""
    if data.startswith(FFF_MAGIC):
        return True
    if not data.startswith(b"\xff\xd8"):
        return False
    try:
        return any(True for _ in _flir_chunks(data, "<bytes>"))
    except ThermalError:
        return False


def read_flir(source: Path | bytes, *, name: str | None = None) -> FlirImage:
    """Decode a FLIR R-JPEG or FFF file into raw counts (uint16, H×W) and parameters.

    Args:
        source: path of the file, or its bytes.
        name: how error messages name ``source`` when it is bytes (default ``<bytes>``).

    Raises:
        ThermalError: the file is not FLIR or is malformed; the message names the file.
    """
    loaded_name, data = _load(source)
    name = name or loaded_name
    parsed = _parsed(_Content(name, data))
    return FlirImage(_raw_pixels(parsed.records, name), parsed.params)  # pixels checked against the header


def read_flir_metadata(path: Path) -> ThermalParameters:
    """The parameters of a FLIR file without decoding its pixels (fast; used by ingest).

    Raises:
        ThermalError: as :func:`read_flir`, except that pixel data is not checked
            beyond its header.
    """
    return read_flir_file(path).params


def read_flir_file(source: Path | bytes, *, name: str | None = None) -> FlirFile:
    """The FFF records and parameters of a FLIR file, without decoding its pixels.

    One parse per file content: :func:`flights.exif.read_capture` (capture time and GPS
    of :mod:`flights.fff_meta`, the parameters) and :func:`read_flir` of the same file
    share it through a small cache of the last files read, keyed by name and size and
    checked against the whole content, so a rewritten file is never served stale.

    Raises:
        ThermalError: as :func:`read_flir_metadata`.
    """
    loaded_name, data = _load(source)
    return _parsed(_Content(name or loaded_name, data))


class _Content:
    """A file's name and bytes as a cache key: hashed by name and size, equal by content."""

    __slots__ = ("data", "name")

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.data = name, data

    def __hash__(self) -> int:
        return hash((self.name, len(self.data)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Content) or self.name != other.name:
            return False
        return self.data is other.data or self.data == other.data


@lru_cache(maxsize=8)
def _parsed(content: _Content) -> FlirFile:
    """Records, parameters and header size of a FLIR file (errors are not cached)."""
    name = content.name
    records = _records(content.data, name)
    params = _camera_params(records, name)
    width, height, _ = _raw_header(records, name)
    return FlirFile(records, params.model_copy(update={"raw_width": width, "raw_height": height}))


def extract_fff(data: bytes, name: str = "<bytes>") -> bytes:
    """The FFF file inside ``data``: joined FLIR APP1 payloads, or ``data`` if already FFF.

    Raises:
        ThermalError: no FLIR segments, or segments missing, duplicated or out of order.
    """
    if data.startswith(FFF_MAGIC):
        return data
    if not data.startswith(b"\xff\xd8"):
        raise ThermalError(f"{name}: neither a JPEG nor an FFF file (starts with {data[:4]!r})")
    payloads: list[memoryview] = []
    expected_last: int | None = None
    for index, last, payload in _flir_chunks(data, name):
        if expected_last is None:
            expected_last = last
        if last != expected_last:
            raise ThermalError(
                f"{name}: FLIR segment {index} says last chunk {last}, earlier {expected_last}"
            )
        if index != len(payloads):
            raise ThermalError(
                f"{name}: FLIR segment {index} found where segment {len(payloads)} was expected "
                "(segments missing, duplicated or out of order)"
            )
        payloads.append(payload)
    if expected_last is None:
        raise ThermalError(f"{name}: no FLIR APP1 segments (not a FLIR radiometric JPEG)")
    if len(payloads) != expected_last + 1:
        raise ThermalError(f"{name}: FLIR segments missing: found {len(payloads)} of {expected_last + 1}")
    return b"".join(payloads)


def _load(source: Path | bytes) -> tuple[str, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return "<bytes>", bytes(source)
    path = Path(source)
    try:
        return str(path), path.read_bytes()
    except OSError as exc:
        raise ThermalError(f"{path}: cannot read: {exc}") from exc


def _flir_chunks(data: bytes, name: str) -> Iterator[tuple[int, int, memoryview]]:
    """Yield (index, last index, payload) of every FLIR APP1 segment before SOS."""
    pos, size, view = 2, len(data), memoryview(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            raise ThermalError(f"{name}: JPEG marker expected at byte {pos}, found 0x{data[pos]:02x}")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            raise ThermalError(f"{name}: JPEG segment 0x{marker:02x} at byte {pos} is truncated")
        if marker == 0xE1 and data[pos + 4 : pos + 9] == FLIR_MAGIC and length >= 2 + CHUNK_HEADER:
            yield data[pos + 10], data[pos + 11], view[pos + 4 + CHUNK_HEADER : end]
        pos = end


def _records(data: bytes, name: str) -> dict[int, FffRecord]:
    """First record of each type in the FFF inside ``data``."""
    fff = extract_fff(data, name)
    if len(fff) < 0x40 or not fff.startswith(FFF_MAGIC):
        raise ThermalError(f"{name}: FFF header missing or truncated ({len(fff)} bytes)")
    order = _byte_order(fff, name)
    dir_offset, count = struct.unpack_from(order + "II", fff, 0x18)
    if dir_offset + count * 32 > len(fff):
        raise ThermalError(
            f"{name}: truncated FFF: record directory at {dir_offset} with {count} entries "
            f"needs {dir_offset + count * 32} bytes, file has {len(fff)}"
        )
    records: dict[int, FffRecord] = {}
    for i in range(count):
        rtype, subtype, _ver, _idx, offset, length = struct.unpack_from(
            order + "HHIIII", fff, dir_offset + 32 * i
        )
        if rtype == 0 or rtype in records:
            continue
        if offset + length > len(fff):
            raise ThermalError(
                f"{name}: truncated FFF: record type {rtype} spans bytes {offset}..{offset + length}, "
                f"file has {len(fff)}"
            )
        records[rtype] = FffRecord(subtype, memoryview(fff)[offset : offset + length])
    return records


def _byte_order(fff: bytes, name: str) -> str:
    for order in (">", "<"):
        version = struct.unpack_from(order + "I", fff, 0x14)[0]
        if 100 <= version < 200:
            return order
    raise ThermalError(f"{name}: unsupported FFF version field {fff[0x14:0x18].hex()}")


def _record_order(record: memoryview) -> str:
    """A record's own byte order: its first u16 is 2 when read the right way."""
    return ">" if struct.unpack_from(">H", record, 0)[0] < 0x100 else "<"


def _camera_params(records: Mapping[int, FffRecord], name: str) -> ThermalParameters:
    info = records.get(RECORD_CAMERA_INFO)
    if info is None or len(info.data) < _CAMERA_INFO_MIN:
        size = "absent" if info is None else f"{len(info.data)} bytes"
        raise ThermalError(f"{name}: missing Planck constants: FLIR CameraInfo record is {size}")
    blob, order = info.data, _record_order(info.data)
    values: dict[str, float | int | str] = {
        key: float(struct.unpack_from(order + "f", blob, offset)[0]) for key, offset in CAMERA_FLOATS.items()
    }
    values["planck_o"] = float(struct.unpack_from(order + "i", blob, PLANCK_O_OFFSET)[0])
    for key in KELVIN_FIELDS:
        values[key] = float(values[key]) - KELVIN
    humidity = float(values["relative_humidity_pct"])
    values["relative_humidity_pct"] = humidity if humidity > 2 else humidity * 100.0
    for key in ("planck_r1", "planck_r2", "planck_b", "planck_f"):
        value = float(values[key])
        if not math.isfinite(value) or (value == 0.0 and key != "planck_f"):
            raise ThermalError(f"{name}: missing Planck constants: {key} = {value}")
    values["format"] = "flir-fff"
    return ThermalParameters.model_validate(values)


def _raw_header(records: Mapping[int, FffRecord], name: str) -> tuple[int, int, str]:
    raw = records.get(RECORD_RAW)
    if raw is None or len(raw.data) < 32:
        raise ThermalError(f"{name}: FLIR RawData record missing or shorter than its 32-byte header")
    order = _record_order(raw.data)
    width, height = struct.unpack_from(order + "HH", raw.data, 2)
    if width == 0 or height == 0:
        raise ThermalError(f"{name}: FLIR RawData header gives an empty image {width}x{height}")
    return width, height, order


def _raw_pixels(records: Mapping[int, FffRecord], name: str) -> np.ndarray:
    width, height, order = _raw_header(records, name)
    record = records[RECORD_RAW]
    payload = record.data[32:]
    if bytes(payload[:8]) == PNG_MAGIC:
        return _decode_png(payload, width, height, name)
    if record.subtype in (1, 2):
        order = ">" if record.subtype == 1 else "<"
    if len(payload) != width * height * 2:
        raise ThermalError(
            f"{name}: raw size does not match the header: {len(payload)} bytes for "
            f"{width}x{height} 16-bit pixels ({width * height * 2} bytes)"
        )
    pixels = np.frombuffer(payload, dtype=np.dtype(order + "u2")).reshape(height, width)
    return pixels.astype(np.uint16)


def _decode_png(payload: memoryview, width: int, height: int, name: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint16 or image.ndim != 2:
        raise ThermalError(f"{name}: FLIR RawThermalImage PNG is not a decodable 16-bit grey image")
    if image.shape != (height, width):
        raise ThermalError(
            f"{name}: raw size does not match the header: PNG is {image.shape[1]}x{image.shape[0]}, "
            f"header says {width}x{height}"
        )
    return image.byteswap()
