from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from svc_helpers import GIS, PILOT, VIEWER, auth
from test_upload_store import zip_bytes

from core.errors import UploadError
from core.workspace import Workspace
from dronegis.settings import Settings
from dronegis.upload_store import UploadArea


def _create(client: TestClient, flight: str, purpose: str = "survey") -> None:
    r = client.post(
        "/api/flights", json={"id": flight, "purpose": purpose, "title": "t"}, headers=auth(PILOT)
    )
    assert r.status_code == 201, r.text


def _wait_job(client: TestClient, flight: str, statuses: set[str], token: str = GIS) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = client.get(f"/api/flights/{flight}", headers=auth(token)).json()["job"]
        if job and job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job of {flight} never reached {statuses}")


# -- HTTP ----------------------------------------------------------------------------------------


def test_roles(client: TestClient) -> None:
    assert client.post("/api/flights", json={"id": "f"}).status_code == 401
    assert client.post("/api/flights", json={"id": "f"}, headers=auth("wrong")).status_code == 401
    assert client.post("/api/flights", json={"id": "f"}, headers=auth(VIEWER)).status_code == 403
    in_url = client.post("/api/flights", json={"id": "f"}, params={"token": PILOT})
    assert in_url.status_code == 401 and "Authorization: Bearer" in in_url.json()["detail"]  # not in URLs
    assert client.post("/api/flights", json={"id": "f"}, headers=auth(PILOT)).status_code == 201
    assert client.post("/api/flights", json={"id": "f"}, headers=auth(PILOT)).status_code == 409
    assert client.post("/api/flights", json={"id": "../x"}, headers=auth(PILOT)).status_code == 422
    generated = client.post("/api/flights", json={"purpose": "survey"}, headers=auth(PILOT)).json()
    assert generated["id"] and generated["files_url"].endswith("/files")


def test_multipart_upload_and_finish(client: TestClient, settings: Settings) -> None:
    _create(client, "m1")
    files = [
        ("files", ("DCIM/DJI_0001.JPG", b"a" * 1000, "image/jpeg")),
        ("files", ("gcp_list.txt", b"EPSG:25832\n", "text/plain")),
    ]
    r = client.post("/api/flights/m1/files", files=files, data={"note": "x"}, headers=auth(PILOT))
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == ["DCIM/DJI_0001.JPG", "gcp_list.txt"]
    stored = Workspace.at(settings.workspace).upload("m1")
    assert (stored / "DCIM" / "DJI_0001.JPG").read_bytes() == b"a" * 1000
    r = client.post("/api/flights/m1/finish", headers=auth(PILOT))
    assert r.status_code == 202 and r.json()["files"] == 2
    job = _wait_job(client, "m1", {"done"})
    assert job["qa_status"] == "pass"
    received = (Workspace.at(settings.workspace).products("m1") / "received.txt").read_text()
    assert received.splitlines() == ["DCIM/DJI_0001.JPG", "gcp_list.txt"]
    again = client.post("/api/flights/m1/finish", headers=auth(PILOT))  # published: not rerun silently
    assert again.status_code == 409 and "new_version=true" in again.json()["message"]
    assert "publiceret" in again.json()["messages"]["da"]
    english = client.post(
        "/api/flights/m1/finish", headers={**auth(PILOT), "Accept-Language": "en-GB,en;q=0.9"}
    )
    assert english.json()["message"].startswith("Flight m1 is already published")
    resent = client.post(
        "/api/flights/m1/files",
        files=[*files, ("files", ("late.txt", b"late", "text/plain"))],
        headers=auth(PILOT),
    )
    assert resent.json()["stored"] == ["late.txt"] and resent.json()["unchanged"] == [f[1][0] for f in files]
    new = client.post("/api/flights/m1/finish", params={"new_version": "true"}, headers=auth(PILOT))
    assert new.status_code == 202 and new.json()["version"] == 2 and new.json()["files"] == 3
    _wait_job(client, "m1", {"done"})
    assert client.get("/api/flights/m1", headers=auth(PILOT)).json()["version"] == 2


