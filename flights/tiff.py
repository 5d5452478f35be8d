"""A small, strict TIFF IFD walker for EXIF blocks and TIFF headers.

Why not PIL or exifread: on brighton_beach frames ``PIL.Image.Exif().load`` reads
about 1600 EXIF blocks/s and ``exifread.process_file(details=False)`` about 820/s,
which alone would use the whole budget of the metadata scan (see
benchmarks/RESULTS.md). This walker decodes only the tags asked for, and it checks
every offset it follows, so a block whose IFD offsets point outside the file is an
error here rather than a warning and a half-filled dict.
"""

from __future__ import annotations

import mmap
import struct
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from core.errors import MetadataError

TagValue = str | bytes | tuple[float, ...]
Ifd = dict[int, TagValue]

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
MAX_ENTRIES = 1000
_NAN = float("nan")
_POINTERS = frozenset({EXIF_IFD, GPS_IFD})
#: (EXIF pointer present, GPS pointer present) -> TiffTags.pointers
_POINTER_SETS = {
    (has_exif, has_gps): frozenset({EXIF_IFD} if has_exif else ()) | frozenset({GPS_IFD} if has_gps else ())
    for has_exif in (False, True)
    for has_gps in (False, True)
}
#: (byte order, BigTIFF) -> (tag, type, count of an IFD entry; a value offset)
_ENTRY = {
    (e, big): (struct.Struct(e + ("HHQ" if big else "HHI")), struct.Struct(e + ("Q" if big else "I")))
    for e in "<>"
    for big in (False, True)
}
#: Tags returned as raw bytes whatever their declared type (XMP is BYTE in TIFF, UNDEFINED elsewhere).
RAW_TAGS = frozenset({0x02BC})

# type id -> (struct code, size)
_TYPES: dict[int, tuple[str, int]] = {
    1: ("B", 1),
    2: ("s", 1),
    3: ("H", 2),
    4: ("I", 4),
    5: ("II", 8),
    6: ("b", 1),
    7: ("s", 1),
    8: ("h", 2),
    9: ("i", 4),
    10: ("ii", 8),
    11: ("f", 4),
    12: ("d", 8),
    13: ("I", 4),
    16: ("Q", 8),
    17: ("q", 8),
    18: ("Q", 8),
}


class TiffTags(NamedTuple):
    """The decoded IFD0, EXIF and GPS directories of one TIFF structure."""

    ifd0: Ifd
    exif: Ifd
    gps: Ifd
    pointers: frozenset[int] = frozenset()
    """Sub-directory pointers IFD0 carries (``EXIF_IFD``, ``GPS_IFD``), read or not."""


_TEXT, _RAW, _NUMBERS = range(3)


class _Planned(NamedTuple):
    """One wanted IFD entry: its tag, how it decodes, and where its values lie in the buffer."""

    tag: int
    kind: int
    """``_TEXT`` (ASCII), ``_RAW`` (bytes) or ``_NUMBERS``."""
    pos: int
    total: int
    typ: int
    numbers: struct.Struct | None
    """Unpacks the values of a ``_NUMBERS`` entry (numerator and denominator each for a rational)."""
    n: int


#: Plans kept (see :meth:`_Reader.ifd`); emptied when full.
MAX_PLANS = 256
_PLANS: dict[tuple[bytes, int, int, int, str, bool, frozenset[int]], tuple[_Planned, ...]] = {}


