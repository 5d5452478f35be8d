"""The case handler's map links a building's card: a click on the demo's thermal layer over a building.

The demo (``dronegis demo``: its synthetic footprints over the sample's thermal frame) is served;
headless Chromium opens /viewer with the thermal mosaic, clicks the middle of building demo-1 and
finds, beside the temperature, the building's figures and the link to its card, which answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import chromium
from demo_site import THERMAL, TOKEN, DemoSite

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEMO_1 = (557900.4, 6212010.25)  # the middle of footprint demo-1 (flights/data/sample_buildings.geojson)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile", viewport={"width": 1280, "height": 800}) as context:
        yield context


def test_a_click_on_a_building_links_its_card(demo_site: DemoSite, browser: Any) -> None:
    x, y = DEMO_1
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    bbox = f"{x - 15},{y - 15},{x + 15},{y + 15}"
    page.goto(f"{demo_site.url}/viewer?token={TOKEN}&layers={THERMAL}&bbox={bbox}", wait_until="load")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.wait_for_selector("body[data-loaded]", timeout=30_000)
    px, py = page.evaluate(f"window.dronegisViewer.map.getPixelFromCoordinate([{x}, {y}])")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + px, box["y"] + py)
    page.wait_for_selector("body[data-info]", timeout=30_000)
    info = page.locator("#info").inner_text()
    assert "°C" in info and "demo-1" in info  # the temperature and the building's figures
    link = page.locator("#info a", has_text="Åbn bygningskortet")
    assert link.count() == 1
    card = httpx.get(link.first.get_attribute("href"), timeout=30)
    assert card.status_code == 200 and "Bygning demo-1" in card.text
    assert errors == []