def test_multipart_refusals(client: TestClient, settings: Settings) -> None:
    _create(client, "m2")
    too_big = [("f", ("big.bin", b"z" * 6_000_000, "application/octet-stream"))]
    assert client.post("/api/flights/m2/files", files=too_big, headers=auth(PILOT)).status_code == 413
    slip = [("f", ("../../evil.txt", b"x", "text/plain"))]
    assert client.post("/api/flights/m2/files", files=slip, headers=auth(PILOT)).status_code == 400
    r = client.post(
        "/api/flights/m2/files", content=b"x", headers={**auth(PILOT), "Content-Type": "text/plain"}
    )
    assert r.status_code == 400 and r.json()["message"] == "Send filerne som multipart/form-data."
    assert client.post("/api/flights/nope/files", files=slip, headers=auth(PILOT)).status_code == 404
    area = UploadArea(Workspace.at(settings.workspace), "m2", settings.max_upload_bytes)
    assert area.used_bytes() == 0 and area.pending() == []
    assert client.post("/api/flights/m2/finish", headers=auth(PILOT)).status_code == 409


def test_resumable_put(client: TestClient, settings: Settings) -> None:
    _create(client, "r1")
    data = bytes(range(256)) * 40  # 10240 bytes
    url = "/api/flights/r1/files/DCIM/big.JPG"
    r = client.put(url, content=data[:4000], headers={**auth(PILOT), "Content-Range": "bytes 0-3999/10240"})
    assert r.status_code == 200 and r.json()["offset"] == 4000 and r.json()["complete"] is False
    upload_id = r.headers["Upload-Id"]
    assert r.headers["Location"] == f"/api/flights/r1/uploads/{upload_id}"
    with_id = {**auth(PILOT), "Upload-Id": upload_id}
    # the connection drops after 1000 of the next 4000 bytes: the body is shorter than its range
    r = client.put(
        url, content=data[4000:5000], headers={**with_id, "Content-Range": "bytes 4000-7999/10240"}
    )
    assert r.status_code == 400 and "5" in r.json()["message"]
    head = client.head(url, headers=with_id)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "5000"
    r = client.put(url, content=data[3000:], headers={**with_id, "Content-Range": "bytes 3000-10239/10240"})
    assert r.status_code == 409 and "5000" in r.json()["detail"]
    no_id = client.put(
        url, content=data[5000:], headers={**auth(PILOT), "Content-Range": "bytes 5000-10239/10240"}
    )
    assert no_id.status_code == 409 and "Upload-Id" in no_id.json()["message"]
    assert client.post("/api/flights/r1/finish", headers=auth(PILOT)).status_code == 409  # still pending
    r = client.put(url, content=data[5000:], headers={**with_id, "Content-Range": "bytes 5000-10239/10240"})
    assert r.status_code == 201 and r.json()["complete"] is True and r.json()["outcome"] == "stored"
    assert (Workspace.at(settings.workspace).upload("r1") / "DCIM" / "big.JPG").read_bytes() == data
    assert client.get(url, headers=auth(PILOT)).json()["complete"] is True
    same = client.put(url, content=data, headers=auth(PILOT))
    assert same.status_code == 200 and same.json()["outcome"] == "unchanged"  # identical: a no-op
    changed = client.put(url, content=b"x", headers=auth(PILOT))
    assert changed.status_code == 409 and "replace=true" in changed.json()["message"]
    replaced = client.put(url, content=b"x", params={"replace": "true"}, headers=auth(PILOT))
    assert replaced.status_code == 201 and replaced.json()["outcome"] == "replaced"
    [kept] = (Workspace.at(settings.workspace).upload_versions("r1")).rglob("big.JPG")
    assert kept.read_bytes() == data  # the old version is kept
    whole = client.put("/api/flights/r1/files/small.txt", content=b"hello", headers=auth(PILOT))
    assert whole.status_code == 201 and whole.json()["offset"] == 5
    bad = client.put(url, content=b"x", headers={**auth(PILOT), "Content-Range": "bytes 9-1/2"})
    assert bad.status_code == 400


