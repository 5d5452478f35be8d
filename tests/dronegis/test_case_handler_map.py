"""The case handler's map in headless Chromium (Debian's, driven by playwright).

Danish by default and English after the switch; a click's temperature in the panel beside the
map, inside the viewport; titles of two flights differ and the time slider moves between them;
an unmeasured layer never reads "passed"; the Print button's PDF carries title, date flown and
accuracy; the shared URL restores layers, extent and time; search by coordinate; keyboard use;
axe-core finds no serious or critical violation; a configured WMTS basemap is drawn, a broken one
falls back to the offline basemap. Screenshots and axe results go to test-artifacts/.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from case_map_site import SITE, THERMAL, build_site, celsius_at
from chromium import chromium
from pypdf import PdfReader
from svc_helpers import REPO, VIEWER, Service, free_port

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts" / "case-handler-map"
AXE = REPO / "viewer" / "node_modules" / "axe-core" / "axe.min.js"

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The site, with a WMTS basemap configured: this very server's View1 tiles of the February flight."""
    root = tmp_path_factory.mktemp("case-map") / "ws"
    build_site(root)
    service = Service(root, root.parent / "service.log")
    basemap = {
        "kind": "wmts",
        "url": f"{service.url}/wmts",
        "layer": THERMAL["roof-feb"],
        "matrix_set": "View1",
        "token": VIEWER,
        "attribution": "Testkort",
        "title": "Testkort (WMTS)",
    }
    service.env["DRONEGIS_BASEMAP"] = json.dumps(basemap)
    with service:
        yield service


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    viewport = {"width": 1280, "height": 800}
    with chromium(tmp_path / "chromium-profile", viewport=viewport, accept_downloads=True) as context:
        yield context


def _open(context: Any, url: str) -> tuple[Any, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="load")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return page, errors


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _titles(page: Any) -> list[str]:
    return page.locator("#layers li[data-layer] label.title").all_inner_texts()


def test_danish_by_default_and_english_after_the_switch(site: Service, browser: Any) -> None:
    page, errors = _open(browser, f"{site.url}/viewer")
    assert page.get_attribute("html", "lang") == "da"
    assert page.locator("#layers-heading").inner_text() == "Lag"
    assert page.locator("#trust-heading").inner_text() == "Kan jeg stole på laget?"
    titles = _titles(page)
    assert titles == [f"Termografi, {SITE}, 20. jan. 2026", f"Termografi, {SITE}, 10. feb. 2026"]
    assert len(set(titles)) == 2  # two flights of one site: their titles differ
    _shot(page, "viewer_danish")
    page.click("#lang-switch")
    page.wait_for_selector("html[lang='en'] body[data-ready='1']", timeout=30_000)
    assert page.locator("#layers-heading").inner_text() == "Layers"
    assert _titles(page) == [f"Thermography, {SITE}, 20 Jan 2026", f"Thermography, {SITE}, 10 Feb 2026"]
    assert page.locator("#search-input").get_attribute("placeholder").startswith("e.g.")
    _shot(page, "viewer_english")
    assert errors == []


def test_a_click_shows_the_temperature_beside_the_map_without_scrolling(site: Service, browser: Any) -> None:
    page, errors = _open(browser, f"{site.url}/viewer")
    page.wait_for_selector("body[data-loaded]", timeout=30_000)
    box = page.locator("#map").bounding_box()
    px, py = box["width"] / 2 + 23, box["height"] / 2 + 9
    x, _ = page.evaluate(f"window.dronegisViewer.map.getCoordinateFromPixel([{px}, {py}])")
    page.mouse.click(box["x"] + px, box["y"] + py)
    page.wait_for_selector("body[data-info]", timeout=30_000)
    value = page.locator("#info .value").first
    match = re.fullmatch(r"(-?\d+,\d) °C", value.inner_text())
    assert match, value.inner_text()
    assert float(match.group(1).replace(",", ".")) == pytest.approx(celsius_at("roof-jan", x), abs=0.06)
    inside = page.evaluate(
        """() => { const r = document.querySelector('#info .value').getBoundingClientRect();
                   const side = document.getElementById('side').getBoundingClientRect();
                   return r.top >= 0 && r.bottom <= window.innerHeight
                          && r.left >= 0 && r.right <= window.innerWidth
                          && r.top >= side.top && r.bottom <= side.bottom && window.scrollY === 0; }"""
    )
    assert inside, "the reading must be visible beside the map without scrolling"
    assert "tilsyneladende overfladetemperatur" in page.locator("#info").inner_text()
    _shot(page, "viewer_click_reading")
    assert errors == []


def test_an_unmeasured_layer_never_reads_passed(site: Service, browser: Any) -> None:
    for lang, passed in (("da", "bestået"), ("en", "pass")):
        page, errors = _open(browser, f"{site.url}/viewer?lang={lang}")
        trust = page.locator("#trust").inner_text()
        listing = page.locator("#layers").inner_text()
        assert ("præcision ikke målt" if lang == "da" else "accuracy not measured") in trust
        assert passed not in trust.lower() and passed not in listing.lower()
        assert errors == []


