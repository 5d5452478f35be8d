"""`dronegis demo`: sample flight → every stage through the job runner → served viewer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from click.testing import CliRunner
from svc_helpers import REPO, free_port

from dronegis.cli.main import cli

pytestmark = pytest.mark.slow


def _demo(*args: str, workspace: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRONEGIS_WORKSPACE": str(workspace)}
    env.pop("DRONEGIS_TOKENS", None)
    return subprocess.run(
        [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", "demo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_demo_runs_every_stage(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = _demo("--no-serve", "--json", workspace=ws)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert list(doc["steps"]) == ["sample", "ingest", "pipeline"]
    pipeline = doc["steps"]["pipeline"]
    assert pipeline["status"] == "done" and pipeline["qa_status"] in ("pass", "warn", "fail")
    assert pipeline["products"] and pipeline["layers"]
    assert (ws / "qa" / doc["flight"] / "report.html").is_file()
    assert (ws / "publish" / "layers.json").is_file()
    # the sample's synthetic footprints: buildings ranked over its thermal frame, published with cards
    flight = doc["flight"]
    assert {f"{flight}-buildings", f"{flight}-hot-spots"} <= set(pipeline["products"])
    buildings = gpd.read_file(ws / "publish" / "layers" / f"{flight}-buildings" / "features.gpkg")
    first = buildings.sort_values("rank").iloc[0]
    assert (first["id"], first["heat_class"]) == ("demo-1", "E")  # the warm roof of the thermal frame
    assert (ws / "publish" / "layers" / f"{flight}-buildings" / first["card"]).is_file()
    spots = gpd.read_file(ws / "publish" / "layers" / f"{flight}-hot-spots" / "features.gpkg")
    assert list(spots["building_id"]) == ["demo-7"]  # its edge on the warm roof
    again = _demo("--no-serve", "--json", workspace=ws)  # rerunnable on the same workspace
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["steps"]["pipeline"]["layers"] == pipeline["layers"]


def test_demo_help_names_the_options() -> None:
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    for option in ("--no-serve", "--scheduler", "--port", "--workspace", "--json"):
        assert option in result.output


@pytest.mark.network
def test_demo_serves_the_viewer(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DRONEGIS_WORKSPACE": str(tmp_path / "ws")}
    env.pop("DRONEGIS_TOKENS", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", "demo", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 600
        assert proc.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("map viewer:"):
                url = line.split(":", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}/viewer"
        for _ in range(100):
            try:
                page = httpx.get(url, timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert page.status_code == 200 and "/static/ol/ol.js" in page.text
        layers = httpx.get(f"http://127.0.0.1:{port}/layers", timeout=10).json()
        assert layers and all(layer["access"] == "public" for layer in layers)
    finally:
        proc.terminate()
        proc.wait(30)
