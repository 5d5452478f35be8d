"""Heights through the CLI: ``ingest --height-datum`` stored with the flight, ``process``, ``qa``.

Real data: the Danish DTM of dk_malstroem (DVR90 heights) and the DVR90 grids.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from click.testing import CliRunner, Result

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.ingest import load_flight
from pipeline.products import load_products
from tests.samples import ellipsoidal_copy

MALSTROEM = Path("dk_malstroem/tests/data/dtm.tif")


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {"DRONEGIS_PROJ_GRIDS": str(data_dir / "proj_grids"), "DRONEGIS_WORKSPACE": str(tmp_path / "ws")}


def checkpoints(dvr90: Path, out: Path, count: int = 20) -> Path:
    """Check points (CSV, WGS 84) at pixel centres of the DVR90 DTM, z = its DVR90 height."""
    with rasterio.open(dvr90) as ds:
        heights, transform = ds.read(1), ds.transform
    to_wgs84 = pyproj.Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    rng = np.random.default_rng(1)
    lines = ["name,lat,lon,elevation"]
    for i in range(count):
        row, col = int(rng.integers(5, heights.shape[0] - 5)), int(rng.integers(5, heights.shape[1] - 5))
        lon, lat = to_wgs84.transform(*(transform * (col + 0.5, row + 0.5)))
        lines.append(f"CHK{i + 1:02d},{lat:.10f},{lon:.10f},{heights[row, col]:.4f}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def qa_report(ws: Path, flight: str) -> dict[str, dict[str, object]]:
    doc = json.loads((ws / "qa" / flight / "report.json").read_text(encoding="utf-8"))
    return {c["id"]: c for c in doc["checks"]}


def test_declared_ellipsoidal_dtm_becomes_the_dvr90_dtm(
    env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "levering"
    folder.mkdir()
    ellipsoidal_copy(data_dir / MALSTROEM, folder / "dtm.tif", data_dir / "proj_grids")
    ingest = run(env, "ingest", str(folder), "--flight-id", "h1", "--height-datum", "dtm=ellipsoidal")
    assert "heights:  dtm.tif: DVR90 (EPSG:5799) (source declaration, N = 36.09 m)" in ingest.stdout
    ws = Workspace.at(tmp_path / "ws")
    assert load_flight(ws.flight_json("h1")).height_datum.dtm == "ellipsoidal"
    again = run(env, "ingest", str(folder), "--flight-id", "h1", "--json")  # no option: the declaration stays
    assert json.loads(again.stdout)["heights"][0]["source"] == "declaration"
    assert load_flight(ws.flight_json("h1")).height_datum.dtm == "ellipsoidal"
    process = run(env, "process", "h1")
    assert process.exit_code == 0 and "DVR90 (EPSG:5799) (source declaration, N = 36.09 m)" in process.stdout
    (dtm,) = load_products(ws, "h1")
    with rasterio.open(ws.root / dtm.path) as ours, rasterio.open(data_dir / MALSTROEM) as ref:
        diff = np.abs(ours.read(1, masked=True).astype(float) - ref.read(1, masked=True).astype(float))
        assert ours.crs.to_epsg() == 7416 and float(diff.max()) < 0.01
    run(env, "qa", "h1", "--checkpoints", str(checkpoints(data_dir / MALSTROEM, tmp_path / "chk.csv")))
    checks = qa_report(ws.root, "h1")
    datum = checks[f"datum.{dtm.id}"]
    assert datum["status"] == "pass"
    figures = datum["figures"]
    assert isinstance(figures, dict) and figures["source"] == "declaration"
    assert figures["decision"] == "DVR90 (EPSG:5799)" and figures["geoid_n_m"] == pytest.approx(
        36.0915, abs=1e-3
    )
    vertical = checks[f"precision.{dtm.id}"]["figures"]
    assert isinstance(vertical, dict) and vertical["tolerance_v_m"] == 1.0 and vertical["rmse_z"] < 0.01
    page = (ws.root / "qa" / "h1" / "report.html").read_text(encoding="utf-8")
    assert f"datum.{dtm.id}" in page and "source=declaration" in page and "geoid_n_m=36.09" in page


def test_dsm_declared_ellipsoidal_below_the_geoid_warns(
    env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    """Bad input: DVR90 heights declared ellipsoidal; ingest, process and QA name the file."""
    folder = tmp_path / "levering"
    folder.mkdir()
    shutil.copyfile(data_dir / MALSTROEM, folder / "dsm.tif")
    ingest = run(env, "ingest", str(folder), "--flight-id", "b1", "--height-datum", "ellipsoidal")
    warning = "archive/b1/dsm.tif: 84% af højderne ligger under DVR90-geoiden N − 5 m (N = 36.09 m)"
    assert "heights:  dsm.tif: unknown (source declaration" in ingest.stdout
    assert "warn  height_datum: " in ingest.stdout and warning in ingest.stdout
    assert "cannot be ellipsoidal as the declaration says" in ingest.stdout
    process = run(env, "process", "b1")
    assert warning in process.stdout
    (dsm,) = load_products(Workspace.at(tmp_path / "ws"), "b1")
    assert dsm.height_datum.value == "unknown"
    run(env, "qa", "b1")
    datum = qa_report(tmp_path / "ws", "b1")[f"datum.{dsm.id}"]
    assert datum["status"] == "warn" and warning in str(datum["message"])


def test_undeclared_ellipsoidal_dtm_fails_the_vertical_check(
    env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    """Ellipsoidal heights nobody declared stay unknown and unconverted; QA's 1 m tolerance catches N."""
    folder = tmp_path / "levering"
    folder.mkdir()
    ellipsoidal_copy(data_dir / MALSTROEM, folder / "dtm.tif", data_dir / "proj_grids")
    run(env, "ingest", str(folder), "--flight-id", "u1")
    run(env, "process", "u1")
    run(env, "qa", "u1", "--checkpoints", str(checkpoints(data_dir / MALSTROEM, tmp_path / "chk.csv")))
    (dtm,) = load_products(Workspace.at(tmp_path / "ws"), "u1")
    checks = qa_report(tmp_path / "ws", "u1")
    assert checks[f"datum.{dtm.id}"]["status"] == "warn"
    vertical = checks[f"precision.{dtm.id}"]
    assert vertical["status"] == "fail"
    figures = vertical["figures"]
    assert isinstance(figures, dict) and 36.0 < figures["mean_z"] < 36.2 and figures["tolerance_v_m"] == 1.0


def test_bad_height_datum_option(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path), "--height-datum", "dsm=egm96"], env=env)
    assert result.exit_code == 2 and "'dsm=egm96': expected DATUM or KIND=DATUM" in result.output
