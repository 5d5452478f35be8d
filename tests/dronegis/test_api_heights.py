"""``height_datum`` at flight creation (upload API) reaches ingest (stored) and process (used)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import rasterio
from fastapi.testclient import TestClient
from svc_helpers import GIS, PILOT, auth, standin_stages

from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.service import STAGE_FUNCTIONS
from dronegis.settings import Settings
from flights.ingest import load_flight
from pipeline.products import load_products
from tests.samples import ellipsoidal_copy

MALSTROEM = Path("dk_malstroem/tests/data/dtm.tif")


def _wait_done(client: TestClient, flight: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/flights/{flight}", headers=auth(GIS)).json()["job"]
        if job and job["status"] in {"done", "failed", "waiting_approval"}:
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job of {flight} never ended")


def test_declared_ellipsoidal_upload_becomes_dvr90(
    settings: Settings, data_dir: Path, tmp_path: Path
) -> None:
    grids = data_dir / "proj_grids"
    app = create_app(settings.model_copy(update={"proj_grids": grids, "max_upload_bytes": 50_000_000}))
    real = {name: STAGE_FUNCTIONS[name] for name in ("ingest", "process")}
    app.state.job_stages = {**standin_stages(), **real}
    delivered = ellipsoidal_copy(data_dir / MALSTROEM, tmp_path / "dtm.tif", grids)
    with TestClient(app) as client:
        bad = {"id": "hd", "height_datum": "egm96"}
        assert client.post("/api/flights", json=bad, headers=auth(PILOT)).status_code == 422
        body = {"id": "hd", "purpose": "survey", "height_datum": {"dtm": "ellipsoidal"}}
        assert client.post("/api/flights", json=body, headers=auth(PILOT)).status_code == 201
        r = client.put("/api/flights/hd/files/dtm.tif", content=delivered.read_bytes(), headers=auth(PILOT))
        assert r.status_code == 201, r.text
        assert client.post("/api/flights/hd/finish", headers=auth(PILOT)).status_code == 202
        job = _wait_done(client, "hd")
        assert job["status"] != "failed", job["error"]
    ws = Workspace.at(settings.workspace)
    assert load_flight(ws.flight_json("hd")).height_datum.dtm == "ellipsoidal"
    (dtm,) = load_products(ws, "hd")
    assert dtm.datum is not None and dtm.datum.source.value == "declaration"
    assert dtm.height_datum.value == "DVR90 (EPSG:5799)"
    with rasterio.open(ws.root / dtm.path) as ours, rasterio.open(data_dir / MALSTROEM) as ref:
        diff = np.abs(ours.read(1, masked=True).astype(float) - ref.read(1, masked=True).astype(float))
    assert float(diff.max()) < 0.01
