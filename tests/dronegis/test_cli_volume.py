"""``dronegis volume``: options, the QA report's vertical accuracy, exit codes, JSON on stdout."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner, Result
from shapely.geometry import Point, box

from dronegis.cli.main import cli
from qa.models import CheckResult, QAReport

T = Affine(0.5, 0, 560_000, 0, -0.5, 6_215_050)


def invoke(*args: str, workspace: Path) -> Result:
    env = {"DRONEGIS_WORKSPACE": str(workspace)}
    return CliRunner().invoke(cli, ["volume", *args], env=env, catch_exceptions=False)


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """50 m of ground tilted 2 % with a cone (radius 8 m, height 2 m); two polygons, one off the DSM."""
    rows, cols = np.mgrid[0:100, 0:100] + 0.5
    x, y = T.c + T.a * cols, T.f + T.e * rows
    cone = 2.0 * np.clip(1 - np.hypot(x - 560_025, y - 6_215_025) / 8.0, 0, None)
    dsm = tmp_path / "products" / "f1" / "rasters" / "dsm.tif"
    dsm.parent.mkdir(parents=True)
    profile = {
        "driver": "GTiff",
        "width": 100,
        "height": 100,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": T,
        "nodata": -9999.0,
    }
    with rasterio.open(dsm, "w", **profile) as out:
        out.write((30 + 0.02 * (x - 560_000) + cone).astype(np.float32), 1)
    polygons = tmp_path / "piles.gpkg"
    gpd.GeoDataFrame(
        {"nr": ["A1", "X9"]},
        geometry=[Point(560_025, 6_215_025).buffer(10, 64), box(0, 0, 10, 10)],
        crs=25832,
    ).to_file(polygons)
    return dsm, polygons


def qa_report(path: Path, *checks: CheckResult) -> Path:
    report = QAReport(flight="f1", created=datetime(2026, 1, 1, tzinfo=UTC), status="pass", checks=checks)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(), encoding="utf-8")
    return path


def vertical_check(product: str, rmse: float, bias: float) -> CheckResult:
    figures = {
        "n": 12,
        "rmse_z": rmse,
        "mean_z": bias,
        "asprs_rmse_v": rmse,
        "std_z": math.sqrt(rmse**2 - bias**2),
    }
    return CheckResult(id=f"precision.{product}", title="v", status="pass", figures=figures)


def test_volume_json_exit_code_and_files(tmp_path: Path, site: tuple[Path, Path]) -> None:
    dsm, polygons = site
    out = tmp_path / "out"
    result = invoke(
        str(dsm),
        "--polygons",
        str(polygons),
        "--id-field",
        "nr",
        "--out",
        str(out),
        "--json",
        "--rmse-v",
        "0.05",
        "--bias-v",
        "0.03",
        workspace=tmp_path / "ws",
    )
    assert result.exit_code == 1  # X9 lies off the DSM
    payload = json.loads(result.stdout)
    found = {p["id"]: p for p in payload["polygons"]}
    assert found["A1"]["net_m3"] == pytest.approx(math.pi * 64 * 2 / 3, rel=0.01)
    assert found["X9"]["status"] == "failed" and "X9" in found["X9"]["problems"][0]
    assert payload["dsm_error"]["sigma_m"] == pytest.approx(0.04)
    assert {Path(p).name for p in payload["outputs"].values()} >= {
        "volumes.csv",
        "volumes.gpkg",
        "cutfill.tif",
    }


def test_accuracy_from_the_workspace_qa_report(tmp_path: Path, site: tuple[Path, Path]) -> None:
    dsm, polygons = site
    qa_report(tmp_path / "qa" / "f1" / "report.json", vertical_check("f1-dsm", 0.10, 0.06))
    result = invoke(
        str(dsm),
        "--polygons",
        str(polygons),
        "--json",
        "--no-raster",
        "--out",
        str(tmp_path / "o"),
        workspace=tmp_path,
    )
    error = json.loads(result.stdout)["dsm_error"]
    assert error["bias_m"] == pytest.approx(0.06) and error["sigma_m"] == pytest.approx(0.08)
    assert "check precision.f1-dsm" in error["source"] and error["points"] == 12


def test_several_vertical_checks_need_a_choice(tmp_path: Path, site: tuple[Path, Path]) -> None:
    dsm, polygons = site
    report = qa_report(tmp_path / "r.json", vertical_check("a", 0.1, 0.0), vertical_check("b", 0.2, 0.0))
    result = invoke(str(dsm), "--polygons", str(polygons), "--qa-report", str(report), workspace=tmp_path)
    assert result.exit_code == 2 and "precision.a, precision.b" in result.output
    chosen = invoke(
        str(dsm),
        "--polygons",
        str(polygons),
        "--qa-report",
        str(report),
        "--qa-check",
        "precision.b",
        "--json",
        "--no-raster",
        "--out",
        str(tmp_path / "o"),
        workspace=tmp_path,
    )
    assert json.loads(chosen.stdout)["dsm_error"]["sigma_m"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--base", "lowest", "--base-dem", "DSM"], "--base and --base-dem exclude each other"),
        (["--bias-v", "0.1"], "--bias-v needs --rmse-v"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, site: tuple[Path, Path], extra: list[str], message: str) -> None:
    dsm, polygons = site
    args = [str(dsm) if a == "DSM" else a for a in extra]
    result = invoke(str(dsm), "--polygons", str(polygons), *args, workspace=tmp_path)
    assert result.exit_code == 2 and message in result.output


def test_unusable_polygon_file_exits_1_naming_it(tmp_path: Path, site: tuple[Path, Path]) -> None:
    dsm, _ = site
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    result = invoke(str(dsm), "--polygons", str(broken), workspace=tmp_path)
    assert result.exit_code == 1 and "broken.geojson" in result.output