def test_tus_style_sessions(client: TestClient, settings: Settings) -> None:
    """create → PATCH at offsets → HEAD tells the offset → complete; a restart at 0; a cancel."""
    _create(client, "t2")
    data = bytes(range(256)) * 8
    r = client.post(
        "/api/flights/t2/uploads", json={"path": "a/b.bin", "length": len(data)}, headers=auth(PILOT)
    )
    assert r.status_code == 201 and r.headers["Upload-Offset"] == "0"
    location = r.headers["Location"]
    patch = {**auth(PILOT), "Content-Type": "application/offset+octet-stream"}
    assert (
        client.patch(location, content=data[:500], headers={**patch, "Upload-Offset": "0"}).status_code == 200
    )
    head = client.head(location, headers=auth(PILOT))
    assert head.headers["Upload-Offset"] == "500" and head.headers["Upload-Length"] == str(len(data))
    assert client.patch(location, content=b"x", headers={**patch, "Upload-Offset": "7"}).status_code == 409
    again = client.patch(location, content=data[:100], headers={**patch, "Upload-Offset": "0"})  # restart
    assert again.json()["offset"] == 100
    done = client.patch(location, content=data[100:], headers={**patch, "Upload-Offset": "100"})
    assert done.status_code == 201 and done.json()["outcome"] == "stored"
    assert client.head(location, headers=auth(PILOT)).status_code == 404  # the session ended
    assert (Workspace.at(settings.workspace).upload("t2") / "a" / "b.bin").read_bytes() == data
    r = client.post("/api/flights/t2/uploads", json={"path": "c.bin", "length": 9}, headers=auth(PILOT))
    assert client.delete(r.headers["Location"], headers=auth(PILOT)).status_code == 204
    empty = client.post(
        "/api/flights/t2/uploads", json={"path": "empty.txt", "length": 0}, headers=auth(PILOT)
    )
    assert empty.status_code == 201 and empty.json()["outcome"] == "stored"
    sha = client.post(
        "/api/flights/t2/uploads",
        json={"path": "d.bin", "length": 3, "sha256": "0" * 64},
        headers=auth(PILOT),
    )
    bad = client.patch(sha.headers["Location"], content=b"abc", headers={**patch, "Upload-Offset": "0"})
    assert bad.status_code == 400 and "d.bin" in bad.json()["message"]
    assert UploadArea(Workspace.at(settings.workspace), "t2", 1).pending() == []


def test_zip_upload(client: TestClient, settings: Settings) -> None:
    _create(client, "z1")
    good = zip_bytes([("images/a.jpg", b"a" * 100), ("gcp_list.txt", b"EPSG:25832\n")])
    r = client.post(
        "/api/flights/z1/zip", content=good, headers={**auth(PILOT), "Content-Type": "application/zip"}
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["stored"]) == ["gcp_list.txt", "images/a.jpg"]
    again = client.post("/api/flights/z1/zip", content=good, headers=auth(PILOT))
    assert again.status_code == 200 and sorted(again.json()["unchanged"]) == ["gcp_list.txt", "images/a.jpg"]
    changed = zip_bytes([("images/a.jpg", b"b" * 100), ("images/new.jpg", b"n")])
    r = client.post("/api/flights/z1/zip", content=changed, headers=auth(PILOT))
    assert (
        r.status_code == 409
        and r.json()["conflicts"] == ["images/a.jpg"]
        and r.json()["stored"] == ["images/new.jpg"]
    )
    bombs = (
        zip_bytes([("../../x", b"1")]),
        zip_bytes([("a", b"1")], symlink="l"),
        zip_bytes([("z", b"\0" * 20_000_000)]),
    )
    for bad in bombs:
        r = client.post("/api/flights/z1/zip", content=bad, headers=auth(PILOT))
        assert r.status_code in (400, 413), r.text
    assert r.status_code == 400 and "zip bomb" in r.json()["detail"]
    assert sorted(UploadArea(Workspace.at(settings.workspace), "z1", 1).completed()) == [
        "gcp_list.txt",
        "images/a.jpg",
        "images/new.jpg",
    ]


def test_approval_flow_and_pages(client: TestClient) -> None:
    _create(client, "b1", purpose="building-inspection")
    client.put("/api/flights/b1/files/x.jpg", content=b"x", headers=auth(PILOT))
    client.post("/api/flights/b1/finish", headers=auth(PILOT))
    job = _wait_job(client, "b1", {"waiting_approval"})
    assert "approval" in str(job["error"])
    page = client.get("/flights/b1", params={"token": VIEWER})
    assert page.status_code == 200 and "waiting_approval" in page.text
    assert client.get("/flights/b1/qa", headers=auth(VIEWER)).text == "<h1>QA b1: pass</h1>"
    assert client.get("/flights/nope/qa", headers=auth(VIEWER)).status_code == 404
    assert (
        client.post("/api/flights/b1/approve", json={"reason": "ok"}, headers=auth(PILOT)).status_code == 403
    )
    r = client.post("/api/flights/b1/approve", json={"reason": "checked on site"}, headers=auth(GIS))
    assert r.status_code == 200 and r.json()["approved_by"] == "gustav"
    job = _wait_job(client, "b1", {"done"})
    assert job["approval_reason"] == "checked on site"
    again = client.post("/api/flights/b1/approve", json={"reason": "again"}, headers=auth(GIS))
    assert again.status_code == 409
    assert client.get(f"/api/jobs/{job['id']}", headers=auth(VIEWER)).json()["status"] == "done"
    assert client.get("/api/jobs/999", headers=auth(VIEWER)).status_code == 404
    info = client.get("/api/flights/b1", headers=auth(VIEWER)).json()
    assert info["layers"] == [{"id": "b1-x", "title": "X"}]
    rerun = client.post("/api/flights/b1/rerun", json={"from_stage": "qa"}, headers=auth(GIS))
    assert rerun.status_code == 202 and rerun.json()["from_stage"] == "qa"


