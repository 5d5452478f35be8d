from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from capture_builders import xmp_packet

from core.errors import MetadataError
from flights.jpeg import read_jpeg_header
from flights.xmp import PREFIXES, parse_xmp, xmp_float, xmp_int

P = Path("frame.jpg")

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def test_attribute_form() -> None:
    values = parse_xmp(xmp_packet({"drone-dji:GimbalYawDegree": "+45.00", "drone-dji:RtkFlag": "50"}), P)
    assert values["drone-dji:GimbalYawDegree"] == "+45.00"
    assert xmp_float(values, "drone-dji:GimbalYawDegree", P) == 45.0
    assert xmp_int(values, "drone-dji:RtkFlag", P) == 50


def test_element_form_and_arrays() -> None:
    packet = xmp_packet(
        elements={
            "drone-dji:GimbalPitchDegree": "-89.90",
            "Camera:BandName": "<rdf:Seq><rdf:li>Red</rdf:li><rdf:li>Green</rdf:li></rdf:Seq>",
        },
        namespaces={"Camera": "http://ns.sensefly.com/Camera/1.0/"},
    )
    values = parse_xmp(packet, P)
    assert values["drone-dji:GimbalPitchDegree"] == "-89.90"
    assert values["Camera:BandName"] == "Red, Green"


def test_old_dji_namespace_and_duplicate_xmlns_is_recovered() -> None:
    # Zenmuse XT S: xmlns:DJI="http://www.dji.com" declared twice in one tag
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="DJI Meta Data" xmlns:DJI="http://www.dji.com" xmlns:DJI="http://www.dji.com"'
        b' DJI:RtkFlag="0" DJI:GimbalPitchDegree="+19.90"></rdf:Description></rdf:RDF></x:xmpmeta>'
    )
    values = parse_xmp(packet, P)
    assert values["drone-dji:GimbalPitchDegree"] == "+19.90"
    assert values["drone-dji:RtkFlag"] == "0"


def test_unknown_namespace_keeps_uri_and_trailing_padding_is_ignored() -> None:
    packet = (
        xmp_packet({"foo:Bar": "1"}, namespaces={"foo": "http://example.org/foo/"}) + b" " * 2000 + b"\x00"
    )
    assert parse_xmp(packet, P)["{http://example.org/foo/}Bar"] == "1"


def test_billion_laughs_is_refused() -> None:
    packet = (BILLION_LAUGHS + '<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol3;</x:xmpmeta>').encode()
    with pytest.raises(MetadataError, match=r"frame\.jpg: XMP packet refused"):
        parse_xmp(packet, P)


def test_external_entity_is_refused() -> None:
    packet = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&ext;</x:xmpmeta>'
    )
    with pytest.raises(MetadataError, match="refused"):
        parse_xmp(packet, P)


def test_not_xml_is_an_error() -> None:
    with pytest.raises(MetadataError, match="not well-formed"):
        parse_xmp(b"<x:xmpmeta><rdf:RDF>", P)


@pytest.mark.parametrize("raw", ["abc", "1,5", "nan", "inf", "--3"])
def test_malformed_numbers(raw: str) -> None:
    values = parse_xmp(xmp_packet({"drone-dji:GimbalPitchDegree": raw}), P)
    with pytest.raises(MetadataError, match=r"frame\.jpg: XMP drone-dji:GimbalPitchDegree="):
        xmp_float(values, "drone-dji:GimbalPitchDegree", P)


def test_integer_with_fraction_is_an_error() -> None:
    values = {"drone-dji:RtkFlag": "50.5"}
    with pytest.raises(MetadataError, match="not an integer"):
        xmp_int(values, "drone-dji:RtkFlag", P)


def test_absent_and_empty_are_none() -> None:
    values = {"drone-dji:RtkStdLon": ""}
    assert xmp_float(values, "drone-dji:RtkStdLon", P) is None
    assert xmp_float(values, "drone-dji:Missing", P) is None


def _tree_flatten(packet: bytes) -> dict[str, str]:
    """The ElementTree walk parse_xmp used before it flattened while parsing (an independent reading)."""
    root = ElementTree.fromstring(packet)  # trusted test input: no DTD, no entities
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"

    def key(name: str) -> str | None:
        if not name.startswith("{") or name.startswith(rdf):
            return None
        uri, _, local = name[1:].partition("}")
        prefix = PREFIXES.get(uri)
        return f"{prefix}:{local}" if prefix else f"{{{uri}}}{local}"

    def value(el: ElementTree.Element) -> str | None:
        children = list(el)
        if not children:
            return (el.text or "").strip()
        for arr in children:
            if arr.tag in (rdf + "Seq", rdf + "Bag", rdf + "Alt"):
                return ", ".join((li.text or "").strip() for li in arr if li.tag == rdf + "li")
        return None

    out: dict[str, str] = {}
    for desc in root.iter(rdf + "Description"):
        for name, text in desc.attrib.items():
            if (k := key(name)) is not None:
                out.setdefault(k, text.strip())
        for child in desc:
            k, v = key(child.tag), value(child)
            if k is not None and v is not None:
                out.setdefault(k, v)
    return out


