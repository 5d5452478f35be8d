"""FLIR R-JPEG / FFF parsing: real samples against exiftool, synthetic files, malformed files."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core.errors import ThermalError
from flights.exif import read_capture
from flights.flir import FFF_MAGIC, extract_fff, is_flir, read_flir, read_flir_file, read_flir_metadata
from flights.flir_synth import build_fff, flir_app1_segments, make_flir_rjpeg
from flights.models import FileKind, ThermalParameters
from tests.samples import FLIR_SAMPLES

# our field -> (exiftool -n tag, conversion of exiftool's value to ours)
EXIFTOOL_FIELDS = {
    "planck_r1": ("PlanckR1", 1.0),
    "planck_r2": ("PlanckR2", 1.0),
    "planck_b": ("PlanckB", 1.0),
    "planck_f": ("PlanckF", 1.0),
    "planck_o": ("PlanckO", 1.0),
    "emissivity": ("Emissivity", 1.0),
    "object_distance_m": ("ObjectDistance", 1.0),
    "reflected_temp_c": ("ReflectedApparentTemperature", 1.0),
    "atmospheric_temp_c": ("AtmosphericTemperature", 1.0),
    "ir_window_temp_c": ("IRWindowTemperature", 1.0),
    "ir_window_transmission": ("IRWindowTransmission", 1.0),
    "relative_humidity_pct": ("RelativeHumidity", 100.0),  # exiftool -n: a fraction
    "ata1": ("AtmosphericTransAlpha1", 1.0),
    "ata2": ("AtmosphericTransAlpha2", 1.0),
    "atb1": ("AtmosphericTransBeta1", 1.0),
    "atb2": ("AtmosphericTransBeta2", 1.0),
    "atx": ("AtmosphericTransX", 1.0),
    "raw_width": ("RawThermalImageWidth", 1.0),
    "raw_height": ("RawThermalImageHeight", 1.0),
}

PARAMS = ThermalParameters(
    planck_r1=21106.77,
    planck_r2=0.012545258,
    planck_b=1501.0,
    planck_f=1.0,
    planck_o=-7340.0,
    emissivity=0.95,
    object_distance_m=12.0,
    reflected_temp_c=5.0,
    atmospheric_temp_c=7.0,
    ir_window_temp_c=7.0,
    ir_window_transmission=1.0,
    relative_humidity_pct=80.0,
)


def _exiftool(path: Path) -> dict[str, float]:
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is required by the FLIR tests (Debian package libimage-exiftool-perl)")
    out = subprocess.run(["exiftool", "-n", "-j", str(path)], capture_output=True, check=True, timeout=60)
    result: dict[str, float] = json.loads(out.stdout)[0]
    return result


def _exiftool_raw(path: Path, kind: str) -> np.ndarray:
    """exiftool's RawThermalImage decoded independently (PNG byte-swapped, TIFF as is)."""
    import cv2

    out = subprocess.run(
        ["exiftool", "-b", "-RawThermalImage", str(path)], capture_output=True, check=True, timeout=60
    )
    image = cv2.imdecode(np.frombuffer(out.stdout, np.uint8), cv2.IMREAD_UNCHANGED)
    return image.byteswap() if kind == "PNG" else image


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_parameters_match_exiftool(data_dir: Path, name: str) -> None:
    path = data_dir / name
    params = read_flir_metadata(path)
    ref = _exiftool(path)
    for field, (tag, factor) in EXIFTOOL_FIELDS.items():
        assert getattr(params, field) == pytest.approx(float(ref[tag]) * factor, rel=1e-9, abs=1e-9), field
    assert params.format == "flir-fff"


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_raw_pixels_match_exiftool(data_dir: Path, name: str) -> None:
    path = data_dir / name
    image = read_flir(path)
    ref = _exiftool_raw(path, _exiftool(path)["RawThermalImageType"])
    assert image.raw.dtype == np.uint16
    assert image.raw.shape == (image.params.raw_height, image.params.raw_width)
    np.testing.assert_array_equal(image.raw, ref)
    assert read_flir(path.read_bytes()).raw.tobytes() == image.raw.tobytes()


