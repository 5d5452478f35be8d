"""The case handler's map over HTTP: layer texts, search (fake DAWA), print PDF, guide, errors, pages."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from case_map_site import ORTHO, SITE, THERMAL, build_site
from pypdf import PdfReader
from svc_helpers import GIS, VIEWER, Service, free_port

pytestmark = [pytest.mark.network, pytest.mark.slow]
ADDRESS = {"x": 557912.3, "y": 6211987.6}
PLACE_CENTRE = [557100.0, 6211500.0]


class FakeDawa(BaseHTTPRequestHandler):
    """DAWA's /autocomplete (type=adresse) and /stednavne2 shapes; records what it was asked."""

    asked: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = parse_qs(url.query)
        FakeDawa.asked.append({"path": [url.path], **query})
        if url.path == "/autocomplete":
            body: Any = [
                {
                    "type": "adresse",
                    "tekst": "Adelgade 44, 8660 Skanderborg",
                    "forslagstekst": "Adelgade 44\n8660 Skanderborg",
                    "caretpos": 29,
                    "data": {
                        "id": "0a3f50a0",
                        "vejnavn": "Adelgade",
                        "husnr": "44",
                        "postnr": "8660",
                        **ADDRESS,
                    },
                },
                {"type": "adresse", "tekst": "no coordinates", "data": {"id": "x"}},  # left out
            ]
        elif url.path == "/stednavne2":
            body = [{"navn": "Skanderborg Sø", "sted": {"undertype": "sø", "visueltcenter": PLACE_CENTRE}}]
        else:
            self.send_error(404)
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture(scope="module")
def dawa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDawa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, dawa: str) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("case-api") / "ws"
    build_site(root)
    env = {"DRONEGIS_GEOCODER": json.dumps({"url": dawa, "token": "dawa-token", "limit": 4})}
    with Service(root, root.parent / "service.log", env=env) as svc:
        yield svc


