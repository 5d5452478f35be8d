"""DJI R-JPEGs through the dronegis[dji] adapter equal dji-thermal-cli bit for bit."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import DecoderUnavailable, ThermalError
from pipeline.models import ThermalOverrides
from pipeline.thermal.dji import SDK_NAMES, read_dji, read_dji_metadata

DJI_SAMPLES = [
    "thermal_parser/images/DJI_H20T.jpg",
    "thermal_parser/images/DJI_XTS.jpg",
    "thermal_parser/images/H20N/DJI_0001_R.JPG",
    "thermal_parser/images/H20T/DJI_0001_R.JPG",
    "thermal_parser/images/H30T/DJI_0001_R.JPG",
    "thermal_parser/images/M2EA/DJI_0001_R.JPG",
    "thermal_parser/images/M30T/DJI_0001_R.JPG",
    "thermal_parser/images/M30T/DJI_0011_R.JPG",
    "thermal_parser/images/M3T/DJI_0001_R.JPG",
    "thermal_parser/images/M3TD/DJI_0001_R.JPG",
    "thermal_parser/images/M4T/DJI_0001_R.JPG",
    "thermal_parser/images/XTS/DJI_0003_R.JPG",
]
NO_DATA = -273.15  # dji-thermal-cli's no-data value; ours is NaN


def _ours_as_theirs(celsius: np.ndarray) -> np.ndarray:
    return np.nan_to_num(celsius, nan=NO_DATA).astype(np.float32)


def test_sample_list_covers_every_dji_rjpeg(data_dir: Path) -> None:
    found = {
        p.relative_to(data_dir).as_posix()
        for p in (data_dir / "thermal_parser/images").rglob("*")
        if p.suffix.lower() == ".jpg" and not p.name.startswith(("FLIR", "DJI_XT2", "DJI_XTR"))
    }
    assert found == set(DJI_SAMPLES)


@pytest.mark.parametrize("name", DJI_SAMPLES)
def test_default_parameters_bit_for_bit(data_dir: Path, name: str) -> None:
    import dji_thermal_cli as dtc

    ours = read_dji(data_dir / name)
    theirs = dtc.measure(data_dir / name)
    assert ours.celsius.dtype == np.float32
    np.testing.assert_array_equal(_ours_as_theirs(ours.celsius), theirs.temperature)
    assert ours.parameters == {
        name: theirs.params[sdk] for name, sdk in SDK_NAMES.items() if sdk in theirs.params
    }
    assert set(ours.sources.values()) <= {"file", "rangefinder"}


@pytest.mark.parametrize("name", DJI_SAMPLES)
def test_follows_changed_parameters(data_dir: Path, name: str) -> None:
    import dji_thermal_cli as dtc

    overrides = ThermalOverrides(
        emissivity=0.9, object_distance_m=10.0, relative_humidity_pct=60.0, reflected_temp_c=10.0
    )
    ours = read_dji(data_dir / name, overrides)
    theirs = dtc.measure(
        data_dir / name, dtc.Settings(emissivity=0.9, distance=10.0, humidity=60.0, reflected_temp=10.0)
    )
    np.testing.assert_array_equal(_ours_as_theirs(ours.celsius), theirs.temperature)
    assert ours.sources["emissivity"] == "override" and ours.sources["object_distance_m"] == "override"
    default = read_dji(data_dir / name)
    assert not np.array_equal(ours.celsius, default.celsius)


@pytest.mark.parametrize(
    "name", ["thermal_parser/images/M3T/DJI_0001_R.JPG", "thermal_parser/images/DJI_H20T.jpg"]
)
def test_each_single_parameter_is_followed(data_dir: Path, name: str) -> None:
    import dji_thermal_cli as dtc

    cases = [
        (ThermalOverrides(emissivity=0.8), dtc.Settings(emissivity=0.8)),
        (ThermalOverrides(object_distance_m=20.0), dtc.Settings(distance=20.0)),
        (ThermalOverrides(relative_humidity_pct=90.0), dtc.Settings(humidity=90.0)),
        (ThermalOverrides(reflected_temp_c=-5.0), dtc.Settings(reflected_temp=-5.0)),
    ]
    for overrides, settings in cases:
        ours = read_dji(data_dir / name, overrides)
        np.testing.assert_array_equal(
            _ours_as_theirs(ours.celsius), dtc.measure(data_dir / name, settings).temperature
        )


def test_frame_distance_is_used_without_override(data_dir: Path) -> None:
    path = data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG"
    frame = read_dji(path, frame_distance_m=18.0)
    assert frame.parameters["object_distance_m"] == 18.0 and frame.sources["object_distance_m"] == "frame"
    fixed = read_dji(path, ThermalOverrides(object_distance_m=7.0), frame_distance_m=18.0)
    assert fixed.parameters["object_distance_m"] == 7.0
    high = read_dji(path, frame_distance_m=60.0)
    low, top = (
        __import__("dji_thermal_cli").tsdk.open(path.read_bytes()).get_measurement_params_range()["distance"]
    )
    assert high.parameters["object_distance_m"] == top
    assert high.sources["object_distance_m"] == "frame (clamped from 60 m)"


def test_metadata(data_dir: Path) -> None:
    params = read_dji_metadata(data_dir / "thermal_parser/images/H30T/DJI_0001_R.JPG")
    assert (params.raw_width, params.raw_height) == (1280, 1024)
    assert params.format == "dji-rjpeg" and params.object_distance_m == 13.0
    assert read_dji_metadata(data_dir / "thermal_parser/images/DJI_H20T.jpg").atmospheric_temp_c is None


def _strip_app3(data: bytes) -> bytes:
    out, pos = bytearray(data[:2]), 2
    while data[pos + 1] != 0xDA:
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if data[pos + 1] != 0xE3:
            out += data[pos : pos + 2 + length]
        pos += 2 + length
    return bytes(out + data[pos:])


def test_dji_file_without_thermal_segments_fails(data_dir: Path, tmp_path: Path) -> None:
    stripped = tmp_path / "DJI_no_thermal.JPG"
    stripped.write_bytes(_strip_app3((data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG").read_bytes()))
    with pytest.raises(ThermalError, match=r"DJI_no_thermal\.JPG: not a decodable DJI thermal R-JPEG"):
        read_dji(stripped)


def test_rgb_jpeg_is_refused(data_dir: Path) -> None:
    path = next((data_dir / "brighton_beach/images").glob("*.JPG"))
    with pytest.raises(ThermalError, match=path.name):
        read_dji(path)


def test_parameter_outside_camera_range_fails(data_dir: Path) -> None:
    path = data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG"
    with pytest.raises(ThermalError, match=r"DJI_0001_R\.JPG: the DJI SDK refused"):
        read_dji(path, ThermalOverrides(object_distance_m=500.0))


def test_without_the_extra_the_message_says_how_to_install(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dji_thermal_cli", None)
    with pytest.raises(DecoderUnavailable, match=r"DJI_0001_R\.JPG: .*pip install 'dronegis\[dji\]'"):
        read_dji(data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG")
    from pipeline.thermal.dji import dji_available

    assert not dji_available()


def test_air_temperature_follows_where_the_camera_has_it(data_dir: Path) -> None:
    import dji_thermal_cli as dtc

    m3t = data_dir / "thermal_parser/images/M3T/DJI_0001_R.JPG"
    ours = read_dji(m3t, ThermalOverrides(atmospheric_temp_c=5.0))
    theirs = dtc.measure(m3t, dtc.Settings(ambient_temp=5.0)).temperature
    np.testing.assert_array_equal(_ours_as_theirs(ours.celsius), theirs)
    assert ours.parameters["atmospheric_temp_c"] == 5.0 and ours.sources["atmospheric_temp_c"] == "override"
    xts = read_dji(data_dir / "thermal_parser/images/DJI_XTS.jpg", ThermalOverrides(atmospheric_temp_c=5.0))
    assert "atmospheric_temp_c" not in xts.parameters  # the dirp cameras have no air temperature
