from __future__ import annotations

from pathlib import Path

import pytest
from capture_builders import xmp_packet

from core.errors import MetadataError
from flights.xmp import parse_xmp, xmp_float, xmp_int

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