def _get(site: Service, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{site.url}{path}", params=params, timeout=120)


def test_layers_say_what_people_read_in_danish_and_english(site: Service) -> None:
    danish = {layer["id"]: layer["display"] for layer in _get(site, "/layers").json()}
    english = {layer["id"]: layer["display"] for layer in _get(site, "/layers", lang="en").json()}
    assert set(danish) == set(THERMAL.values())  # the internal orthophoto is not listed without a token
    jan, feb = danish[THERMAL["roof-jan"]], danish[THERMAL["roof-feb"]]
    assert (
        jan["title"] == f"Termografi, {SITE}, 20. jan. 2026"
        and feb["title"] == f"Termografi, {SITE}, 10. feb. 2026"
    )
    assert english[THERMAL["roof-jan"]]["title"] == f"Thermography, {SITE}, 20 Jan 2026"
    assert jan["accuracy"]["text"] == "præcision ikke målt" and jan["qa"]["status"] == "unmeasured"
    assert "bestået" not in jan["qa"]["label"] and "pass" not in english[THERMAL["roof-jan"]]["qa"]["label"]
    assert jan["area"] == feb["area"]  # the same roof: one time slider
    assert jan["flown"] == "20. jan. 2026 kl. 06:30" and jan["guide"] == "/guide?lang=da#thermal"
    with_token = {layer["id"]: layer["display"] for layer in _get(site, "/layers", token=GIS).json()}
    ortho = with_token[ORTHO]
    assert ortho["accuracy"]["text"] == "±3,6 cm (95 %), målt mod 31 kontrolpunkter"
    assert ortho["qa"]["status"] == "pass" and ortho["qa"]["label"] == "bestået"
    assert ortho["approval"] == "Godkendt til publicering af gustav: kontrolleret af GIS-teamet"


def test_coordinate_search_reads_utm_and_degrees_and_explains_refusals(site: Service) -> None:
    utm = _get(site, "/search", q="557900 6212000").json()
    assert utm["messages"] == [] and utm["results"][0]["kind"] == "coordinate"
    assert (utm["results"][0]["east"], utm["results"][0]["north"]) == (557900.0, 6212000.0)
    degrees = _get(site, "/search", q="56,0497 9,9297").json()["results"][0]
    assert degrees["label"].endswith("56,0497° N, 9,9297° Ø (WGS 84)")
    assert abs(degrees["east"] - 557908.0) < 1.0 and abs(degrees["north"] - 6212000.8) < 1.0
    outside = _get(site, "/search", q="40.7 -74.0", lang="en").json()
    assert outside["results"] == [] and outside["messages"] == [
        "The point 40.7, -74 (latitude, longitude in degrees) lies outside Denmark."
    ]
    garbled = _get(site, "/search", q="56 9 3").json()
    assert garbled["messages"][0].startswith("»56 9 3« er ikke to tal")
    assert not [asked for asked in FakeDawa.asked if asked.get("q") == ["56 9 3"]]  # coordinates never leave


def test_address_and_place_search_through_a_dawa_shaped_geocoder(site: Service) -> None:
    FakeDawa.asked.clear()
    found = _get(site, "/search", q="Adelgade 44").json()
    kinds = [(hit["kind"], hit["label"]) for hit in found["results"]]
    assert kinds == [("address", "Adelgade 44, 8660 Skanderborg"), ("place", "Skanderborg Sø")]
    address = found["results"][0]
    assert (address["east"], address["north"]) == (ADDRESS["x"], ADDRESS["y"])
    asked = {a["path"][0]: a for a in FakeDawa.asked}
    assert asked["/autocomplete"]["type"] == ["adresse"] and asked["/autocomplete"]["srid"] == ["25832"]
    assert asked["/stednavne2"]["token"] == ["dawa-token"]  # the token stays on the server


def test_search_finds_layers_only_for_those_who_may_see_them(site: Service) -> None:
    anonymous = _get(site, "/search", q="Ortofoto").json()["results"]
    assert not [hit for hit in anonymous if hit["kind"] == "layer"]
    known = _get(site, "/search", q="Ortofoto", token=GIS).json()["results"]
    assert [hit["layer"] for hit in known if hit["kind"] == "layer"] == [ORTHO]
    footprints = _get(site, "/basemap.geojson").json()["features"]
    assert {
        f["properties"].get("layer") for f in footprints if f["properties"]["kind"] == "footprint"
    } == set(THERMAL.values())
    assert {f["properties"]["kind"] for f in footprints} == {"municipality", "district", "footprint"}


def _pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_print_pdf_for_the_case_file(site: Service, tmp_path: Path) -> None:
    box = "557860,6212000,557900,6212030"
    response = _get(site, "/print.pdf", layer=THERMAL["roof-jan"], bbox=box, crs="EPSG:25832")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    (tmp_path / "print.pdf").write_bytes(response.content)
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
        595,
        842,
    )  # A4 portrait
    text = _pdf_text(response.content)
    for expected in (
        f"Termografi, {SITE}, 20. jan. 2026",
        "20. jan. 2026 kl. 06:30",
        "præcision ikke målt",
        "Målestok 1:250",
        "EPSG:25832",
        "Udskrevet",
        "Signaturforklaring",
        "Kilde",
        "kan ikke bruges til at fastlægge skel",
    ):
        assert expected in text, expected
    english = _get(
        site,
        "/print.pdf",
        layer=ORTHO,
        bbox=box,
        crs="EPSG:25832",
        lang="en",
        orientation="landscape",
        title="Case 2026-0042: garden shed",
        token=GIS,
    )
    page = PdfReader(io.BytesIO(english.content)).pages[0]
    assert round(float(page.mediabox.width)) == 842  # landscape
    text = _pdf_text(english.content)
    assert (
        "Case 2026-0042: garden shed" in text and "±3.6 cm (95 %), measured against 31 check points" in text
    )
    assert "Orthophoto, Skanderborg, 1 Feb 2026" in text  # the layer's own title under the one given
    assert "Approved for publication by gustav" in text and "Scale 1:250" in text


