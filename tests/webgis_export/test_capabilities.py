from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from layer_factory import make_layer
from lxml import etree

from core.workspace import Workspace
from webgis_export.models import Layer
from webgis_export.ogc.capabilities import layer_depth, time_extent, wms_capabilities
from webgis_export.ogc.exceptions import OgcError, Params, wms_exception_xml, wmts_exception_xml
from webgis_export.ogc.wmts_capabilities import wmts_capabilities

WMS = "{http://www.opengis.net/wms}"
WMTS = "{http://www.opengis.net/wmts/1.0}"
OWS = "{http://www.opengis.net/ows/1.1}"


def test_wms_capabilities_structure(published: tuple[Workspace, dict[str, Layer]]) -> None:
    _, layers = published
    root = ET.fromstring(wms_capabilities(list(layers.values()), "http://x", token="abc"))
    assert root.tag == f"{WMS}WMS_Capabilities" and root.get("version") == "1.3.0"
    assert root.findtext(f"{WMS}Service/{WMS}Name") == "WMS"
    formats = [f.text for f in root.findall(f"{WMS}Capability/{WMS}Request/{WMS}GetFeatureInfo/{WMS}Format")]
    assert formats == ["text/plain", "application/json", "text/html"]
    top = root.find(f"{WMS}Capability/{WMS}Layer")
    assert top is not None
    assert [c.text for c in top.findall(f"{WMS}CRS")] == ["EPSG:25832", "EPSG:4326", "CRS:84", "EPSG:3857"]
    named = {n.findtext(f"{WMS}Name"): n for n in top.findall(f"{WMS}Layer")}
    assert set(named) == {layer.id for layer in layers.values()}
    thermal = named[layers["thermal_mosaic"].id]
    href = thermal.find(f"{WMS}Style/{WMS}LegendURL/{WMS}OnlineResource")
    assert href is not None
    assert (
        href.get("{http://www.w3.org/1999/xlink}href")
        == f"http://x/legend/{layers['thermal_mosaic'].id}.png?token=abc"
    )
    geo = thermal.find(f"{WMS}EX_GeographicBoundingBox")
    assert geo is not None and float(geo.findtext(f"{WMS}westBoundLongitude") or 0) < 10.0


def test_wmts_capabilities_matrix_sets(published: tuple[Workspace, dict[str, Layer]]) -> None:
    _, layers = published
    root = ET.fromstring(wmts_capabilities(list(layers.values()), "http://x"))
    sets = {s.findtext(f"{OWS}Identifier"): s for s in root.findall(f"{WMTS}Contents/{WMTS}TileMatrixSet")}
    assert set(sets) == {"View1", "WebMercatorQuad"}
    view1 = sets["View1"]
    assert view1.findtext(f"{OWS}SupportedCRS") == "urn:ogc:def:crs:EPSG::25832"
    matrices = view1.findall(f"{WMTS}TileMatrix")
    assert matrices[0].findtext(f"{WMTS}TopLeftCorner") == "120000.0 6500000.0"
    assert float(matrices[13].findtext(f"{WMTS}ScaleDenominator") or 0) == pytest.approx(714.2857142857143)
    # deep enough for the 0.1 m orthophoto (level 14) plus one overzoom level
    assert len(matrices) == layer_depth(layers["orthophoto"], "View1") + 1 == 16
    assert sets["WebMercatorQuad"].findtext(f"{WMTS}WellKnownScaleSet", "").endswith("GoogleMapsCompatible")
    layer = next(
        n for n in root.iter(f"{WMTS}Layer") if n.findtext(f"{OWS}Identifier") == layers["orthophoto"].id
    )
    templates = {r.get("format"): r.get("template") for r in layer.findall(f"{WMTS}ResourceURL")}
    assert templates["image/jpeg"].endswith("/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.jpg")
    assert templates["application/json"].endswith("/{TileCol}/{J}/{I}.json")
    limits = layer.findall(f"{WMTS}TileMatrixSetLink/{WMTS}TileMatrixSetLimits/{WMTS}TileMatrixLimits")
    assert limits and limits[0].findtext(f"{WMTS}TileMatrix") == "0"


