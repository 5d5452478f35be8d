"""The flight API in process: Danish purposes, conditions and parameters, finish rules, duplicates, names,
tokens, the OpenAPI document, and conditions reaching QA's thermography gate as the CLI's file does."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from svc_helpers import GIS, PILOT, VIEWER, auth, standin_stages

from core.workspace import Workspace
from dronegis.settings import Settings

CONDITIONS = {"air_temp_c": 4.0, "indoor_temp_c": 21.0, "wind_m_s": 3.0, "humidity_pct": 85.0}


def _create(client: TestClient, flight: str, **body: Any) -> dict[str, Any]:
    r = client.post("/api/flights", json={"id": flight, **body}, headers=auth(PILOT))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _wait(client: TestClient, flight: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/flights/{flight}", headers=auth(GIS)).json()["job"]
        if job and job["status"] in statuses:
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job of {flight} never reached {statuses}")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("naturovervågning", "nature-monitoring"),
        ("Bygningsinspektion", "building-inspection"),
        ("opmåling", "survey"),
        ("termografi", "building-inspection"),
        ("survey", "survey"),
    ],
)
def test_danish_purposes(client: TestClient, given: str, stored: str) -> None:
    assert _create(client, "p1", purpose=given)["purpose"] == stored
    assert client.get("/api/flights/p1", headers=auth(PILOT)).json()["flight"]["purpose"] == stored


def test_unknown_purpose_and_out_of_range_conditions(client: TestClient) -> None:
    r = client.post("/api/flights", json={"id": "x", "purpose": "fiskeri"}, headers=auth(PILOT))
    assert r.status_code == 422
    for bad in ({"wind_m_s": -1}, {"humidity_pct": 130}, {"air_temp_c": 80}, {"windspeed": 3}):
        r = client.post("/api/flights", json={"id": "x", "conditions": bad}, headers=auth(PILOT))
        assert r.status_code == 422, bad
        assert next(iter(bad)) in r.json()["message"]  # names the field
    r = client.post("/api/flights", json={"id": "x", "thermal": {"emissivity": 1.5}}, headers=auth(PILOT))
    assert r.status_code == 422 and "emissivity" in r.json()["message"]


def test_conditions_and_parameters_at_create_and_patch(client: TestClient) -> None:
    _create(client, "c1", purpose="bygningsinspektion", conditions={"air_temp_c": 4.0})
    view = client.get("/api/flights/c1", headers=auth(PILOT)).json()
    assert view["conditions"]["air_temp_c"] == 4.0 and view["conditions"]["wind_m_s"] is None
    r = client.patch(
        "/api/flights/c1",
        json={"conditions": {"indoor_temp_c": 21, "wind_m_s": 3}, "thermal": {"emissivity": 0.95}},
        headers=auth(PILOT),
    )
    assert r.status_code == 200, r.text
    assert r.json()["conditions"] | {} == {
        "air_temp_c": 4.0,
        "indoor_temp_c": 21.0,
        "wind_m_s": 3.0,
        "humidity_pct": None,
        "hours_since_precipitation": None,
    }
    assert r.json()["thermal"]["emissivity"] == 0.95
    cleared = client.patch(
        "/api/flights/c1", json={"conditions": {"wind_m_s": None}}, headers=auth(PILOT)
    ).json()
    assert cleared["conditions"]["wind_m_s"] is None and cleared["conditions"]["air_temp_c"] == 4.0
    assert (
        client.patch(
            "/api/flights/c1", json={"conditions": {"wind_m_s": 99}}, headers=auth(PILOT)
        ).status_code
        == 422
    )
    assert client.patch("/api/flights/c1", json={"title": "x"}, headers=auth(VIEWER)).status_code == 403
    assert client.patch("/api/flights/nope", json={"title": "x"}, headers=auth(PILOT)).status_code == 404


def test_duplicate_flight_remove_and_finish_rules(client: TestClient) -> None:
    _create(client, "d1")
    _create(client, "d2", purpose="survey")
    for flight in ("d1", "d2"):
        r = client.put(f"/api/flights/{flight}/files/DCIM/a.jpg", content=b"same bytes", headers=auth(PILOT))
        assert r.status_code == 201
    client.put("/api/flights/d2/files/wrong.txt", content=b"oops", headers=auth(PILOT))
    assert client.delete("/api/flights/d2/files/wrong.txt", headers=auth(PILOT)).status_code == 204
    assert client.delete("/api/flights/d2/files/wrong.txt", headers=auth(PILOT)).status_code == 404
    listing = client.get("/api/flights/d2/files", headers=auth(PILOT)).json()
    assert [f["path"] for f in listing["files"]] == ["DCIM/a.jpg"]
    assert (
        listing["files"][0]["duplicate_of"] == ["d1/DCIM/a.jpg"]
        and listing["files"][0]["status"] == "uploaded"
    )
    r = client.post("/api/flights/d2/finish", headers=auth(PILOT))
    assert r.status_code == 202
    [warning] = r.json()["warnings"]
    assert warning["flights"] == ["d1"] and "d1" in warning["message"]  # accepted, with a warning naming it
    english = client.get("/api/flights/d2", params={"lang": "en"}, headers=auth(PILOT)).json()
    assert (
        english["warnings"][0]["message"]
        == "1 of the files are also in flight d1. Is this the same flight sent twice?"
    )
    _wait(client, "d2", {"done"})
    removed = client.delete("/api/flights/d2/files/DCIM/a.jpg", headers=auth(PILOT))
    assert removed.status_code == 409 and "GIS-teamet" in removed.json()["message"]
    assert client.post("/api/flights/empty", headers=auth(PILOT)).status_code in (404, 405)
    _create(client, "empty")
    nothing = client.post("/api/flights/empty/finish", headers=auth(PILOT))
    assert nothing.status_code == 409 and "Der er ikke sendt nogen filer" in nothing.json()["message"]


def test_finish_waiting_for_approval_without_changes(client: TestClient) -> None:
    _create(client, "w1", purpose="bygningsinspektion")
    client.put("/api/flights/w1/files/x.jpg", content=b"x", headers=auth(PILOT))
    assert client.post("/api/flights/w1/finish", headers=auth(PILOT)).status_code == 202
    _wait(client, "w1", {"waiting_approval"})
    again = client.post("/api/flights/w1/finish", headers=auth(PILOT))
    assert again.status_code == 409 and "godkendelse" in again.json()["message"]
    client.put("/api/flights/w1/files/forgotten.jpg", content=b"y", headers=auth(PILOT))
    assert (
        client.post("/api/flights/w1/finish", headers=auth(PILOT)).status_code == 202
    )  # changed: runs again


def test_hostile_names_over_http(client: TestClient, settings: Settings) -> None:
    _create(client, "h1")
    long_name = "a" * 296 + ".jpg"  # a 300-byte multipart file name
    r = client.post(
        "/api/flights/h1/files", files=[("f", (long_name, b"x", "image/jpeg"))], headers=auth(PILOT)
    )
    assert r.status_code == 400 and "255" in r.json()["message"]
    assert client.put("/api/flights/h1/files/a", content=b"file", headers=auth(PILOT)).status_code == 201
    child = client.put("/api/flights/h1/files/a/b", content=b"child", headers=auth(PILOT))
    assert child.status_code == 409 and "a er en fil" in child.json()["message"]
    latin1 = client.put("/api/flights/h1/files/billede_%E6%F8%E5.JPG", content=b"dk", headers=auth(PILOT))
    assert latin1.status_code == 201 and latin1.json()["path"] == "billede_æøå.JPG"
    multipart_latin1 = client.post(
        "/api/flights/h1/files",
        content=b'--B\r\nContent-Disposition: form-data; name="f"; filename="gr\xf8n.jpg"\r\n\r\n'
        b"g\r\n--B--\r\n",
        headers={**auth(PILOT), "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert multipart_latin1.status_code == 200 and multipart_latin1.json()["stored"] == ["grøn.jpg"]
    files = Workspace.at(settings.workspace).upload("h1")
    assert sorted(p.name for p in files.iterdir()) == ["a", "billede_æøå.JPG", "grøn.jpg"]
    assert client.post("/api/flights/h1/finish", headers=auth(PILOT)).status_code == 202  # not stuck


def test_tokens_in_urls_only_for_clients_without_headers(client: TestClient) -> None:
    _create(client, "q1")
    assert client.get("/api/flights/q1", params={"token": VIEWER}).status_code == 401
    assert client.get("/api/flights/q1/files", params={"token": PILOT}).status_code == 401
    assert client.get("/flights/q1", params={"token": VIEWER}).status_code == 200  # a browser page
    assert client.get("/layers", params={"token": VIEWER}).status_code == 200  # GIS clients
    assert client.get("/api/flights/q1", headers=auth(VIEWER)).status_code == 200


def test_openapi_document_validates(client: TestClient) -> None:
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").json()
    validate(doc)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert (
        schemes["token_query"]["in"] == "query"
        and "cannot send headers" in schemes["token_query"]["description"]
    )
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert doc["paths"]["/api/flights/{flight}/files"]["get"]["security"] == [{"bearer": []}]
    assert {"token_query": []} in doc["paths"]["/wms"]["get"]["security"]
    assert "PATCH" not in json.dumps(doc) or "patch" in doc["paths"]["/api/flights/{flight}"]


@pytest.mark.slow
def test_conditions_reach_the_thermal_gate_as_the_cli_file_does(settings: Settings, tmp_path: Path) -> None:
    """Conditions given over the API end in QA's thermography gate with the results of ``--conditions``."""
    from dronegis.api.app import create_app
    from dronegis.service import STAGE_FUNCTIONS
    from flights.sample import make_sample_flight
    from qa.report import read_report
    from qa.run import QAConfig, run_qa

    make_sample_flight(tmp_path / "sample")
    app = create_app(settings)
    app.state.job_stages = {
        **standin_stages(),
        **{k: STAGE_FUNCTIONS[k] for k in ("ingest", "process", "qa")},
    }
    app.state.job_options = {"workers": 1, "now": "2026-01-15T12:00:00+00:00"}
    with TestClient(app) as client:
        _create(client, "th1", purpose="termografi", conditions={"air_temp_c": 4.0, "wind_m_s": 8.0})
        patch = {"conditions": {"indoor_temp_c": 21.0, "humidity_pct": 85.0, "hours_since_precipitation": 20}}
        assert client.patch("/api/flights/th1", json=patch, headers=auth(PILOT)).status_code == 200
        frame = (tmp_path / "sample" / "DJI_0007_R.JPG").read_bytes()
        assert (
            client.put(
                "/api/flights/th1/files/DJI_0007_R.JPG", content=frame, headers=auth(PILOT)
            ).status_code
            == 201
        )
        assert client.post("/api/flights/th1/finish", headers=auth(PILOT)).status_code == 202
        job = _wait(client, "th1", {"waiting_approval", "failed", "done"})
        assert job["status"] == "waiting_approval", job["error"]
        page = client.get("/flights/th1/qa", headers=auth(PILOT)).text
        assert "{'" not in page and "['" not in page  # figures spelled out, no Python reprs
        flight_page = client.get("/flights/th1", params={"lang": "en"}, headers=auth(PILOT)).text
        assert "Inside temperature (°C)" in flight_page and "Wind (m/s)" in flight_page
    workspace = Workspace.at(settings.workspace)
    api = read_report(workspace.qa_report_json("th1"))
    cli_file = tmp_path / "conditions.toml"
    cli_file.write_text(
        "[measured]\nair_temp_c = 4.0\nwind_m_s = 8.0\nindoor_temp_c = 21.0\nhumidity_pct = 85.0\n"
        "hours_since_precipitation = 20\n"
    )
    from datetime import UTC, datetime

    cli = run_qa(
        workspace, "th1", now=datetime(2026, 1, 15, 12, tzinfo=UTC), config=QAConfig(conditions=cli_file)
    )
    by_id = {c.id: c for c in api.checks if c.id.startswith("conditions.")}
    assert by_id == {c.id: c for c in cli.checks if c.id.startswith("conditions.")}
    assert (
        by_id["conditions.delta_t"].status == "pass"
        and by_id["conditions.delta_t"].figures["delta_t_k"] == 17.0
    )
    assert by_id["conditions.wind"].status == "fail"  # 8 m/s > 5 m/s: the gate closes
    assert api.thermal_publication_blocked and "Wind" in (api.thermal_gate_reason or "")


