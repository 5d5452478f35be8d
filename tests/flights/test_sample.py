from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from flights.classify import classify
from flights.control import read_control_file
from flights.exif import read_capture
from flights.models import FileKind
from flights.sample import GROUND_Z, HEIGHT, SampleTruth, _local_scale, make_sample_flight


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleTruth]:
    folder = tmp_path_factory.mktemp("sample") / "flight"
    return folder, make_sample_flight(folder)


def test_files_and_truth(sample: tuple[Path, SampleTruth]) -> None:
    folder, truth = sample
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "DJI_0001.JPG",
        "DJI_0002.JPG",
        "DJI_0003.JPG",
        "DJI_0004.JPG",
        "DJI_0005.JPG",
        "DJI_0006.JPG",
        "DJI_0007_R.JPG",
        "check_points.txt",
        "gcp_list.txt",
        "truth.json",
    ]
    assert SampleTruth.model_validate(json.loads((folder / "truth.json").read_text())) == truth
    assert sum(p.stat().st_size for p in folder.iterdir()) < 2_000_000
    assert [f.kind for f in truth.frames].count("rgb_frame") == 6
    assert {p.role for p in truth.points} == {"gcp", "check"}


def test_generation_is_deterministic(tmp_path: Path, sample: tuple[Path, SampleTruth]) -> None:
    folder, _ = sample
    again = make_sample_flight(tmp_path / "again")
    assert again.frames == sample[1].frames
    for name in ("DJI_0003.JPG", "gcp_list.txt"):
        assert (tmp_path / "again" / name).read_bytes() == (folder / name).read_bytes()


