"""Parse XMP packets (DJI ``drone-dji``, senseFly/Pix4D ``Camera``, ``sensefly``).

XML is parsed only with defusedxml, with DTDs, entities and external references
refused: an XMP packet is attacker-controlled input. Both XMP forms are read —
properties as attributes of ``rdf:Description`` (DJI) and as child elements
(senseFly, newer DJI firmware) — and ``rdf:Seq``/``Bag``/``Alt`` arrays are joined
with ``", "`` like exiftool prints them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from core.errors import MetadataError

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_DESC = f"{{{RDF}}}Description"
_RDF_LI = f"{{{RDF}}}li"
_RDF_ARRAYS = {f"{{{RDF}}}Seq", f"{{{RDF}}}Bag", f"{{{RDF}}}Alt"}

#: Namespace URI -> the prefix used for keys. Unknown namespaces keep ``{uri}``.
PREFIXES: dict[str, str] = {
    "http://www.dji.com/drone-dji/1.0/": "drone-dji",
    "http://www.dji.com": "drone-dji",  # Zenmuse XT S firmware
    "http://ns.sensefly.com/Camera/1.0/": "Camera",
    "http://pix4d.com/camera/1.0/": "Camera",
    "http://ns.sensefly.com/sensefly/1.0/": "sensefly",
    "http://micasense.com/DLS/1.0/": "DLS",  # MicaSense downwelling light sensor
    "http://micasense.com/MicaSense/1.0/": "MicaSense",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://purl.org/dc/elements/1.1/": "dc",
}

XmpValues = Mapping[str, str]
"""Flat XMP properties keyed ``prefix:Name`` (e.g. ``drone-dji:GimbalYawDegree``)."""

_XMPMETA_END = re.compile(rb"</(?:[\w.-]+:)?xmpmeta\s*>|</(?:[\w.-]+:)?RDF\s*>")
_START_TAG = re.compile(rb"<[^!?/][^>]*>")
_XMLNS = re.compile(rb"""\s+xmlns:([\w.-]+)\s*=\s*(["'])(.*?)\2""")


def parse_xmp(packet: bytes, path: Path) -> dict[str, str]:
    """Flatten an XMP packet into ``prefix:Name -> text``.

    Args:
        packet: The XMP packet as stored in the file.
        path: The file, for error messages.

    Returns:
        Every simple property and array (joined with ``", "``); the first value wins
        when a property occurs twice.

    Raises:
        MetadataError: The packet is not well-formed XML, or has a DTD, entities or
            external references.
    """
    text = _trim(packet)
    root = _parse(text, path)
    out: dict[str, str] = {}
    for desc in root.iter(_RDF_DESC):
        for name, attr in desc.attrib.items():
            key = _key(name)
            if key is not None:
                out.setdefault(key, attr.strip())
        for child in desc:
            key = _key(child.tag)
            value = _element_value(child) if key is not None else None
            if key is not None and value is not None:
                out.setdefault(key, value)
    return out


def _trim(packet: bytes) -> bytes:
    """Cut trailing padding and anything after the closing xmpmeta/RDF tag."""
    packet = packet.strip(b"\x00 \t\r\n")
    last = None
    for m in _XMPMETA_END.finditer(packet):
        last = m
    return packet[: last.end()] if last else packet


def _parse(text: bytes, path: Path) -> Element:
    try:
        return _fromstring(text)
    except DefusedXmlException as exc:
        raise MetadataError(f"{path}: XMP packet refused ({type(exc).__name__}: {exc})") from exc
    except ParseError as exc:
        if b"xmlns" in text and "duplicate attribute" in str(exc):
            try:  # Zenmuse XT S writes the same xmlns declaration twice
                return _fromstring(_dedupe_xmlns(text))
            except (ParseError, DefusedXmlException):
                pass
        raise MetadataError(f"{path}: XMP packet is not well-formed XML: {exc}") from exc


def _fromstring(text: bytes) -> Element:
    root: Element = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    return root


def _dedupe_xmlns(text: bytes) -> bytes:
    def fix(tag: re.Match[bytes]) -> bytes:
        seen: set[bytes] = set()

        def drop(m: re.Match[bytes]) -> bytes:
            if m.group(1) in seen:
                return b""
            seen.add(m.group(1))
            return m.group(0)

        return _XMLNS.sub(drop, tag.group(0))

    return _START_TAG.sub(fix, text)


def _key(name: str) -> str | None:
    if not name.startswith("{"):
        return None
    uri, _, local = name[1:].partition("}")
    if uri == RDF:
        return None
    prefix = PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else f"{{{uri}}}{local}"


def _element_value(el: Element) -> str | None:
    children = list(el)
    if not children:
        return (el.text or "").strip()
    for arr in children:
        if arr.tag in _RDF_ARRAYS:
            return ", ".join((li.text or "").strip() for li in arr if li.tag == _RDF_LI)
    return None  # a structure; not needed here


def xmp_float(values: XmpValues, key: str, path: Path) -> float | None:
    """A finite float property, None when absent or empty.

    Raises:
        MetadataError: The property is present but not a finite number.
    """
    raw = values.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise MetadataError(f"{path}: XMP {key}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise MetadataError(f"{path}: XMP {key}={raw!r} is not a finite number")
    return value


def xmp_int(values: XmpValues, key: str, path: Path) -> int | None:
    """An integer property (``"50"`` or ``"50.0"``), None when absent or empty.

    Raises:
        MetadataError: The property is present but not an integer.
    """
    value = xmp_float(values, key, path)
    if value is None:
        return None
    if value != int(value):
        raise MetadataError(f"{path}: XMP {key}={values[key]!r} is not an integer")
    return int(value)


def first_float(values: XmpValues, keys: tuple[str, ...], path: Path) -> float | None:
    """The first of ``keys`` that is present, as a float."""
    for key in keys:
        value = xmp_float(values, key, path)
        if value is not None:
            return value
    return None