@pytest.mark.parametrize(
    ("build", "namespace"),
    [(wms_capabilities, WMS.strip("{}")), (wmts_capabilities, WMTS.strip("{}"))],
)
def test_service_namespace_is_the_default_namespace(
    published: tuple[Workspace, dict[str, Layer]], build: Any, namespace: str
) -> None:
    """QGIS 3.22 finds no WMTS layer in ``<ns0:Capabilities>``: the service's elements carry no prefix."""
    _, layers = published
    body = build(list(layers.values()), "http://x")
    root = etree.fromstring(body)
    assert root.nsmap[None] == namespace
    service_elements = [e for e in root.iter() if etree.QName(e).namespace == namespace]
    assert len(service_elements) > 50 and all(e.prefix is None for e in service_elements)
    assert b"ns0:" not in body


def test_time_extent(published: tuple[Workspace, dict[str, Layer]]) -> None:
    _, layers = published
    ortho = layers["orthophoto"]
    assert time_extent(ortho) == "2026-02-10T05:30:00Z"
    long_flight = ortho.model_copy(update={"time_end": ortho.time_start.replace(hour=9)})  # type: ignore[union-attr]
    assert time_extent(long_flight) == "2026-02-10T05:30:00Z/2026-02-10T09:30:00Z"


def test_exception_documents() -> None:
    error = OgcError("InvalidCRS", "CRS 'EPSG:1' & co", "CRS")
    root = ET.fromstring(wms_exception_xml(error))
    node = root.find("{http://www.opengis.net/ogc}ServiceException")
    assert node is not None and node.get("code") == "InvalidCRS" and node.text == "CRS 'EPSG:1' & co"
    assert error.status == 400
    ows = ET.fromstring(wmts_exception_xml(OgcError("TileOutOfRange", "row", "TileRow", "WMTS")))
    assert ows.find(f"{OWS}Exception").get("exceptionCode") == "TileOutOfRange"  # type: ignore[union-attr]


def test_params_are_case_insensitive() -> None:
    params = Params({"request": "GetMap", "Width": "12", "styles": ""}, "WMS")
    assert params.get("REQUEST") == "GetMap" and params.integer("WIDTH") == 12
    assert params.require("STYLES") == ""
    with pytest.raises(OgcError) as info:
        params.require("BBOX")
    assert info.value.code == "MissingParameterValue"


def test_capabilities_speak_danish_first_then_english() -> None:
    """What QGIS shows of a service and a layer: Danish, then English, then the figures."""
    layer = make_layer("skb-termo", "skb-2026-12-03", gsd_m=0.05)
    wms = ET.fromstring(wms_capabilities([layer], "http://x", token=None))
    wmts = ET.fromstring(wmts_capabilities([layer], "http://x", token=None))
    title = wms.findtext(f"{WMS}Service/{WMS}Title")
    assert title == "dronegis – dronekort / drone layers (Skanderborg Kommune)"
    assert wms.findtext(f"{WMS}Service/{WMS}Abstract", "").startswith("Ortofotos, termografi og")
    assert wmts.findtext(f"{OWS}ServiceIdentification/{OWS}Abstract", "").endswith("from drone flights.")
    for abstract in (
        wms.findtext(f"{WMS}Capability/{WMS}Layer/{WMS}Layer/{WMS}Abstract", ""),
        wmts.findtext(f"{WMTS}Contents/{WMTS}Layer/{OWS}Abstract", ""),
    ):
        danish, english = abstract.split(" — ")[0].split(" / ")
        assert danish.startswith("Termografi, fløjet 3. dec. 2026 kl. 06:30;"), danish
        assert english.startswith("Thermography, flown 3 Dec 2026 at 06:30;"), english
        assert abstract.endswith("GSD 0.050 m; unit °C")
