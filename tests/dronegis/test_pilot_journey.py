"""The pilot's journey over real HTTP on 127.0.0.1 (uvicorn, httpx, owslib, headless Chromium).

Create a flight with its conditions (Danish purpose) → upload a folder of real brighton_beach
frames with one truncated and one GPS-less frame and a video → the API lists every file with its
problems in Danish and English → re-send the whole folder plus a forgotten frame → only that frame
is stored → finish → follow the job over server-sent events → approve (Duluth is outside
Skanderborg, so QA flags it) → the layers are in the WMS capabilities → the flight page's per-file
table, read by Chromium, shows the same files.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import chromium
from PIL import Image
from svc_helpers import GIS, PILOT, VIEWER, Service, auth

pytestmark = [pytest.mark.network, pytest.mark.slow]
FLIGHT = "duluth"
UTM15 = "EPSG:32615"  # brighton_beach lies near Duluth, MN: outside EPSG:25832's area of use
CONDITIONS = {"air_temp_c": 4.0, "indoor_temp_c": 21.0, "wind_m_s": 3.0, "humidity_pct": 80.0}


def _folder(data_dir: Path, folder: Path) -> dict[str, Path]:
    """The pilot's folder: a good frame, a truncated one, one without GPS, a video; and a forgotten frame."""
    images = data_dir / "brighton_beach" / "images"
    folder.mkdir(parents=True)
    shutil.copy(images / "DJI_0018.JPG", folder / "DJI_0018.JPG")
    (folder / "DJI_0020.JPG").write_bytes((images / "DJI_0020.JPG").read_bytes()[:2_000_000])  # cut short
    frame = Image.open(images / "DJI_0021.JPG")
    exif = frame.getexif()
    del exif[0x8825]  # the GPS directory: a frame without position (re-encoded, no XMP either)
    frame.save(folder / "DJI_0021.JPG", "JPEG", exif=exif.tobytes(), quality=90)
    (folder / "DJI_0030.MP4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4000))
    forgotten = folder.parent / "forgotten" / "DJI_0019.JPG"
    forgotten.parent.mkdir()
    shutil.copy(images / "DJI_0019.JPG", forgotten)
    return {**{p.name: p for p in folder.iterdir()}, "forgotten": forgotten}


def _multipart(client: httpx.Client, paths: list[Path]) -> httpx.Response:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    return client.post(f"/api/flights/{FLIGHT}/files", files=files, headers=auth(PILOT), timeout=120)


def _follow(client: httpx.Client, token: str, timeout: float = 900) -> list[dict[str, Any]]:
    """The flight's progress events until its job stops (the stream ends by itself)."""
    events: list[dict[str, Any]] = []
    url = f"/api/flights/{FLIGHT}/events"
    with client.stream("GET", url, params={"interval": 0.2}, headers=auth(token), timeout=timeout) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


@pytest.fixture(scope="module")
def journey(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("journey")
    files = _folder(data_dir, root / "DCIM")
    folder = [files[n] for n in sorted(files) if n != "forgotten"]
    seen: dict[str, Any] = {}
    with (
        Service(root / "ws", root / "service.log") as svc,
        httpx.Client(base_url=svc.url, timeout=60) as client,
    ):
        body = {
            "id": FLIGHT,
            "purpose": "opmåling",
            "conditions": CONDITIONS,
            "target_crs": UTM15,
            "access": "public",
            "pyramids": False,
            "title": "Brighton Beach",
        }
        seen["created"] = client.post("/api/flights", json=body, headers=auth(PILOT))
        seen["first"] = _multipart(client, folder)
        seen["before_da"] = client.get(f"/api/flights/{FLIGHT}/files", headers=auth(PILOT)).json()
        seen["before_en"] = client.get(
            f"/api/flights/{FLIGHT}/files", headers={**auth(PILOT), "Accept-Language": "en-GB,en;q=0.8"}
        ).json()
        stored = root / "ws" / "uploads" / FLIGHT / "files"
        seen["mtimes"] = {p.name: p.stat().st_mtime_ns for p in stored.iterdir()}
        seen["resent"] = _multipart(client, [*folder, files["forgotten"]])
        seen["mtimes_after"] = {p.name: p.stat().st_mtime_ns for p in stored.iterdir()}
        seen["finish"] = client.post(f"/api/flights/{FLIGHT}/finish", headers=auth(PILOT))
        seen["events"] = _follow(client, PILOT)
        if seen["events"][-1]["status"] == "waiting_approval":
            reason = {"reason": "Testflyvning uden for kommunen; QA-rapporten er læst"}
            seen["approval"] = client.post(f"/api/flights/{FLIGHT}/approve", json=reason, headers=auth(GIS))
            seen["events_after"] = _follow(client, GIS)
        seen["after_da"] = client.get(f"/api/flights/{FLIGHT}", headers=auth(PILOT)).json()
        seen["after_en"] = client.get(
            f"/api/flights/{FLIGHT}", params={"lang": "en"}, headers=auth(PILOT)
        ).json()
        seen["again"] = client.post(f"/api/flights/{FLIGHT}/finish", headers=auth(PILOT))
        seen["service"], seen["client"] = svc, client
        yield seen


def _by_path(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in listing["files"]}


def _codes(file: dict[str, Any]) -> set[str]:
    return {p["code"] for p in file["problems"]}


def test_created_with_conditions_and_danish_purpose(journey: dict[str, Any]) -> None:
    assert journey["created"].status_code == 201, journey["created"].text
    assert journey["created"].json()["purpose"] == "survey"
    assert journey["after_da"]["conditions"] | {} == {**CONDITIONS, "hours_since_precipitation": None}


def test_every_file_listed_with_its_problems_before_finish(journey: dict[str, Any]) -> None:
    assert journey["first"].status_code == 200 and len(journey["first"].json()["stored"]) == 4
    da, en = _by_path(journey["before_da"]), _by_path(journey["before_en"])
    assert set(da) == {"DJI_0018.JPG", "DJI_0020.JPG", "DJI_0021.JPG", "DJI_0030.MP4"}
    assert {f["status"] for f in da.values()} == {"uploaded"}
    assert _codes(da["DJI_0020.JPG"]) == {"metadata_error"}  # truncated: the code of dronegis ingest
    assert "no_gps" in _codes(da["DJI_0021.JPG"])
    assert _codes(da["DJI_0018.JPG"]) == {"outside_municipality"}  # Duluth, MN
    assert da["DJI_0020.JPG"]["problems"][0]["message"] == "DJI_0020.JPG er ødelagt eller afkortet."
    assert en["DJI_0020.JPG"]["problems"][0]["message"] == "DJI_0020.JPG is damaged or cut short."
    assert da["DJI_0020.JPG"]["next_step"] == "Send en hel kopi fra kameraets kort."
    assert en["DJI_0021.JPG"]["next_step"].startswith("Turn on the camera's GPS")
    assert da["DJI_0030.MP4"]["kind"] == "video" and "behandles ikke" in da["DJI_0030.MP4"]["next_step"]
    assert da["DJI_0020.JPG"]["size_text"] == "2 MB" and en["DJI_0018.JPG"]["size_text"] == "4 MB"
    text = json.dumps([journey["before_da"], journey["before_en"]], ensure_ascii=False)
    assert "/uploads/" not in text and "/tmp" not in text and "GiB" not in text  # no server paths
    assert all(p["detail"] is None for f in da.values() for p in f["problems"])  # technical text: GIS only


def test_resending_the_folder_stores_only_the_forgotten_frame(journey: dict[str, Any]) -> None:
    resent = journey["resent"]
    assert resent.status_code == 200, resent.text
    assert resent.json()["stored"] == ["DJI_0019.JPG"]
    assert sorted(resent.json()["unchanged"]) == [
        "DJI_0018.JPG",
        "DJI_0020.JPG",
        "DJI_0021.JPG",
        "DJI_0030.MP4",
    ]
    assert resent.json()["conflicts"] == []
    before, after = journey["mtimes"], journey["mtimes_after"]
    assert {n: after[n] for n in before} == before  # the identical files were not rewritten


def test_job_followed_over_events_to_publication(journey: dict[str, Any]) -> None:
    assert journey["finish"].status_code == 202, journey["finish"].text
    events = journey["events"] + journey.get("events_after", [])
    stages = [e["stage"] for e in events]
    assert stages.index("ingest") < stages.index("process") < stages.index("qa")
    assert events[-1]["status"] == "done" and events[-1]["stage"] == "publish", events[-1]
    assert journey["events"][-1]["status"] == "waiting_approval"  # outside Skanderborg: QA flags it
    assert journey["approval"].status_code == 200
    assert all("/tmp" not in (e["error"] or "") for e in journey["events"])


def test_files_after_ingest(journey: dict[str, Any]) -> None:
    da, en = _by_path(journey["after_da"]), _by_path(journey["after_en"])
    assert da["DJI_0020.JPG"]["status"] == "quarantined" and _codes(da["DJI_0020.JPG"]) == {"metadata_error"}
    assert (
        da["DJI_0020.JPG"]["status_text"] == "i karantæne"
        and en["DJI_0020.JPG"]["status_text"] == "quarantined"
    )
    assert da["DJI_0021.JPG"]["status"] == "archived" and "no_gps" in _codes(da["DJI_0021.JPG"])
    assert da["DJI_0030.MP4"]["status"] == "not_processed"
    assert en["DJI_0030.MP4"]["status_text"] == "archived, not processed"
    assert da["DJI_0019.JPG"]["status"] == "archived" and da["DJI_0018.JPG"]["status"] == "archived"
    assert journey["after_da"]["version"] == 1
    workspace = str(journey["service"].workspace)
    assert workspace not in json.dumps(journey["after_da"]) and workspace not in json.dumps(
        journey["after_en"]
    )
    assert any(p["code"] == "outside_municipality" for p in journey["after_da"]["flight_problems"])


def test_layers_in_wms_capabilities(journey: dict[str, Any]) -> None:
    from owslib.wms import WebMapService

    svc: Service = journey["service"]
    layers = {layer["id"] for layer in journey["after_da"]["layers"]}
    assert {f"{FLIGHT}-frame-dji_0018", f"{FLIGHT}-frame-dji_0019", f"{FLIGHT}-footprints"} <= layers
    wms = WebMapService(f"{svc.url}/wms", version="1.3.0", headers=auth(GIS))
    assert layers <= set(wms.contents), (layers, list(wms.contents))
    anonymous = set(WebMapService(f"{svc.url}/wms", version="1.3.0").contents)
    assert (
        f"{FLIGHT}-footprints" in anonymous and f"{FLIGHT}-frame-dji_0018" not in anonymous
    )  # frames: internal


def test_finish_on_a_published_flight_is_refused(journey: dict[str, Any]) -> None:
    again = journey["again"]
    assert again.status_code == 409
    assert again.json()["message"].startswith("Flyvningen duluth er allerede publiceret")


def test_openapi_validates_over_http(journey: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(journey["client"].get("/openapi.json").json())


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile") as context:
        yield context.new_page()


@pytest.mark.browser
def test_flight_page_per_file_table_in_chromium(journey: dict[str, Any], page: Any) -> None:
    svc: Service = journey["service"]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    rows_of = (
        "Array.from(document.querySelectorAll('#file-table tbody tr')).map(r => [r.dataset.path, "
        "r.dataset.status, Array.from(r.cells).map(c => c.innerText.trim())])"
    )
    page.goto(f"{svc.url}/flights/{FLIGHT}?token={VIEWER}", wait_until="load")
    rows = {path: (status, cells) for path, status, cells in page.evaluate(rows_of)}
    api = _by_path(journey["after_da"])
    assert set(rows) == set(api)
    for path, (status, cells) in rows.items():
        assert status == api[path]["status"]
        assert cells[:4] == [path, api[path]["kind_text"], api[path]["size_text"], api[path]["status_text"]]
        assert cells[5] == api[path]["next_step"]
    assert rows["DJI_0020.JPG"][1][3] == "i karantæne" and "ødelagt" in rows["DJI_0020.JPG"][1][4]
    assert page.locator("#conditions").inner_text().count("21") == 1  # the inside temperature is shown
    page.goto(f"{svc.url}/flights/{FLIGHT}?token={VIEWER}&lang=en", wait_until="load")
    english = {path: cells for path, _status, cells in page.evaluate(rows_of)}
    assert english["DJI_0030.MP4"][3] == "archived, not processed"
    assert english["DJI_0021.JPG"][4].startswith("DJI_0021.JPG has no GPS position.")
    screenshot = io.BytesIO(page.screenshot(full_page=True))
    assert screenshot.getbuffer().nbytes > 0
    assert errors == []