class _Reader:
    def __init__(self, buf: bytes | mmap.mmap, base: int, path: Path | str, what: str) -> None:
        self.buf = buf
        self.base = base
        self.path = path
        self.what = what
        order = bytes(buf[base : base + 2])
        if order == b"II":
            self.e = "<"
        elif order == b"MM":
            self.e = ">"
        else:
            raise MetadataError(f"{path}: {what}: bad TIFF byte order {order!r}")
        (magic,) = struct.unpack(self.e + "H", self.at(2, 2))
        if magic == 42:
            self.big = False
        elif magic == 43:
            self.big = True
        else:
            raise MetadataError(f"{path}: {what}: bad TIFF magic {magic}")

    def at(self, off: int, n: int) -> bytes:
        start = self.base + off
        if off < 0 or start + n > len(self.buf):
            raise MetadataError(
                f"{self.path}: {self.what}: offset {off} (+{n} bytes) lies outside the "
                f"{len(self.buf) - self.base}-byte TIFF structure"
            )
        return bytes(self.buf[start : start + n])

    def first_ifd(self) -> int:
        if self.big:
            return int(struct.unpack(self.e + "Q", self.at(8, 8))[0])
        return int(struct.unpack(self.e + "I", self.at(4, 4))[0])

    def ifd(self, off: int, wanted: frozenset[int], name: str) -> Ifd:
        """The wanted tags of the IFD at ``off``; unknown types are skipped, offsets checked."""
        buf, e, big = self.buf, self.e, self.big
        cnt_n, ent_n = (8, 20) if big else (2, 12)
        start, size = self.base + off, len(buf)
        if off < 0 or start + cnt_n > size:
            self.at(off, cnt_n)  # raises: the count lies outside
        (count,) = struct.unpack_from(e + ("Q" if big else "H"), buf, start)
        if count > MAX_ENTRIES:
            raise MetadataError(f"{self.path}: {self.what}: {name} IFD at {off} claims {count} entries")
        table = start + cnt_n
        if table + count * ent_n > size:
            self.at(off + cnt_n, count * ent_n)  # raises: the entries run past the end
        # what to read where follows from the entry table, the offsets and the wanted tags alone:
        # a camera writes the same table in every frame, so it is worked out once per layout
        key = (bytes(buf[table : table + count * ent_n]), off, self.base, size, e, big, wanted)
        plan = _PLANS.get(key)
        if plan is None:
            plan = self._plan(table, count, wanted, name)  # raises where the table is bad
            if len(_PLANS) >= MAX_PLANS:
                _PLANS.clear()
            _PLANS[key] = plan
        out: Ifd = {}
        for tag, kind, pos, total, typ, numbers, n in plan:
            if kind == _TEXT:
                out[tag] = buf[pos : pos + total].split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
            elif kind == _RAW:
                out[tag] = bytes(buf[pos : pos + total])
            elif numbers is not None:
                out[tag] = _numbers(buf, pos, typ, numbers, n)
        return out

    def _plan(self, table: int, count: int, wanted: frozenset[int], name: str) -> tuple[_Planned, ...]:
        """Where each wanted entry's values lie and how they decode, every offset checked."""
        buf, e, big, size = self.buf, self.e, self.big, len(self.buf)
        ent_n, val_n = (20, 8) if big else (12, 4)
        head, pointer = _ENTRY[e, big]
        plan: list[_Planned] = []
        # the tag ids in one unpack (each entry starts with its id), so that only the wanted
        # entries are unpacked in Python: an EXIF IFD has ~40 entries, 4-7 of them read
        for i in [
            k for k, tag in enumerate(_tag_ids(e, count, ent_n).unpack_from(buf, table)) if tag in wanted
        ]:
            pos = table + i * ent_n
            tag, typ, n = head.unpack_from(buf, pos)
            if typ not in _TYPES:
                continue
            code, width = _TYPES[typ]
            total = n * width
            pos += ent_n - val_n
            if total > val_n:
                if total > size:
                    raise MetadataError(
                        f"{self.path}: {self.what}: tag 0x{tag:04X} in {name} IFD claims {n} values"
                    )
                (ptr,) = pointer.unpack_from(buf, pos)
                pos = self.base + ptr
                if pos + total > size:
                    self.at(ptr, total)  # raises: the values lie outside
            raw = typ == 7 or tag in RAW_TAGS
            kind = _RAW if raw else _TEXT if typ == 2 else _NUMBERS
            numbers = None
            if kind == _NUMBERS:  # a rational is two integers
                numbers = _number_struct(e, 2 * n, code[0]) if typ in (5, 10) else _number_struct(e, n, code)
            plan.append(_Planned(tag, kind, pos, total, typ, numbers, n))
        return tuple(plan)


