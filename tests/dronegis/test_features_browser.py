"""The OGC API – Features HTML pages in headless Chromium: Danish, the map drawn by our WMS, no errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import chromium
from vector_site import BUILDINGS, VectorSite

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile", viewport={"width": 1200, "height": 900}) as context:
        yield context.new_page()


def test_items_page_shows_the_features_on_a_wms_map(vector_site: VectorSite, page: Any) -> None:
    errors: list[str] = []
    maps: list[tuple[int, str]] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on(
        "response",
        lambda response: (
            maps.append((response.status, response.headers.get("content-type", "")))
            if "REQUEST=GetMap" in response.url
            else None
        ),
    )
    page.goto(f"{vector_site.url}/ogcapi/collections/{BUILDINGS}/items?limit=5", wait_until="networkidle")
    assert page.evaluate("document.documentElement.lang") == "da"
    assert "Viser 1–5 af 11" in page.inner_text("body")
    assert page.locator("table tr").count() == 6  # header and five features
    assert maps and all(status == 200 and kind == "image/png" for status, kind in maps), maps
    drawn = page.evaluate(
        """() => { const c = document.querySelector('#map canvas'); if (!c) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert drawn > 100  # the buildings' pixels on the map
    assert errors == []
    page.click("text=English")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "en" and "Showing 1–5 of 11" in page.inner_text(
        "body"
    )
