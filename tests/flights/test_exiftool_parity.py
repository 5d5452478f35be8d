"""read_capture against Debian's exiftool on every real frame of the test data.

Tolerances (issue 2): lat/lon 1e-7°, altitudes 1 mm, angles 0.01°, times exactly,
make/model/focal/size equal. exiftool runs once, here in the test, never in library code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.errors import MetadataError
from flights.classify import classify
from flights.exif import DEFAULT_LOCAL_TZ, read_capture
from flights.models import Capture, FileKind

GLOBS = (
    "brighton_beach/images/*.JPG",
    "odm_data_seneca/images/*.jpg",
    "drone_testdata_agung_1/images/*.JPG",
    "webodm_fixtures/app/fixtures/tiny_drone_image*",
    "thermal_parser/images/*.jpg",
    "thermal_parser/images/*/*.JPG",
    "opensfm_berlin/data/berlin/images/*.jpg",
    "odm_data_copr/images/*.jpg",
    "thermimage/inst/extdata/*.jpg",
    "flirpy/test/test_data/*.fff",
    "metadata_extractor_images/jpg/*.jpg",
    "odm_br/odm_gcp_br/*.JPG",
    "brighton_beach/*.jpg",
)
#: Real files without an end-of-image marker (exiftool: "JPEG format error").
TRUNCATED = {"DJI_XTS.jpg"}
LATLON, ALT, ANGLE = 1e-7, 1e-3, 0.01


@pytest.fixture(scope="module")
def frames(data_dir: Path) -> list[Path]:
    files = sorted(p for g in GLOBS for p in data_dir.glob(g))
    assert len(files) >= 50
    return files


@pytest.fixture(scope="module")
def exiftool(frames: list[Path]) -> dict[str, dict[str, Any]]:
    exe = shutil.which("exiftool")
    if exe is None:
        pytest.fail("exiftool not installed (apt-get install libimage-exiftool-perl)")
    out = subprocess.run(
        [exe, "-json", "-n", "-G1", *map(str, frames)], capture_output=True, check=True, timeout=300
    ).stdout
    return {rec["SourceFile"]: rec for rec in json.loads(out)}


def _capture(path: Path) -> Capture:
    kind = classify(path)
    return read_capture(
        path,
        path.name,
        sha256="0" * 64,
        size=path.stat().st_size,
        kind=kind,
        check_eoi=path.name not in TRUNCATED,
    )


def _num(rec: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        if key in rec and rec[key] not in ("", None, "undef", "inf"):
            return float(rec[key])
    return None


def _dji(rec: dict[str, Any], name: str) -> float | None:
    return _num(rec, f"XMP-drone-dji:{name}", f"XMP-DJI:{name}")


def test_truncated_xts_is_reported(data_dir: Path) -> None:
    path = data_dir / "thermal_parser/images/DJI_XTS.jpg"
    with pytest.raises(MetadataError, match="truncated JPEG: no end-of-image marker") as err:
        read_capture(path, path.name, sha256="0", size=1, kind=FileKind.THERMAL_FRAME)
    message = str(err.value)  # names the file, says what is missing and what is intact
    assert "DJI_XTS.jpg" in message and "(FF D9)" in message and "stop at byte 902449" in message
    assert "thermal data are complete" in message
    # the metadata (and the thermal block) stay readable for a caller that asks for them
    capture = read_capture(path, path.name, sha256="0", size=1, kind=FileKind.THERMAL_FRAME, check_eoi=False)
    assert capture.camera.model == "XT S"


def test_xts_scan_is_cut_not_only_its_end_marker(data_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # The evidence for quarantining DJI_XTS.jpg (flights/exif.py docstring): with FF D9
    # appended, libjpeg still runs out of entropy-coded data, so the scan itself is cut;
    # a complete JPEG whose marker is removed and appended again decodes without that.
    import cv2
    import numpy as np

    def decode_with_marker(data: bytes) -> str:
        capfd.readouterr()
        image = cv2.imdecode(np.frombuffer(data + b"\xff\xd9", np.uint8), cv2.IMREAD_GRAYSCALE)
        assert image is not None
        return capfd.readouterr().err

    xts = (data_dir / "thermal_parser/images/DJI_XTS.jpg").read_bytes()
    assert not xts.endswith(b"\xff\xd9")
    assert "premature end of data segment" in decode_with_marker(xts)
    ok, encoded = cv2.imencode(".jpg", np.random.default_rng(1).integers(0, 255, (64, 80), np.uint8))
    assert ok and encoded.tobytes().endswith(b"\xff\xd9")
    assert "premature end" not in decode_with_marker(encoded.tobytes()[:-2])


def test_every_frame_matches_exiftool(frames: list[Path], exiftool: dict[str, dict[str, Any]]) -> None:
    seen: Counter[str] = Counter()
    for path in frames:
        rec = exiftool[str(path)]
        cap = _capture(path)
        _check_position(cap, rec)
        _check_attitude(cap, rec)
        _check_camera(cap, rec)
        _check_time(cap, rec)
        _check_rtk(cap, rec)
        seen["frames"] += 1
        seen["position"] += cap.position is not None
        seen["time"] += cap.time_utc is not None
        seen[f"attitude:{cap.attitude.source}"] += 1
        seen[f"time:{cap.time_source}"] += 1
        seen["rtk_flag"] += cap.rtk.flag is not None
    # the comparisons above were not vacuous
    assert seen["frames"] == len(frames)
    assert seen["position"] >= 35 and seen["time"] >= 50
    assert (
        seen["attitude:drone-dji"] >= 24 and seen["attitude:camera"] == 2 and seen["attitude:sensefly"] == 4
    )
    assert seen["rtk_flag"] >= 1
    assert seen["time:flir:DateTimeOriginal+offset"] >= 4


def _check_position(cap: Capture, rec: dict[str, Any]) -> None:
    lat, lon = _num(rec, "Composite:GPSLatitude"), _num(rec, "Composite:GPSLongitude")
    if lat is None:
        lat, lon = _dji(rec, "GPSLatitude"), _dji(rec, "GPSLongitude")
    if lat is None and rec.get("FLIR:GPSValid") == 1:
        lat, lon = _num(rec, "FLIR:GPSLatitude"), _num(rec, "FLIR:GPSLongitude")
        assert cap.position is not None and cap.position.source == "flir", cap.path
        assert cap.position.altitude_m == pytest.approx(_num(rec, "FLIR:GPSAltitude"), abs=ALT)
    if lat is None or lon is None:
        assert cap.position is None or cap.position.source == "xmp", cap.path
        return
    assert cap.position is not None, cap.path
    assert cap.position.lat == pytest.approx(lat, abs=LATLON), cap.path
    assert cap.position.lon == pytest.approx(lon, abs=LATLON), cap.path
    alt = _num(rec, "GPS:GPSAltitude")
    if cap.position.source == "flir":
        pass
    elif alt is None:
        assert cap.position.altitude_m is None
    else:
        sign = -1.0 if rec.get("GPS:GPSAltitudeRef") == 1 else 1.0
        assert cap.position.altitude_m == pytest.approx(sign * alt, abs=ALT), cap.path
    assert cap.position.absolute_altitude_m == pytest.approx(_dji(rec, "AbsoluteAltitude"), abs=ALT)
    assert cap.position.relative_altitude_m == pytest.approx(_dji(rec, "RelativeAltitude"), abs=ALT)


def _check_attitude(cap: Capture, rec: dict[str, Any]) -> None:
    a = cap.attitude
    if a.source == "drone-dji":
        for ours, name in (
            (a.gimbal_yaw, "GimbalYawDegree"),
            (a.gimbal_pitch, "GimbalPitchDegree"),
            (a.gimbal_roll, "GimbalRollDegree"),
            (a.flight_yaw, "FlightYawDegree"),
            (a.flight_pitch, "FlightPitchDegree"),
            (a.flight_roll, "FlightRollDegree"),
        ):
            assert ours == pytest.approx(_dji(rec, name), abs=ANGLE), (cap.path, name)
    elif a.source == "camera":
        assert a.gimbal_yaw == pytest.approx(_num(rec, "XMP-Camera:Yaw"), abs=ANGLE)
        assert a.gimbal_pitch is not None
        assert a.gimbal_pitch + 90 == pytest.approx(_num(rec, "XMP-Camera:Pitch"), abs=ANGLE)
        assert a.gimbal_roll == pytest.approx(_num(rec, "XMP-Camera:Roll"), abs=ANGLE)
    elif a.source == "sensefly":
        assert a.flight_yaw == pytest.approx(_num(rec, "XMP-sensefly:Heading"), abs=ANGLE)
        assert a.flight_pitch == pytest.approx(_num(rec, "XMP-sensefly:PitchAngle"), abs=ANGLE)
    else:
        assert _dji(rec, "GimbalPitchDegree") is None and "XMP-Camera:Pitch" not in rec, cap.path


def _check_camera(cap: Capture, rec: dict[str, Any]) -> None:
    c = cap.camera
    if not cap.path.endswith(".fff"):
        assert c.make == (str(rec["IFD0:Make"]).strip() or None if "IFD0:Make" in rec else None), cap.path
        assert c.model == (str(rec["IFD0:Model"]).strip() or None if "IFD0:Model" in rec else None), cap.path
    if cap.path.endswith(".fff"):
        assert (c.make, c.model) == ("FLIR", rec["FLIR:CameraModel"]), cap.path
        return
    width = rec.get("File:ImageWidth", rec.get("IFD0:ImageWidth"))
    height = rec.get("File:ImageHeight", rec.get("IFD0:ImageHeight"))
    assert (c.width, c.height) == (width, height), cap.path
    assert c.focal_length_mm == _num(rec, "ExifIFD:FocalLength"), cap.path
    f35 = _num(rec, "ExifIFD:FocalLengthIn35mmFormat")
    assert c.focal_length_35mm == (f35 or None), cap.path
    exposure = _num(rec, "ExifIFD:ExposureTime")
    if exposure is None:
        assert c.exposure_time_s is None, cap.path
    else:
        assert c.exposure_time_s == pytest.approx(exposure, rel=1e-6), cap.path


def _check_time(cap: Capture, rec: dict[str, Any]) -> None:
    src = cap.time_source
    if src == "none":
        assert "ExifIFD:DateTimeOriginal" not in rec and "FLIR:DateTimeOriginal" not in rec, cap.path
        return
    if "FLIR:DateTimeOriginal" in rec and not rec["FLIR:DateTimeOriginal"].endswith("+00:00"):
        assert src == "flir:DateTimeOriginal+offset", cap.path  # an explicit offset beats an assumed zone
    if src == "xmp:sensefly:UTCTime":
        expected = datetime.strptime(rec["XMP-sensefly:UTCTime"], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    elif src == "flir:DateTimeOriginal+offset":
        expected = datetime.strptime(rec["FLIR:DateTimeOriginal"], "%Y:%m:%d %H:%M:%S.%f%z").astimezone(UTC)
        assert not rec["FLIR:DateTimeOriginal"].endswith("+00:00")
    elif src == f"flir+assumed:{DEFAULT_LOCAL_TZ}":
        assert "ExifIFD:DateTimeOriginal" not in rec and rec["FLIR:DateTimeOriginal"].endswith("+00:00")
        wall = datetime.strptime(rec["FLIR:DateTimeOriginal"][:-6], "%Y:%m:%d %H:%M:%S.%f")
        expected = wall.replace(tzinfo=ZoneInfo(str(DEFAULT_LOCAL_TZ))).astimezone(UTC)
    else:
        assert src == f"exif+assumed:{DEFAULT_LOCAL_TZ}", (cap.path, src)
        stamp = str(rec.get("Composite:SubSecDateTimeOriginal", rec["ExifIFD:DateTimeOriginal"]))
        stamp = stamp[:10].replace("-", ":") + stamp[10:]  # one FLIR camera writes 2020-06-23
        fmt = "%Y:%m:%d %H:%M:%S.%f" if "." in stamp else "%Y:%m:%d %H:%M:%S"
        expected = (
            datetime.strptime(stamp, fmt).replace(tzinfo=ZoneInfo(str(DEFAULT_LOCAL_TZ))).astimezone(UTC)
        )
    assert cap.time_utc == expected, cap.path


def _check_rtk(cap: Capture, rec: dict[str, Any]) -> None:
    for ours, name in (
        (cap.velocity.x, "FlightXSpeed"),
        (cap.velocity.y, "FlightYSpeed"),
        (cap.velocity.z, "FlightZSpeed"),
    ):
        assert ours == pytest.approx(_dji(rec, name), abs=1e-6), (cap.path, name)
    assert cap.camera.image_source == rec.get("XMP-drone-dji:ImageSource"), cap.path
    flag = _dji(rec, "RtkFlag")
    assert cap.rtk.flag == (int(flag) if flag is not None else None), cap.path
    status = rec.get("XMP-drone-dji:GpsStatus")
    assert cap.rtk.gps_status == status, cap.path


def test_thermal_frames_carry_thermal_parameters(
    frames: list[Path], exiftool: dict[str, dict[str, Any]]
) -> None:
    for path in frames:
        rec = exiftool[str(path)]
        cap = _capture(path)
        if "FLIR:PlanckR1" in rec:
            assert cap.kind == FileKind.THERMAL_FRAME, cap.path
            assert cap.thermal is not None and cap.thermal.format == "flir-fff"
            assert cap.thermal.planck_r1 == pytest.approx(rec["FLIR:PlanckR1"], rel=1e-6), cap.path
            assert cap.thermal.planck_b == pytest.approx(rec["FLIR:PlanckB"], rel=1e-6), cap.path
            assert cap.thermal.emissivity == pytest.approx(rec["FLIR:Emissivity"], abs=1e-6), cap.path
        elif "DJI:ThermalData" in rec:
            assert cap.kind == FileKind.THERMAL_FRAME, cap.path
            assert cap.thermal is not None and cap.thermal.format == "dji-rjpeg", cap.path
        elif "XMP-Camera:BandName" in rec and rec.get("IFD0:SamplesPerPixel") == 1:
            # one band of a multispectral rig (MicaSense RedEdge); the Canon RGB JPEGs
            # beside it name three bands ("Red, Green, Blue") and stay RGB frames
            assert cap.kind == FileKind.MULTISPECTRAL_FRAME, cap.path
        elif "IFD0:Make" in rec or "IFD0:Model" in rec or "GPS:GPSLatitude" in rec:
            assert cap.kind == FileKind.RGB_FRAME, cap.path
        else:  # previews and exported pictures without camera EXIF
            assert cap.kind == FileKind.OTHER, cap.path