def test_server_sent_events(client: TestClient) -> None:
    _create(client, "e1")
    client.put("/api/flights/e1/files/x.jpg", content=b"x", headers=auth(PILOT))
    client.post("/api/flights/e1/finish", headers=auth(PILOT))
    events = []
    with client.stream("GET", "/api/flights/e1/events", params={"interval": 0.05}, headers=auth(VIEWER)) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["status"] == "done" and events[-1]["stage"] == "publish"
    assert {"stage", "done", "total", "status"} <= set(events[0])
    assert client.get("/api/flights/zz/events", headers=auth(VIEWER)).status_code == 404


def test_failure_reason_is_shown(settings: Settings) -> None:
    from svc_helpers import standin_stages

    from dronegis.api.app import create_app
    from dronegis.jobs import JobContext, Progress, StageResult

    def broken(ctx: JobContext, progress: Progress) -> StageResult:
        raise ValueError(f"no usable frame in flight {ctx.flight}")

    app = create_app(settings)
    app.state.job_stages = {**standin_stages(), "process": broken}
    with TestClient(app) as client:
        _create(client, "bad")
        client.put("/api/flights/bad/files/x.jpg", content=b"x", headers=auth(PILOT))
        client.post("/api/flights/bad/finish", headers=auth(PILOT))
        job = _wait_job(client, "bad", {"failed"})
        assert job["stage"] == "process"
        assert job["error"] == "process failed: ValueError: no usable frame in flight bad"
        page = client.get("/flights/bad", headers=auth(VIEWER)).text
        assert "no usable frame in flight bad" in page and "failed" in page


def test_no_uploads_while_the_job_runs(settings: Settings) -> None:
    import threading

    from svc_helpers import standin_stages

    from dronegis.api.app import create_app
    from dronegis.jobs import JobContext, Progress, StageResult

    release = threading.Event()

    def slow(ctx: JobContext, progress: Progress) -> StageResult:
        release.wait(20)
        return StageResult("slow")

    app = create_app(settings)
    app.state.job_stages = {**standin_stages(), "process": slow}
    with TestClient(app) as client:
        _create(client, "busy")
        client.put("/api/flights/busy/files/a.jpg", content=b"a", headers=auth(PILOT))
        client.post("/api/flights/busy/finish", headers=auth(PILOT))
        _wait_job(client, "busy", {"running"})
        late = client.put("/api/flights/busy/files/b.jpg", content=b"b", headers=auth(PILOT))
        assert late.status_code == 409 and "being processed" in late.json()["detail"]
        assert client.head("/api/flights/busy/files/a.jpg", headers=auth(PILOT)).status_code == 200
        release.set()
        _wait_job(client, "busy", {"done"})
        assert (
            client.put("/api/flights/busy/files/b.jpg", content=b"b", headers=auth(PILOT)).status_code == 201
        )