def test_ir_2412_published_raw_value(data_dir: Path) -> None:
    image = read_flir(data_dir / "thermimage/inst/extdata/IR_2412.jpg")
    assert image.raw[0, 0] == 18090
    assert image.params.planck_r1 == pytest.approx(21106.77, abs=1e-3)


def test_dji_tsdk_files_are_not_flir(data_dir: Path) -> None:
    path = data_dir / "thermal_parser/images/DJI_H20T.jpg"
    assert not is_flir(path.read_bytes())
    with pytest.raises(ThermalError, match=r"DJI_H20T\.jpg: no FLIR APP1 segments"):
        read_flir(path)


@pytest.mark.parametrize("png", [True, False])
def test_synthetic_rjpeg_round_trip(png: bool) -> None:
    raw = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 13 % 20000 + 9000).astype(np.uint16)
    segments = flir_app1_segments(raw, PARAMS, png=png)
    assert all(s.startswith(b"\xff\xe1") and s[4:9] == b"FLIR\x00" for s in segments)
    image = read_flir(make_flir_rjpeg(raw, PARAMS))
    np.testing.assert_array_equal(image.raw, raw)
    assert image.params.emissivity == pytest.approx(0.95, rel=1e-6)
    assert image.params.reflected_temp_c == pytest.approx(5.0, abs=1e-4)
    assert image.params.relative_humidity_pct == pytest.approx(80.0, rel=1e-6)
    assert image.params.planck_o == -7340.0


def test_synthetic_multi_chunk_is_read_by_exiftool(tmp_path: Path) -> None:
    raw = np.random.default_rng(1).integers(8000, 30000, (240, 320), dtype=np.uint16)
    path = tmp_path / "synthetic.jpg"
    path.write_bytes(make_flir_rjpeg(raw, PARAMS))
    assert len(flir_app1_segments(raw, PARAMS)) > 1
    ref = _exiftool(path)
    assert ref["PlanckR1"] == pytest.approx(21106.77, rel=1e-6)
    assert ref["ObjectDistance"] == pytest.approx(12.0)
    np.testing.assert_array_equal(_exiftool_raw(path, ref["RawThermalImageType"]), raw)


# --- malformed files -------------------------------------------------------------------------


def _rjpeg_with(segments: list[bytes]) -> bytes:
    return b"\xff\xd8" + b"".join(segments) + b"\xff\xda\x00\x02" + b"\x00" * 16 + b"\xff\xd9"


@pytest.fixture
def big_raw() -> np.ndarray:
    return np.random.default_rng(2).integers(0, 65535, (240, 320), dtype=np.uint16)


def test_missing_segment_fails(tmp_path: Path, big_raw: np.ndarray) -> None:
    segments = flir_app1_segments(big_raw, PARAMS, png=False)
    assert len(segments) >= 3
    path = tmp_path / "missing.jpg"
    path.write_bytes(_rjpeg_with(segments[:1] + segments[2:]))
    with pytest.raises(ThermalError, match=r"missing\.jpg: FLIR segment 2 found where segment 1"):
        read_flir(path)
    path.write_bytes(_rjpeg_with(segments[:-1]))
    with pytest.raises(ThermalError, match=r"missing\.jpg: FLIR segments missing"):
        read_flir(path)


def test_out_of_order_and_duplicated_segments_fail(tmp_path: Path, big_raw: np.ndarray) -> None:
    segments = flir_app1_segments(big_raw, PARAMS, png=False)
    path = tmp_path / "order.jpg"
    path.write_bytes(_rjpeg_with([segments[1], segments[0], *segments[2:]]))
    with pytest.raises(ThermalError, match=r"order\.jpg: .*out of order"):
        read_flir(path)
    path.write_bytes(_rjpeg_with([segments[0], *segments]))
    with pytest.raises(ThermalError, match=r"order\.jpg: .*duplicated"):
        read_flir_metadata(path)


