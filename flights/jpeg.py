"""Walk the header segments of a JPEG file without decoding any pixels.

Only the markers before the first scan (SOS) are visited. Payloads are read for
the segments metadata needs (APP1 EXIF and XMP, the SOF frame size, the first bytes
of APP1/APP3 to recognise FLIR and DJI thermal blocks); every other segment is
skipped with a seek, so a 4 MB frame costs one or two small reads.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, NoReturn

from core.errors import MetadataError

log = logging.getLogger(__name__)

#: Bytes read in one go from the start of the file; the header segments up to the
#: scan fit in it for the RGB cameras seen so far (DJI FC300S: 59 kB with its EXIF
#: thumbnail; newer DJI frames: 4 kB). Segments beyond it are read where they lie.
#: Copying the bytes out of the page cache is a real part of the cost: 128 kB took
#: 31 µs per distinct file here, 64 kB 18 µs.
PREFIX_BYTES = 65536
#: Bytes at the end of the file searched for the end-of-image marker.
TAIL_BYTES = 4096
#: APP3 payload from which a JPEG is taken for a DJI R-JPEG (XT S writes 32 768 bytes).
DJI_THERMAL_APP3 = 32768
#: More header segments than this is not a camera JPEG.
MAX_SEGMENTS = 4096

EXIF_SIG = b"Exif\x00\x00"
XMP_SIG = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_SIG = b"http://ns.adobe.com/xmp/extension/\x00"
FLIR_SIG = b"FLIR\x00"
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_MARKER = struct.Struct(">BBH")  # 0xFF, marker, segment length


class JpegHeader(NamedTuple):
    """What the header segments of a JPEG carry."""

    exif: bytes | None
    """TIFF structure of the first APP1 ``Exif`` segment (without the 6-byte signature)."""
    xmp: bytes | None
    """The standard XMP packet of the APP1 XMP segment."""
    width: int | None
    height: int | None
    components: int | None
    flir_segments: int
    """Number of APP1 segments that start with ``FLIR\\0`` (FLIR FFF payload)."""
    app3_bytes: int
    """Total payload of the APP3 segments (DJI R-JPEG ``ThermalData``)."""
    dji_thermal: bool
    """An APP4 DIRP (``iirp``) block or at least 32 kB of APP3 data, as DJI thermal cameras write."""


def is_jpeg(head: bytes) -> bool:
    """True when the bytes start with a JPEG start-of-image marker."""
    return head[:3] == b"\xff\xd8\xff"


@dataclass(frozen=True, eq=False, slots=True)
class FileStart:
    """The first bytes of a file and, for a JPEG, its header segments (:func:`read_start`).

    Compared and hashed by identity: one object per file version while it is cached,
    so what is decoded from it can be cached by it (:func:`flights.exif.jpeg_tags`).
    """

    name: str
    """The path the file was read from (named in messages)."""
    head: bytes
    """The first 16 bytes (fewer in a shorter file)."""
    size: int
    jpeg: JpegHeader | None
    """The header segments when the file starts with a JPEG start-of-image marker, else None."""
    eoi: bool
    """A JPEG's end-of-image marker lies in its last ``TAIL_BYTES`` bytes."""


