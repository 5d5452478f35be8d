"""Build tiny JPEG/TIFF captures with chosen EXIF, XMP and extra segments (test helper)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

XMP_SIG = b"http://ns.adobe.com/xap/1.0/\x00"
DJI_NS = "http://www.dji.com/drone-dji/1.0/"


def jpeg_bytes(width: int = 64, height: int = 48, value: int | None = None, seed: int = 0) -> bytes:
    """A plain baseline JPEG (noise, or a flat grey ``value``)."""
    if value is None:
        img = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        img = np.full((height, width, 3), value, dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return bytes(buf.tobytes())


def segment(marker: int, payload: bytes) -> bytes:
    """One JPEG marker segment."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def exif_bytes(
    ifd0: Mapping[int, object] | None = None,
    exif: Mapping[int, object] | None = None,
    gps: Mapping[int, object] | None = None,
) -> bytes:
    """An APP1 EXIF payload (``Exif\\0\\0`` + TIFF) built by Pillow."""
    ex = Image.Exif()
    for k, v in (ifd0 or {}).items():
        ex[k] = v
    if exif:
        sub = ex.get_ifd(0x8769)
        sub.update(exif)
    if gps:
        sub = ex.get_ifd(0x8825)
        sub.update(gps)
    return bytes(ex.tobytes())


def xmp_packet(
    attrs: Mapping[str, str] | None = None,
    elements: Mapping[str, str] | None = None,
    namespaces: Mapping[str, str] | None = None,
    prolog: str = "",
) -> bytes:
    """An XMP packet; keys are ``prefix:Name``; ``drone-dji`` is predeclared."""
    ns = {"drone-dji": DJI_NS, **(namespaces or {})}
    decl = " ".join(f'xmlns:{p}="{u}"' for p, u in ns.items())
    attr_text = " ".join(f'{k}="{v}"' for k, v in (attrs or {}).items())
    el_text = "".join(f"<{k}>{v}</{k}>" for k, v in (elements or {}).items())
    return (
        f"{prolog}<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {decl} {attr_text}>{el_text}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    ).encode()


def make_jpeg(
    path: Path,
    *,
    exif: bytes | None = None,
    xmp: bytes | None = None,
    extra: Iterable[tuple[int, bytes]] = (),
    width: int = 64,
    height: int = 48,
    value: int | None = None,
) -> Path:
    """Write a JPEG with the given EXIF payload, XMP packet and extra segments after SOI."""
    base = jpeg_bytes(width, height, value)
    segs = b""
    if exif is not None:
        segs += segment(0xE1, exif)
    if xmp is not None:
        segs += segment(0xE1, XMP_SIG + xmp)
    for marker, payload in extra:
        segs += segment(marker, payload)
    path.write_bytes(base[:2] + segs + base[2:])
    return path


def dms(value: float) -> tuple[float, float, float]:
    """Degrees as (d, m, s) for an EXIF GPS rational triple."""
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return (float(d), float(m), round(s, 4))


def gps_ifd(lat: float, lon: float, alt: float | None = None, alt_ref: int = 0) -> dict[int, object]:
    """A GPS IFD for Pillow."""
    out: dict[int, object] = {
        1: "N" if lat >= 0 else "S",
        2: dms(lat),
        3: "E" if lon >= 0 else "W",
        4: dms(lon),
    }
    if alt is not None:
        out[5] = bytes([alt_ref])
        out[6] = abs(alt)
    return out


def find_ifd_entry(tiff: bytes, tag: int) -> int:
    """Byte offset (in ``tiff``) of IFD0's entry for ``tag``."""
    e = "<" if tiff[:2] == b"II" else ">"
    (first,) = struct.unpack(e + "I", tiff[4:8])
    (count,) = struct.unpack(e + "H", tiff[first : first + 2])
    for i in range(count):
        off = int(first) + 2 + 12 * i
        (t,) = struct.unpack(e + "H", tiff[off : off + 2])
        if t == tag:
            return off
    raise KeyError(tag)