def test_thermal_parameters_at_creation_reach_the_products(settings: Settings, tmp_path: Path) -> None:
    """POST /api/flights with thermal parameters: the real process stage converts with them as overrides."""
    from svc_helpers import standin_stages

    from dronegis.api.app import create_app
    from dronegis.service import STAGE_FUNCTIONS
    from flights.sample import make_sample_flight
    from pipeline.products import load_products

    make_sample_flight(tmp_path / "sample")
    app = create_app(settings)
    app.state.job_stages = {**standin_stages(), **{k: STAGE_FUNCTIONS[k] for k in ("ingest", "process")}}
    app.state.job_options = {"workers": 1}
    body = {"id": "t1", "purpose": "survey", "thermal": {"emissivity": 0.9, "reflected_temp_c": 4.5}}
    with TestClient(app) as client:
        bad = {**body, "thermal": {"emissivity": 1.5}}
        assert client.post("/api/flights", json=bad, headers=auth(PILOT)).status_code == 422
        unknown = {**body, "thermal": {"emisivity": 0.9}}
        assert client.post("/api/flights", json=unknown, headers=auth(PILOT)).status_code == 422
        assert client.post("/api/flights", json=body, headers=auth(PILOT)).status_code == 201
        frame = (tmp_path / "sample" / "DJI_0007_R.JPG").read_bytes()
        r = client.put("/api/flights/t1/files/DJI_0007_R.JPG", content=frame, headers=auth(PILOT))
        assert r.status_code == 201, r.text
        assert client.post("/api/flights/t1/finish", headers=auth(PILOT)).status_code == 202
        job = _wait_job(client, "t1", {"done", "failed"})
        assert job["status"] == "done", job["error"]
    products = load_products(Workspace.at(settings.workspace), "t1")
    thermal = [p for p in products if p.kind.value in ("thermal_frame", "thermal_mosaic")]
    assert {p.kind.value for p in thermal} == {"thermal_frame", "thermal_mosaic"}
    for product in thermal:
        info = product.thermal
        assert info is not None and info.emissivity is not None and info.reflected_temp_c is not None
        assert info.overrides.model_dump(exclude_none=True) == {
            "emissivity": 0.9,
            "reflected_temp_c": 4.5,
            "distance_from_height": True,
        }
        assert info.emissivity.source == "override" and info.emissivity.value == 0.9
        assert info.reflected_temp_c.source == "override"


def test_ingest_stage_blur_threshold_from_settings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings' blur threshold reaches ingest; without one, ingest's own default applies (None)."""
    import dronegis.service
    from dronegis.jobs import JobContext
    from dronegis.service import ingest_stage, runner_options
    from flights.models import Flight

    seen: list[float | None] = []

    def fake_ingest(**kwargs: object) -> Flight:
        config = kwargs.get("config")  # flights.ingest_config.IngestConfig, or the keywords it replaces
        seen.append(config.blur_threshold if config is not None else kwargs["blur_threshold"])  # type: ignore[attr-defined,arg-type]
        raise UploadError("stop here")

    monkeypatch.setattr(dronegis.service, "ingest_folder", fake_ingest)
    assert runner_options(settings)["blur_threshold"] == 15.0 == Settings().blur_threshold
    ws = Workspace.at(settings.workspace)
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    for options in (runner_options(settings), {}, {"blur_threshold": 22}):
        ctx = JobContext(workspace=ws, flight="b", job_id=1, source=delivery, options=options)
        with pytest.raises(UploadError):
            ingest_stage(ctx, lambda done, total: None)
    assert seen == [15.0, None, 22.0]


def test_camera_timezone_at_creation_reaches_ingest(settings: Settings, data_dir: Path) -> None:
    """A flight created with camera_timezone: times stored without offset are read in that zone."""
    from datetime import UTC, datetime

    from svc_helpers import standin_stages

    from dronegis.api.app import create_app
    from dronegis.service import STAGE_FUNCTIONS
    from flights.ingest import load_flight

    app = create_app(settings)
    app.state.job_stages = {**standin_stages(), "ingest": STAGE_FUNCTIONS["ingest"]}
    body = {"id": "duluth", "purpose": "survey", "camera_timezone": "America/Chicago"}
    with TestClient(app) as client:
        bad = {**body, "camera_timezone": "Mars/Olympus_Mons"}
        r = client.post("/api/flights", json=bad, headers=auth(PILOT))
        assert r.status_code == 422 and "Mars/Olympus_Mons" in r.text
        assert client.post("/api/flights", json=body, headers=auth(PILOT)).status_code == 201
        frame = (data_dir / "brighton_beach" / "images" / "DJI_0018.JPG").read_bytes()
        r = client.put("/api/flights/duluth/files/DJI_0018.JPG", content=frame, headers=auth(PILOT))
        assert r.status_code == 201, r.text
        assert client.post("/api/flights/duluth/finish", headers=auth(PILOT)).status_code == 202
        job = _wait_job(client, "duluth", {"done", "failed", "waiting_approval"})
        assert job["status"] != "failed", job["error"]
    flight = load_flight(Workspace.at(settings.workspace).flight_json("duluth"))
    [capture] = flight.captures
    assert capture.time_utc == datetime(2016, 6, 23, 21, 31, 59, tzinfo=UTC)  # 16:31:59 CDT
    assert "America/Chicago" in capture.time_source
