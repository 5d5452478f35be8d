from __future__ import annotations

import csv
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from core.errors import AreaError
from flights import checks
from flights.aoi import load_area, load_municipality
from flights.checks import CheckContext
from flights.models import (
    Attitude,
    CameraInfo,
    Capture,
    ControlFile,
    ControlPoint,
    FileKind,
    ImageQuality,
    PixelObservation,
    Position,
    Purpose,
    Rtk,
    Severity,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SKANDERBORG = (56.04, 9.93)
AARHUS = (56.15, 10.20)


def cap(
    lat: float | None = 56.04,
    lon: float | None = 9.93,
    *,
    pitch: float | None = -90.0,
    make: str = "DJI",
    time: datetime | None = datetime(2026, 5, 1, 10, tzinfo=UTC),
    time_source: str = "exif+OffsetTimeOriginal",
    rtk: int | None = None,
    quality: ImageQuality | None = None,
    kind: FileKind = FileKind.RGB_FRAME,
    path: str = "DJI_0001.JPG",
) -> Capture:
    return Capture(
        path=path,
        sha256="0" * 64,
        size=1,
        kind=kind,
        time_utc=time,
        time_source=time_source,
        position=Position(lat=lat, lon=lon) if lat is not None and lon is not None else None,
        attitude=Attitude(gimbal_pitch=pitch, source="drone-dji"),
        rtk=Rtk(flag=rtk),
        camera=CameraInfo(make=make, model="FC6310"),
        quality=quality,
    )


def ctx(purpose: Purpose = Purpose.SURVEY, **kw: object) -> CheckContext:
    return CheckContext(purpose=purpose, now=NOW, blur_threshold=kw.pop("blur", 15.0), **kw)  # type: ignore[arg-type]


def codes(capture: Capture, context: CheckContext | None = None) -> list[str]:
    return [p.code for p in checks.check_capture(capture, context or ctx())]


def test_a_good_frame_has_no_problem() -> None:
    assert codes(cap()) == []


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (None, None, "no_gps"),
        (90.5, 9.9, "invalid_coordinates"),
        (-91.0, 9.9, "invalid_coordinates"),
        (56.0, 180.01, "invalid_coordinates"),
        (56.0, -325.0, "invalid_coordinates"),
        (0.0, 0.0, "invalid_coordinates"),
        (math.nan, 9.9, "invalid_coordinates"),
        (90.0, 180.0, None),
        (0.0, 9.9, None),
    ],
)
def test_position_rules(lat: float | None, lon: float | None, code: str | None) -> None:
    found = checks.check_capture(cap(lat, lon), ctx())
    position_codes = [p for p in found if p.code in ("no_gps", "invalid_coordinates")]
    if code is None:
        assert position_codes == []
    else:
        assert [p.code for p in position_codes] == [code]
        assert position_codes[0].severity == Severity.ERROR
        assert "DJI_0001.JPG" in position_codes[0].message


@pytest.mark.parametrize(
    ("pitch", "purpose", "expected"),
    [
        (30.0, Purpose.SURVEY, ["gimbal_above_horizon"]),
        (0.0, Purpose.NATURE_MONITORING, ["gimbal_above_horizon"]),
        (-5.0, Purpose.SURVEY, ["gimbal_near_horizon"]),
        (-14.9, Purpose.OTHER, ["gimbal_near_horizon"]),
        (-45.0, Purpose.SURVEY, []),
        (-90.0, Purpose.SURVEY, []),
        (10.0, Purpose.BUILDING_INSPECTION, []),  # facades are shot at the horizon on purpose
    ],
)
def test_gimbal_rules(pitch: float, purpose: Purpose, expected: list[str]) -> None:
    assert codes(cap(pitch=pitch), ctx(purpose)) == expected


def test_gimbal_missing_only_for_dji_frames() -> None:
    assert codes(cap(pitch=None)) == ["gimbal_missing"]
    assert codes(cap(pitch=None, make="Canon")) == []
    assert codes(cap(pitch=None), ctx(Purpose.BUILDING_INSPECTION)) == []


def test_time_rules_use_the_injected_clock() -> None:
    assert codes(cap(time=None)) == ["time_missing"]
    future = NOW + timedelta(hours=1)
    assert codes(cap(time=future)) == ["time_in_future"]
    # an assumed zone can be wrong by hours: only far-future times are flagged
    assert codes(cap(time=future, time_source="exif+assumed:Europe/Copenhagen")) == []
    assert codes(cap(time=NOW + timedelta(days=2), time_source="exif+assumed:Europe/Copenhagen")) == [
        "time_in_future"
    ]
    later = CheckContext(purpose=Purpose.SURVEY, now=NOW + timedelta(days=1), blur_threshold=15.0)
    assert codes(cap(time=future), later) == []