def test_frames_are_classified_and_read_back_to_the_truth(sample: tuple[Path, SampleTruth]) -> None:
    folder, truth = sample
    for pose in truth.frames:
        path = folder / pose.image
        kind = classify(path)
        assert kind == FileKind(pose.kind)
        c = read_capture(path, pose.image, sha256="0" * 64, size=path.stat().st_size, kind=kind)
        assert c.position is not None
        assert c.position.lat == pytest.approx(pose.lat, abs=1e-7)
        assert c.position.lon == pytest.approx(pose.lon, abs=1e-7)
        assert c.position.relative_altitude_m == pytest.approx(HEIGHT)
        assert c.attitude.gimbal_pitch == pytest.approx(-90.0)
        assert c.attitude.gimbal_yaw == pytest.approx(0.0)
        assert c.rtk.flag == 50
        assert c.time_utc == pose.time_utc
        assert (c.camera.width, c.camera.height) == (pose.width, pose.height)
        if kind == FileKind.RGB_FRAME:
            assert c.camera.calibrated_focal_px == pytest.approx(pose.fx)
            assert c.camera.optical_center_x == pytest.approx(pose.cx)
        else:
            assert c.thermal is not None and c.thermal.planck_r1 == pytest.approx(21106.77, rel=1e-6)


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="Debian exiftool is not installed")
def test_exiftool_reads_the_same_pose(sample: tuple[Path, SampleTruth]) -> None:
    folder, truth = sample
    out = subprocess.run(
        [
            "exiftool",
            "-json",
            "-n",
            "-GPSLatitude",
            "-GPSLongitude",
            "-GPSAltitude",
            "-XMP-drone-dji:all",
            "-DateTimeOriginal",
            "-OffsetTimeOriginal",
            str(folder),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    by_name = {Path(d["SourceFile"]).name: d for d in json.loads(out)}
    for pose in truth.frames:
        d = by_name[pose.image]
        assert d["GPSLatitude"] == pytest.approx(pose.lat, abs=1e-7)
        assert d["GPSLongitude"] == pytest.approx(pose.lon, abs=1e-7)
        assert d["GPSAltitude"] == pytest.approx(GROUND_Z + HEIGHT, abs=1e-3)
        assert float(d["RelativeAltitude"]) == pytest.approx(HEIGHT)  # XMP values stay strings ("+60.000")
        assert float(d["GimbalPitchDegree"]) == -90
        assert int(d["RtkFlag"]) == 50
        assert d["OffsetTimeOriginal"] == "+02:00"


def _ground_of_pixel(pose, u: float, v: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Independent inverse: pixel -> EPSG:25832 on the flat ground (nadir, yaw 0)."""
    m_lat, m_lon = _local_scale(pose.lat)
    d_east = (u - pose.cx) / pose.fx * HEIGHT
    d_north = -(v - pose.cy) / pose.fy * HEIGHT
    lat = pose.lat + math.degrees(d_north / m_lat)
    lon = pose.lon + math.degrees(d_east / m_lon)
    return Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(lon, lat)


def test_control_pixels_are_consistent_with_the_true_poses(sample: tuple[Path, SampleTruth]) -> None:
    folder, truth = sample
    poses = {f.image: f for f in truth.frames}
    for point in truth.points:
        assert len(point.pixels) >= 2, point.name  # every target is seen at least twice
        for image, (u, v) in point.pixels.items():
            east, north = _ground_of_pixel(poses[image], u, v)
            assert math.hypot(east - point.east, north - point.north) < 0.005, (point.name, image)


def test_targets_are_visible_where_the_control_files_say(sample: tuple[Path, SampleTruth]) -> None:
    import cv2

    folder, truth = sample
    for point in truth.points:
        for image, (u, v) in point.pixels.items():
            grey = cv2.imread(str(folder / image), cv2.IMREAD_GRAYSCALE).astype(np.float64)
            c, r = round(u), round(v)
            top_left, top_right = (
                grey[r - 8 : r - 3, c - 8 : c - 3].mean(),
                grey[r - 8 : r - 3, c + 3 : c + 8].mean(),
            )
            bottom_left, bottom_right = (
                grey[r + 3 : r + 8, c - 8 : c - 3].mean(),
                grey[r + 3 : r + 8, c + 3 : c + 8].mean(),
            )
            assert min(top_left, bottom_right) > 200 and max(top_right, bottom_left) < 50, (point.name, image)


def test_control_files_parse_with_roles(sample: tuple[Path, SampleTruth]) -> None:
    folder, truth = sample
    gcps = read_control_file(folder / "gcp_list.txt", "gcp_list.txt")
    checks = read_control_file(folder / "check_points.txt", "check_points.txt")
    assert gcps.crs == checks.crs == "EPSG:25832"
    assert {p.name for p in gcps.points} == {f"GCP{i}" for i in range(1, 9)}
    assert {p.role for p in gcps.points} == {"gcp"}
    assert {p.name: p.role for p in checks.points} == {f"CHK{i}": "check" for i in range(1, 9)}
    truth_by_name = {p.name: p for p in truth.points}
    for point in (*gcps.points, *checks.points):
        t = truth_by_name[point.name]
        assert (point.x, point.y, point.z) == pytest.approx((t.east, t.north, t.z), abs=1e-3)
        assert {o.image for o in point.observations} == set(t.pixels)


def test_thermal_frame_is_a_flir_rjpeg(sample: tuple[Path, SampleTruth]) -> None:
    from flights.flir import read_flir

    folder, _ = sample
    image = read_flir(folder / "DJI_0007_R.JPG")
    raw = np.asarray(image.raw)
    assert raw.shape == (256, 320) and raw.dtype == np.uint16
    assert raw[100:150, 120:200].mean() > raw[:40, :40].mean()  # the warm roof


def test_gcp_layout_gives_the_middle_frames_a_redundant_fit(sample: tuple[Path, SampleTruth]) -> None:
    """DJI_0002 and DJI_0005 see four GCPs (one more than an affine fit needs); the others two."""
    _, truth = sample
    seen = Counter(image for p in truth.points if p.role == "gcp" for image in p.pixels)
    assert seen == {f"DJI_000{i}.JPG": 4 if i in (2, 5) else 2 for i in range(1, 7)}
    checks = Counter(image for p in truth.points if p.role == "check" for image in p.pixels)
    assert checks["DJI_0002.JPG"] == checks["DJI_0005.JPG"] == 6
