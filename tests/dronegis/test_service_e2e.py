"""The running product over HTTP on 127.0.0.1: uploads → jobs → WMS/WMTS, a SIGKILL in the middle, Dask.

brighton_beach is uploaded as a subset of its frames (3 of 18) to keep the run short.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from service_flow import (
    BRIGHTON,
    THERMAL,
    create,
    finish,
    interrupted_put,
    odm_br_delivery,
    product_hashes,
    resume_put,
    upload_multipart,
    upload_zip,
    wait,
)
from svc_helpers import GIS, VIEWER, Service, auth

from dronegis.catalog import JobStatus

pytestmark = [pytest.mark.network, pytest.mark.slow]
UTM15 = "EPSG:32615"  # brighton_beach lies near Duluth, MN: far outside EPSG:25832's area of use


@pytest.fixture(scope="module")
def uploaded(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three flights uploaded three ways into one running service; yields the service and the jobs."""
    root = tmp_path_factory.mktemp("e2e") / "ws"
    with (
        Service(root, root.parent / "service.log") as svc,
        httpx.Client(base_url=svc.url, timeout=60) as client,
    ):
        images = data_dir / "brighton_beach" / "images"
        create(client, "brighton", "survey", target_crs=UTM15)  # Duluth, MN: refused in EPSG:25832
        upload_multipart(client, "brighton", [images / n for n in BRIGHTON[1:]], prefix="images/")
        interrupted_put(svc.url, "brighton", images / BRIGHTON[0], cut=1_500_000, upload_id="e2e-resume-0001")
        resumed_at = resume_put(client, "brighton", images / BRIGHTON[0], "e2e-resume-0001", chunk=1 << 20)
        create(client, "thermal", "building-inspection", target_crs="EPSG:32643")  # XT2: Kochi, India
        upload_multipart(client, "thermal", [data_dir / "thermal_parser" / "images" / n for n in THERMAL])
        create(client, "odm-br", "survey", target_crs="EPSG:32722")  # Brazil: far outside EPSG:25832
        delivery = root.parent / "odm-br-delivery"
        zipped = upload_zip(client, "odm-br", odm_br_delivery(data_dir, delivery), delivery)
        jobs = {flight: finish(client, flight) for flight in ("brighton", "thermal", "odm-br")}
        finished = {flight: wait(client, flight) for flight in jobs}
        yield {
            "service": svc,
            "client": client,
            "jobs": finished,
            "resumed_at": resumed_at,
            "zipped": zipped,
            "root": root,
        }


def test_uploads_arrived_whole(uploaded: dict[str, Any], data_dir: Path) -> None:
    assert 0 < uploaded["resumed_at"] <= 1_500_000  # resumed from the stored offset, not from zero
    stored = uploaded["root"] / "uploads" / "brighton" / "files" / BRIGHTON[0]
    assert stored.read_bytes() == (data_dir / "brighton_beach" / "images" / BRIGHTON[0]).read_bytes()
    assert sorted(uploaded["zipped"]) == ["gcp_list.txt", "odm_orthophoto/odm_orthophoto.tif"]


def test_jobs_finish(uploaded: dict[str, Any]) -> None:
    for flight, job in uploaded["jobs"].items():
        assert job["status"] == "done", (flight, job["error"])
        assert job["stage"] == "publish"
    thermal = uploaded["jobs"]["thermal"]
    assert thermal["approved_by"] == "gustav"  # building inspection always waits for the GIS team
    # outside Skanderborg (Duluth; Brazil, undated too): QA flags them, so they waited for the GIS team
    assert all(uploaded["jobs"][flight]["approved_by"] == "gustav" for flight in ("brighton", "odm-br"))


def test_layers_in_capabilities_and_owslib_map(uploaded: dict[str, Any]) -> None:
    from owslib.wms import WebMapService
    from owslib.wmts import WebMapTileService

    svc: Service = uploaded["service"]
    listed = httpx.get(f"{svc.url}/layers", params={"token": GIS}).json()
    anonymous = httpx.get(f"{svc.url}/layers").json()  # single frames are internal by default (issue 16)
    assert anonymous and not [layer for layer in anonymous if layer["kind"] in ("rgb_frame", "thermal_frame")]
    by_flight = {
        flight: [layer for layer in listed if layer["flight"] == flight] for flight in uploaded["jobs"]
    }
    assert all(by_flight.values()), by_flight
    wms = WebMapService(f"{svc.url}/wms?token={GIS}", version="1.3.0")
    wmts = WebMapTileService(f"{svc.url}/wmts/1.0.0/WMTSCapabilities.xml?token={GIS}")
    for layers in by_flight.values():
        for layer in layers:
            assert layer["id"] in wms.contents and layer["id"] in wmts.contents
    ortho = by_flight["odm-br"][0]
    bbox = wms.contents[ortho["id"]].boundingBox  # (minx, miny, maxx, maxy, crs)
    assert bbox is not None
    img = wms.getmap(
        layers=[ortho["id"]],
        srs="CRS:84",
        bbox=tuple(ortho["bounds_wgs84"]),
        size=(256, 256),
        format="image/png",
        transparent=True,
    )
    pixels = np.asarray(Image.open(io.BytesIO(img.read())))
    assert pixels.shape[:2] == (256, 256) and pixels[..., :3].std() > 5  # a picture, not a blank
    thermal = next(layer for layer in by_flight["thermal"] if layer["kind"] == "thermal_mosaic")
    w, s, e, n = thermal["bounds_wgs84"]
    info = httpx.get(
        f"{svc.url}/wms",
        params={
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetFeatureInfo",
            "LAYERS": thermal["id"],
            "QUERY_LAYERS": thermal["id"],
            "CRS": "CRS:84",
            "BBOX": f"{w},{s},{e},{n}",
            "WIDTH": 101,
            "HEIGHT": 101,
            "I": 50,
            "J": 50,
            "INFO_FORMAT": "application/json",
            "STYLES": "",
        },
    ).json()
    props = info["features"][0]["properties"]
    assert props["unit"] == "°C" and -40 < props["temperature_c"] < 150


