"""The thermal stage: per-flight overrides stored, every thermal frame written, failures reported."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from flights.models import Attitude, Capture, FileKind, Flight, Position
from pipeline.thermal import ThermalOverrides
from pipeline.thermal_stage import load_overrides, thermal_stage
from pipeline.workspace import Workspace

FILES = {
    "ir/DJI_XT2.jpg": "thermal_parser/images/DJI_XT2.jpg",
    "ir/M3T_0001_R.JPG": "thermal_parser/images/M3T/DJI_0001_R.JPG",
}


def _flight(data_dir: Path, ws: Workspace) -> Flight:
    captures = []
    for rel, src in FILES.items():
        dst = ws.archived_file("f1", rel)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / src, dst)
        captures.append(_capture(rel, 18.0))
    broken = ws.archived_file("f1", "ir/broken.jpg")
    broken.write_bytes(b"\xff\xd8\xff\xd9")
    captures.append(_capture("ir/broken.jpg", 18.0))
    captures.append(Capture(path="rgb.jpg", sha256="11" * 32, size=1, kind=FileKind.RGB_FRAME))
    return Flight(
        id="f1", source=str(data_dir), ingested_at=datetime(2026, 1, 1, tzinfo=UTC), captures=tuple(captures)
    )


def _capture(rel: str, height: float) -> Capture:
    return Capture(
        path=rel, sha256="00" * 32, size=1, kind=FileKind.THERMAL_FRAME,
        position=Position(lat=56.0, lon=9.8, relative_altitude_m=height),
        attitude=Attitude(gimbal_pitch=-90.0),
    )  # fmt: skip


def test_stage_writes_frames_and_records_parameters(data_dir: Path, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    flight = _flight(data_dir, ws)
    result = thermal_stage(ws, flight, ThermalOverrides(emissivity=0.96, relative_humidity_pct=70.0))
    assert set(result.written) == set(FILES)
    assert "ir/broken.jpg" in result.failed and "broken.jpg" in result.failed["ir/broken.jpg"]
    record = json.loads(ws.thermal_record("f1").read_text())
    assert record["overrides"]["emissivity"] == 0.96
    flir = record["frames"]["ir/DJI_XT2.jpg"]
    assert flir["emissivity"] == 0.96 and flir["object_distance_m"] == 18.0
    assert flir["sources"]["object_distance_m"] == "frame" and flir["sources"]["emissivity"] == "override"
    dji = record["frames"]["ir/M3T_0001_R.JPG"]
    assert dji["emissivity"] == 0.96 and dji["distance"] == 18.0 and dji["humidity"] == 70.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(ws.thermal_frame("f1", "ir/DJI_XT2.jpg")) as src:
            first = src.read(1)
            assert json.loads(src.tags()["DRONEGIS_THERMAL_MEASUREMENT"])["emissivity"] == 0.96
    assert load_overrides(ws, "f1") == result.overrides

    again = thermal_stage(ws, flight)  # stored overrides are reused
    assert again.overrides.emissivity == 0.96
    thermal_stage(ws, flight, ThermalOverrides(emissivity=0.7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(ws.thermal_frame("f1", "ir/DJI_XT2.jpg")) as src:
            assert float(np.mean(src.read(1))) > float(np.mean(first))  # rewritten with the new emissivity
