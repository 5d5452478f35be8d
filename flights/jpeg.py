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
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

from core.errors import MetadataError

log = logging.getLogger(__name__)

#: Bytes read in one go from the start of the file; EXIF and XMP fit in it for
#: every camera seen so far (an APP1 segment is at most 64 kB).
PREFIX_BYTES = 131072
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


class _Walker:
    """State of one header walk: a file, a prefix buffer and counters."""

    def __init__(self, fh: BinaryIO, path: Path, size: int) -> None:
        self.fh = fh
        self.path = path
        self.size = size
        self.buf = fh.read(min(size, PREFIX_BYTES))

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at ``offset``, from the prefix when possible."""
        end = offset + length
        if end <= len(self.buf):
            return self.buf[offset:end]
        self.fh.seek(offset)
        data = self.fh.read(length)
        if len(data) < length:
            raise MetadataError(f"{self.path}: truncated JPEG: segment at byte {offset} runs past the end")
        return data


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
    st = os.stat(path)
    if st.st_size == 0:
        raise MetadataError(f"{path}: empty file")
    header = _cached_header(str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if check_eoi:
        with open(path, "rb") as fh:
            _check_tail(fh, path, st.st_size, header)
    return header


@lru_cache(maxsize=32)
def _cached_header(name: str, size: int, _mtime_ns: int, _inode: int) -> JpegHeader:
    """The header walk, remembered per file version: ingest classifies a file and then
    reads its capture, and the second call costs no read.

    A file rewritten in place within one filesystem timestamp tick and with the same
    size would be served stale; delivered folders are read-only during ingest.
    """
    path = Path(name)
    with open(path, "rb") as fh:
        w = _Walker(fh, path, size)
        if not is_jpeg(w.buf):
            raise MetadataError(f"{path}: not a JPEG (starts with {w.buf[:4]!r})")
        return _walk(w)


def _walk(w: _Walker) -> JpegHeader:
    exif = xmp = None
    width = height = components = None
    flir = app3 = 0
    dji = False
    pos = 2
    for _ in range(MAX_SEGMENTS):
        marker_bytes = w.read(pos, 2)
        if marker_bytes[0] != 0xFF:
            raise MetadataError(f"{w.path}: corrupt JPEG: no marker at byte {pos} (found {marker_bytes!r})")
        marker = marker_bytes[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            raise MetadataError(f"{w.path}: corrupt JPEG: end-of-image before any scan at byte {pos}")
        body, n = _segment(w, pos, marker)
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


def _segment(w: _Walker, pos: int, marker: int) -> tuple[int, int]:
    """Offset and length of the body of the marker segment at ``pos``."""
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


def _check_tail(fh: BinaryIO, path: Path, size: int, header: JpegHeader) -> None:
    """Require an end-of-image marker near the end (a cut-off download has none).

    The header walk has succeeded by then, so the message can say what is intact
    (the header segments, a thermal block) and what is missing (the end of the
    compressed image data and its end-of-image marker).
    """
    start = max(0, size - TAIL_BYTES)
    fh.seek(start)
    if b"\xff\xd9" not in fh.read():
        intact = "EXIF/XMP header segments"
        if header.dji_thermal or header.flir_segments:
            intact += " and thermal data"
        raise MetadataError(
            f"{path}: truncated JPEG: no end-of-image marker (FF D9) in the last {size - start} bytes; "
            f"the compressed image data stop at byte {size} without it, so the end of the image "
            f"(its last rows) is missing; the {intact} are complete"
        )
