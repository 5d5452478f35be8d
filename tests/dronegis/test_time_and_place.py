"""Time and place through the front doors: CLI ingest → process → qa → freshness → publish, the upload API
and the service's job runner. Dates are shown in Europe/Copenhagen; Duluth frames are flagged and held.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from svc_helpers import PILOT, auth

from core.workspace import Workspace
from dronegis.cli.main import cli
from dronegis.settings import Settings

DULUTH = ("DJI_0018.JPG", "DJI_0019.JPG")
NOW = "2025-10-01T12:00:00+00:00"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _ortho(folder: Path, tags: dict[str, str] | None = None) -> Path:
    """An ODM-like delivery: odm_orthophoto/odm_orthophoto.tif near Skanderborg (EPSG:25832)."""
    path = folder / "odm_orthophoto" / "odm_orthophoto.tif"
    path.parent.mkdir(parents=True)
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8", crs="EPSG:25832",
        transform=from_origin(557900, 6212000, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write((np.random.default_rng(5).random((3, 64, 64)) * 255).astype("uint8"))
        if tags:
            dst.update_tags(**tags)
    return folder


def _stac(ws: Path, layer: str) -> dict[str, object]:
    item = ws / "publish" / "stac" / "orthophoto" / layer / f"{layer}.json"
    props: dict[str, object] = json.loads(item.read_text())["properties"]
    return props


def test_undated_orthophoto_unknown_refused_then_declared(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    folder = _ortho(tmp_path / "undated")
    assert invoke("ingest", str(folder), "-w", str(ws), "--flight-id", "u").exit_code == 0
    assert invoke("process", "u", "-w", str(ws)).exit_code == 0
    product = "u-orthophoto-odm_orthophoto"
    qa = invoke("qa", "u", "-w", str(ws), "--now", NOW, "--json")
    fresh = next(c for c in json.loads(qa.stdout)["checks"] if c["id"] == f"freshness.{product}")
    assert fresh["status"] == "warn" and "capture date unknown" in fresh["message"]  # warns, never skips
    listing = invoke("freshness", "-w", str(ws), "--now", NOW)
    line = next(x for x in listing.stdout.splitlines() if product in x)
    assert line.startswith("unknown") and "captured unknown" in line and "never" not in line
    refused = invoke("publish", "u", "-w", str(ws), "--no-pyramids")
    assert refused.exit_code == 1 and product in refused.stderr and "capture date unknown" in refused.stderr
    # declared at a re-ingest (date and time, Copenhagen): the product and STAC take it
    assert (
        invoke(
            "ingest", str(folder), "-w", str(ws), "--flight-id", "u", "--captured", "2025-06-12T10:30"
        ).exit_code
        == 0
    )
    assert invoke("process", "u", "-w", str(ws)).exit_code == 0
    assert invoke("publish", "u", "-w", str(ws), "--no-pyramids").exit_code == 0
    props = _stac(ws, product)
    assert props["datetime"] == "2025-06-12T08:30:00Z"  # 10:30 CEST
    assert props["dronegis:capture_time_source"] == "declared: --captured 2025-06-12T10:30"
    listing = invoke("freshness", "-w", str(ws), "--now", NOW)
    assert any(x.startswith("fresh") and "captured 2025-06-12" in x for x in listing.stdout.splitlines())


def test_dated_orthophoto_and_the_override(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    odm = {"TIFFTAG_DATETIME": "2025:01:14 23:30:00+00:00", "TIFFTAG_SOFTWARE": "ODM 3.5.5"}
    invoke("ingest", str(_ortho(tmp_path / "dated", odm)), "-w", str(ws), "--flight-id", "d")
    invoke("ingest", str(_ortho(tmp_path / "undated")), "-w", str(ws), "--flight-id", "u")
    for flight in ("d", "u"):
        assert invoke("process", flight, "-w", str(ws)).exit_code == 0
    listing = invoke("freshness", "-w", str(ws), "--now", NOW).stdout
    assert "captured 2025-01-15" in listing  # 23:30 UTC on 14 January is 00:30 on the 15th in Copenhagen
    assert invoke("publish", "d", "-w", str(ws), "--no-pyramids").exit_code == 0
    assert _stac(ws, "d-orthophoto-odm_orthophoto")["datetime"] == "2025-01-14T23:30:00Z"
    reason = "historic mosaic, flight log lost"
    assert invoke("publish", "u", "-w", str(ws), "--no-pyramids", "--allow-undated", reason).exit_code == 0
    props = _stac(ws, "u-orthophoto-odm_orthophoto")
    assert props["datetime"] is None and props["start_datetime"] == "1970-01-01T00:00:00Z"
    assert props["dronegis:capture_date"] == "unknown" and props["dronegis:overrides"] == {"undated": reason}


@pytest.fixture
def duluth(tmp_path: Path, data_dir: Path) -> Path:
    folder = tmp_path / "duluth"
    folder.mkdir()
    for name in DULUTH:
        shutil.copy(data_dir / "brighton_beach" / "images" / name, folder / name)
    return folder


def test_duluth_flagged_refused_and_published_only_with_a_reason(duluth: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    args = (
        "-w",
        str(ws),
        "--flight-id",
        "duluth",
        "--purpose",
        "survey",
        "--camera-timezone",
        "America/Chicago",
    )
    ingest = invoke("ingest", str(duluth), *args)
    assert "outside_municipality" in ingest.stdout and "2 of 2 frames" in ingest.stdout
    assert "time:     2016-06-23 23:31:59 – 23:32:06 CEST" in ingest.stdout  # 16:31 CDT, shown in Copenhagen
    refused = invoke("process", "duluth", "-w", str(ws))  # default target: EPSG:25832
    assert (
        refused.exit_code == 1
        and "outside the area of use" in refused.stderr
        and "EPSG:32615" in refused.stderr
    )
    assert invoke("process", "duluth", "-w", str(ws), "--target-crs", "EPSG:32615").exit_code == 0
    qa = json.loads(invoke("qa", "duluth", "-w", str(ws), "--json").stdout)
    outside = next(c for c in qa["checks"] if c["id"] == "coverage.outside_municipality")
    assert outside["status"] == "fail" and sorted(outside["figures"]["entirely_outside"]) == list(DULUTH)
    no = invoke("publish", "duluth", "-w", str(ws), "--no-pyramids")
    assert (
        no.exit_code == 1 and "duluth-frame-DJI_0018" in no.stderr and "outside the municipality" in no.stderr
    )
    assert not (ws / "publish" / "layers.json").exists()
    reason = "test flight abroad"
    yes = invoke(
        "publish", "duluth", "-w", str(ws), "--no-pyramids", "--allow-outside-area", reason, "--json"
    )
    assert yes.exit_code == 0 and all(
        layer["overrides"] == {"outside_area": reason} for layer in json.loads(yes.stdout)
    )


@pytest.mark.slow
def test_service_holds_duluth_for_approval(duluth: Path, tmp_path: Path) -> None:
    """The real stages through the job runner: QA (given the boundary) flags it; no auto-publication."""
    from dronegis.catalog import JobStatus
    from dronegis.service import build_runner
    from qa.report import read_report

    settings = Settings(workspace=tmp_path / "ws")
    runner = build_runner(settings, options={"target_crs": "EPSG:32615", "pyramids": False, "now": NOW})
    try:
        runner.submit("duluth", purpose="survey", source=duluth)
        job = runner.run_pending()[-1]
        assert job.status is JobStatus.WAITING_APPROVAL and job.qa_status == "fail"
        assert runner.catalog.layers("duluth") == []
        report = read_report(Workspace.at(settings.workspace).qa_report_json("duluth"))
        assert report.check("coverage.outside_municipality").status == "fail"
        runner.approve("duluth", by="gis", reason="research flight, approved for the archive")
        job = runner.run_pending()[-1]
        assert job.status is JobStatus.DONE, job.error
        layers = runner.catalog.layers("duluth")
        assert layers and all(
            layer["overrides"] == {"outside_area": "research flight, approved for the archive"}
            for layer in layers
        )
    finally:
        runner.executor.close()


def test_upload_api_captured_field(settings: Settings, tmp_path: Path) -> None:
    """``captured`` at flight creation: checked (422 names the value), then dates the delivery at ingest."""
    from svc_helpers import standin_stages

    from dronegis.api.app import create_app
    from dronegis.service import STAGE_FUNCTIONS
    from flights.ingest import load_flight

    app = create_app(settings)
    app.state.job_stages = {**standin_stages(), "ingest": STAGE_FUNCTIONS["ingest"]}
    folder = _ortho(tmp_path / "delivery")
    with TestClient(app) as client:
        for bad, why in (("12/06/2025", "neither a date"), ("2999-01-01", "future")):
            r = client.post("/api/flights", json={"id": "up", "captured": bad}, headers=auth(PILOT))
            assert r.status_code == 422 and bad in r.text and why in r.text
        r = client.post("/api/flights", json={"id": "up", "captured": "2025-06-12"}, headers=auth(PILOT))
        assert r.status_code == 201, r.text
        tif = (folder / "odm_orthophoto" / "odm_orthophoto.tif").read_bytes()
        assert (
            client.put(
                "/api/flights/up/files/odm_orthophoto.tif", content=tif, headers=auth(PILOT)
            ).status_code
            == 201
        )
        assert client.post("/api/flights/up/finish", headers=auth(PILOT)).status_code == 202
        for _ in range(600):
            job = client.get("/api/flights/up", headers=auth(PILOT)).json()["job"]
            if job["status"] in ("done", "failed", "waiting_approval"):
                break
            import time

            time.sleep(0.05)
        assert job["status"] != "failed", job["error"]
    flight = load_flight(Workspace.at(settings.workspace).flight_json("up"))
    assert flight.captured is not None and flight.captured.text == "2025-06-12"
    assert [p.code for f in flight.files for p in f.problems] == []  # dated by the declaration: no warning


def test_municipality_overridden_in_settings(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An orthophoto in central Copenhagen: outside the default (Skanderborg), inside KOMKODE 0101 if set."""
    folder = tmp_path / "kbh" / "odm_orthophoto"
    folder.mkdir(parents=True)
    with rasterio.open(
        folder / "odm_orthophoto.tif", "w", driver="GTiff", width=32, height=32, count=3, dtype="uint8",
        crs="EPSG:25832", transform=from_origin(724000, 6175100, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write(np.full((3, 32, 32), 80, dtype="uint8"))
    args = ("ingest", str(folder.parent), "--json", "--captured", "2025-06-12")
    default = json.loads(invoke(*args, "-w", str(tmp_path / "a"), "--flight-id", "a").stdout)
    assert default["problem_counts"].get("outside_municipality") == 2  # the raster and the flight
    monkeypatch.setenv(
        "DRONEGIS_MUNICIPALITY", str(data_dir / "dagi_neogeografen" / "geojson" / "kommuner.geojson")
    )
    monkeypatch.setenv("DRONEGIS_MUNICIPALITY_CODE", "0101")  # Københavns Kommune
    there = json.loads(invoke(*args, "-w", str(tmp_path / "b"), "--flight-id", "b").stdout)
    assert "outside_municipality" not in there["problem_counts"]