def test_truncated_fff_fails(tmp_path: Path, big_raw: np.ndarray) -> None:
    fff = build_fff(big_raw, PARAMS, png=False)
    path = tmp_path / "cut.fff"
    path.write_bytes(fff[: len(fff) // 2])
    with pytest.raises(ThermalError, match=r"cut\.fff: truncated FFF"):
        read_flir(path)
    path.write_bytes(fff[:40])
    with pytest.raises(ThermalError, match=r"cut\.fff: FFF header missing or truncated"):
        read_flir(path)


def test_real_fff_truncated_fails(tmp_path: Path, data_dir: Path) -> None:
    data = (data_dir / "flirpy/test/test_data/frame_000000.fff").read_bytes()
    path = tmp_path / "frame_cut.fff"
    path.write_bytes(data[:300_000])
    with pytest.raises(ThermalError, match=r"frame_cut\.fff: truncated FFF"):
        read_flir(path)


def test_missing_planck_constants_fail(tmp_path: Path) -> None:
    raw = np.full((8, 8), 15000, dtype=np.uint16)
    fff = bytearray(build_fff(raw, PARAMS, png=False))
    camera_offset = struct.unpack_from(">I", fff, 0x40 + 32 + 12)[0]
    struct.pack_into(">f", fff, camera_offset + 0x58, 0.0)  # PlanckR1 = 0
    path = tmp_path / "noplanck.fff"
    path.write_bytes(bytes(fff))
    with pytest.raises(ThermalError, match=r"noplanck\.fff: missing Planck constants: planck_r1"):
        read_flir(path)
    short = bytearray(build_fff(raw, PARAMS, png=False))
    struct.pack_into(">I", short, 0x40 + 32 + 16, 0x100)  # CameraInfo record cut to 256 bytes
    path.write_bytes(bytes(short))
    with pytest.raises(ThermalError, match=r"noplanck\.fff: missing Planck constants: FLIR CameraInfo"):
        read_flir_metadata(path)


def test_raw_size_not_matching_header_fails(tmp_path: Path) -> None:
    raw = np.full((8, 8), 15000, dtype=np.uint16)
    fff = bytearray(build_fff(raw, PARAMS, png=False))
    raw_offset = struct.unpack_from(">I", fff, 0x40 + 12)[0]
    struct.pack_into("<H", fff, raw_offset + 2, 9)  # header says 9 wide
    path = tmp_path / "size.fff"
    path.write_bytes(bytes(fff))
    with pytest.raises(
        ThermalError, match=r"size\.fff: raw size does not match the header: 128 bytes for 9x8"
    ):
        read_flir(path)


def test_png_size_not_matching_header_fails(tmp_path: Path) -> None:
    raw = np.full((8, 8), 15000, dtype=np.uint16)
    fff = bytearray(build_fff(raw, PARAMS, png=True))
    raw_offset = struct.unpack_from(">I", fff, 0x40 + 12)[0]
    struct.pack_into("<H", fff, raw_offset + 4, 7)
    path = tmp_path / "png.fff"
    path.write_bytes(bytes(fff))
    with pytest.raises(ThermalError, match=r"png\.fff: raw size does not match the header: PNG is 8x8"):
        read_flir(path)


def test_not_a_flir_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "text.txt"
    path.write_bytes(b"hello world")
    with pytest.raises(ThermalError, match=r"text\.txt: neither a JPEG nor an FFF"):
        read_flir(path)
    with pytest.raises(ThermalError, match=r"absent\.jpg: cannot read"):
        read_flir(tmp_path / "absent.jpg")
    assert extract_fff(FFF_MAGIC + b"x") == FFF_MAGIC + b"x"


DUMP_FIELDS = {
    "Emissivity": "emissivity",
    "Object Distance": "object_distance_m",
    "Reflected Apparent Temperature": "reflected_temp_c",
    "Atmospheric Temperature": "atmospheric_temp_c",
    "IR Window Temperature": "ir_window_temp_c",
    "IR Window Transmission": "ir_window_transmission",
    "Relative Humidity": "relative_humidity_pct",
    "Planck R1": "planck_r1",
    "Planck R2": "planck_r2",
    "Planck B": "planck_b",
    "Planck F": "planck_f",
    "Planck O": "planck_o",
    "Atmospheric Trans Alpha 1": "ata1",
    "Atmospheric Trans Alpha 2": "ata2",
    "Atmospheric Trans Beta 1": "atb1",
    "Atmospheric Trans Beta 2": "atb2",
    "Atmospheric Trans X": "atx",
    "Raw Thermal Image Width": "raw_width",
    "Raw Thermal Image Height": "raw_height",
}


@pytest.mark.parametrize("name", [n for n in FLIR_SAMPLES if n.startswith("thermal_parser/")])
def test_parameters_match_the_shipped_exiftool_dumps(data_dir: Path, name: str) -> None:
    """The UTF-16 exiftool dumps next to the thermal_parser images, at their printed precision."""
    dump = (data_dir / name).with_suffix(".txt").read_bytes().decode("utf-16", errors="ignore")
    printed = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in dump.splitlines()) if v}
    params = read_flir_metadata(data_dir / name)
    for label, field in DUMP_FIELDS.items():
        text = printed[label].split()[0]
        decimals = len(text.partition(".")[2])
        assert getattr(params, field) == pytest.approx(float(text), abs=0.5 * 10.0**-decimals + 1e-9), label