TRICKY_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" xmlns:Camera="http://ns.sensefly.com/Camera/1.0/"'
    b' xmlns:o="http://example.org/o/">'
    # the first Description's children come before the attributes of one nested in them
    b'<rdf:Description rdf:about="" drone-dji:GimbalYawDegree=" +45.00 ">'
    b"<drone-dji:GimbalPitchDegree> -89.9<!-- a comment does not cut the text -->0 "
    b"</drone-dji:GimbalPitchDegree>"
    b"<o:Nested><rdf:Description drone-dji:GimbalRollDegree='+1.00' drone-dji:RtkFlag='16'/></o:Nested>"
    b"<drone-dji:RtkFlag>50</drone-dji:RtkFlag>"
    # the first array of a property is read; items' text before a child element; a structure is skipped
    b"<Camera:BandName>ignored<o:x/><rdf:Bag><rdf:li> Red </rdf:li><rdf:li>Gr<o:y/>een</rdf:li>"
    b"<o:z>not an item</o:z><rdf:li/></rdf:Bag><rdf:Seq><rdf:li>second array</rdf:li></rdf:Seq>"
    b"</Camera:BandName>"
    b"<o:Struct><o:a>1</o:a></o:Struct>"
    b"<o:Cdata><![CDATA[ <raw> ]]></o:Cdata><o:Empty/><o:Pi>a<?pi x?>b</o:Pi>"
    b'<o:Lang><rdf:Alt><rdf:li xml:lang="x-default">title</rdf:li></rdf:Alt></o:Lang>'
    b"</rdf:Description>"
    b'<rdf:Description drone-dji:GimbalYawDegree="+99" o:Late="yes"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def test_flattening_reads_what_an_element_tree_walk_reads() -> None:
    values = parse_xmp(TRICKY_XMP, P)
    assert values == _tree_flatten(TRICKY_XMP)
    assert values["drone-dji:GimbalYawDegree"] == "+45.00"  # first value wins, stripped
    assert values["drone-dji:GimbalPitchDegree"] == "-89.90"
    assert values["drone-dji:RtkFlag"] == "50"  # the outer Description's child before the nested one
    assert values["drone-dji:GimbalRollDegree"] == "+1.00"
    assert values["Camera:BandName"] == "Red, Gr, "
    assert "{http://example.org/o/}Struct" not in values
    assert values["{http://example.org/o/}Cdata"] == "<raw>"
    assert values["{http://example.org/o/}Pi"] == "ab"
    assert values["{http://example.org/o/}Lang"] == "title"
    assert list(values)[:2] == ["drone-dji:GimbalYawDegree", "drone-dji:GimbalPitchDegree"]


@pytest.mark.parametrize("seed", ["DJI_0018.JPG", "DJI_0035.JPG"])
def test_real_packets_read_as_an_element_tree_walk_reads(data_dir: Path, seed: str) -> None:
    packet = read_jpeg_header(data_dir / "brighton_beach" / "images" / seed).xmp
    assert packet is not None
    values = parse_xmp(packet, P)
    assert values == _tree_flatten(packet)  # padding and the closing xpacket PI are XML too
    assert values["drone-dji:GimbalPitchDegree"] == "-89.90"


def test_entity_declaration_is_refused_by_defusedxml_rules() -> None:
    packet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    with pytest.raises(MetadataError, match=r"XMP packet refused \(DTDForbidden: DTDForbidden\(name='x'"):
        parse_xmp(packet, P)


SCOPED_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns:d="http://example.org/first/">'
    # a prefix declared on the Description itself, a default namespace, a prefix bound anew inside
    b'<rdf:Description rdf:about="" xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" d:A="1"'
    b' drone-dji:GimbalYawDegree="+45.00" plain="no namespace: not a property" xml:lang="da">'
    b'<Untitled xmlns="http://ns.sensefly.com/Camera/1.0/">2</Untitled>'
    b'<d:B xmlns:d="http://example.org/second/">3</d:B><d:C>4</d:C>'
    b'<rdf:Description xmlns:d="http://example.org/second/" d:A="5" xmlns=""/>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_namespace_scopes_read_as_an_element_tree_walk_reads() -> None:
    values = parse_xmp(SCOPED_XMP, P)
    assert values == _tree_flatten(SCOPED_XMP)
    assert values["{http://example.org/first/}A"] == "1"
    assert values["{http://example.org/second/}A"] == "5"
    assert values["Camera:Untitled"] == "2"
    assert values["{http://example.org/second/}B"] == "3"
    assert values["{http://example.org/first/}C"] == "4"
    assert values["{http://www.w3.org/XML/1998/namespace}lang"] == "da"
    assert "plain" not in values


@pytest.mark.parametrize(
    ("fragment", "error"),
    [
        (b"<u:x>1</u:x>", "unbound prefix"),  # a prefix never declared
        (b'<d:x xmlns:d="a}b">1</d:x>', "syntax error"),  # the namespace separator in a URI
        (b'<d:x xmlns:d="">1</d:x>', "must not undeclare prefix"),
        (b'<d:x xmlns:d="u" xmlns:e="u" d:a="1" e:a="2"/>', "duplicate attribute"),  # one expanded name
        (b"<?a:b x?>", "not well-formed (invalid token)"),  # a colon in a processing instruction target
    ],
)
def test_namespace_errors_are_expat_namespace_errors(fragment: bytes, error: str) -> None:
    packet = SCOPED_XMP.replace(b"<d:C>4</d:C>", fragment)
    with pytest.raises(MetadataError, match=re.escape(f"not well-formed XML: {error}")):
        parse_xmp(packet, P)
