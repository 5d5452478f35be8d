"""Parse XMP packets (DJI ``drone-dji``, senseFly/Pix4D ``Camera``, ``sensefly``).

An XMP packet is attacker-controlled input: it is parsed by expat with the guards
defusedxml's parser installs — a DTD, an entity declaration or an external reference
raises defusedxml's ``DTDForbidden``/``EntitiesForbidden``/``ExternalReferenceForbidden``
before anything is expanded. Both XMP forms are read — properties as attributes of
``rdf:Description`` (DJI) and as child elements (senseFly, newer DJI firmware) — and
``rdf:Seq``/``Bag``/``Alt`` arrays are joined with ``", "`` like exiftool prints them.

The packet is flattened while expat reads it (:class:`_Flattener`), not through an
ElementTree: defusedxml's ElementTree runs the pure-Python XMLParser and TreeBuilder,
~50 µs of the ~350 µs classify + read_capture took per frame; flattening takes ~28 µs
(benchmarks/RESULTS.md, "Ingest"); expat's namespace processing is done in Python
(:mod:`flights.xmp_names`, remembered per camera's names: 26 -> 23 µs hot per DJI packet),
falling back to expat's own for anything unusual. The result is the one the tree gave: the
``rdf:Description`` elements in document order, each one's attributes, then its child
properties (a leaf's text, or the items of its first array); the first value of a key wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from core.errors import MetadataError
from flights.xmp_names import Keyed, Namespaces, check_target

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# names as expat reports them with namespace_separator="}" (ElementTree adds a leading "{")
_RDF_DESC = f"{RDF}}}Description"
_RDF_LI = f"{RDF}}}li"
_RDF_ARRAYS = frozenset({f"{RDF}}}Seq", f"{RDF}}}Bag", f"{RDF}}}Alt"})

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
    descriptions = _parse(text, path)
    if len(descriptions) == 1:  # the usual packet: one Description, each key once
        out = dict(descriptions[0])
        if len(out) == len(descriptions[0]):
            return out
    out = {}
    for properties in descriptions:
        for key, value in properties:
            out.setdefault(key, value)
    return out


def _trim(packet: bytes) -> bytes:
    """Cut trailing padding and anything after the closing xmpmeta/RDF tag."""
    packet = packet.strip(b"\x00 \t\r\n")
    end = packet.rfind(b"</x:xmpmeta>")
    if end >= 0 and (not _has_end_tag(packet, end + 12) or _XMPMETA_END.search(packet, end + 12) is None):
        return packet[: end + 12]  # the usual closing tag, and no closing tag after it
    last = None
    for m in _XMPMETA_END.finditer(packet):
        last = m
    return packet[: last.end()] if last else packet


def _has_end_tag(packet: bytes, start: int) -> bool:
    """``</`` somewhere after ``start``: both closing tags begin so, so the ~7 kB of padding after
    the usual one need no regex scan (each ``<`` found with memchr: 0.4 µs, the regex 2 µs)."""
    k = packet.find(b"<", start)
    while k >= 0 and packet[k + 1 : k + 2] != b"/":
        k = packet.find(b"<", k + 1)
    return k >= 0


def _parse(text: bytes, path: Path) -> list[list[tuple[str, str]]]:
    try:
        return _flatten(text)
    except DefusedXmlException as exc:
        raise MetadataError(f"{path}: XMP packet refused ({type(exc).__name__}: {exc})") from exc
    except expat.ExpatError as exc:
        if b"xmlns" in text and "duplicate attribute" in str(exc):
            try:  # Zenmuse XT S writes the same xmlns declaration twice
                return _flatten(_dedupe_xmlns(text))
            except (expat.ExpatError, DefusedXmlException):
                pass
        raise MetadataError(f"{path}: XMP packet is not well-formed XML: {exc}") from exc


def _flatten(text: bytes) -> list[list[tuple[str, str]]]:
    """The properties of each ``rdf:Description``, in document order (see :class:`_Flattener`).

    Parsed without expat's namespace processing, the names resolved by :mod:`flights.xmp_names`;
    anything that raises there (an unusual name, a malformed packet, a DTD) is parsed again in
    expat's namespace mode, which gives the result or the error.
    """
    try:
        return _run(text, expat.ParserCreate(), _PlainFlattener())
    except Exception:  # noqa: BLE001 - expat's namespace mode decides, and raises what it raises
        return _run(text, expat.ParserCreate(None, "}"), _Flattener())


def _run(text: bytes, parser: expat.XMLParserType, flat: _Flattener) -> list[list[tuple[str, str]]]:
    # the guards of defusedxml.ElementTree.DefusedXMLParser(forbid_dtd=True, forbid_entities=True,
    # forbid_external=True), raising its exceptions
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.StartElementHandler = flat.start
    parser.EndElementHandler = flat.end
    parser.CharacterDataHandler = flat.data
    if isinstance(flat, _PlainFlattener):
        parser.ProcessingInstructionHandler = check_target
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.Parse(text, True)  # one call: the same errors as a Parse(text) and a final empty one, ~1 µs less
    return flat.descriptions


def _refuse_dtd(name: str, sysid: str | None, pubid: str | None, _internal: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _refuse_entity(
    name: str,
    _parameter: bool,
    value: str | None,
    base: str | None,
    sysid: str | None,
    pubid: str | None,
    notation: str | None,
) -> None:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _refuse_unparsed_entity(
    name: str, base: str | None, sysid: str | None, pubid: str | None, notation: str | None
) -> None:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _refuse_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> bool:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


class _Flattener:
    """Expat handlers that collect what the ElementTree walk of ``parse_xmp`` read.

    Only four kinds of element are followed: an ``rdf:Description`` (its attributes
    are properties), a child of a Description (a property: its text when it has no
    child element, else the items of its first ``rdf:Seq``/``Bag``/``Alt``), that
    array, and the array's ``rdf:li`` items (their text before any child element).
    The text of an element is, as ElementTree's ``.text``, the character data before
    its first child element (comments and processing instructions do not cut it).
    """

    def __init__(self) -> None:
        self.descriptions: list[list[tuple[str, str]]] = []
        self.stack: list[_Node | None] = []

    def start(self, name: str, attrs: list[str]) -> None:
        """An element opens (expat's namespace mode: names are ``uri}local``)."""
        self.open(name, attrs, None)

    def open(self, name: str, attrs: list[str], keyed: Keyed | None) -> None:
        """An element opens: its expanded name, expat's attribute list and the keyed attributes
        (None: keyed here)."""
        stack = self.stack
        parent = stack[-1] if stack else None
        if parent is not None:
            parent.children += 1
        node: _Node | None = None
        if parent is not None and parent.role == _DESC:
            key = _key(name)
            node = _Node(_PROPERTY, parent.properties, key) if key is not None else None
        elif parent is not None and parent.role == _PROPERTY and parent.items is None and name in _RDF_ARRAYS:
            parent.items = []
            node = _Node(_ARRAY, parent.items)
        elif parent is not None and parent.role == _ARRAY and name == _RDF_LI:
            node = _Node(_ITEM, parent.properties)
        if name == _RDF_DESC:
            # a Description is also a child property of another (its key is None: RDF namespace)
            if keyed is None:
                keyed = tuple((2 * i + 1, k) for i, k in enumerate(map(_key, attrs[::2])) if k is not None)
            properties = [(key, attrs[i].strip()) for i, key in keyed]
            node = _Node(_DESC, properties)
            self.descriptions.append(properties)
        stack.append(node)

    def end(self, _name: str) -> None:
        """An element closes: a property or an array item is complete."""
        node = self.stack.pop()
        if node is None or node.role in (_DESC, _ARRAY):
            return
        if node.role == _ITEM:
            node.properties.append(("", "".join(node.text).strip()))
        elif node.key is not None and not node.children:
            node.properties.append((node.key, "".join(node.text).strip()))
        elif node.key is not None and node.items is not None:
            node.properties.append((node.key, ", ".join(v for _, v in node.items)))

    def data(self, text: str) -> None:
        """Character data: kept while the open property or item has no child element."""
        node = self.stack[-1] if self.stack else None
        if node is not None and node.role in (_PROPERTY, _ITEM) and not node.children:
            node.text.append(text)


class _PlainFlattener(_Flattener):
    """The handlers for a parser without namespace processing (names resolved by :class:`Namespaces`)."""

    def __init__(self) -> None:
        super().__init__()
        self.names = Namespaces(_key)

    def start(self, name: str, attrs: list[str]) -> None:
        """An element opens (plain names)."""
        element, keyed = self.names.start(name, attrs)
        self.open(element, attrs, keyed)

    def end(self, name: str) -> None:
        """An element closes."""
        self.names.end()
        _Flattener.end(self, name)


_DESC, _PROPERTY, _ARRAY, _ITEM = range(4)


class _Node:
    """One followed element: its role, the list its value goes to, and what it holds so far."""

    __slots__ = ("role", "properties", "key", "children", "text", "items")

    def __init__(self, role: int, properties: list[tuple[str, str]], key: str | None = None) -> None:
        self.role = role
        self.properties = properties
        self.key = key
        self.children = 0
        self.text: list[str] = []
        self.items: list[tuple[str, str]] | None = None


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


@lru_cache(maxsize=512)
def _key(name: str) -> str | None:
    """``prefix:Name`` of an expat name ``uri}Name`` (ElementTree's ``{uri}Name``); None for RDF's own."""
    if "}" not in name:
        return None
    uri, _, local = name.partition("}")
    if uri == RDF:
        return None
    prefix = PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else f"{{{uri}}}{local}"


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