class _Walker:
    """State of one header walk: a file, a prefix buffer and counters."""

    def __init__(self, fd: int, path: Path | str, size: int, buf: bytes) -> None:
        self.fd = fd
        self.path = path
        self.size = size
        self.buf = buf

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at ``offset``, from the prefix when possible."""
        end = offset + length
        if end <= len(self.buf):
            return self.buf[offset:end]
        data = _pread(self.fd, length, offset)
        if len(data) < length:
            raise MetadataError(f"{self.path}: truncated JPEG: segment at byte {offset} runs past the end")
        return data


def read_start(path: Path) -> FileStart:
    """Sniff a file: its first bytes and, for a JPEG, the header walk and the end-of-image test.

    One open per file version: :func:`flights.classify.classify` and
    :func:`flights.exif.read_capture` both start here, and the second call is served from
    a small cache (32 files, keyed by path, size, mtime and inode).

    Raises:
        MetadataError: The file starts like a JPEG but its header segments are corrupt or truncated.
        OSError: The file cannot be read.
    """
    name = os.fspath(path)  # once: a Path's __fspath__ is a Python call
    st = os.stat(name)
    return _cached_start(name, st.st_size, st.st_mtime_ns, st.st_ino)


def read_jpeg_header(path: Path, *, check_eoi: bool = True) -> JpegHeader:
    """Read the metadata segments of a JPEG file.

    Args:
        path: The file.
        check_eoi: Require an end-of-image marker near the end of the file (a
            download cut off in the compressed data has none).

    Returns:
        The EXIF and XMP payloads, frame size and thermal markers.

    Raises:
        MetadataError: The file is not a JPEG, or its header or tail is truncated.
    """
    if os.stat(path).st_size == 0:
        raise MetadataError(f"{path}: empty file")
    return jpeg_header(read_start(path), path, check_eoi=check_eoi)


def jpeg_header(start: FileStart, path: Path, *, check_eoi: bool = True) -> JpegHeader:
    """The header of a file sniffed by :func:`read_start`, as :func:`read_jpeg_header` returns it.

    Raises:
        MetadataError: The file is empty or not a JPEG, or (``check_eoi``) it has no
            end-of-image marker near its end.
    """
    if start.size == 0:
        raise MetadataError(f"{path}: empty file")
    if start.jpeg is None:
        raise MetadataError(f"{path}: not a JPEG (starts with {start.head[:4]!r})")
    if check_eoi and not start.eoi:
        _truncated(path, start.size, start.jpeg)
    return start.jpeg


@lru_cache(maxsize=32)
def _cached_start(name: str, size: int, _mtime_ns: int, _inode: int) -> FileStart:
    """The sniff, remembered per file version: ingest classifies a file and then reads
    its capture, and the second call costs no read.

    A file rewritten in place within one filesystem timestamp tick and with the same
    size would be served stale; delivered folders are read-only during ingest.
    """
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)  # positioned reads, no buffer object: ~5 µs a file
    try:
        buf = _pread(fd, min(size, PREFIX_BYTES), 0)
        if not is_jpeg(buf):
            return FileStart(name, buf[:16], size, None, False)
        header = _walk(_Walker(fd, name, size, buf))
        return FileStart(name, buf[:16], size, header, _has_eoi(fd, buf, size))
    finally:
        os.close(fd)


def _pread(fd: int, length: int, offset: int) -> bytes:
    """``length`` bytes at ``offset``, fewer only at the end of the file (short reads are continued)."""
    data = os.pread(fd, length, offset)
    while 0 < len(data) < length:
        more = os.pread(fd, length - len(data), offset + len(data))
        if not more:
            break
        data += more
    return data


def _walk(w: _Walker) -> JpegHeader:
    exif = xmp = None
    width = height = components = None
    flir = app3 = 0
    dji = False
    pos = 2
    buf, last = w.buf, len(w.buf) - 4
    for _ in range(MAX_SEGMENTS):
        if pos <= last:  # marker and length in one unpack from the prefix
            lead, marker, length = _MARKER.unpack_from(buf, pos)
        else:
            (lead, marker), length = w.read(pos, 2), -1
        if lead != 0xFF:
            raise MetadataError(f"{w.path}: corrupt JPEG: no marker at byte {pos} (found {w.read(pos, 2)!r})")
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            raise MetadataError(f"{w.path}: corrupt JPEG: end-of-image before any scan at byte {pos}")
        if length < 2 or pos + 2 + length > w.size:  # length not read yet, or a bad one to report
            body, n = _segment(w, pos, marker, length)
        else:
            body, n = pos + 4, length - 2
        if marker == 0xE1:
            head = w.read(body, min(n, 29))
            if head.startswith(EXIF_SIG) and exif is None:
                exif = w.read(body + 6, n - 6)
            elif head.startswith(XMP_SIG) and xmp is None:
                xmp = w.read(body + len(XMP_SIG), n - len(XMP_SIG))
            elif head.startswith(FLIR_SIG):
                flir += 1
        elif marker == 0xE3:
            app3 += n
        elif marker == 0xE4 and w.read(body, min(n, 8))[4:8] == b"iirp":
            dji = True
        elif marker in _SOF_MARKERS:
            sof = w.read(body, min(n, 6))
            if len(sof) < 6:
                raise MetadataError(f"{w.path}: corrupt JPEG: frame header of {n} bytes")
            height, width, components = struct.unpack(">HHB", sof[1:6])
            if width == 0 or height == 0:
                raise MetadataError(f"{w.path}: JPEG frame of {width}x{height} pixels")
        elif marker == 0xDA:
            return JpegHeader(
                exif, xmp, width, height, components, flir, app3, dji or app3 >= DJI_THERMAL_APP3
            )
        pos = body + n
    raise MetadataError(f"{w.path}: corrupt JPEG: more than {MAX_SEGMENTS} header segments")


def _segment(w: _Walker, pos: int, marker: int, length: int) -> tuple[int, int]:
    """Offset and length of the body of the marker segment at ``pos`` (``length`` read here when < 0)."""
    if length < 0:
        (length,) = struct.unpack(">H", w.read(pos + 2, 2))
    if length < 2:
        raise MetadataError(f"{w.path}: corrupt JPEG: segment length {length} at byte {pos}")
    body = pos + 4
    n = length - 2
    if body + n > w.size:
        raise MetadataError(
            f"{w.path}: truncated JPEG: segment 0xFF{marker:02X} at byte {pos} needs {n} bytes, "
            f"file has {w.size - body}"
        )
    return body, n


def _has_eoi(fd: int, buf: bytes, size: int) -> bool:
    """An end-of-image marker (FF D9) in the last ``TAIL_BYTES`` bytes (a cut-off download has none)."""
    start = max(0, size - TAIL_BYTES)
    # searched from the end, where the marker lies in an intact file (``in`` scans the
    # whole tail first: 3.8 µs of entropy-coded data against 0.1 µs)
    if size <= len(buf):
        return buf.rfind(b"\xff\xd9", start) >= 0
    if os.pread(fd, 2, size - 2) == b"\xff\xd9":  # the usual end: 2 bytes read, not the last 4 kB
        return True
    return _pread(fd, size - start, start).rfind(b"\xff\xd9") >= 0


def _truncated(path: Path, size: int, header: JpegHeader) -> NoReturn:
    """Refuse a JPEG without its end-of-image marker.

    The header walk has succeeded by then, so the message can say what is intact
    (the header segments, a thermal block) and what is missing (the end of the
    compressed image data and its end-of-image marker).
    """
    start = max(0, size - TAIL_BYTES)
    intact = "EXIF/XMP header segments"
    if header.dji_thermal or header.flir_segments:
        intact += " and thermal data"
    raise MetadataError(
        f"{path}: truncated JPEG: no end-of-image marker (FF D9) in the last {size - start} bytes; "
        f"the compressed image data stop at byte {size} without it, so the end of the image "
        f"(its last rows) is missing; the {intact} are complete"
    )