@lru_cache(maxsize=256)
def _tag_ids(e: str, count: int, entry_bytes: int) -> struct.Struct:
    """Unpacks the first field (the tag id) of each of ``count`` IFD entries."""
    return struct.Struct(e + f"H{entry_bytes - 2}x" * count)


def _number_struct(e: str, n: int, code: str) -> struct.Struct:
    """Unpacks ``n`` values of struct code ``code`` in byte order ``e``."""
    return struct.Struct(f"{e}{n}{code}")


def _numbers(buf: bytes | mmap.mmap, pos: int, typ: int, numbers: struct.Struct, n: int) -> tuple[float, ...]:
    """``n`` numbers of TIFF type ``typ`` at ``pos``, as floats (rationals divided out, NaN for x/0)."""
    if typ == 5 or typ == 10:
        raw = numbers.unpack_from(buf, pos)
        if n == 1:  # the common case, without the list
            return (raw[0] / raw[1] if raw[1] else _NAN,)
        return tuple([raw[k] / raw[k + 1] if raw[k + 1] else _NAN for k in range(0, 2 * n, 2)])
    values = numbers.unpack_from(buf, pos)
    return (float(values[0]),) if n == 1 else tuple(map(float, values))


def read_tiff_tags(
    buf: bytes | mmap.mmap,
    path: Path | str,
    *,
    base: int = 0,
    ifd0_tags: frozenset[int],
    exif_tags: frozenset[int] = frozenset(),
    gps_tags: frozenset[int] = frozenset(),
    what: str = "EXIF",
) -> TiffTags:
    """Decode the wanted tags of IFD0 and its EXIF and GPS sub-directories.

    Args:
        buf: Bytes (or an mmap) holding the TIFF structure.
        path: File name, for error messages.
        base: Offset of the TIFF header in ``buf``; IFD offsets are relative to it.
        ifd0_tags: Tag ids to decode from IFD0.
        exif_tags: Tag ids to decode from the EXIF IFD.
        gps_tags: Tag ids to decode from the GPS IFD.
        what: Name of the structure in error messages (``EXIF`` or ``TIFF``).

    Returns:
        The three directories (empty when absent). ASCII values are ``str``,
        UNDEFINED values ``bytes``, numbers a tuple of floats (rationals divided out,
        NaN for a zero denominator).

    Raises:
        MetadataError: Bad header, or an IFD or value offset outside ``buf``.
    """
    r = _Reader(buf, base, path, what)
    ifd0 = r.ifd(r.first_ifd(), _with_pointers(ifd0_tags), "IFD0")
    exif = _sub(r, ifd0, EXIF_IFD, exif_tags, "EXIF")
    gps = _sub(r, ifd0, GPS_IFD, gps_tags, "GPS")
    pointers = _POINTER_SETS[ifd0.pop(EXIF_IFD, None) is not None, ifd0.pop(GPS_IFD, None) is not None]
    return TiffTags(ifd0, exif, gps, pointers)


@lru_cache(maxsize=64)
def _with_pointers(tags: frozenset[int]) -> frozenset[int]:
    """IFD0's wanted tags and the sub-directory pointers (the callers pass a few fixed sets)."""
    return tags | _POINTERS


def _sub(r: _Reader, ifd0: Ifd, tag: int, wanted: frozenset[int], name: str) -> Ifd:
    ptr = ifd0.get(tag)
    if not isinstance(ptr, tuple) or not ptr or not wanted:
        return {}
    return r.ifd(int(ptr[0]), wanted, name)


def read_sub_ifds(
    buf: bytes | mmap.mmap, path: Path, offsets: tuple[float, ...], wanted: frozenset[int], *, limit: int = 8
) -> list[Ifd]:
    """Decode the wanted tags of the sub-IFDs at ``offsets`` (DNG ``SubIFDs``, tag 0x014A).

    Raises:
        MetadataError: An offset lies outside ``buf``.
    """
    r = _Reader(buf, 0, path, "TIFF")
    return [r.ifd(int(off), wanted, f"SubIFD {i}") for i, off in enumerate(offsets[:limit])]