def test_pilots_see_job_errors_without_server_paths_or_internal_sizes(client: TestClient) -> None:
    from dronegis.api.jobs import plain_error

    raw = (
        "process failed: ThermalError: /srv/ws/products/t/thermal_mosaic.tif: the 19 thermal frames span "
        "15000 km × 9000 km, a 1500000 × 900000 px grid at 10 m (~28,570,131.6 GiB) over the limit"
    )
    assert plain_error(raw) == (
        "process failed: ThermalError: thermal_mosaic.tif: the 19 thermal frames span "
        "15000 km × 9000 km, a 1500000 × 900000 px grid at 10 m over the limit"
    )
    assert (
        plain_error("ingest failed: ValueError: 3/4 frames at 1.5 m/s")
        == "ingest failed: ValueError: 3/4 frames at 1.5 m/s"
    )


def test_flight_ids_are_unique_case_insensitively(client: TestClient) -> None:
    _create(client, "Rundflyvning-1")
    again = client.post("/api/flights", json={"id": "rundflyvning-1"}, headers=auth(PILOT))
    assert again.status_code == 409
    assert "Rundflyvning-1" in again.json()["messages"]["da"], again.json()
    assert client.post("/api/flights", json={"id": "rundflyvning-2"}, headers=auth(PILOT)).status_code == 201