def test_print_refuses_bad_input_with_messages_for_people(site: Service) -> None:
    hidden = _get(site, "/print.pdf", layer=ORTHO, bbox="557860,6212000,557900,6212030")
    assert hidden.status_code == 404  # internal: as if it did not exist
    assert hidden.json()["messages"]["da"] == "Laget findes ikke, eller du har ikke adgang til det."
    bad = _get(site, "/print.pdf", layer=THERMAL["roof-jan"], bbox="1,2,3", lang="en")
    assert bad.status_code == 400
    assert bad.json()["message"] == "bbox=1,2,3 is not four numbers minx,miny,maxx,maxy with min < max."
    assert bad.json()["messages"]["da"].startswith("bbox=1,2,3 er ikke fire tal")
    huge = _get(site, "/print.pdf", layer=THERMAL["roof-jan"], bbox="400000,6000000,700000,6300000")
    assert huge.status_code == 400 and "for stort til en udskrift" in huge.json()["message"]
    crs = _get(site, "/print.pdf", layer=THERMAL["roof-jan"], bbox="1,2,3,4", crs="EPSG:4326")
    assert crs.status_code == 400 and "EPSG:25832" in crs.json()["message"]


def test_errors_speak_danish_and_english(site: Service) -> None:
    missing = _get(site, "/flights/nope/qa", token=VIEWER)
    assert missing.status_code == 404 and missing.json()["message"].startswith("Findes ikke")
    assert missing.json()["messages"]["en"].startswith("Not found")
    unauthorized = _get(site, "/flights/roof-jan", lang="en")
    assert unauthorized.status_code == 401
    assert unauthorized.json()["message"] == "Sign in with a valid token to see this."


def test_guide_pages_in_both_languages(site: Service) -> None:
    danish = _get(site, "/guide")
    assert danish.status_code == 200 and '<html lang="da">' in danish.text
    for anchor in ("thermal", "orthophoto", "accuracy", "freshness", "heights", "volumes", "vegetation"):
        assert f'id="{anchor}"' in danish.text
    assert "Emissivitet" in danish.text and "landinspektør" in danish.text and "NDVI" in danish.text
    english = _get(site, "/guide", lang="en")
    assert '<html lang="en">' in english.text and "apparent surface temperature" in english.text


def test_flight_and_qa_pages_are_danish_by_default(site: Service) -> None:
    page = _get(site, "/flights/roof-jan", token=VIEWER)
    assert '<html lang="da">' in page.text and "Flyvning roof-jan" in page.text and ">færdig<" in page.text
    assert "bygningsinspektion" in page.text
    english = _get(site, "/flights/roof-jan", token=VIEWER, lang="en")
    assert '<html lang="en">' in english.text and ">done<" in english.text
    report = _get(site, "/flights/roof-jan/qa", token=VIEWER)
    assert '<html lang="da">' in report.text and "QA-rapport – flyvning roof-jan" in report.text
    assert "Vindhastighed" in report.text and "lang=en" in report.text
    assert "QA report – flight roof-jan" in _get(site, "/flights/roof-jan/qa", token=VIEWER, lang="en").text


def test_a_failing_geocoder_leaves_coordinate_search_working(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    build_site(root)
    env = {"DRONEGIS_GEOCODER": json.dumps({"url": f"http://127.0.0.1:{free_port()}", "timeout_s": 2})}
    with Service(root, tmp_path / "service.log", env=env) as svc:
        words = _get(svc, "/search", q="Adelgade").json()
        assert words["results"] == [] and words["messages"][0].startswith("Adressesøgningen svarer ikke")
        point = _get(svc, "/search", q="557900 6212000").json()
        assert point["results"][0]["kind"] == "coordinate"
