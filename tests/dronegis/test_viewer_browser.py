"""Headless Chromium (Debian's) opens the viewer, shows a thermal layer, clicks a pixel, reads °C."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import rasterio
from chromium import chromium
from rasterio.transform import from_origin
from svc_helpers import REPO, VIEWER, Service

from core.workspace import Workspace
from dronegis.catalog import Catalog
from pipeline.models import Product, ProductKind
from webgis_export.tms import get_tms

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts"
ORIGIN = (560000.0, 6215500.0)
PIXEL = 0.2


def _thermal_workspace(root: Path) -> Workspace:
    """A published thermal mosaic: 300 × 200 px of °C rising 0.05 °C per column from 10 °C."""
    from webgis_export.publish import publish

    ws = Workspace.at(root)
    flight = "thermal-roof"
    cols = np.arange(300, dtype="float32")
    data = np.broadcast_to(10.0 + 0.05 * cols, (200, 300)).astype("float32")[None]
    path = ws.products(flight) / "thermal_mosaic.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": 300,
        "height": 200,
        "count": 1,
        "dtype": "float32",
        "nodata": -9999.0,
        "crs": "EPSG:25832",
        "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    product = Product(
        id=f"{flight}-thermal_mosaic",
        flight=flight,
        kind=ProductKind.THERMAL_MOSAIC,
        path=path.relative_to(ws.root).as_posix(),
        crs="EPSG:25832",
        bounds=(ORIGIN[0], ORIGIN[1] - 200 * PIXEL, ORIGIN[0] + 300 * PIXEL, ORIGIN[1]),
        gsd_m=PIXEL,
        time_start=datetime(2026, 1, 20, 6, 30, tzinfo=UTC),
        units="°C",
    )
    ws.products_json(flight).write_text("[" + product.model_dump_json() + "]", encoding="utf-8")
    publish(ws, flight, access="public", title="Roof thermography", pyramids=False)
    catalog = Catalog(ws.catalog)  # a finished job, as the runner records it
    catalog.upsert_flight(flight, purpose="building-inspection", status="published")
    job = catalog.enqueue(flight, "ingest")
    catalog.claim(job.id)
    catalog.update_job(
        job.id,
        stage="publish",
        status="done",
        done=1,
        total=1,
        qa_status="warn",
        approved_by="gustav",
        approval_reason="conditions logged on site",
    )
    catalog.record_products(flight, [product])
    return ws


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("viewer") / "ws"
    _thermal_workspace(root)
    with Service(root, root.parent / "service.log") as svc:
        yield svc


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    with chromium(tmp_path / "chromium-profile", viewport={"width": 1200, "height": 800}) as context:
        yield context.new_page()


def _value_at(x: float, y: float) -> float:
    col = int((x - ORIGIN[0]) // PIXEL)
    return 10.0 + 0.05 * col


def test_viewer_shows_layer_and_reads_celsius(service: Service, page: object) -> None:
    p = page  # playwright Page
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    p.goto(f"{service.url}/viewer", wait_until="load")  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-ready='1']", timeout=30_000)  # type: ignore[attr-defined]
    item = p.locator("#layers li[data-layer]")  # type: ignore[attr-defined]
    assert item.count() == 1
    text = item.first.inner_text()
    assert text.startswith("Termografi, ") and "20. jan. 2026" in text  # purpose, place, date (Danish)
    assert "præcision ikke målt" in text  # QA ran without check points: never "passed"
    assert p.locator("#layer-thermal-roof-thermal_mosaic").is_checked()  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-loaded]", timeout=30_000)  # type: ignore[attr-defined]
    assert p.locator("#legend img").count() == 1  # type: ignore[attr-defined]
    box = p.locator("#map").bounding_box()  # type: ignore[attr-defined]
    px, py = box["width"] / 2 + 37, box["height"] / 2 + 11
    coord = p.evaluate(f"window.dronegisViewer.map.getCoordinateFromPixel([{px}, {py}])")  # type: ignore[attr-defined]
    p.mouse.click(box["x"] + px, box["y"] + py)  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-info]", timeout=30_000)  # type: ignore[attr-defined]
    shown = p.locator("#info .value").first.inner_text()  # type: ignore[attr-defined]
    match = re.fullmatch(r"(-?\d+,\d) °C", shown)  # Danish decimal comma, 0.1 °C
    assert match, shown
    assert float(match.group(1).replace(",", ".")) == pytest.approx(_value_at(*coord), abs=0.051 + 0.05)
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "viewer_thermal_view1.png"))  # type: ignore[attr-defined]
    # the WebMercator view shows the same layer
    p.evaluate("document.body.removeAttribute('data-loaded')")  # type: ignore[attr-defined]
    p.select_option("#projection", "EPSG:3857")  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-loaded]", timeout=30_000)  # type: ignore[attr-defined]
    assert p.evaluate("window.dronegisViewer.map.getView().getProjection().getCode()") == "EPSG:3857"  # type: ignore[attr-defined]
    p.screenshot(path=str(ARTIFACTS / "viewer_thermal_webmercator.png"))  # type: ignore[attr-defined]
    assert errors == []


def test_flight_status_page_follows_events(service: Service, page: object) -> None:
    p = page
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    p.goto(f"{service.url}/flights/thermal-roof?token={VIEWER}", wait_until="load")  # type: ignore[attr-defined]
    p.wait_for_function("document.getElementById('count').textContent === '1/1'", timeout=30_000)  # type: ignore[attr-defined]
    assert p.get_attribute("html", "lang") == "da"  # type: ignore[attr-defined]
    assert p.locator("#status").inner_text() == "færdig"  # type: ignore[attr-defined]
    assert p.get_attribute("#status", "data-value") == "done"  # type: ignore[attr-defined]
    assert p.locator("#qa").inner_text() == "bestået med forbehold"  # type: ignore[attr-defined]
    assert p.get_attribute("#qa", "data-value") == "warn"  # type: ignore[attr-defined]
    assert "thermal-roof-thermal_mosaic" in p.content()  # type: ignore[attr-defined]
    href = p.get_attribute("text=QA-rapport", "href")  # type: ignore[attr-defined]
    assert href == f"/flights/thermal-roof/qa?lang=da&token={VIEWER}"
    assert errors == []


def test_api_docs_render_offline(service: Service, page: object) -> None:
    """/docs draws the operations with Swagger UI from this server; nothing is asked of another host."""
    p = page
    local, elsewhere = f"{service.url}/", []
    p.context.route(  # type: ignore[attr-defined]
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith((local, "data:", "blob:"))
            else (elsewhere.append(route.request.url), route.abort())[1]
        ),
    )
    requests: list[str] = []
    p.on("request", lambda request: requests.append(request.url))  # type: ignore[attr-defined]
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    p.goto(f"{service.url}/docs", wait_until="networkidle")  # type: ignore[attr-defined]
    p.wait_for_selector(".opblock", timeout=30_000)  # type: ignore[attr-defined]
    paths = p.locator(".opblock .opblock-summary-path").all_inner_texts()  # type: ignore[attr-defined]
    operations = {path.replace("\u200b", "") for path in paths}
    assert {"/wms", "/wmts", "/layers", "/layers/{layer}/cog.tif", "/stac/{path}"} <= operations
    assert len(operations) >= 20
    assert elsewhere == [] and errors == []
    assert f"{service.url}/static/swagger-ui/swagger-ui-bundle.js" in requests
    assert f"{service.url}/openapi.json" in requests
    assert all(url.startswith((local, "data:", "blob:")) for url in requests), requests
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "api_docs_offline.png"), full_page=False)  # type: ignore[attr-defined]


_OL_WMTS = """async ([layerId]) => {
  const ol = window.dronegisOl;
  const caps = new ol.WMTSCapabilities().read(await (await fetch('/wmts/1.0.0/WMTSCapabilities.xml')).text());
  const layer = (await (await fetch('/layers')).json()).find((l) => l.id === layerId);
  const [w, s, e, n] = layer.bounds_wgs84;
  const out = {};
  for (const [matrixSet, code] of [['View1', 'EPSG:25832'], ['WebMercatorQuad', 'EPSG:3857']]) {
    const options = ol.optionsFromCapabilities(caps, {layer: layerId, matrixSet: matrixSet});
    const grid = options.tileGrid;
    const z = grid.getMaxZoom();
    const centre = ol.transform([(w + e) / 2, (s + n) / 2], 'EPSG:4326', code);
    const coord = grid.getTileCoordForCoordAndZ(centre, z);
    const source = new ol.WMTS(options);
    out[matrixSet] = {
      projection: options.projection.getCode(), z: z, coord: coord, centre: centre,
      origin: grid.getOrigin(z), resolution: grid.getResolution(z),
      url: source.getTileUrlFunction()(coord, 1, ol.getProjection(code)),
    };
  }
  return out;
}"""


def test_openlayers_reads_the_wmts_capabilities(service: Service, page: object) -> None:
    """OpenLayers' WMTS parser (in the viewer's bundle) finds both matrix sets and the right tiles."""
    p = page
    p.goto(f"{service.url}/viewer", wait_until="load")  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-ready='1']", timeout=30_000)  # type: ignore[attr-defined]
    parsed = p.evaluate(_OL_WMTS, ["thermal-roof-thermal_mosaic"])  # type: ignore[attr-defined]
    assert parsed["View1"]["projection"] == "EPSG:25832"
    assert parsed["WebMercatorQuad"]["projection"] == "EPSG:3857"
    for matrix_set, got in parsed.items():
        tms, z = get_tms(matrix_set), got["z"]
        matrix = tms.matrix(z)
        assert got["origin"] == pytest.approx(list(matrix.pointOfOrigin))
        assert got["resolution"] == pytest.approx(matrix.cellSize)
        x, y = got["centre"]
        span = matrix.cellSize * matrix.tileWidth
        col = int((x - matrix.pointOfOrigin[0]) // span)
        row = int((matrix.pointOfOrigin[1] - y) // span)
        assert got["coord"] == [z, col, row], matrix_set
        kvp = (("TileMatrix", z), ("TileRow", row), ("TileCol", col))
        rest = re.search(rf"/{matrix_set}/{z}/{row}/{col}\.png", got["url"])
        assert rest or all(f"{key}={value}" in got["url"] for key, value in kvp), got["url"]
        tile = httpx.get(got["url"], timeout=60)
        assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
        image = cv2.imdecode(np.frombuffer(tile.content, np.uint8), cv2.IMREAD_UNCHANGED)
        opaque = image[..., 3] > 0 if image.shape[2] == 4 else np.ones(image.shape[:2], bool)
        assert image.shape[:2] == (256, 256) and opaque.mean() > 0.5  # the tile at the layer's centre
        assert len(np.unique(image[..., :3][opaque], axis=0)) > 10  # the thermal ramp, not one colour
