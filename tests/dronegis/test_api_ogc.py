"""The OGC service over real sockets: owslib, GDAL's WMTS/WMS drivers and plain HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import cv2
import httpx
import numpy as np
import pytest
import rasterio
from rasterio.windows import from_bounds

from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.settings import Settings, Token
from tests.webgis_export.published import NOW, TOKEN, live_server, make_flight
from webgis_export.models import Layer
from webgis_export.publish import publish

pytestmark = pytest.mark.network
OGC = "{http://www.opengis.net/ogc}"
OWS = "{http://www.opengis.net/ows/1.1}"
# a 25.6 m square on the orthophoto's 0.1 m pixel grid (and on View1 level 14's grid)
WINDOW = (560012.8, 6215548.8, 560038.4, 6215574.4)


class Service:
    """A running server and what it serves."""

    def __init__(self, url: str, ws: Workspace, layers: dict[str, Layer]) -> None:
        self.url, self.ws, self.layers = url, ws, layers

    def cog(self, kind: str) -> Path:
        return self.ws.publish / self.layers[kind].cog

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=60)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Service]:
    ws = Workspace.at(tmp_path_factory.mktemp("api") / "ws")
    layers = {}
    for product in make_flight(ws, data_dir):
        access = "internal" if product.kind.value == "thermal_mosaic" else "public"
        for layer in publish(ws, product.id, access=access, now=NOW, pyramid_processes=1):  # type: ignore[arg-type]
            layers[layer.kind.value] = layer
    settings = Settings(workspace=ws.root, tokens=(Token(token=TOKEN, role="gis", name="gis"),))
    app = create_app(settings)
    with live_server(app) as url:
        yield Service(url, ws, layers)
    app.state.layer_store.close()


def decode(body: bytes) -> np.ndarray:
    """BGR(A) pixels of a PNG/JPEG; opaque PNGs (sent as RGB) get an alpha channel of 255."""
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, body[:200]
    if image.ndim == 3 and image.shape[2] == 3 and body[:4] == b"\x89PNG":
        image = np.dstack((image, np.full(image.shape[:2], 255, np.uint8)))
    return image


def cog_rgb(path: Path, bounds: tuple[float, float, float, float], size: int) -> np.ndarray:
    with rasterio.open(path) as src:
        data = src.read([1, 2, 3], window=from_bounds(*bounds, src.transform), out_shape=(3, size, size))
    return np.moveaxis(data, 0, -1)


def exception_code(response: httpx.Response) -> str:
    root = ET.fromstring(response.content)
    node = root.find(f"{OGC}ServiceException")
    if node is not None:
        return node.get("code", "")
    node = root.find(f"{OWS}Exception")
    assert node is not None, response.text
    return node.get("exceptionCode", "")


# --- owslib -------------------------------------------------------------------------------------


def test_owslib_wms_lists_public_layers_and_fetches_exact_pixels(service: Service) -> None:
    from owslib.wms import WebMapService

    wms = WebMapService(f"{service.url}/wms", version="1.3.0", timeout=60)
    ortho, dtm, thermal = (service.layers[k] for k in ("orthophoto", "dtm", "thermal_mosaic"))
    assert {ortho.id, dtm.id} <= set(wms.contents) and thermal.id not in wms.contents
    entry = wms[ortho.id]
    assert {"EPSG:25832", "EPSG:4326", "CRS:84", "EPSG:3857"} <= set(entry.crsOptions)
    assert entry.styles["default"]["legend"].endswith(f"/legend/{ortho.id}.png")
    assert entry.timepositions == ["2026-02-10T05:30:00Z"]
    assert "GetFeatureInfo" in [op.name for op in wms.operations]
    image = wms.getmap(
        layers=[ortho.id],
        styles=[""],
        srs="EPSG:25832",
        bbox=WINDOW,
        size=(256, 256),
        format="image/png",
        transparent=True,
    )
    got = decode(image.read())
    assert got.shape == (256, 256, 4) and (got[..., 3] == 255).all()
    np.testing.assert_array_equal(got[..., 2::-1], cog_rgb(service.cog("orthophoto"), WINDOW, 256))


def test_owslib_wms_with_bearer_header_sees_internal_layer(service: Service) -> None:
    from owslib.wms import WebMapService

    wms = WebMapService(f"{service.url}/wms", version="1.3.0", headers={"Authorization": f"Bearer {TOKEN}"})
    assert service.layers["thermal_mosaic"].id in wms.contents


def test_owslib_wmts_both_matrix_sets_and_tiles(service: Service) -> None:
    from owslib.wmts import WebMapTileService

    wmts = WebMapTileService(f"{service.url}/wmts/1.0.0/WMTSCapabilities.xml")
    ortho = service.layers["orthophoto"]
    assert {"View1", "WebMercatorQuad"} <= set(wmts.tilematrixsets)
    view1 = wmts.tilematrixsets["View1"]
    assert view1.crs == "urn:ogc:def:crs:EPSG::25832"
    level0 = view1.tilematrix["0"]
    assert level0.topleftcorner == (120000.0, 6500000.0)
    assert level0.scaledenominator == pytest.approx(1638.4 / 0.00028)
    assert (level0.matrixwidth, level0.matrixheight) == (3, 2)
    assert ortho.id in wmts.contents and service.layers["thermal_mosaic"].id not in wmts.contents
    # View1 level 14 is 0.1 m: tile (row, col) covering WINDOW's top-left corner
    col, row = int((WINDOW[0] - 120000) // 25.6), int((6500000 - WINDOW[3]) // 25.6)
    left, top = 120000 + col * 25.6, 6500000 - row * 25.6
    tile = wmts.gettile(
        layer=ortho.id, tilematrixset="View1", tilematrix="14", row=row, column=col, format="image/png"
    )
    got = decode(tile.read())
    expected = cog_rgb(service.cog("orthophoto"), (left, top - 25.6, left + 25.6, top), 256)
    np.testing.assert_array_equal(got[..., 2::-1][got[..., 3] > 0], expected[got[..., 3] > 0])
    assert (got[..., 3] > 0).mean() > 0.2
    jpeg = wmts.gettile(
        layer=ortho.id, tilematrixset="View1", tilematrix="14", row=row, column=col, format="image/jpeg"
    )
    assert (
        np.abs(decode(jpeg.read())[..., ::-1].astype(int) - expected.astype(int))[got[..., 3] > 0].mean() < 4
    )


# --- GDAL drivers -------------------------------------------------------------------------------


def test_gdal_wmts_driver_reads_view1_in_epsg25832(service: Service) -> None:
    ortho = service.layers["orthophoto"]
    url = f"WMTS:{service.url}/wmts/1.0.0/WMTSCapabilities.xml,layer={ortho.id},tilematrixset=View1"
    with rasterio.Env(GDAL_HTTP_TIMEOUT="60"), rasterio.open(url) as src:
        assert src.crs.to_epsg() == 25832
        assert src.res[0] <= 0.1 + 1e-9
        window = from_bounds(*WINDOW, src.transform)
        data = src.read([1, 2, 3], window=window, out_shape=(3, 256, 256))
    got = np.moveaxis(data, 0, -1).astype(int)
    expected = cog_rgb(service.cog("orthophoto"), WINDOW, 256).astype(int)
    assert np.abs(got - expected).mean() < 4  # JPEG tiles (q85) on exact pixel geometry


def test_gdal_wms_driver_reads_pixels(service: Service, tmp_path: Path) -> None:
    ortho = service.layers["orthophoto"]
    left, bottom, right, top = WINDOW
    xml = f"""<GDAL_WMS>
  <Service name="WMS"><Version>1.3.0</Version><ServerUrl>{service.url}/wms?</ServerUrl>
    <Layers>{ortho.id}</Layers><CRS>EPSG:25832</CRS><ImageFormat>image/png</ImageFormat><Transparent>TRUE</Transparent>
  </Service>
  <DataWindow><UpperLeftX>{left}</UpperLeftX><UpperLeftY>{top}</UpperLeftY><LowerRightX>{right}</LowerRightX>
    <LowerRightY>{bottom}</LowerRightY><SizeX>256</SizeX><SizeY>256</SizeY></DataWindow>
  <Projection>EPSG:25832</Projection><BandsCount>4</BandsCount><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>
