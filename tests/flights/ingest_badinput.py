"""Builders of malformed delivered files (shared by the ingest and CLI tests)."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import numpy as np

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" drone-dji:RelativeAltitude="&lol3;"/>
</rdf:RDF></x:xmpmeta>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" drone-dji:RelativeAltitude="&xxe;"/>
</rdf:RDF></x:xmpmeta>"""


def segments(jpeg: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of the header segments of a JPEG, up to SOS."""
    out, pos = [], 2
    while pos < len(jpeg) and jpeg[pos] == 0xFF and jpeg[pos + 1] != 0xDA:
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        out.append((jpeg[pos + 1], pos, pos + 2 + length))
        pos += 2 + length
    return out


def replace_xmp(jpeg: bytes, packet: bytes) -> bytes:
    """The JPEG with its XMP APP1 payload replaced by ``packet``."""
    for marker, start, end in segments(jpeg):
        if marker == 0xE1 and jpeg[start + 4 : start + 4 + len(XMP_HEADER)] == XMP_HEADER:
            body = XMP_HEADER + packet
            return jpeg[:start] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[end:]
    raise AssertionError("no XMP segment")


def bad_ifd_offset(jpeg: bytes) -> bytes:
    """The JPEG with the EXIF IFD0 offset pointing far beyond the end of the file."""
    for marker, start, _end in segments(jpeg):
        if marker == 0xE1 and jpeg[start + 4 : start + 10] == b"Exif\x00\x00":
            tiff = start + 10
            order = "<" if jpeg[tiff : tiff + 2] == b"II" else ">"
            patched = struct.pack(order + "I", 0x7FFF_FFF0)
            return jpeg[: tiff + 4] + patched + jpeg[tiff + 8 :]
    raise AssertionError("no EXIF segment")


def absurd_tiff() -> bytes:
    """A little-endian TIFF header announcing 2^31-1 × 2^31-1 pixels."""
    entries = [
        (256, 4, 1, 0x7FFF_FFFF),
        (257, 4, 1, 0x7FFF_FFFF),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (279, 4, 1, 16),
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8 + 16) + b"\0" * 16 + ifd


def with_tail(jpeg: bytes, tag: str) -> bytes:
    """Same image, different bytes (a trailer after EOI), so the sha256 differs."""
    return jpeg + tag.encode()


def build_bad_flight(folder: Path, good: Path, make_raster: object) -> dict[str, tuple[str, str]]:
    """Write good frames and every malformed case into ``folder``.

    Returns:
        {relpath: (expected status, expected code or "")} for the regular files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    frame = (good / "DJI_0001.JPG").read_bytes()
    for name in ("DJI_0001.JPG", "DJI_0002.JPG", "DJI_0003.JPG", "gcp_list.txt"):
        shutil.copy2(good / name, folder / name)
    expected: dict[str, tuple[str, str]] = {
        "DJI_0001.JPG": ("archived", ""),
        "DJI_0002.JPG": ("archived", ""),
        "DJI_0003.JPG": ("archived", ""),
        "gcp_list.txt": ("archived", ""),
    }

    def put(name: str, data: bytes, status: str, code: str) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[name] = (status, code)

    put("empty.JPG", b"", "quarantined", "empty_file")
    put("truncated.JPG", frame[: len(frame) // 2], "quarantined", "*")
    put("bad_ifd.JPG", bad_ifd_offset(frame), "quarantined", "metadata_error")
    put("not_an_image.JPG", b"this is a text file, not a JPEG\n" * 20, "quarantined", "*")
    put("xmp_bomb.JPG", replace_xmp(frame, BOMB), "quarantined", "metadata_error")
    put("xmp_xxe.JPG", replace_xmp(frame, XXE), "quarantined", "metadata_error")
    packet = replace_xmp(
        frame,
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"'
        b' drone-dji:RelativeAltitude="+6O.5" drone-dji:GimbalPitchDegree="-9O"/></rdf:RDF></x:xmpmeta>',
    )
    put("xmp_badnum.JPG", packet, "quarantined", "metadata_error")
    put("huge.tif", absurd_tiff(), "quarantined", "*")
    put("duplicate/DJI_0001_copy.JPG", frame, "quarantined", "duplicate_content")
    put("billede æøå 01.JPG", with_tail(frame, "æøå"), "archived", "")
    put("Ünïcødé ✈ frame.JPG", with_tail(frame, "unicode"), "archived", "")
    put(".hidden_notes.txt", b"hidden file\n", "archived", "")
    put("manifest.json", b'{"pilot": "not the archive manifest"}', "quarantined", "reserved_name")
    put("x" * 200 + "_long_name_æøå.JPG", with_tail(frame, "long"), "archived", "")
    # GeoTIFF without CRS and world files with zero / NaN pixel size
    nocrs = make_raster("nocrs_ortho.tif", crs=None)  # type: ignore[operator]
    put("nocrs_ortho.tif", Path(nocrs).read_bytes(), "quarantined", "raster_error")
    png = _tiny_png()
    put("ortho_zero.png", png, "quarantined", "raster_error")
    put("ortho_zero.pgw", b"0\n0\n0\n0\n557900\n6212000\n", "archived", "")
    put("ortho_nan.png", png + b"n", "quarantined", "raster_error")
    put("ortho_nan.pgw", b"nan\n0\n0\n-0.1\n557900\n6212000\n", "archived", "")
    # control files
    put("gcp_malformed.txt", b"EPSG:25832\n557870.0 6211988.0 100.0 339.2\n", "quarantined", "control_error")
    put(
        "gcp_nan.txt",
        b"EPSG:25832\nnan 6211988.0 100.0 339.2 438.7 DJI_0001.JPG GCP1\n",
        "quarantined",
        "control_error",
    )
    put(
        "gcp_unknown_crs.txt",
        b"EPSG:999999\n557870.0 6211988.0 100.0 339.2 438.7 DJI_0001.JPG GCP1\n",
        "quarantined",
        "control_error",
    )
    put(
        "gcp_absent.txt",
        b"EPSG:25832\n557870.0 6211988.0 100.0 339.2 438.7 NOT_HERE.JPG GCP1\n",
        "quarantined",
        "control_no_image",
    )
    # special entries (not regular files): FIFO, symlink loop, links out of and inside the folder
    os.mkfifo(folder / "pipe.JPG")
    os.symlink("loop_b", folder / "loop_a")
    os.symlink("loop_a", folder / "loop_b")
    os.symlink("/etc/hostname", folder / "outside.txt")
    os.symlink("DJI_0002.JPG", folder / "inside_link.JPG")
    os.symlink("missing_target.JPG", folder / "broken_link.JPG")
    return expected


SPECIAL = {
    "pipe.JPG": "unreadable",
    "loop_a": "symlink_loop",
    "loop_b": "symlink_loop",
    "outside.txt": "symlink_outside",
    "inside_link.JPG": "symlink_inside",
    "broken_link.JPG": "symlink_broken",
}


def _tiny_png() -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", (np.arange(64, dtype=np.uint8).reshape(8, 8)))
    assert ok
    return data.tobytes()