def _record_offset(fff: bytes | bytearray, entry: int) -> int:
    offset: int = struct.unpack_from(">I", fff, 0x40 + 32 * entry + 12)[0]
    return offset


def test_big_endian_raw_subtype(tmp_path: Path) -> None:
    raw = np.arange(12 * 10, dtype=np.uint16).reshape(10, 12) * 300
    fff = bytearray(build_fff(raw, PARAMS, png=False))
    struct.pack_into(">H", fff, 0x40 + 2, 1)  # RawData subtype 1: big-endian words
    start = _record_offset(fff, 0) + 32
    fff[start : start + raw.size * 2] = raw.astype(">u2").tobytes()
    image = read_flir(bytes(fff))
    np.testing.assert_array_equal(image.raw, raw)


def test_humidity_stored_as_percent(tmp_path: Path) -> None:
    raw = np.full((4, 4), 15000, dtype=np.uint16)
    fff = bytearray(build_fff(raw, PARAMS, png=False))
    struct.pack_into(">f", fff, _record_offset(fff, 1) + 0x3C, 45.0)  # some FFF files store percent
    assert read_flir(bytes(fff)).params.relative_humidity_pct == 45.0


def test_one_parse_per_content_never_stale(tmp_path: Path) -> None:
    """Capture metadata and pixels share one parse of a file; a rewrite of the same size is read anew."""
    raw = np.full((4, 4), 15000, dtype=np.uint16)
    fff = bytearray(build_fff(raw, PARAMS, png=False))
    path = tmp_path / "same.fff"
    path.write_bytes(bytes(fff))
    parsed = read_flir_file(path)
    assert read_flir_file(path.read_bytes(), name=str(path)) is parsed  # same name and content: one parse
    assert read_flir(path.read_bytes(), name=str(path)).params is parsed.params
    struct.pack_into(">f", fff, _record_offset(fff, 1) + 0x20, 0.5)  # emissivity, same size
    path.write_bytes(bytes(fff))
    assert read_flir_metadata(path).emissivity == 0.5
    assert parsed.params.emissivity == pytest.approx(PARAMS.emissivity)


@pytest.mark.parametrize("name", ["thermal_parser/images/DJI_XTR.jpg", "thermal_parser/images/FLIR_T640.jpg"])
def test_capture_from_the_callers_bytes_is_the_same(data_dir: Path, name: str) -> None:
    """``read_capture(..., data=)`` (dronegis thermal's one read) gives the capture read from the file."""
    path = data_dir / name
    data = path.read_bytes()
    sha, kind = "0" * 64, FileKind.THERMAL_FRAME
    from_bytes = read_capture(path, path.name, sha256=sha, size=len(data), kind=kind, data=data)
    assert from_bytes == read_capture(path, path.name, sha256=sha, size=len(data), kind=kind)
    assert from_bytes.thermal is not None and from_bytes.thermal.planck_r1 is not None
    assert read_flir(data, name=str(path)).params == from_bytes.thermal