def test_print_button_gives_a_pdf_with_title_date_and_accuracy(site: Service, browser: Any) -> None:
    page, errors = _open(browser, f"{site.url}/viewer")
    page.select_option("#print-orientation", "landscape")
    with page.expect_download(timeout=60_000) as download:
        page.click("#print")
    pdf = Path(download.value.path()).read_bytes()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "print_from_viewer.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert round(float(reader.pages[0].mediabox.width)) == 842  # landscape A4
    assert f"Termografi, {SITE}, 20. jan. 2026" in text
    assert "20. jan. 2026 kl. 06:30" in text and "præcision ikke målt" in text
    assert re.search(r"Målestok 1:[\d.]+", text)
    assert errors == []


def test_time_slider_and_shared_url_restore_the_view(site: Service, browser: Any) -> None:
    page, errors = _open(browser, f"{site.url}/viewer")
    assert page.locator("#time-box").is_visible()
    page.focus("#time")
    page.keyboard.press("ArrowRight")  # the February flight of the same roof
    page.wait_for_function(f"window.dronegisViewer.shown.has('{THERMAL['roof-feb']}')", timeout=10_000)
    assert not page.evaluate(f"window.dronegisViewer.shown.has('{THERMAL['roof-jan']}')")
    assert "10. feb. 2026" in page.locator("#time-value").inner_text()
    page.evaluate("window.dronegisViewer.map.getView().setResolution(0.1)")
    page.wait_for_timeout(500)
    page.click("#share")
    shared = page.locator("#share-url").input_value()
    assert f"layers={THERMAL['roof-feb']}" in shared and "bbox=" in shared and "time=2026-02-10" in shared
    extent = page.evaluate("window.dronegisViewer.map.getView().calculateExtent()")
    again, more_errors = _open(browser, shared)
    assert again.evaluate("Array.from(window.dronegisViewer.shown)") == [THERMAL["roof-feb"]]
    restored = again.evaluate("window.dronegisViewer.map.getView().calculateExtent()")
    assert restored == pytest.approx(extent, abs=2.0)
    assert "10. feb. 2026" in again.locator("#trust").inner_text()
    _shot(again, "viewer_shared_url")
    assert errors == [] and more_errors == []


def test_coordinate_search_and_keyboard_reading(site: Service, browser: Any) -> None:
    page, errors = _open(browser, f"{site.url}/viewer")
    page.fill("#search-input", "557880 6212010")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-searched]", timeout=30_000)
    assert "Ø 557.880 N 6.212.010 (EPSG:25832)" in page.locator("#search-results").inner_text()
    centre = page.evaluate("window.dronegisViewer.map.getView().getCenter()")
    assert centre == pytest.approx([557880, 6212010], abs=0.5)
    page.fill("#search-input", "40.7 -74.0")
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results [role=alert]", timeout=30_000)
    assert "ligger uden for Danmark" in page.locator("#search-results").inner_text()
    page.focus("#map")  # keyboard: Enter reads the value at the map's centre
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-info]", timeout=30_000)
    shown = page.locator("#info .value").first.inner_text()
    assert float(shown.split()[0].replace(",", ".")) == pytest.approx(
        celsius_at("roof-jan", 557880), abs=0.06
    )
    assert errors == []


def test_axe_finds_no_serious_or_critical_violation(site: Service, browser: Any) -> None:
    assert AXE.is_file(), f"{AXE} missing: scripts/setup.sh installs axe-core from viewer/package.json"
    found: dict[str, Any] = {}
    for lang in ("da", "en"):
        page, errors = _open(browser, f"{site.url}/viewer?lang={lang}")
        page.wait_for_selector("body[data-loaded]", timeout=30_000)
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        found[lang] = [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in results["violations"]
        ]
        assert errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe_viewer.json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    bad = {lang: [v for v in hits if v["impact"] in ("serious", "critical")] for lang, hits in found.items()}
    assert bad == {"da": [], "en": []}


def test_a_configured_wmts_basemap_is_drawn_and_a_broken_one_falls_back(
    site: Service, browser: Any, tmp_path: Path
) -> None:
    tiles: list[str] = []
    page = browser.new_page()
    page.on("request", lambda request: tiles.append(request.url) if "/wmts" in request.url else None)
    page.goto(f"{site.url}/viewer", wait_until="load")
    page.wait_for_selector("body[data-basemap='configured']", timeout=30_000)
    page.wait_for_selector("body[data-loaded]", timeout=30_000)
    page.wait_for_timeout(500)  # tiles fade in
    assert page.locator("#basemap").input_value() == "configured"
    got_tiles = [url for url in tiles if "GetCapabilities" not in url]
    assert got_tiles and all(f"token={VIEWER}" in url for url in tiles)  # the server checks it: 401 otherwise
    _shot(page, "viewer_configured_basemap")
    root = tmp_path / "ws"
    build_site(root)
    broken = {"kind": "wmts", "url": f"http://127.0.0.1:{free_port()}/wmts", "layer": "topo_skaermkort"}
    with Service(root, tmp_path / "service.log", env={"DRONEGIS_BASEMAP": json.dumps(broken)}) as other:
        page, errors = _open(browser, f"{other.url}/viewer")
        page.wait_for_selector("body[data-basemap='offline']", timeout=30_000)
        page.wait_for_selector("body[data-loaded]", timeout=30_000)
        assert page.locator("#basemap").input_value() == "offline"
        assert "kommunegrænsen vises i stedet" in page.locator("#basemap-status").inner_text()
        _shot(page, "viewer_offline_basemap")
