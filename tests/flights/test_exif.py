from __future__ import annotations

import csv
import random
import re
import struct
from collections import Counter
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from capture_builders import exif_bytes, find_ifd_entry, gps_ifd, make_jpeg, xmp_packet

from core.errors import MetadataError
from flights.exif import DEFAULT_LOCAL_TZ, read_capture
from flights.models import Capture, FileKind

DJI_POSE = {
    "drone-dji:AbsoluteAltitude": "+98.50",
    "drone-dji:RelativeAltitude": "+60.10",
    "drone-dji:GimbalYawDegree": "-12.30",
    "drone-dji:GimbalPitchDegree": "-89.90",
    "drone-dji:GimbalRollDegree": "+0.00",
    "drone-dji:FlightYawDegree": "-10.00",
    "drone-dji:FlightPitchDegree": "+2.10",
    "drone-dji:FlightRollDegree": "-1.00",
    "drone-dji:FlightXSpeed": "+3.1",
    "drone-dji:FlightYSpeed": "-0.2",
    "drone-dji:FlightZSpeed": "+0.0",
    "drone-dji:RtkFlag": "50",
    "drone-dji:RtkStdLon": "0.012",
    "drone-dji:RtkStdLat": "0.011",
    "drone-dji:RtkStdHgt": "0.025",
    "drone-dji:GpsStatus": "RTK",
    "drone-dji:AltitudeType": "RtkAlt",
    "drone-dji:CalibratedFocalLength": "3666.666504",
    "drone-dji:CalibratedOpticalCenterX": "2736.000000",
    "drone-dji:CalibratedOpticalCenterY": "1824.000000",
    "drone-dji:DewarpData": "2018-09-04;3678.87,3671.84,10.10,27.29,-0.2687,0.1147,1.5e-5,-4.6e-5,-0.0350",
    "drone-dji:DewarpFlag": "0",
    "drone-dji:ImageSource": "WideCamera",
}
IFD0 = {0x010F: "DJI", 0x0110: "FC6310R"}
EXIF = {0x9003: "2024:05:01 10:00:00", 0x920A: 8.8, 0xA405: 24, 0x829A: 0.001}


def _read(path: Path, local_tz: tzinfo = DEFAULT_LOCAL_TZ) -> Capture:
    size = path.stat().st_size
    return read_capture(
        path, path.name, sha256="0" * 64, size=size, kind=FileKind.RGB_FRAME, local_tz=local_tz
    )


def test_full_dji_rtk_frame(tmp_path: Path) -> None:
    path = make_jpeg(
        tmp_path / "DJI_0001.JPG",
        exif=exif_bytes(IFD0, {**EXIF, 0x9011: "+02:00"}, gps_ifd(56.05, 9.93, 98.5)),
        xmp=xmp_packet(DJI_POSE),
    )
    cap = _read(path)
    assert cap.time_utc == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert cap.time_source == "exif+OffsetTimeOriginal"
    assert cap.position is not None
    assert cap.position.lat == pytest.approx(56.05, abs=1e-7)
    assert cap.position.lon == pytest.approx(9.93, abs=1e-7)
    assert cap.position.altitude_m == pytest.approx(98.5)
    assert cap.position.altitude_ref == "ellipsoidal"  # RtkFlag 50 + RtkAlt (REFERENCE §2.5)
    assert (cap.position.absolute_altitude_m, cap.position.relative_altitude_m) == (98.5, 60.1)
    a = cap.attitude
    assert (a.gimbal_yaw, a.gimbal_pitch, a.gimbal_roll) == (-12.3, -89.9, 0.0)
    assert (a.flight_yaw, a.flight_pitch, a.flight_roll, a.source) == (-10.0, 2.1, -1.0, "drone-dji")
    assert cap.rtk.fixed and cap.rtk.std_hgt_m == 0.025 and cap.rtk.gps_status == "RTK"
    assert (cap.velocity.x, cap.velocity.y, cap.velocity.z) == (3.1, -0.2, 0.0)
    cam = cap.camera
    assert (cam.make, cam.model, cam.width, cam.height) == ("DJI", "FC6310R", 64, 48)
    assert (cam.focal_length_mm, cam.focal_length_35mm, cam.exposure_time_s) == (8.8, 24.0, 0.001)
    assert cam.calibrated_focal_px == pytest.approx(3666.666504)
    assert (cam.optical_center_x, cam.optical_center_y, cam.dewarp_flag) == (2736.0, 1824.0, 0)
    assert cam.dewarp_data is not None and cam.dewarp_data.startswith("2018-09-04;3678.87")
    assert (cam.sensor_width_mm, cam.pixel_pitch_um, cam.image_source) == (13.2, 2.412, "WideCamera")
    assert cap.thermal is None


