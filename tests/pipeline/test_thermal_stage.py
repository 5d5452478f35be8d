"""The thermal stage: per-flight overrides stored, every thermal frame written, failures reported."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from core.workspace import Workspace
from flights.models import Attitude, Capture, FileKind, Flight, Position
from pipeline.executors import ThreadExecutor
from pipeline.models import ThermalOverrides, ThermalValue
from pipeline.thermal.parameters import merge_thermal, product_thermal, used_parameters
from pipeline.thermal.stage import load_overrides, thermal_stage

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
    assert dji["emissivity"] == 0.96 and dji["object_distance_m"] == 18.0
    assert dji["relative_humidity_pct"] == 70.0 and dji["sources"]["object_distance_m"] == "frame"
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


def test_frames_on_threads_equal_frames_one_at_a_time(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # the default: one thread per CPU
    rasters = {}
    for name, executor in (("threads", None), ("one", ThreadExecutor(1))):
        ws = Workspace.at(tmp_path / name)
        overrides = ThermalOverrides(emissivity=0.93)
        result = thermal_stage(ws, _flight(data_dir, ws), overrides, executor=executor)
        assert set(result.written) == set(FILES) and set(result.failed) == {"ir/broken.jpg"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            for rel in FILES:
                with rasterio.open(ws.thermal_frame("f1", rel)) as src:
                    rasters.setdefault(rel, []).append((src.read(1).tobytes(), src.tags()))
        rasters.setdefault("record", []).append(json.loads(ws.thermal_record("f1").read_text())["frames"])
    assert all(a == b for a, b in rasters.values())


def test_reuse_keeps_unchanged_frames_and_redoes_changed_ones(data_dir: Path, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    flight = _flight(data_dir, ws)
    overrides = ThermalOverrides(emissivity=0.9)
    first = thermal_stage(ws, flight, overrides)
    assert first.reused == () and set(first.signatures) == set(FILES)
    raster = ws.thermal_frame("f1", "ir/DJI_XT2.jpg")
    stamp = raster.stat().st_mtime_ns
    kept = thermal_stage(ws, flight, reuse=True)
    assert set(kept.reused) == set(FILES) and raster.stat().st_mtime_ns == stamp
    assert kept.measurements == first.measurements and kept.signatures == first.signatures
    assert "ir/broken.jpg" in kept.failed  # failures are retried, not remembered as done
    assert thermal_stage(ws, flight, overrides).reused == ()  # without reuse: always rewritten
    stamp = raster.stat().st_mtime_ns
    changed = thermal_stage(ws, flight, ThermalOverrides(emissivity=0.8), reuse=True)
    assert changed.reused == () and raster.stat().st_mtime_ns != stamp
    assert changed.signatures["ir/DJI_XT2.jpg"] != first.signatures["ir/DJI_XT2.jpg"]
    raster.unlink()
    again = thermal_stage(ws, flight, reuse=True)
    assert "ir/DJI_XT2.jpg" not in again.reused and raster.exists()


def test_product_thermal_names_parameters_once(data_dir: Path, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    result = thermal_stage(ws, _flight(data_dir, ws), ThermalOverrides(relative_humidity_pct=60.0))
    flir = result.measurements["ir/DJI_XT2.jpg"]
    dji = result.measurements["ir/M3T_0001_R.JPG"]
    assert {"humidity", "distance", "reflection", "ambient_temp"}.isdisjoint(dji)  # our names only
    values, sources = used_parameters(dji)
    assert values["relative_humidity_pct"] == 60.0 and sources["relative_humidity_pct"] == "override"
    assert values["object_distance_m"] == 18.0 and sources["object_distance_m"] == "frame"
    one = product_thermal([flir], result.overrides, raster="products/f1/thermal/x.tif")
    assert one.relative_humidity_pct == ThermalValue(min=60.0, max=60.0, source="override")
    assert one.object_distance_m is not None and one.object_distance_m.value == 18.0
    assert one.raster == "products/f1/thermal/x.tif" and one.frames == 1
    assert one.formats == ("flir-fff (dronegis)",)
    far = {**flir, "object_distance_m": 30.0}
    both = product_thermal([flir, far, dji], result.overrides)
    assert both.object_distance_m is not None
    assert (both.object_distance_m.min, both.object_distance_m.max) == (18.0, 30.0)
    assert both.object_distance_m.text == "18–30" and both.frames == 3
    assert both.relative_humidity_pct is not None and both.relative_humidity_pct.source == "override"
    assert both.overrides == ThermalOverrides(relative_humidity_pct=60.0)
    merged = merge_thermal([one, product_thermal([far], result.overrides)], result.overrides)
    assert merged.object_distance_m == ThermalValue(min=18.0, max=30.0, source="frame")
    assert merged.frames == 2 and merged.raster is None
