"""``dronegis vegetation`` and ``dronegis change``: outputs, JSON, legends, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import rasterio
from click.testing import CliRunner

from dronegis.cli.main import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline" / "change"))
from change_pairs import shifted  # noqa: E402  (the change tests' pair maker)

ODM_BR = "odm_br/odm_extra_gcp_br_ckeck.png"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_vegetation_writes_index_cogs_and_legends(data_dir: Path, tmp_path: Path) -> None:
    code, out, err = _run(
        "vegetation", str(data_dir / ODM_BR), "--crs", "EPSG:32722", "--index", "ExG", "--index", "GLI",
        "--captured", "2019-03-01T13:00:00", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert [p["index"] for p in payload["products"]] == ["ExG", "GLI"]
    assert payload["calibration"] == "uncalibrated" and payload["time_start"] == "2019-03-01T13:00:00Z"
    for index in ("ExG", "GLI"):
        legend = Path(payload["legends"][index])
        assert legend.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(payload["products"][0]["path"]) as src:
        assert src.tags()["DRONEGIS_TIME_START"] == "2019-03-01T13:00:00+00:00"
    assert "ExG" in err and "ukalibreret" in err


def test_vegetation_reports_a_multispectral_band_frame(data_dir: Path) -> None:
    frame = data_dir / "webodm_fixtures/app/fixtures/tiny_drone_image_multispec.tif"
    code, out, err = _run("vegetation", str(frame), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["frame"]["band_name"] == "Blue" and payload["frame"]["vendor"] == "micasense"
    assert payload["calibration"] == "irradiance" and 0 < payload["reflectance"]["median"] < 0.2


def test_vegetation_exit_codes(data_dir: Path, tmp_path: Path) -> None:
    photo = data_dir / "brighton_beach/images/DJI_0018.JPG"
    code, _, err = _run("vegetation", str(photo), "--out", str(tmp_path))
    assert code == 1 and "DJI_0018.JPG: no geotransform" in err
    code, _, err = _run("vegetation", str(data_dir / ODM_BR), "--crs", "EPSG:32722", "--index", "NDWI")
    assert code == 2 and "unknown vegetation index 'NDWI'" in err
    code, _, err = _run("vegetation", str(data_dir / ODM_BR), "--captured", "yesterday")
    assert code == 2 and "not an ISO 8601 time" in err


def test_change_on_a_shifted_copy(data_dir: Path, tmp_path: Path) -> None:
    after = shifted(data_dir / ODM_BR, tmp_path / "after.tif", 2.5, -1.5, plant=True)
    code, out, err = _run(
        "change", str(data_dir / ODM_BR), str(after), "--before-crs", "EPSG:32722", "--target-crs", "source",
        "--out", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert abs(payload["alignment"]["dx_px"] - 2.5) < 0.1 and abs(payload["alignment"]["dy_px"] + 1.5) < 0.1
    assert len(payload["areas"]) == 1 and payload["areas"][0]["sign"] == -1
    for key in ("change_map", "change_polygons", "summary_json", "report_html", "legend"):
        assert Path(payload[key]).exists(), key
    html = Path(payload["report_html"]).read_text(encoding="utf-8")
    assert html.index("Ændringsanalyse") < html.index("Change detection")
    assert "co-registration: translation" in err


def test_change_refusals_exit_1(data_dir: Path, tmp_path: Path) -> None:
    """Brazil against Minnesota: outside the target CRS's area, or (in WGS 84) no overlap."""
    other = str(data_dir / "webodm_fixtures/app/fixtures/orthophoto.tif")
    args = ("change", str(data_dir / ODM_BR), other, "--before-crs", "EPSG:32722", "--out", str(tmp_path))
    code, _, err = _run(*args, "--target-crs", "source")
    assert code == 1 and "orthophoto.tif: " in err and "outside the area of use of the target" in err
    code, _, err = _run(*args, "--target-crs", "EPSG:4326")
    assert code == 1 and "odm_extra_gcp_br_ckeck.png and orthophoto.tif do not overlap in EPSG:4326" in err
