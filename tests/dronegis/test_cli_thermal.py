"""``dronegis thermal``: one-off conversions, overrides, per-file errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.errors import NotGeoreferencedWarning

from dronegis.cli.main import cli


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["thermal", *args])
    return result.exit_code, result.stdout, result.stderr


def test_converts_flir_and_dji_with_overrides(data_dir: Path, tmp_path: Path) -> None:
    xt2 = data_dir / "thermal_parser/images/DJI_XT2.jpg"
    m3t = data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG"
    code, out, err = _run(
        str(xt2),
        str(m3t),
        "--emissivity",
        "0.9",
        "--distance",
        "20",
        "--humidity",
        "60",
        "--reflected-temp",
        "5",
        "--air-temp",
        "8",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True and len(report["files"]) == 2
    flir, dji = report["files"]
    assert flir["measurement"]["emissivity"] == 0.9 and flir["measurement"]["object_distance_m"] == 20.0
    assert flir["measurement"]["atmospheric_temp_c"] == 8.0
    assert flir["measurement"]["sources"]["relative_humidity_pct"] == "override"
    assert dji["measurement"]["object_distance_m"] == 20.0 and dji["measurement"]["reflected_temp_c"] == 5.0
    with pytest.warns(NotGeoreferencedWarning), rasterio.open(flir["output"]) as src:
        data = src.read(1)
        tags = src.tags()
    assert data.dtype == np.float32 and data.shape == (512, 640)
    assert float(np.nanmin(data)) == pytest.approx(flir["min_c"])
    assert "DRONEGIS_GPS_LAT" in tags and "DRONEGIS_GIMBAL_YAW" in tags  # XT2 has GPS and pose
    assert json.loads(tags["DRONEGIS_THERMAL_MEASUREMENT"])["emissivity"] == 0.9
    assert "DJI_XT2.jpg" in err


def test_failed_file_is_named_and_exit_is_1(data_dir: Path, tmp_path: Path) -> None:
    good = data_dir / "flirpy/test/test_data/frame_000000.fff"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe1\x00\x10FLIR\x00\x01\x01\x05" + b"\x00" * 6 + b"\xff\xd9")
    code, out, err = _run(str(good), str(bad), "--out", str(tmp_path / "o"), "--json")
    assert code == 1
    files = json.loads(out)["files"]
    assert files[0]["ok"] is True and files[1]["ok"] is False
    assert "broken.jpg" in files[1]["error"]
    assert "broken.jpg: FAILED" in err
    assert (tmp_path / "o" / "frame_000000_celsius.tif").exists()


def test_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    code, _, _ = _run(str(tmp_path / "x.jpg"), "--emissivity", "1.5")
    assert code == 2


def test_dji_without_the_extra_names_the_file_and_the_fix(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dji_thermal_cli", None)
    m3t = data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG"
    xtr = data_dir / "thermal_parser/images/DJI_XTR.jpg"  # FLIR inside: needs no extra
    code, out, _ = _run(str(m3t), str(xtr), "--out", str(tmp_path), "--json")
    assert code == 1
    dji, flir = json.loads(out)["files"]
    assert flir["ok"] is True
    assert "DJI_0001_R.JPG" in dji["error"] and "pip install 'dronegis[dji]'" in dji["error"]


def test_flight_mode_runs_the_thermal_stage(data_dir: Path, tmp_path: Path) -> None:
    import shutil
    from datetime import UTC, datetime

    from core.workspace import Workspace
    from flights.models import Capture, FileKind, Flight, Position

    ws = Workspace.at(tmp_path / "ws")
    dst = ws.archived_file("f1", "DJI_XTR.jpg")
    dst.parent.mkdir(parents=True)
    shutil.copy(data_dir / "thermal_parser/images/DJI_XTR.jpg", dst)
    capture = Capture(
        path="DJI_XTR.jpg", sha256="00" * 32, size=1, kind=FileKind.THERMAL_FRAME,
        position=Position(lat=56.0, lon=9.8, relative_altitude_m=25.0),
    )  # fmt: skip
    flight = Flight(id="f1", source="x", ingested_at=datetime(2026, 1, 1, tzinfo=UTC), captures=(capture,))
    ws.flight_json("f1").parent.mkdir(parents=True)
    ws.flight_json("f1").write_text(flight.model_dump_json())
    code, out, err = _run("--flight", "f1", "--workspace", str(ws.root), "--emissivity", "0.9", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["overrides"]["emissivity"] == 0.9 and list(report["written"]) == ["DJI_XTR.jpg"]
    frame = json.loads(ws.thermal_record("f1").read_text())["frames"]["DJI_XTR.jpg"]
    assert frame["object_distance_m"] == 25.0 and frame["emissivity"] == 0.9
    assert _run("--flight", "nope", "--workspace", str(ws.root))[0] == 2
    assert _run()[0] == 2