def test_element_form_xmp_and_misspelt_longitude(tmp_path: Path) -> None:
    # no EXIF GPS: position from drone-dji:GpsLatitude / GPSLongtitude (child elements)
    path = make_jpeg(
        tmp_path / "a.jpg",
        exif=exif_bytes(IFD0, EXIF),
        xmp=xmp_packet(
            elements={
                "drone-dji:GpsLatitude": "56.1",
                "drone-dji:GPSLongtitude": "9.8",
                "drone-dji:GimbalPitchDegree": "-45",
            }
        ),
    )
    cap = _read(path)
    assert cap.position is not None
    assert (cap.position.lat, cap.position.lon, cap.position.source) == (56.1, 9.8, "xmp")
    assert cap.attitude.gimbal_pitch == -45.0


def test_below_sea_level_altitude_is_negative(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg", exif=exif_bytes(IFD0, EXIF, gps_ifd(-8.3, 115.5, 29.4, alt_ref=1)))
    cap = _read(path)
    assert cap.position is not None
    assert (cap.position.lat < 0, cap.position.altitude_m, cap.position.altitude_ref) == (
        True,
        -29.4,
        "below_sea_level",
    )


def test_time_from_utc_at_exposure(tmp_path: Path) -> None:
    xmp = xmp_packet({"drone-dji:UTCAtExposure": "2024:05:01 08:00:00.250000"})
    cap = _read(make_jpeg(tmp_path / "a.jpg", exif=exif_bytes(IFD0, EXIF), xmp=xmp))
    assert cap.time_utc == datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)
    assert cap.time_source == "xmp:UTCAtExposure"


def test_time_from_gps_stamp(tmp_path: Path) -> None:
    gps = {**gps_ifd(56.0, 10.0), 7: (7.0, 59.0, 30.5), 0x1D: "2024:05:01"}
    cap = _read(make_jpeg(tmp_path / "a.jpg", exif=exif_bytes(IFD0, EXIF, gps)))
    assert cap.time_utc == datetime(2024, 5, 1, 7, 59, 30, 500000, tzinfo=UTC)
    assert cap.time_source == "exif:GPSDateStamp+GPSTimeStamp"


def test_time_without_offset_assumes_the_local_zone(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg", exif=exif_bytes(IFD0, {**EXIF, 0x9291: "25"}))
    cap = _read(path)
    assert cap.time_utc == datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)  # CEST = UTC+2
    assert cap.time_source == "exif+assumed:Europe/Copenhagen"
    cap = _read(path, local_tz=ZoneInfo("America/Chicago"))
    assert cap.time_utc == datetime(2024, 5, 1, 15, 0, 0, 250000, tzinfo=UTC)
    assert cap.time_source == "exif+assumed:America/Chicago"


def test_no_metadata_at_all(tmp_path: Path) -> None:
    cap = _read(make_jpeg(tmp_path / "a.jpg"))
    assert (cap.time_utc, cap.time_source, cap.position) == (None, "none", None)
    assert cap.camera.width == 64 and cap.attitude.source == "none"