</GDAL_WMS>"""
    description = tmp_path / "wms.xml"
    description.write_text(xml, encoding="utf-8")
    with rasterio.open(description) as src:
        assert src.crs.to_epsg() == 25832
        data = src.read([1, 2, 3])
    np.testing.assert_array_equal(np.moveaxis(data, 0, -1), cog_rgb(service.cog("orthophoto"), WINDOW, 256))


# --- WMS axis order, GetFeatureInfo, legends ----------------------------------------------------


def _getmap(service: Service, crs: str, bbox: tuple[float, ...], **extra: Any) -> httpx.Response:
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": service.layers["orthophoto"].id,
        "STYLES": "",
        "CRS": crs,
        "BBOX": ",".join(f"{v:.9f}" for v in bbox),
        "WIDTH": 128,
        "HEIGHT": 128,
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }
    params.update(extra)
    return service.get("/wms", **params)


def test_epsg4326_is_lat_lon_and_crs84_lon_lat(service: Service) -> None:
    west, south, east, north = service.layers["orthophoto"].bounds_wgs84
    lat_lon = decode(_getmap(service, "EPSG:4326", (south, west, north, east)).content)
    lon_lat = decode(_getmap(service, "CRS:84", (west, south, east, north)).content)
    np.testing.assert_array_equal(lat_lon, lon_lat)
    assert (lat_lon[..., 3] > 0).mean() > 0.9
    swapped = decode(_getmap(service, "EPSG:4326", (west, south, east, north)).content)
    assert swapped[..., 3].max() == 0  # lon/lat read as lat/lon lands in the sea off Somalia: empty
    mercator = _getmap(service, "EPSG:3857", (1113194.9, 7584000.0, 1113294.9, 7584100.0))
    assert mercator.status_code == 200 and mercator.headers["content-type"] == "image/png"


def test_jpeg_getmap(service: Service) -> None:
    response = _getmap(service, "EPSG:25832", WINDOW, FORMAT="image/jpeg", TRANSPARENT="FALSE")
    assert response.headers["content-type"] == "image/jpeg"
    assert decode(response.content).shape == (128, 128, 3)


def _feature_info(service: Service, layer: Layer, fmt: str, token: str | None = None) -> httpx.Response:
    left, bottom, right, top = layer.bounds
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": layer.id,
        "QUERY_LAYERS": layer.id,
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": f"{left},{bottom},{right},{top}",
        "WIDTH": 256,
        "HEIGHT": 256,
        "FORMAT": "image/png",
        "INFO_FORMAT": fmt,
        "I": 200,
        "J": 100,
    }
    if token:
        params["token"] = token
    return service.get("/wms", **params)


def test_getfeatureinfo_thermal_in_celsius(service: Service) -> None:
    thermal = service.layers["thermal_mosaic"]
    assert exception_code(_feature_info(service, thermal, "application/json")) == "LayerNotDefined"  # hidden
    doc = _feature_info(service, thermal, "application/json", TOKEN).json()
    props = doc["features"][0]["properties"]
    assert props["temperature_c"] == pytest.approx(-5.0 + 30.0 * 200 / 255, abs=1e-3)
    assert props["unit"] == "°C" and props["captured"].startswith("2026-02-10T05:30")
    assert props["thermal"]["emissivity"] == 0.95
    text = _feature_info(service, thermal, "text/plain", TOKEN).text
    assert f"temperature: {props['temperature_c']:.2f} °C" in text
    page = _feature_info(service, thermal, "text/html", TOKEN)
    assert page.headers["content-type"].startswith("text/html") and "°C" in page.text


def test_getfeatureinfo_dtm_value_date_datum(service: Service) -> None:
    dtm = service.layers["dtm"]
    props = _feature_info(service, dtm, "application/json").json()["features"][0]["properties"]
    left, bottom, right, top = dtm.bounds
    x, y = left + 200.5 * (right - left) / 256, top - 100.5 * (top - bottom) / 256
    with rasterio.open(service.cog("dtm")) as src:
        expected = float(next(src.sample([(x, y)]))[0])
    assert props["value"] == pytest.approx(expected, abs=1e-3) and props["unit"] == "m"
    assert props["height_datum"].startswith("DVR90") and props["accuracy"] == {}
    assert "accuracy: not measured" in _feature_info(service, dtm, "text/plain").text


def test_legends(service: Service) -> None:
    thermal = service.layers["thermal_mosaic"]
    assert service.get(f"/legend/{thermal.id}.png").status_code == 404
    legend = service.get(f"/legend/{thermal.id}.png", token=TOKEN)
    image = decode(legend.content)
    assert legend.headers["content-type"] == "image/png" and image.shape[0] > max(250, image.shape[1])
    assert service.get(f"/legend/{thermal.id}.png", lang="en").status_code == 404  # internal: needs a token
    danish = service.get(f"/legend/{thermal.id}.png", token=TOKEN, lang="da")  # no title, Danish axis
    assert danish.headers["content-type"] == "image/png" and danish.content != legend.content
    graphic = service.get(
        "/wms", SERVICE="WMS", REQUEST="GetLegendGraphic", LAYER=service.layers["dtm"].id, FORMAT="image/png"
    )
    assert graphic.status_code == 200 and graphic.content[:4] == b"\x89PNG"


# --- exceptions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"LAYERS": "no-such-layer"}, "LayerNotDefined"),
        ({"CRS": "EPSG:9999"}, "InvalidCRS"),
        ({"FORMAT": "image/gif"}, "InvalidFormat"),
        ({"BBOX": None}, "MissingParameterValue"),
        ({"BBOX": "1,2,3"}, "InvalidParameterValue"),
        ({"STYLES": "fancy"}, "StyleNotDefined"),
        ({"REQUEST": "GetStyles"}, "OperationNotSupported"),
        ({"WIDTH": "wide"}, "InvalidParameterValue"),
    ],
)
def test_wms_exceptions(service: Service, change: dict[str, str | None], code: str) -> None:
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": service.layers["orthophoto"].id,
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(map(str, WINDOW)),
        "WIDTH": "64",
        "HEIGHT": "64",
        "FORMAT": "image/png",
    }
    params.update(change)
    response = service.get("/wms", **{k: v for k, v in params.items() if v is not None})
    assert response.status_code >= 400 and response.headers["content-type"].startswith("text/xml")
    assert exception_code(response) == code


def test_wms_invalid_point(service: Service) -> None:
    dtm = service.layers["dtm"]
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": dtm.id,
        "QUERY_LAYERS": dtm.id,
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(map(str, dtm.bounds)),
        "WIDTH": "64",
        "HEIGHT": "64",
        "INFO_FORMAT": "text/plain",
        "I": "64",
        "J": "0",
    }
    assert exception_code(service.get("/wms", **params)) == "InvalidPoint"


def test_owslib_raises_service_exception_for_unknown_layer(service: Service) -> None:
    from owslib.util import ServiceException
    from owslib.wms import WebMapService

    wms = WebMapService(f"{service.url}/wms", version="1.3.0")
    with pytest.raises(ServiceException, match="no-such-layer"):
        wms.getmap(
            layers=["no-such-layer"],
            styles=[""],
            srs="EPSG:25832",
            bbox=WINDOW,
            size=(64, 64),
            format="image/png",
        )


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"TILEMATRIXSET": "Nowhere"}, "InvalidParameterValue", 400),
        ({"TILEROW": "99999999"}, "TileOutOfRange", 400),
        ({"LAYER": "no-such-layer"}, "InvalidParameterValue", 400),
        ({"TILEMATRIX": None}, "MissingParameterValue", 400),
        ({"REQUEST": "GetLegend"}, "OperationNotSupported", 501),
    ],
)
def test_wmts_exceptions(service: Service, change: dict[str, str | None], code: str, status: int) -> None:
    params = {
        "SERVICE": "WMTS",
        "VERSION": "1.0.0",
        "REQUEST": "GetTile",
        "LAYER": service.layers["orthophoto"].id,
        "STYLE": "default",
        "TILEMATRIXSET": "View1",
        "TILEMATRIX": "14",
        "TILEROW": "0",
        "TILECOL": "0",
        "FORMAT": "image/png",
    }
    params.update(change)
    response = service.get("/wmts", **{k: v for k, v in params.items() if v is not None})
    assert response.status_code == status and exception_code(response) == code


# --- WMTS KVP/REST, XYZ, static vs dynamic ------------------------------------------------------


def test_wmts_kvp_and_rest_agree_and_static_tiles_are_used(service: Service) -> None:
    ortho = service.layers["orthophoto"]
    col, row = int((WINDOW[0] - 120000) // 25.6), int((6500000 - WINDOW[3]) // 25.6)
    kvp = service.get(
        "/wmts",
        SERVICE="WMTS",
        REQUEST="GetTile",
        VERSION="1.0.0",
        LAYER=ortho.id,
        STYLE="default",
        TILEMATRIXSET="View1",
        TILEMATRIX="L14",
        TILEROW=row,
        TILECOL=col,
        FORMAT="image/jpeg",
    )
    rest = service.get(f"/wmts/1.0.0/{ortho.id}/default/View1/14/{row}/{col}.jpg")
    assert kvp.status_code == rest.status_code == 200 and kvp.content == rest.content
    assert rest.headers["x-tile-source"] == "pyramid"
    deeper = service.get(f"/wmts/1.0.0/{ortho.id}/default/View1/15/{2 * row}/{2 * col}.jpg")
    assert deeper.headers["x-tile-source"] == "cog" and deeper.headers["content-type"] == "image/jpeg"


def test_wmts_rest_featureinfo(service: Service) -> None:
    thermal = service.layers["thermal_mosaic"]
    left, top = thermal.bounds[0], thermal.bounds[3]
    col, row = (
        int((left + 20.1 - 120000) // 51.2),
        int((6500000 - (top - 20.1)) // 51.2),
    )  # View1 level 13: 0.2 m
    x_px = round((left + 20.1 - (120000 + col * 51.2)) / 0.2 - 0.5)
    y_px = round(((6500000 - row * 51.2) - (top - 20.1)) / 0.2 - 0.5)
    url = f"/wmts/1.0.0/{thermal.id}/default/View1/13/{row}/{col}/{y_px}/{x_px}.json"
    assert service.get(url).status_code == 400  # hidden: reported as an unknown layer
    props = service.get(url, token=TOKEN).json()["features"][0]["properties"]
    assert props["temperature_c"] == pytest.approx(-5.0 + 30.0 * 100 / 255, abs=0.2)


def test_xyz_tiles(service: Service) -> None:
    import morecantile

    ortho = service.layers["orthophoto"]
    west, south, east, north = ortho.bounds_wgs84
    tile = morecantile.tms.get("WebMercatorQuad").tile((west + east) / 2, (south + north) / 2, 19)
    response = service.get(f"/tiles/{ortho.id}/WebMercatorQuad/19/{tile.x}/{tile.y}.png")
    assert response.status_code == 200 and decode(response.content)[..., 3].max() == 255
    assert service.get(f"/tiles/{ortho.id}/WebMercatorQuad/19/{tile.x}/{tile.y}.gif").status_code == 400
    assert service.get(f"/tiles/nope/WebMercatorQuad/19/{tile.x}/{tile.y}.png").status_code == 404


# --- access control, layer list, STAC -----------------------------------------------------------


def test_access_control(service: Service) -> None:
    thermal = service.layers["thermal_mosaic"]
    anonymous = {layer["id"] for layer in service.get("/layers").json()}
    assert thermal.id not in anonymous and service.layers["orthophoto"].id in anonymous
    by_header = httpx.get(f"{service.url}/layers", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert thermal.id in {layer["id"] for layer in by_header}
    by_query = service.get("/layers", token=TOKEN).json()
    entry = next(layer for layer in by_query if layer["id"] == thermal.id)
    assert entry["access"] == "internal" and entry["links"]["legend"].endswith(f"token={TOKEN}")
    assert entry["capture_start"].startswith("2026-02-10") and entry["age_days"] > 0
    assert service.get("/layers", token="wrong").status_code == 401
    tile = f"/tiles/{thermal.id}/View1/13/0/0.png"
    assert service.get(tile).status_code == 404
    caps = service.get("/wms", SERVICE="WMS", REQUEST="GetCapabilities", token=TOKEN).text
    assert thermal.id in caps and f"token={TOKEN}" in caps
    assert thermal.id not in service.get("/wmts/1.0.0/WMTSCapabilities.xml").text
    assert thermal.id in service.get("/wmts/1.0.0/WMTSCapabilities.xml", token=TOKEN).text


def test_stac_served_with_access(service: Service) -> None:
    catalog = service.get("/stac/catalog.json")
    assert catalog.status_code == 200 and catalog.json()["type"] == "Catalog"
    thermal = service.layers["thermal_mosaic"]
    item_path = thermal.stac_item.removeprefix("stac/")
    assert service.get(f"/stac/{item_path}").status_code == 404
    item = service.get(f"/stac/{item_path}", token=TOKEN).json()
    assert item["properties"]["dronegis:unit"] == "°C"
    assert service.get("/stac/../layers.json").status_code == 404


def test_capabilities_bounding_boxes_in_axis_order(service: Service) -> None:
    root = ET.fromstring(service.get("/wms", SERVICE="WMS", REQUEST="GetCapabilities").content)
    ns = "{http://www.opengis.net/wms}"
    ortho = service.layers["orthophoto"]
    layer = next(node for node in root.iter(f"{ns}Layer") if node.findtext(f"{ns}Name") == ortho.id)
    boxes = {
        box.get("CRS"): [float(box.get(k, "nan")) for k in ("minx", "miny", "maxx", "maxy")]
        for box in layer.findall(f"{ns}BoundingBox")
    }
    west, south, east, north = ortho.bounds_wgs84
    assert boxes["EPSG:4326"] == pytest.approx([south, west, north, east])
    assert boxes["CRS:84"] == pytest.approx([west, south, east, north])
    assert boxes["EPSG:25832"] == pytest.approx(list(ortho.bounds), abs=0.01)
    assert layer.find(f"{ns}Dimension").get("name") == "time"  # type: ignore[union-attr]
    assert json.loads(json.dumps(boxes))  # serialisable figures, for the record


@pytest.mark.parametrize("mode", ["BLANK", "INIMAGE", "application/vnd.ogc.se_blank"])
def test_getmap_exceptions_as_images(service: Service, mode: str) -> None:
    response = _getmap(service, "EPSG:9999", WINDOW, EXCEPTIONS=mode)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = decode(response.content)
    assert image.shape[:2] == (128, 128)
    if mode == "INIMAGE":
        assert (image[..., :3] < 250).any()  # the message is drawn
    else:
        assert image[..., 3].max() == 0


def test_wmts_kvp_featureinfo_and_capabilities(service: Service) -> None:
    dtm = service.layers["dtm"]
    caps = service.get("/wmts", SERVICE="WMTS", REQUEST="GetCapabilities")
    assert caps.status_code == 200 and dtm.id in caps.text
    left, top = dtm.bounds[0] + 500.0, dtm.bounds[3] - 500.0
    col, row = int((left - 120000) // 3276.8), int((6500000 - top) // 3276.8)  # View1 level 7: 12.8 m
    i = int((left - (120000 + col * 3276.8)) // 12.8)
    j = int(((6500000 - row * 3276.8) - top) // 12.8)
    response = service.get(
        "/wmts",
        SERVICE="WMTS",
        REQUEST="GetFeatureInfo",
        VERSION="1.0.0",
        LAYER=dtm.id,
        STYLE="default",
        TILEMATRIXSET="View1",
        TILEMATRIX="7",
        TILEROW=row,
        TILECOL=col,
        FORMAT="image/png",
        INFOFORMAT="application/json",
        I=i,
        J=j,
    )
    props = response.json()["features"][0]["properties"]
    x = 120000 + col * 3276.8 + (i + 0.5) * 12.8
    y = 6500000 - row * 3276.8 - (j + 0.5) * 12.8
    with rasterio.open(service.cog("dtm")) as src:
        expected = float(next(src.sample([(x, y)]))[0])
    assert props["value"] == pytest.approx(expected, abs=1e-3) and props["unit"] == "m"
    bad = service.get(
        "/wmts",
        SERVICE="WMTS",
        REQUEST="GetFeatureInfo",
        VERSION="1.0.0",
        LAYER=dtm.id,
        STYLE="default",
        TILEMATRIXSET="View1",
        TILEMATRIX="7",
        TILEROW=row,
        TILECOL=col,
        FORMAT="image/png",
        INFOFORMAT="application/xml",
        I=i,
        J=j,
    )
    assert bad.status_code == 400 and exception_code(bad) == "InvalidFormat"


# --- WMS TIME (Annex C) ---------------------------------------------------------------------------


def test_owslib_wms_time_default_match_and_outside(service: Service) -> None:
    from owslib.util import ServiceException
    from owslib.wms import WebMapService

    wms = WebMapService(f"{service.url}/wms", version="1.3.0", timeout=60)
    ortho = service.layers["orthophoto"]
    entry = wms[ortho.id]
    assert entry.defaulttimeposition == "2026-02-10T05:30:00Z" == entry.timepositions[0]
    assert entry.dimensions["time"]["nearestValue"] == "0"
    expected = cog_rgb(service.cog("orthophoto"), WINDOW, 128)
    common: dict[str, Any] = {
        "layers": [ortho.id],
        "styles": [""],
        "srs": "EPSG:25832",
        "bbox": WINDOW,
        "size": (128, 128),
        "format": "image/png",
    }
    for time in (None, entry.defaulttimeposition, "2026-02-10", "2026-02-01T00:00:00Z/2026-02-28T00:00:00Z"):
        got = decode(wms.getmap(time=time, **common).read())
        np.testing.assert_array_equal(got[..., 2::-1], expected, err_msg=str(time))
    with pytest.raises(ServiceException, match="outside layer .* time extent 2026-02-10T05:30:00Z"):
        wms.getmap(time="2025-06-01T12:00:00Z", **common)
    with pytest.raises(ServiceException, match="not valid"):
        wms.getmap(time="last tuesday", **common)


@pytest.mark.parametrize(
    ("time", "code"),
    [
        ("2026-02-10T05:30:00Z", None),
        ("2026-02-10T06:30:00+01:00", None),
        ("2024-01-01", "InvalidDimensionValue"),
        ("2026-02-10T05:31:00Z", "InvalidDimensionValue"),
        ("2026-02-31", "InvalidDimensionValue"),
        ("2026-02-10/2026-02-01", "InvalidDimensionValue"),
    ],
)
def test_wms_time_kvp_getmap(service: Service, time: str, code: str | None) -> None:
    response = _getmap(service, "EPSG:25832", WINDOW, TIME=time)
    if code is None:
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        assert (decode(response.content)[..., 3] == 255).all()
    else:
        assert response.status_code == 400 and response.headers["content-type"].startswith("text/xml")
        assert exception_code(response) == code
        root = ET.fromstring(response.content)
        assert root.find(f"{OGC}ServiceException").get("locator") == "TIME"  # type: ignore[union-attr]


def test_wms_time_getmap_inimage_and_featureinfo(service: Service) -> None:
    blank = _getmap(service, "EPSG:25832", WINDOW, TIME="2020-01-01", EXCEPTIONS="BLANK")
    assert blank.status_code == 200 and decode(blank.content)[..., 3].max() == 0
    dtm = service.layers["dtm"]
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": dtm.id,
        "QUERY_LAYERS": dtm.id,
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(map(str, dtm.bounds)),
        "WIDTH": "64",
        "HEIGHT": "64",
        "INFO_FORMAT": "application/json",
        "I": "10",
        "J": "10",
    }
    ok = service.get("/wms", **params, TIME="2026-02-10")
    assert ok.status_code == 200 and ok.json()["features"][0]["properties"]["value"] is not None
    assert exception_code(service.get("/wms", **params, TIME="2027-02-10")) == "InvalidDimensionValue"
    assert exception_code(service.get("/wms", **params, TIME="02/10/2026")) == "InvalidDimensionValue"