def test_status_pages_and_qa_reports(uploaded: dict[str, Any]) -> None:
    client: httpx.Client = uploaded["client"]
    for flight in uploaded["jobs"]:
        page = client.get(f"/flights/{flight}", params={"token": VIEWER})
        assert page.status_code == 200 and "done" in page.text
        report = client.get(f"/flights/{flight}/qa", headers=auth(VIEWER))
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")


def test_sigkill_during_a_job_resumes_with_identical_products(data_dir: Path, tmp_path: Path) -> None:
    """Kill -9 the service mid-job; a restarted service completes it; products equal a clean run."""
    images = data_dir / "brighton_beach" / "images"
    frames = [images / n for n in BRIGHTON[:2]]
    killed_root, clean_root = tmp_path / "killed" / "ws", tmp_path / "clean" / "ws"
    svc = Service(killed_root, tmp_path / "killed.log").start()
    try:
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            create(client, "kill9", "survey", target_crs=UTM15)
            upload_multipart(client, "kill9", frames)
            finish(client, "kill9")
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                job = client.get("/api/flights/kill9", headers=auth(GIS)).json()["job"]
                if job["status"] == "running" and job["stage"] != "ingest":
                    break
                assert job["status"] in ("queued", "running"), job
                time.sleep(0.05)
        svc.kill()
        killed_in = job["stage"]
    finally:
        svc.stop()
    restarted = Service(killed_root, tmp_path / "restarted.log").start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=60) as client:
            job = wait(client, "kill9")
    finally:
        restarted.stop()
    assert job["status"] == "done", job["error"]
    approvals = 1 if job["approved_by"] else 0  # an approval queues the job once more
    assert job["attempts"] == 2 + approvals, f"killed in {killed_in}, resumed once"
    clean = Service(clean_root, tmp_path / "clean.log").start()
    try:
        with httpx.Client(base_url=clean.url, timeout=60) as client:
            create(client, "kill9", "survey", target_crs=UTM15)
            upload_multipart(client, "kill9", frames)
            finish(client, "kill9")
            clean_job = wait(client, "kill9")
            assert clean_job["attempts"] == 1 + (1 if clean_job["approved_by"] else 0)
    finally:
        clean.stop()
    killed_hashes = product_hashes(killed_root, "kill9")
    assert killed_hashes and killed_hashes == product_hashes(clean_root, "kill9")


def test_local_and_dask_runs_give_identical_products(data_dir: Path, tmp_path: Path) -> None:
    """The real stages through the job runner: local process pool vs a dask.distributed LocalCluster."""
    distributed = pytest.importorskip("distributed")
    from core.workspace import Workspace
    from dronegis.jobs import JobRunner
    from dronegis.service import STAGE_FUNCTIONS
    from pipeline.executors import DaskExecutor, LocalExecutor

    source = tmp_path / "delivery"
    source.mkdir()
    for name in BRIGHTON[:2]:
        shutil.copy(data_dir / "brighton_beach" / "images" / name, source / name)
    options = {"access": "public", "pyramids": False, "now": "2026-11-28T12:00:00+00:00", "target_crs": UTM15}
    roots = {"local": tmp_path / "local" / "ws", "dask": tmp_path / "dask" / "ws"}
    cluster = distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    try:
        for name, executor in (
            ("local", LocalExecutor(2)),
            ("dask", DaskExecutor(cluster.scheduler_address)),
        ):
            runner = JobRunner(Workspace.at(roots[name]), STAGE_FUNCTIONS, executor=executor, options=options)
            try:
                runner.submit("brighton", purpose="survey", source=source)
                job = runner.run_pending()[-1]
                if job.status is JobStatus.WAITING_APPROVAL:
                    runner.approve("brighton", by="test", reason="dask comparison")
                    job = runner.run_pending()[-1]
            finally:
                executor.close()
            assert job.status is JobStatus.DONE, job.error
    finally:
        cluster.close()
    local = product_hashes(roots["local"], "brighton")
    assert local and local == product_hashes(roots["dask"], "brighton")
