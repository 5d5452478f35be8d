"""Headless Chromium (Debian's) opens the viewer, shows a thermal layer, clicks a pixel, reads °C."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from svc_helpers import REPO, VIEWER, Service

from core.workspace import Workspace
from pipeline.catalog import Catalog
from pipeline.models import Product, ProductKind

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
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
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            viewport={"width": 1200, "height": 800},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


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
    assert "Roof thermography" in text and "flown on 2026-01-20" in text and "ago" in text
    assert p.locator("#layer-thermal-roof-thermal_mosaic").is_checked()  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-loaded]", timeout=30_000)  # type: ignore[attr-defined]
    assert p.locator("#legend img").count() == 1  # type: ignore[attr-defined]
    box = p.locator("#map").bounding_box()  # type: ignore[attr-defined]
    px, py = box["width"] / 2 + 37, box["height"] / 2 + 11
    coord = p.evaluate(f"window.dronegisViewer.map.getCoordinateFromPixel([{px}, {py}])")  # type: ignore[attr-defined]
    p.mouse.click(box["x"] + px, box["y"] + py)  # type: ignore[attr-defined]
    p.wait_for_selector("body[data-info]", timeout=30_000)  # type: ignore[attr-defined]
    shown = p.locator("#info .value").first.inner_text()  # type: ignore[attr-defined]
    match = re.fullmatch(r"(-?\d+\.\d+) °C", shown)
    assert match, shown
    assert float(match.group(1)) == pytest.approx(_value_at(*coord), abs=0.051)
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
    assert p.locator("#status").inner_text() == "done"  # type: ignore[attr-defined]
    assert p.locator("#qa").inner_text() == "warn"  # type: ignore[attr-defined]
    assert "thermal-roof-thermal_mosaic" in p.content()  # type: ignore[attr-defined]
    href = p.get_attribute("text=QA report", "href")  # type: ignore[attr-defined]
    assert href == f"/flights/thermal-roof/qa?token={VIEWER}"
    assert errors == []
