from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import pytest
from capture_builders import exif_bytes, make_jpeg, segment

from core.errors import MetadataError
from flights.jpeg import read_jpeg_header
from flights.tiff import EXIF_IFD, GPS_IFD, read_tiff_tags

P = Path("x.tif")
ALL = frozenset(range(0x10000))


def _classic(order: str, entries: list[tuple[int, int, int, bytes]], tail: bytes = b"") -> bytes:
    """A one-IFD TIFF; ``entries`` are (tag, type, count, 4-byte value field)."""
    head = (b"II" if order == "<" else b"MM") + struct.pack(order + "HI", 42, 8)
    body = struct.pack(order + "H", len(entries))
    for tag, typ, n, field in entries:
        body += struct.pack(order + "HHI", tag, typ, n) + field
    return head + body + struct.pack(order + "I", 0) + tail


@pytest.mark.parametrize("order", ["<", ">"])
def test_types_and_byte_orders(order: str) -> None:
    data_at = 8 + 2 + 12 * 5 + 4
    tail = struct.pack(order + "II", 3, 0) + struct.pack(order + "d", 2.5)
    buf = _classic(
        order,
        [
            (0x0100, 3, 1, struct.pack(order + "HH", 640, 0)),
            (0x0101, 4, 1, struct.pack(order + "I", 512)),
            (0x010F, 2, 4, b"DJI\x00"),
            (0x011A, 5, 1, struct.pack(order + "I", data_at)),  # 3/0 -> NaN
            (0x9999, 12, 1, struct.pack(order + "I", data_at + 8)),
        ],
        tail,
    )
    tags = read_tiff_tags(buf, P, ifd0_tags=ALL)
    assert tags.ifd0[0x0100] == (640.0,) and tags.ifd0[0x0101] == (512.0,)
    assert tags.ifd0[0x010F] == "DJI"
    rational = tags.ifd0[0x011A]
    assert isinstance(rational, tuple) and math.isnan(rational[0])
    assert tags.ifd0[0x9999] == (2.5,)
    assert tags.pointers == frozenset()


def test_bigtiff() -> None:
    head = b"II" + struct.pack("<HHHQ", 43, 8, 0, 16)
    entry = struct.pack("<HHQ", 0x0100, 16, 1) + struct.pack("<Q", 100_000)
    buf = head + struct.pack("<Q", 1) + entry + struct.pack("<Q", 0)
    assert read_tiff_tags(buf, P, ifd0_tags=ALL).ifd0[0x0100] == (100000.0,)


@pytest.mark.parametrize(
    ("buf", "message"),
    [
        (b"XX*\x00\x08\x00\x00\x00", "bad TIFF byte order"),
        (b"II\x2b\x01\x08\x00\x00\x00", "bad TIFF magic"),
        (b"II*\x00\xff\xff\x00\x00", "lies outside"),
        (b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 5000), "claims 5000 entries"),
    ],
)
def test_malformed_headers(buf: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        read_tiff_tags(buf, P, ifd0_tags=ALL)


def test_value_count_larger_than_the_buffer() -> None:
    buf = _classic("<", [(0x010F, 2, 0x7FFFFFFF, struct.pack("<I", 8))])
    with pytest.raises(MetadataError, match="claims 2147483647 values"):
        read_tiff_tags(buf, P, ifd0_tags=ALL)


def test_unwanted_broken_tags_are_ignored() -> None:
    buf = _classic("<", [(0x927C, 7, 100, struct.pack("<I", 10_000)), (0x010F, 2, 2, b"A\x00\x00\x00")])
    assert read_tiff_tags(buf, P, ifd0_tags=frozenset({0x010F})).ifd0 == {0x010F: "A"}


def test_sub_directories_and_pointers() -> None:
    blob = exif_bytes({0x010F: "DJI"}, {0x9003: "2024:01:01 00:00:00"}, {1: "N", 2: (1.0, 2.0, 3.0)})[6:]
    full = read_tiff_tags(blob, P, ifd0_tags=ALL, exif_tags=ALL, gps_tags=ALL)
    assert full.exif[0x9003] == "2024:01:01 00:00:00" and full.gps[2] == (1.0, 2.0, 3.0)
    assert full.pointers == {EXIF_IFD, GPS_IFD} and EXIF_IFD not in full.ifd0
    lazy = read_tiff_tags(blob, P, ifd0_tags=frozenset({0x010F}))
    assert (lazy.exif, lazy.gps, lazy.pointers) == ({}, {}, full.pointers)


def test_jpeg_header_fields(tmp_path: Path) -> None:
    flir = b"FLIR\x00\x01\x00\x00FFF\x00"
    path = make_jpeg(
        tmp_path / "a.jpg",
        exif=exif_bytes({0x010F: "DJI"}),
        extra=[(0xE1, flir), (0xE3, bytes(40000)), (0xE4, b"\x00\x00\x00\x00iirp")],
        width=80,
        height=60,
    )
    hdr = read_jpeg_header(path)
    assert (hdr.width, hdr.height, hdr.components) == (80, 60, 3)
    assert hdr.flir_segments == 1 and hdr.app3_bytes == 40000 and hdr.dji_thermal
    assert hdr.exif is not None and hdr.exif[:2] in (b"II", b"MM") and hdr.xmp is None


def test_segments_beyond_the_prefix_are_reached_by_seeking(tmp_path: Path) -> None:
    big = [(0xE2, bytes(65000))] * 4  # 260 kB of ICC-like segments before the EXIF
    base = make_jpeg(tmp_path / "base.jpg", width=16, height=16).read_bytes()
    exif = segment(0xE1, exif_bytes({0x010F: "Late"}))
    data = base[:2] + b"".join(segment(m, p) for m, p in big) + exif + base[2:]
    (tmp_path / "late.jpg").write_bytes(data)
    hdr = read_jpeg_header(tmp_path / "late.jpg")
    assert hdr.exif is not None and b"Late" in hdr.exif


def test_header_cache_sees_a_rewritten_file(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg", exif=exif_bytes({0x010F: "One"}))
    assert b"One" in (read_jpeg_header(path).exif or b"")
    make_jpeg(path, exif=exif_bytes({0x010F: "Second"}))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert b"Second" in (read_jpeg_header(path).exif or b"")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"\xff\xd8\xff\xe0\x00\x04\x00\x00\x12\x34" + d[2:], "no marker at byte 8"),
        (lambda d: d[:2] + b"\xff\xd9" + d[2:], "end-of-image before any scan"),
        (lambda d: d[:2] + b"\xff\xe1\x00\x01" + d[2:], "segment length 1"),
        (lambda d: b"\xff\xd8\xff\xe1\xff\xff" + bytes(100), "truncated JPEG: segment 0xFFE1"),
    ],
)
def test_corrupt_headers(tmp_path: Path, mutate: object, message: str) -> None:
    data = make_jpeg(tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "bad.jpg").write_bytes(mutate(data))  # type: ignore[operator]
    with pytest.raises(MetadataError, match=message):
        read_jpeg_header(tmp_path / "bad.jpg")


def test_zero_sized_frame(tmp_path: Path) -> None:
    data = bytearray(make_jpeg(tmp_path / "ok.jpg", width=16, height=16).read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = b"\x00\x00\x00\x00"
    (tmp_path / "zero.jpg").write_bytes(bytes(data))
    with pytest.raises(MetadataError, match="JPEG frame of 0x0 pixels"):
        read_jpeg_header(tmp_path / "zero.jpg")
