"""Image quality on real frames (agung_1 faults, brighton_beach clean) and synthetic cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from flights.models import CameraInfo, Capture, FileKind, Position, Velocity
from flights.quality import assess
from qa.image_quality import (
    frame_checks,
    frame_gsd,
    motion_blur_check,
    nodata_check,
    nodata_share,
    thermal_check,
)


def _capture(path: Path, **kw: object) -> Capture:
    return Capture(path=path.name, sha256="0" * 64, size=1, kind=FileKind.RGB_FRAME, **kw)  # type: ignore[arg-type]


def _assessed(paths: list[Path]) -> list[Capture]:
    return [_capture(p, quality=assess(p)) for p in paths]


def test_agung_blurry_and_lens_cap_frames_are_flagged(data_dir: Path) -> None:
    frames = _assessed(sorted((data_dir / "drone_testdata_agung_1").rglob("*.JPG")))
    checks = {c.id: c for c in frame_checks(frames)}
    blurry = checks["image.blur"].figures["flagged"]
    black = checks["image.black"].figures["flagged"]
    assert list(blurry) == [f.path for f in frames if "POOR_SHARPNESS" in f.path]
    assert sorted(black) == sorted(f.path for f in frames if "LENS_CAP" in f.path)
    assert checks["image.black"].status == "fail"  # 2 of 3 frames black
    assert checks["image.blur"].status == "warn"


def test_no_brighton_beach_frame_is_flagged(data_dir: Path) -> None:
    frames = _assessed(sorted((data_dir / "brighton_beach" / "images").glob("*.JPG")))
    assert len(frames) == 18
    checks = frame_checks(frames)
    for check in checks:
        assert check.status == "pass", check.message
        assert not check.figures.get("flagged")
    exposure = next(c for c in checks if c.id == "image.exposure")
    assert sum(exposure.figures["counts"]) == 18  # type: ignore[arg-type]


def test_no_quality_figures_is_a_skip_with_reason() -> None:
    checks = frame_checks([_capture(Path("a.jpg"))])
    assert {c.status for c in checks} == {"skip"} and all(c.reason for c in checks)


def _moving(speed: float, exposure: float) -> Capture:
    return _capture(
        Path(f"f_{speed}_{exposure}.jpg"),
        position=Position(lat=56.0, lon=9.9, relative_altitude_m=100.0),
        camera=CameraInfo(focal_length_mm=8.8, pixel_pitch_um=2.41, width=5472, exposure_time_s=exposure),
        velocity=Velocity(x=speed, y=0.0, z=0.0),
    )


def test_motion_blur_rule_half_a_gsd() -> None:
    gsd = frame_gsd(_moving(0.0, 0.001))
    assert gsd == pytest.approx(100 * 2.41e-6 / 8.8e-3)  # 2.74 cm
    assert gsd is not None
    limit_speed = 0.5 * gsd / 0.001  # m/s at 1/1000 s
    ok = motion_blur_check([_moving(limit_speed * 0.99, 0.001)])
    bad = motion_blur_check([_moving(limit_speed * 1.01, 0.001)])
    assert ok.status == "pass"
    assert bad.status == "fail" and bad.figures["flagged"]
    assert motion_blur_check([_capture(Path("x.jpg"))]).status == "skip"


def test_thermal_plausibility() -> None:
    rng = np.random.default_rng(0)
    good = rng.normal(5, 3, (40, 50))
    constant = np.full((40, 50), 20.0)
    hot = good.copy()
    hot[0, 0] = 400.0
    nans = good.copy()
    nans[:5] = np.nan  # 12.5 % NaN
    assert thermal_check({"good": good}).status == "pass"
    assert thermal_check({"nans": nans}).status == "warn"
    result = thermal_check({"good": good, "constant": constant, "hot": hot})
    assert result.status == "fail" and "constant" in result.message and "hot" in result.message
    assert thermal_check({}).status == "skip"


def test_thermal_plausibility_message_agrees_with_itself() -> None:
    """Each implausible raster is named once, with its reason; no Python lists; a pass says what passed."""
    good = np.random.default_rng(0).normal(5, 3, (40, 50))
    mostly_empty = good.copy()
    mostly_empty[:30] = np.nan  # 75 % NaN: implausible, not also "many NaNs: none"
    result = thermal_check({"good": good, "empty": mostly_empty})
    assert result.status == "fail"
    assert result.message == "2 thermal rasters; 1 implausible: empty (75% without a value)"
    assert "[" not in result.message and "none" not in result.message
    assert thermal_check({"good": good}).message == "1 thermal rasters, all within -40…150 °C"
    nans = good.copy()
    nans[:5] = np.nan
    warned = thermal_check({"nans": nans})
    expected = "1 thermal rasters; 1 with many pixels without a value: nans (12% without a value)"
    assert warned.message == expected


def test_nodata_share(make_raster: Callable[..., Path]) -> None:
    data = np.ones((1, 16, 16), dtype="uint8")
    data[0, :8] = 0
    path = make_raster("half.tif", nodata=0, data=data)
    assert nodata_share(path) == pytest.approx(0.5)
    assert nodata_check({"half": path}).status == "pass"
    data[0, :12] = 0
    path = make_raster("most.tif", nodata=0, data=data)
    assert nodata_check({"most": path}).status == "warn"


def test_undecodable_thermal_frames_warn() -> None:
    only_bad = thermal_check({}, undecodable={"x.jpg": "no decoder"})
    assert only_bad.status == "warn" and "x.jpg" in only_bad.message
    mixed = thermal_check({"ok": np.random.default_rng(1).normal(5, 2, (8, 8))}, undecodable={"x.jpg": "e"})
    assert mixed.status == "warn"
