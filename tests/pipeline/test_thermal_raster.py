"""°C frames: conversion dispatch, per-frame GeoTIFF tags, radiometric TIFFs, the nadir mosaic."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin

from core.errors import ThermalError
from flights.flir import read_flir
from flights.models import Attitude, Capture, FileKind, Position
from pipeline.models import ThermalOverrides
from pipeline.mosaic.build import BLEND, thermal_mosaic
from pipeline.thermal.convert import convert_frame, distance_from_capture
from pipeline.thermal.frames import write_thermal_frame
from pipeline.thermal.radiometry import MeasurementParameters, raw_to_celsius
from pipeline.thermal.tiff import TIFF_PROFILES, read_radiometric_tiff


@contextmanager
def _pixel_space() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


def test_convert_flir_matches_model(data_dir: Path) -> None:
    path = data_dir / "thermal_parser/images/DJI_XTR.jpg"
    frame = convert_frame(path, ThermalOverrides(emissivity=0.96), frame_distance_m=42.0)
    image = read_flir(path)
    expected = raw_to_celsius(
        image.raw,
        MeasurementParameters.from_thermal(
            image.params, ThermalOverrides(emissivity=0.96), frame_distance_m=42.0
        ),
    )
    np.testing.assert_array_equal(frame.celsius, expected)
    assert frame.measurement["object_distance_m"] == 42.0
    assert frame.measurement["sources"]["emissivity"] == "override"


def test_convert_dji_goes_through_the_adapter(data_dir: Path) -> None:
    frame = convert_frame(data_dir / "thermal_parser/images/M30T/DJI_0001_R.JPG")
    assert frame.measurement["format"] == "dji-rjpeg"
    assert frame.measurement["decoder"].startswith("dji-thermal-cli/")
    assert frame.celsius.shape == (512, 640)


def test_frame_geotiff_keeps_time_gps_pose_and_parameters(data_dir: Path, tmp_path: Path) -> None:
    frame = convert_frame(data_dir / "thermal_parser/images/DJI_XT2.jpg")
    capture = Capture(
        path="DJI_XT2.jpg",
        sha256="ab" * 32,
        size=1,
        kind=FileKind.THERMAL_FRAME,
        time_utc=datetime(2018, 7, 27, 10, 51, 54, tzinfo=UTC),
        time_source="exif+offset",
        position=Position(lat=9.97, lon=76.37, altitude_m=39.1, relative_altitude_m=1.9),
        attitude=Attitude(gimbal_yaw=82.4, gimbal_pitch=-90.0, gimbal_roll=0.0, source="drone-dji"),
    )
    celsius = frame.celsius.copy()
    celsius[0, 0] = np.nan
    dst = write_thermal_frame(
        celsius, tmp_path / "out" / "f.tif", capture=capture, measurement=frame.measurement
    )
    with _pixel_space(), rasterio.open(dst) as src:
        tags = src.tags()
        data = src.read(1)
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert src.units == ("°C",)
    np.testing.assert_array_equal(data, celsius)
    assert tags["DRONEGIS_CAPTURE_TIME_UTC"] == "2018-07-27T10:51:54+00:00"
    assert tags["TIFFTAG_DATETIME"] == "2018:07:27 10:51:54"
    assert float(tags["DRONEGIS_GPS_LAT"]) == 9.97 and float(tags["DRONEGIS_GPS_LON"]) == 76.37
    assert float(tags["DRONEGIS_GIMBAL_PITCH"]) == -90.0 and tags["DRONEGIS_ATTITUDE_SOURCE"] == "drone-dji"
    assert Capture.model_validate_json(tags["DRONEGIS_CAPTURE"]).position == capture.position
    assert json.loads(tags["DRONEGIS_THERMAL_MEASUREMENT"])["planck_r1"] == frame.measurement["planck_r1"]
    assert not list(dst.parent.glob("*.dronegis-tmp"))


def _write(path: Path, data: np.ndarray, **profile: object) -> Path:
    with (
        _pixel_space(),
        rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=data.shape[1],
            height=data.shape[0],
            count=1,
            dtype=data.dtype,
            **profile,
        ) as dst,
    ):
        dst.write(data, 1)
    return path


def test_float_celsius_tiff(tmp_path: Path) -> None:
    data = np.array([[21.5, -273.15], [30.0, 40.25]], dtype=np.float32)
    frame = convert_frame(_write(tmp_path / "c.tif", data), ThermalOverrides(emissivity=0.9))
    assert frame.celsius[0, 0] == 21.5 and np.isnan(frame.celsius[0, 1])
    assert frame.measurement["overrides_ignored"] == {"emissivity": 0.9, "distance_from_height": True}


@pytest.mark.parametrize(
    ("profile", "dn", "expected"),
    [
        ("centikelvin", 29315, 20.0),
        ("duo-pro-r-high", 7329, 20.01),
        ("duo-pro-r-low", 733, 20.05),
    ],
)
def test_uint16_tiff_profiles(tmp_path: Path, profile: str, dn: int, expected: float) -> None:
    path = _write(tmp_path / "dn.tif", np.full((3, 3), dn, dtype=np.uint16))
    frame = read_radiometric_tiff(path, profile)
    assert frame.celsius[1, 1] == pytest.approx(expected, abs=1e-4)
    assert frame.measurement["profile"] == profile and profile in TIFF_PROFILES


def test_uint16_tiff_without_profile_fails(tmp_path: Path) -> None:
    path = _write(tmp_path / "dn16.tif", np.full((3, 3), 29315, dtype=np.uint16))
    with pytest.raises(ThermalError, match=r"dn16\.tif: 16-bit TIFF needs a scale/offset profile"):
        convert_frame(path)
    with pytest.raises(ThermalError, match=r"dn16\.tif: unknown TIFF profile 'millikelvin'"):
        convert_frame(path, tiff_profile="millikelvin")


def test_unknown_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not thermal")
    with pytest.raises(ThermalError, match=r"notes\.txt: not a thermal image"):
        convert_frame(path)


def _frame(
    tmp_path: Path, name: str, value: float, left: float, lonlat: tuple[float, float] | None = None
) -> Path:
    data = np.full((20, 20), value, dtype=np.float32)
    data[0, 0] = np.nan
    capture = None
    if lonlat is not None:
        capture = Capture(
            path=name,
            sha256="00" * 32,
            size=1,
            kind=FileKind.THERMAL_FRAME,
            position=Position(lon=lonlat[0], lat=lonlat[1]),
        )
    return write_thermal_frame(
        data,
        tmp_path / name,
        capture=capture,
        crs="EPSG:25832",
        transform=from_origin(left, 6215520.0, 1.0, 1.0),
    )


def test_mosaic_nearest_to_nadir_is_a_valid_cog(tmp_path: Path) -> None:
    from rio_cogeo.cogeo import cog_validate

    a = _frame(tmp_path, "a.tif", 10.0, 560000.0)
    b = _frame(tmp_path, "b.tif", 30.0, 560010.0)  # overlaps a by 10 m
    dst = thermal_mosaic([a, b], tmp_path / "mosaic" / "thermal.tif")
    valid, errors, _ = cog_validate(str(dst), quiet=True)
    assert valid, errors
    with rasterio.open(dst) as src:
        data = src.read(1)
        assert src.crs.to_epsg() == 25832 and np.isnan(src.nodata)
        assert src.tags()["DRONEGIS_BLEND"] == BLEND
    assert data.shape == (20, 30)
    assert set(np.unique(data[np.isfinite(data)])) == {10.0, 30.0}  # never blended or balanced
    # overlap x in [560010, 560020): centre of a at 560010, of b at 560020 -> left half a, right half b
    np.testing.assert_array_equal(data[10, 10:15], 10.0)
    np.testing.assert_array_equal(data[10, 15:20], 30.0)
    assert np.isnan(data[0, 0])
    assert data[0, 10] == 10.0  # b's nodata corner is filled from a


def test_mosaic_uses_gps_nadir_when_tagged(tmp_path: Path) -> None:
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    # a's camera stood over x = 560019 (GPS), not over its raster centre 560010
    a = _frame(tmp_path, "a.tif", 10.0, 560000.0, lonlat=to_wgs84.transform(560019.0, 6215510.0))
    b = _frame(tmp_path, "b.tif", 30.0, 560010.0)
    with rasterio.open(thermal_mosaic([a, b], tmp_path / "m.tif")) as src:
        data = src.read(1)
    np.testing.assert_array_equal(data[10, 10:19], 10.0)  # closer to a's GPS nadir than to b's centre
    np.testing.assert_array_equal(data[10, 20:], 30.0)
    with pytest.raises(ThermalError, match="no frames"):
        thermal_mosaic([], tmp_path / "x.tif")


def test_mosaic_refuses_pixel_space_frames(tmp_path: Path) -> None:
    path = write_thermal_frame(np.zeros((4, 4), np.float32), tmp_path / "p.tif")
    with _pixel_space(), pytest.raises(ThermalError, match=r"p\.tif: frame has no CRS"):
        thermal_mosaic([path], tmp_path / "m.tif")


def _capture(height: float | None, pitch: float | None) -> Capture:
    return Capture(
        path="f.jpg", sha256="00" * 32, size=1, kind=FileKind.THERMAL_FRAME,
        position=Position(lat=56.0, lon=9.8, relative_altitude_m=height),
        attitude=Attitude(gimbal_pitch=pitch),
    )  # fmt: skip


def test_distance_from_capture() -> None:
    assert distance_from_capture(_capture(40.0, -90.0)) == pytest.approx(40.0)
    assert distance_from_capture(_capture(40.0, None)) == 40.0
    assert distance_from_capture(_capture(40.0, -30.0)) == pytest.approx(80.0)
    assert distance_from_capture(_capture(40.0, -5.0)) is None
    assert distance_from_capture(_capture(None, -90.0)) is None
    assert distance_from_capture(_capture(-2.0, -90.0)) is None


def test_workspace_paths(tmp_path: Path) -> None:
    from core.workspace import Workspace

    ws = Workspace.at(tmp_path)
    expected = ws.products("f1") / "thermal/sub/DJI_0001_R_celsius.tif"
    assert ws.thermal_frame("f1", "sub/DJI_0001_R.JPG") == expected
    assert ws.thermal_mosaic("f1").parent == ws.products("f1")


def test_dji_thermal_cli_exports_are_read(data_dir: Path, tmp_path: Path) -> None:
    """float32 °C and centi-kelvin TIFFs written by dji-thermal-cli give its own temperatures."""
    import dji_thermal_cli as dtc

    src = data_dir / "thermal_parser/images/M3T"
    report = dtc.process(src, tmp_path, outputs=["temp_c:tiff", "temp_ck:tiff", "temp_k:tiff", "temp_f:tiff"])
    assert report.processed == 1
    measured = dtc.measure(src / "DJI_0001_R.JPG").temperature
    as_float = convert_frame(tmp_path / "DJI_0001_R_temp_c.tiff")
    np.testing.assert_array_equal(np.nan_to_num(as_float.celsius, nan=-273.15), measured)
    as_ck = convert_frame(tmp_path / "DJI_0001_R_temp_ck.tiff", tiff_profile="centikelvin")
    np.testing.assert_allclose(as_ck.celsius, measured, atol=0.0051)
    for product, profile in (("temp_k", "kelvin"), ("temp_f", "fahrenheit")):
        frame = convert_frame(tmp_path / f"DJI_0001_R_{product}.tiff", tiff_profile=profile)
        np.testing.assert_allclose(frame.celsius, measured, atol=1e-3)
    with pytest.raises(ThermalError, match=r"DJI_0001_R_temp_k\.tiff: median .* implausible for °C"):
        convert_frame(tmp_path / "DJI_0001_R_temp_k.tiff")


def test_mosaic_reprojects_and_leaves_gaps_empty(tmp_path: Path) -> None:
    a = _frame(tmp_path, "a.tif", 10.0, 560000.0)
    data = np.full((20, 20), 50.0, dtype=np.float32)
    far = write_thermal_frame(
        data, tmp_path / "far.tif", crs="EPSG:32632", transform=from_origin(560100.0, 6215520.0, 1.0, 1.0)
    )
    with rasterio.open(thermal_mosaic([a, far], tmp_path / "m.tif")) as src:
        mosaic = src.read(1)
        assert src.crs.to_epsg() == 25832
    assert 118 <= mosaic.shape[1] <= 122
    assert np.isnan(mosaic[10, 50])  # the gap between the frames stays no-data
    assert np.nanmax(mosaic[:, -15:]) == 50.0 and mosaic[10, 5] == 10.0


def test_malformed_flir_is_named_by_path(tmp_path: Path) -> None:
    from flights.flir_synth import flir_app1_segments
    from flights.models import ThermalParameters

    params = ThermalParameters(
        planck_r1=21106.77, planck_r2=0.0125, planck_b=1501.0, planck_f=1.0, planck_o=-7340
    )
    raw = np.random.default_rng(3).integers(0, 65535, (240, 320), dtype=np.uint16)
    segments = flir_app1_segments(raw, params, png=False)
    path = tmp_path / "IR_0001.jpg"
    path.write_bytes(b"\xff\xd8" + segments[0] + segments[2] + b"\xff\xd9")
    with pytest.raises(ThermalError, match=r"IR_0001\.jpg: FLIR segment 2 found where segment 1"):
        convert_frame(path)


def test_mosaic_of_frames_on_different_continents_fails_before_allocating(tmp_path: Path) -> None:
    denmark = _frame(tmp_path, "skanderborg.tif", 10.0, 560000.0)
    data = np.full((20, 20), 30.0, dtype=np.float32)
    brazil = write_thermal_frame(  # a frame near Brasília (wrong GPS fix / other flight), 1 m pixels
        data, tmp_path / "brasilia.tif", crs="EPSG:4326", transform=from_origin(-47.9, -15.8, 1e-5, 1e-5)
    )
    dst = tmp_path / "mosaic" / "thermal.tif"
    with pytest.raises(ThermalError) as info:
        thermal_mosaic([denmark, brazil], dst)
    message = str(info.value)
    assert str(dst) in message and "skanderborg.tif" in message and "brasilia.tif" in message
    assert "limit of 100000 px per side" in message and "GiB" in message
    assert not dst.exists()


def test_mosaic_size_limit_is_configurable(tmp_path: Path) -> None:
    a = _frame(tmp_path, "a.tif", 10.0, 560000.0)
    b = _frame(tmp_path, "b.tif", 20.0, 560100.0)  # 120 px wide mosaic
    with pytest.raises(ThermalError, match=r"a 120 × 20 px grid at 1 m .* limit of 100 px per side"):
        thermal_mosaic([a, b], tmp_path / "m.tif", max_side_px=100)
    with rasterio.open(thermal_mosaic([a, b], tmp_path / "m.tif", max_side_px=120)) as src:
        assert (src.width, src.height) == (120, 20)