def test_rtk_rule() -> None:
    assert codes(cap(rtk=50)) == []
    assert codes(cap(rtk=None)) == []
    found = checks.check_capture(cap(rtk=16), ctx())
    assert [p.code for p in found] == ["rtk_not_fixed"]
    assert "16" in found[0].message


def q(blur: float = 500.0, mean: float = 120.0, dark: float = 0.0, sat: float = 0.0) -> ImageQuality:
    return ImageQuality(
        blur_score=blur,
        mean_brightness=mean,
        dark_fraction=dark,
        saturated_fraction=sat,
        decoded_width=100,
        decoded_height=75,
    )


@pytest.mark.parametrize(
    ("quality", "expected"),
    [
        (q(), []),
        (q(blur=3.0, mean=1.5, dark=1.0), ["black_frame"]),
        (q(mean=20.0, dark=0.3), ["underexposed"]),
        (q(mean=245.0, sat=0.7), ["overexposed"]),
        (q(blur=8.1), ["blurry"]),
    ],
)
def test_quality_rules(quality: ImageQuality, expected: list[str]) -> None:
    assert codes(cap(quality=quality)) == expected


def test_blur_threshold_is_configurable() -> None:
    frame = cap(quality=q(blur=40.0))
    assert codes(frame, ctx(blur=15.0)) == []
    assert codes(frame, ctx(blur=60.0)) == ["blurry"]
    assert "60" in checks.check_capture(frame, ctx(blur=60.0))[0].message


def test_quality_rules_skip_thermal_frames() -> None:
    assert codes(cap(quality=q(blur=1.0), kind=FileKind.THERMAL_FRAME)) == []


@pytest.fixture(scope="module")
def skanderborg(data_dir: Path) -> shapely.Geometry:
    return load_municipality(data_dir / "dagi_neogeografen" / "geojson" / "kommuner.geojson")


def test_municipality_loaded_by_code(skanderborg: shapely.Geometry) -> None:
    minx, miny, maxx, maxy = skanderborg.bounds
    assert (round(minx, 2), round(miny, 2), round(maxx, 2), round(maxy, 2)) == (9.63, 55.95, 10.09, 56.22)
    inside = ctx(municipality=skanderborg)
    assert codes(cap(*SKANDERBORG), inside) == []
    assert codes(cap(*AARHUS), inside) == ["outside_municipality"]


def test_unknown_municipality_code(data_dir: Path) -> None:
    with pytest.raises(AreaError, match="9999"):
        load_municipality(data_dir / "dagi_neogeografen" / "geojson" / "kommuner.geojson", "9999")


@pytest.mark.parametrize("driver", ["GeoJSON", "GPKG"])
def test_aoi_in_any_crs_is_reprojected(tmp_path: Path, driver: str) -> None:
    import geopandas as gpd

    box = shapely.box(557_000, 6_211_000, 559_000, 6_213_000)  # EPSG:25832 around Skanderborg
    path = tmp_path / ("aoi.geojson" if driver == "GeoJSON" else "aoi.gpkg")
    gpd.GeoDataFrame({"name": ["aoi"]}, geometry=[box], crs="EPSG:25832").to_file(path, driver=driver)
    aoi = load_area(path)
    assert codes(cap(56.05, 9.93), ctx(aoi=aoi)) == []
    found = checks.check_capture(cap(56.10, 9.93), ctx(aoi=aoi))
    assert [p.code for p in found] == ["outside_aoi"]
    assert found[0].severity == Severity.WARNING


def test_area_file_errors(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "x.geojson").write_text("{broken")
    with pytest.raises(AreaError, match=r"x\.geojson"):
        load_area(tmp_path / "x.geojson")
    with pytest.raises(AreaError, match="no polygon"):
        load_area(data_dir / "drone_testdata_agung_1" / "images.gpkg")  # points only


def test_duplicates_and_duplicate_names() -> None:
    files = [("a/DJI_1.JPG", "h1"), ("b/DJI_1.JPG", "h2"), ("c/x.JPG", "h1"), ("d/y.JPG", "")]
    dups = checks.duplicates(files)
    assert list(dups) == ["c/x.JPG"]
    assert "a/DJI_1.JPG" in dups["c/x.JPG"].message
    names = checks.duplicate_names(files)
    assert sorted(names) == ["a/DJI_1.JPG", "b/DJI_1.JPG"]
    assert checks.duplicate_names([("a/x.JPG", "h"), ("b/x.JPG", "h")]) == {}  # same content: a duplicate