def test_sensefly_camera_and_autopilot_attitude(tmp_path: Path) -> None:
    ns = {"Camera": "http://ns.sensefly.com/Camera/1.0/", "sensefly": "http://ns.sensefly.com/sensefly/1.0/"}
    cam = _read(
        make_jpeg(
            tmp_path / "a.jpg",
            xmp=xmp_packet(
                elements={"Camera:Yaw": "274.9", "Camera:Pitch": "2.5", "Camera:Roll": "6.7"}, namespaces=ns
            ),
        )
    )
    assert (cam.attitude.gimbal_yaw, cam.attitude.gimbal_pitch, cam.attitude.source) == (
        274.9,
        -87.5,
        "camera",
    )
    auto = _read(
        make_jpeg(
            tmp_path / "b.jpg",
            xmp=xmp_packet(
                elements={
                    "sensefly:Heading": "30.4",
                    "sensefly:PitchAngle": "-1.4",
                    "sensefly:RollAngle": "-2.6",
                    "sensefly:UTCTime": "2013-06-04T17:38:09",
                },
                namespaces=ns,
            ),
        )
    )
    assert (auto.attitude.flight_yaw, auto.attitude.flight_pitch, auto.attitude.source) == (
        30.4,
        -1.4,
        "sensefly",
    )
    assert auto.time_utc == datetime(2013, 6, 4, 17, 38, 9, tzinfo=UTC)


# --- bad input ------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.jpg").write_bytes(b"")
    with pytest.raises(MetadataError, match=r"e\.jpg: empty file"):
        _read(tmp_path / "e.jpg")


def test_truncated_jpeg_in_scan_data(tmp_path: Path) -> None:
    data = make_jpeg(tmp_path / "full.jpg", exif=exif_bytes(IFD0, EXIF)).read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) - 200])
    with pytest.raises(MetadataError, match=r"t\.jpg: truncated JPEG: no end-of-image"):
        _read(tmp_path / "t.jpg")


def test_truncated_jpeg_in_header(tmp_path: Path) -> None:
    data = make_jpeg(tmp_path / "full.jpg", exif=exif_bytes(IFD0, EXIF)).read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[:40])
    with pytest.raises(MetadataError, match=r"t\.jpg: truncated JPEG"):
        _read(tmp_path / "t.jpg")


@pytest.mark.parametrize("tag", [0x8769, 0x8825])
def test_exif_ifd_offset_outside_the_file(tmp_path: Path, tag: int) -> None:
    blob = bytearray(exif_bytes(IFD0, EXIF, gps_ifd(56.0, 10.0)))
    entry = 6 + find_ifd_entry(bytes(blob[6:]), tag)
    e = "<" if blob[6:8] == b"II" else ">"
    blob[entry + 8 : entry + 12] = struct.pack(e + "I", 0x7FFF0000)
    path = make_jpeg(tmp_path / "bad.jpg", exif=bytes(blob))
    with pytest.raises(MetadataError, match=r"bad\.jpg: EXIF: offset 2147418112 .* lies outside"):
        _read(path)


def test_exif_value_offset_outside_the_file(tmp_path: Path) -> None:
    blob = bytearray(exif_bytes({0x010F: "A long make string", 0x0110: "M"}))
    entry = 6 + find_ifd_entry(bytes(blob[6:]), 0x010F)
    e = "<" if blob[6:8] == b"II" else ">"
    blob[entry + 8 : entry + 12] = struct.pack(e + "I", 60000)
    with pytest.raises(MetadataError, match="lies outside"):
        _read(make_jpeg(tmp_path / "bad.jpg", exif=bytes(blob)))


def test_non_image_with_image_extension(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("this is a text file\n")
    with pytest.raises(MetadataError, match=r"notes\.jpg: not a JPEG, TIFF or FLIR file"):
        _read(tmp_path / "notes.jpg")


def test_xmp_billion_laughs(tmp_path: Path) -> None:
    xmp = xmp_packet(
        DJI_POSE, prolog='<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    )
    with pytest.raises(MetadataError, match="XMP packet refused"):
        _read(make_jpeg(tmp_path / "bomb.jpg", xmp=xmp))


def test_xmp_external_entity(tmp_path: Path) -> None:
    xmp = xmp_packet(prolog='<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(MetadataError, match="XMP packet refused"):
        _read(make_jpeg(tmp_path / "xxe.jpg", xmp=xmp))


@pytest.mark.parametrize(
    "key", ["drone-dji:GimbalPitchDegree", "drone-dji:RelativeAltitude", "drone-dji:RtkFlag"]
)
def test_xmp_malformed_number(tmp_path: Path, key: str) -> None:
    xmp = xmp_packet({**DJI_POSE, key: "abc"})
    with pytest.raises(MetadataError, match=rf"n\.jpg: XMP {key}='abc' is not a number"):
        _read(make_jpeg(tmp_path / "n.jpg", exif=exif_bytes(IFD0, EXIF), xmp=xmp))


def test_malformed_date_is_a_metadata_problem_not_a_broken_file(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "d.jpg", exif=exif_bytes(IFD0, {0x9003: "2024:13:45 99:00:00"}))
    capture = _read(path)
    assert capture.time_utc is None
    why = "month must be in 1..12"
    assert capture.time_source == f"implausible: DateTimeOriginal '2024:13:45 99:00:00': {why}"


def _tiff(path: Path, width: int, height: int) -> Path:
    entries = [(0x0100, 4, 1, width), (0x0101, 4, 1, height), (0x0102, 3, 1, 8), (0x0115, 3, 1, 1)]
    body = struct.pack("<2sHI", b"II", 42, 8) + struct.pack("<H", len(entries))
    for tag, typ, n, value in entries:
        body += struct.pack("<HHII", tag, typ, n, value)
    path.write_bytes(body + struct.pack("<I", 0))
    return path


def test_tiff_with_absurd_dimensions(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match=r"huge\.tif: absurd image size 4000000000x3"):
        _read(_tiff(tmp_path / "huge.tif", 4_000_000_000, 3))
    with pytest.raises(MetadataError, match="absurd image size 0x10"):
        _read(_tiff(tmp_path / "zero.tif", 0, 10))


def test_tiff_frame_reads_size(tmp_path: Path) -> None:
    cap = _read(_tiff(tmp_path / "ok.tif", 640, 512))
    assert (cap.camera.width, cap.camera.height) == (640, 512)


# --- reference values: the agung exiftool CSV ---------------------------------------

_DMS = re.compile(r"""(\d+) deg (\d+)' ([\d.]+)" ([NSEW])""")


def _dms(text: str) -> float:
    m = _DMS.fullmatch(text)
    assert m, text
    value = int(m.group(1)) + int(m.group(2)) / 60 + float(m.group(3)) / 3600
    return -value if m.group(4) in "SW" else value


def test_agung_1_frames_match_the_published_exiftool_csv(data_dir: Path) -> None:
    folder = data_dir / "drone_testdata_agung_1"
    rows = {r["FileName"]: r for r in csv.DictReader((folder / "image_metadata.csv").open())}
    frames = sorted((folder / "images").glob("*.JPG"))
    assert len(frames) == 3
    for path in frames:
        row, cap = rows[path.name], _read(path)
        assert cap.position is not None
        # the CSV prints seconds with 2 decimals: 0.005" = 1.4e-6 degrees
        assert cap.position.lat == pytest.approx(_dms(row["GPSLatitude"]), abs=1.5e-6)
        assert cap.position.lon == pytest.approx(_dms(row["GPSLongitude"]), abs=1.5e-6)
        naive = datetime.strptime(row["DateTimeOriginal"], "%Y:%m:%d %H:%M:%S")
        assert cap.time_utc == naive.replace(tzinfo=ZoneInfo("Europe/Copenhagen")).astimezone(UTC)
        expect_abs = float(row["AbsoluteAltitude"]) if row["AbsoluteAltitude"] else None
        assert cap.position.absolute_altitude_m == expect_abs
        expect_pitch = float(row["GimbalPitchDegree"]) if row["GimbalPitchDegree"] else None
        assert cap.attitude.gimbal_pitch == expect_pitch
        expect_yaw = float(row["FlightYawDegree"]) if row["FlightYawDegree"] else None
        assert cap.attitude.flight_yaw == expect_yaw


def test_agung_2_value_conventions_round_trip(data_dir: Path, tmp_path: Path) -> None:
    """Rows of the 1817-frame CSV (and every injected fault) written as EXIF/XMP read back equal."""
    folder = data_dir / "drone_testdata_agung_2"
    rows = list(csv.DictReader((folder / "image_metadata.csv").open()))
    assert len(rows) == 1817
    issues = list(csv.DictReader((folder / "issue_image_metadata.csv").open()))
    for i, row in enumerate(rows[::60] + issues):
        gps = gps_ifd(_dms(row["GPSLatitude"]), _dms(row["GPSLongitude"])) if row["GPSLatitude"] else None
        attrs = {
            f"drone-dji:{k}": row[k]
            for k in ("AbsoluteAltitude", "GimbalPitchDegree", "FlightYawDegree")
            if row[k]
        }
        path = make_jpeg(
            tmp_path / f"{i}.jpg",
            exif=exif_bytes(IFD0, {0x9003: row["DateTimeOriginal"]}, gps),
            xmp=xmp_packet(attrs),
        )
        cap = _read(path)
        if gps is None:
            assert cap.position is None, row["FileName"]
            continue
        assert cap.position is not None
        assert cap.position.lat == pytest.approx(_dms(row["GPSLatitude"]), abs=1e-7)
        assert cap.position.lon == pytest.approx(_dms(row["GPSLongitude"]), abs=1e-7)
        if row["AbsoluteAltitude"]:
            assert cap.position.absolute_altitude_m == float(row["AbsoluteAltitude"])
        if row["GimbalPitchDegree"]:
            assert cap.attitude.gimbal_pitch == float(row["GimbalPitchDegree"])


def test_broken_flir_segments(tmp_path: Path) -> None:
    # chunk 0 of 2 only: the FFF payload is incomplete
    flir = b"FLIR\x00\x01\x00\x01" + b"FFF\x00" + bytes(60)
    path = make_jpeg(tmp_path / "ir.jpg", exif=exif_bytes({0x010F: "FLIR Systems AB"}), extra=[(0xE1, flir)])
    with pytest.raises(MetadataError, match=r"ir\.jpg: FLIR metadata: .*missing") as raised:
        _read(path)
    assert str(raised.value).count(str(path)) == 1  # the file is named once


def test_fff_without_gps_or_time(data_dir: Path) -> None:
    path = data_dir / "flirpy/test/test_data/frame_000000_le.fff"
    cap = _read(path)
    assert cap.position is None
    assert cap.time_source == "flir+assumed:Europe/Copenhagen"  # zone field 0 = unknown
    assert cap.thermal is not None and cap.thermal.format == "flir-fff"
    assert (cap.thermal.raw_width, cap.thermal.raw_height) == (320, 240)


def test_dng_size_comes_from_the_full_resolution_sub_ifd(tmp_path: Path) -> None:
    # IFD0: a 256x171 preview with DNGVersion and SubIFDs -> SubIFD (NewSubfileType 0) 5472x3648
    sub_at = 8 + 2 + 12 * 5 + 4
    ifd0 = [
        (0x0100, 4, 1, struct.pack("<I", 256)),
        (0x0101, 4, 1, struct.pack("<I", 171)),
        (0x010F, 2, 4, b"DJI\x00"),
        (0x014A, 4, 1, struct.pack("<I", sub_at)),
        (0xC612, 1, 4, bytes([1, 4, 0, 0])),
    ]
    sub = [
        (0x00FE, 4, 1, struct.pack("<I", 0)),
        (0x0100, 4, 1, struct.pack("<I", 5472)),
        (0x0101, 4, 1, struct.pack("<I", 3648)),
    ]
    data = struct.pack("<2sHI", b"II", 42, 8) + struct.pack("<H", len(ifd0))
    data += b"".join(struct.pack("<HHI", t, ty, n) + f for t, ty, n, f in ifd0) + struct.pack("<I", 0)
    data += struct.pack("<H", len(sub)) + b"".join(struct.pack("<HHI", t, ty, n) + f for t, ty, n, f in sub)
    (tmp_path / "DJI_0001.DNG").write_bytes(data + struct.pack("<I", 0))
    cap = _read(tmp_path / "DJI_0001.DNG")
    assert (cap.camera.make, cap.camera.width, cap.camera.height) == ("DJI", 5472, 3648)


def test_dji_rjpeg_raw_size_from_the_sensor_registry(data_dir: Path) -> None:
    path = data_dir / "thermal_parser/images/M30T/DJI_0001_R.JPG"
    cap = read_capture(path, path.name, sha256="0", size=1, kind=FileKind.THERMAL_FRAME)
    assert (cap.camera.width, cap.camera.height) == (1280, 1024)  # the JPEG
    assert cap.thermal is not None and (cap.thermal.raw_width, cap.thermal.raw_height) == (640, 512)


def test_generated_sample_flight_reads_back_its_truth(tmp_path: Path) -> None:
    from flights.classify import classify
    from flights.sample import make_sample_flight

    truth = make_sample_flight(tmp_path / "sample")
    assert truth.frames
    for pose in truth.frames:
        path = tmp_path / "sample" / pose.image
        kind = classify(path)
        assert kind.value == pose.kind
        cap = read_capture(path, pose.image, sha256="0", size=1, kind=kind)
        assert cap.time_utc == pose.time_utc and cap.time_source == "exif+OffsetTimeOriginal"
        assert cap.position is not None
        assert cap.position.lat == pytest.approx(pose.lat, abs=1e-7)
        assert cap.position.lon == pytest.approx(pose.lon, abs=1e-7)
        assert cap.position.absolute_altitude_m == pytest.approx(pose.ellipsoidal_height_m, abs=1e-3)
        assert cap.position.relative_altitude_m == pytest.approx(pose.relative_altitude_m, abs=1e-3)
        assert cap.attitude.gimbal_pitch == pytest.approx(pose.gimbal_pitch, abs=0.01)
        assert cap.attitude.gimbal_yaw == pytest.approx(pose.gimbal_yaw, abs=0.01)
        assert (cap.camera.width, cap.camera.height) == (pose.width, pose.height)
    assert classify(tmp_path / "sample" / "gcp_list.txt").value == "control"


@pytest.mark.parametrize(
    "rel",
    [
        "webodm_fixtures/app/fixtures/tiny_drone_image.jpg",  # EXIF + senseFly XMP
        "thermal_parser/images/DJI_H20T.jpg",  # DJI XMP + APP3 thermal
        "thermal_parser/images/FLIR_E40.jpg",  # FLIR FFF segments
        "webodm_fixtures/app/fixtures/tiny_drone_image_multispec.tif",  # TIFF with XMP
    ],
)
def test_mutated_headers_raise_only_metadata_errors(data_dir: Path, tmp_path: Path, rel: str) -> None:
    """Random byte flips and cuts in the header: a Capture or a MetadataError, nothing else."""
    from flights.classify import classify

    rng = random.Random(rel)
    original = (data_dir / rel).read_bytes()
    path = tmp_path / ("f" + Path(rel).suffix)
    outcomes: Counter[str] = Counter()
    for _ in range(150):
        data = bytearray(original)
        span = min(len(data), rng.choice([600, 3000, 20000, 70000]))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(2, span)] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        path.write_bytes(bytes(data))
        assert isinstance(classify(path), FileKind)  # classify never raises
        try:
            _read(path)
            outcomes["read"] += 1
        except MetadataError:
            outcomes["error"] += 1
    assert outcomes["read"] > 0 and outcomes["error"] > 0


def test_thermal_formats(tmp_path: Path) -> None:
    tif = _tiff(tmp_path / "IR.tif", 640, 512)
    cap = read_capture(tif, "IR.tif", sha256="0", size=1, kind=FileKind.THERMAL_FRAME)
    assert cap.thermal is not None and cap.thermal.format == "radiometric-tiff"
    xmp = xmp_packet({"drone-dji:ImageSource": "InfraredCamera"})
    jpg = make_jpeg(tmp_path / "T.JPG", exif=exif_bytes(IFD0), xmp=xmp)
    cap = read_capture(jpg, "T.JPG", sha256="0", size=1, kind=FileKind.THERMAL_FRAME)
    assert cap.thermal is not None and cap.thermal.format is None  # no radiometric block found
    assert cap.camera.image_source == "InfraredCamera"