def test_mixed_cameras() -> None:
    one = [cap(), cap(path="b.JPG")]
    assert checks.mixed_cameras(one) == []
    other = cap(path="c.JPG").model_copy(update={"camera": CameraInfo(make="DJI", model="FC300S")})
    found = checks.mixed_cameras([*one, other])
    assert [p.code for p in found] == ["mixed_cameras"]
    assert "FC300S" in found[0].message and found[0].file == "."
    thermal = cap(path="t.JPG", kind=FileKind.THERMAL_FRAME).model_copy(
        update={"camera": CameraInfo(model="XT2")}
    )
    assert checks.mixed_cameras([*one, thermal]) == []


def test_control_files_naming_images() -> None:
    def control(*images: str) -> ControlFile:
        obs = tuple(PixelObservation(image=i, col=1, row=1) for i in images)
        point = ControlPoint(name="GCP1", x=1, y=2, crs="EPSG:25832", observations=obs)
        return ControlFile(path="gcp_list.txt", format="odm", points=(point,))

    frames = {"DJI_0001.JPG", "DJI_0002.JPG"}
    assert checks.check_control(control("dji_0001.jpg"), frames) == []
    assert [p.code for p in checks.check_control(control("DJI_0001.JPG", "X.JPG"), frames)] == [
        "control_unknown_image"
    ]
    found = checks.check_control(control("X.JPG"), frames)
    assert [(p.code, p.severity) for p in found] == [("control_no_image", Severity.ERROR)]
    assert [p.severity for p in checks.check_control(control("X.JPG"), set())] == [Severity.INFO]


# agung_2: exiftool CSVs of a real mission with injected faults (drone_testdata_agung_2/SOURCES)
DMS = re.compile(r"(\d+) deg (\d+)' ([\d.]+)\" ([NSEW])")
FAULT_CODES = {
    "GIMBAL_UP": "gimbal_above_horizon",
    "GIMBAL_HORIZON": "gimbal_above_horizon",
    "FAR_AWAY": "outside_aoi",
    "INVALID_COORD": "invalid_coordinates",
    "MISSING_COORDS": "no_gps",
    "MISSING_GIMBAL": "gimbal_missing",
}


def _deg(text: str) -> float | None:
    m = DMS.match(text)
    if not m:
        return None
    value = int(m[1]) + int(m[2]) / 60 + float(m[3]) / 3600
    return -value if m[4] in "SW" else value


def _agung_captures(csv_path: Path) -> list[Capture]:
    out = []
    with open(csv_path, newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["FileName"].upper().endswith(".JPG"):
                continue
            t = datetime.strptime(row["DateTimeOriginal"], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
            pitch = float(row["GimbalPitchDegree"]) if row["GimbalPitchDegree"] else None
            out.append(
                cap(
                    _deg(row["GPSLatitude"]),
                    _deg(row["GPSLongitude"]),
                    pitch=pitch,
                    time=t,
                    path=row["FileName"],
                )
            )
    return out


def test_agung_2_injected_faults_are_all_flagged(data_dir: Path) -> None:
    folder = data_dir / "drone_testdata_agung_2"
    aoi = load_area(folder / "aoi.geojson")
    context = ctx(Purpose.SURVEY, aoi=aoi)
    faulty = _agung_captures(folder / "issue_image_metadata.csv")
    assert len(faulty) == 23
    for frame in faulty:
        fault = re.search(r"_D_([A-Z_]+)\.JPG$", frame.path)
        assert fault is not None
        expected = FAULT_CODES.get(fault[1])
        if expected is not None:  # DUP, LENS_CAP and POOR_SHARPNESS need the pixels or the hashes
            assert expected in codes(frame, context), frame.path


def test_agung_2_mission_frames_raise_no_position_or_gimbal_error(data_dir: Path) -> None:
    folder = data_dir / "drone_testdata_agung_2"
    context = ctx(Purpose.SURVEY, aoi=load_area(folder / "aoi.geojson"))
    frames = _agung_captures(folder / "image_metadata.csv")
    assert len(frames) == 1817
    errors = [
        (f.path, p.code) for f in frames for p in checks.check_capture(f, context) if p.severity == "error"
    ]
    assert errors == []
    assert [f.path for f in frames if "outside_aoi" in codes(f, context)] == []


def test_no_gps_is_a_warning_for_frames_a_control_file_observes() -> None:
    context = CheckContext(
        purpose=Purpose.SURVEY, now=NOW, blur_threshold=15.0, control_images=frozenset({"img_0031.jpg"})
    )
    found = checks.check_capture(cap(None, None, path="images/IMG_0031.jpg"), context)
    assert [(p.code, p.severity) for p in found] == [("no_gps", Severity.WARNING)]
    other = checks.check_capture(cap(None, None, path="images/IMG_0099.jpg"), context)
    assert [(p.code, p.severity) for p in other] == [("no_gps", Severity.ERROR)]
