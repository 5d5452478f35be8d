from __future__ import annotations

import builtins
import os
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from capture_builders import exif_bytes, make_jpeg, xmp_packet

from flights.classify import classify
from flights.exif import read_capture
from flights.models import FileKind

K = FileKind
EXPECTED = {
    "brighton_beach/images/DJI_0018.JPG": K.RGB_FRAME,
    "brighton_beach/brighton_beach.jpg": K.OTHER,  # a preview without camera EXIF
    "brighton_beach/model.laz": K.OTHER,
    "odm_data_seneca/images/IMG_0447.jpg": K.RGB_FRAME,
    "drone_testdata_agung_1/images/DJI_20251001132715_0396_D_POOR_SHARPNESS.JPG": K.RGB_FRAME,
    "drone_testdata_agung_1/images/DJI_20251001213509_0003_D_LENS_CAP.JPG": K.RGB_FRAME,
    "drone_testdata_agung_2/drone-testdata-agung-2-example.jpg": K.OTHER,
    "opensfm_berlin/data/berlin/images/01.jpg": K.RGB_FRAME,  # GPS, no make
    "odm_data_copr/images/IMG_0031.jpg": K.RGB_FRAME,  # make, no GPS
    "webodm_fixtures/app/fixtures/tiny_drone_image.jpg": K.RGB_FRAME,
    "webodm_fixtures/app/fixtures/tiny_drone_image_multispec.tif": K.MULTISPECTRAL_FRAME,  # RedEdge-M
    "webodm_fixtures/app/fixtures/orthophoto.tif": K.ORTHOPHOTO,
    "webodm_fixtures/app/fixtures/gcp.txt": K.CONTROL,
    "webodm_fixtures/app/fixtures/gcp_malformed.txt": K.CONTROL,
    "webodm_fixtures/app/fixtures/video.srt": K.TELEMETRY,
    "thermal_parser/images/FLIR.jpg": K.THERMAL_FRAME,
    "thermal_parser/images/DJI_XT2.jpg": K.THERMAL_FRAME,  # FLIR core
    "thermal_parser/images/DJI_XTS.jpg": K.THERMAL_FRAME,  # DJI R-JPEG
    "thermal_parser/images/DJI_H20T.jpg": K.THERMAL_FRAME,
    "thermal_parser/images/M3T/DJI_0001_R.JPG": K.THERMAL_FRAME,  # XMP stripped: APP3/APP4
    "thermal_parser/images/H30T/DJI_0001_R.JPG": K.THERMAL_FRAME,
    "thermal_parser/images/DJI_H20T.txt": K.OTHER,
    "thermimage/inst/extdata/IR_2412.jpg": K.THERMAL_FRAME,
    "flirpy/test/test_data/frame_000000.fff": K.THERMAL_FRAME,
    "flirpy/test/test_data/frame_000000_le.fff": K.THERMAL_FRAME,
    "metadata_extractor_images/jpg/FLIR.jpg": K.RGB_FRAME,  # FLIR-branded visible frame, no FFF
    "odm_br/odm_extra_gcp_br_ckeck.png": K.ORTHOPHOTO,  # PNG + .pgw
    "odm_br/odm_extra_gcp_br_ckeck.pgw": K.OTHER,
    "odm_br/gcp_list.txt": K.CONTROL,
    "odm_br/odm_gcp_br/gcp_list_chk_raw.txt": K.CONTROL,
    "odm_test_gcp/tests/assets/gcp_utm_north_valid.txt": K.CONTROL,
    "odm_test_gcp/tests/test_data/gcp_list_README.txt": K.OTHER,
    "odm_test_gcp/tests/assets/reconstruction.json": K.ODM_OUTPUT,
    "odm_data_helenenschacht/RTK_Data/101FTASK_Timestamp.mrk": K.CONTROL,
    "opengeos_data/elevation/dsm.tif": K.DSM,
    "opengeos_data/elevation/dtm.tif": K.DTM,
    "opengeos_data/raster/cog.tif": K.ORTHOPHOTO,
    "dk_malstroem/tests/data/dtm.tif": K.DTM,
    "dk_surfclass/tests/data/1km_6171_727_amplitude_4m.tif": K.ORTHOPHOTO,
    "rio_cogeo_fixtures/tests/fixtures/image_rgb.tif": K.ORTHOPHOTO,
    "rio_cogeo_fixtures/tests/fixtures/validate/image_external.tif.ovr": K.OTHER,
    "proj_grids/dk_sdfi_dvr90_2023.tif": K.OTHER,  # a PROJ geoid grid, not a product
    "dagi_neogeografen/geojson/kommuner.geojson": K.OTHER,
}


def test_every_real_file_gets_a_kind(data_dir: Path) -> None:
    kinds: Counter[FileKind] = Counter()
    for dirpath, _, names in os.walk(data_dir):
        for name in names:
            kinds[classify(Path(dirpath) / name)] += 1
    assert sum(kinds.values()) >= 220
    assert kinds[K.RGB_FRAME] >= 35 and kinds[K.THERMAL_FRAME] >= 22
    assert kinds[K.CONTROL] >= 20 and kinds[K.TELEMETRY] == 1
    assert kinds[K.ORTHOPHOTO] >= 10 and kinds[K.DSM] >= 1 and kinds[K.DTM] >= 2


@pytest.mark.parametrize(("rel", "kind"), sorted(EXPECTED.items()))
def test_known_files(data_dir: Path, rel: str, kind: FileKind) -> None:
    assert classify(data_dir / rel) == kind


def test_all_brighton_frames_are_rgb(data_dir: Path) -> None:
    frames = sorted((data_dir / "brighton_beach/images").glob("*.JPG"))
    assert len(frames) == 18
    assert {classify(p) for p in frames} == {K.RGB_FRAME}


def test_odm_project_layout(tmp_path: Path, make_raster: Callable[..., Path]) -> None:
    for folder in ("odm_report", "odm_orthophoto", "odm_dem", "opensfm"):
        (tmp_path / folder).mkdir()
    (tmp_path / "odm_report/stats.json").write_text("{}")
    (tmp_path / "odm_report/shots.geojson").write_text("{}")
    (tmp_path / "odm_orthophoto/odm_orthophoto.log").write_text("log")
    (tmp_path / "opensfm/tracks.csv").write_text("x")
    (tmp_path / "odm_texturing").mkdir()
    texture = make_jpeg(tmp_path / "odm_texturing/odm_textured_model_geo_material0000_map_Kd.jpg")
    ortho = make_raster("odm_orthophoto/odm_orthophoto.tif", count=3)
    dsm = make_raster("odm_dem/dsm.tif", dtype="float32")
    dtm = make_raster("odm_dem/dtm.tif", dtype="float32")
    assert classify(tmp_path / "odm_report/stats.json") == K.ODM_OUTPUT
    assert classify(tmp_path / "odm_report/shots.geojson") == K.ODM_OUTPUT
    assert classify(tmp_path / "odm_orthophoto/odm_orthophoto.log") == K.ODM_OUTPUT
    assert classify(tmp_path / "opensfm/tracks.csv") == K.ODM_OUTPUT
    assert classify(texture) == K.ODM_OUTPUT
    assert (classify(ortho), classify(dsm), classify(dtm)) == (K.ORTHOPHOTO, K.DSM, K.DTM)


def test_float_raster_without_name_hint_is_a_dsm(make_raster: Callable[..., Path]) -> None:
    assert classify(make_raster("heights.tif", dtype="float32")) == K.DSM
    assert classify(make_raster("rgb.tif", count=3)) == K.ORTHOPHOTO


def test_geotiff_without_crs_is_still_a_raster(make_raster: Callable[..., Path]) -> None:
    # ingest reports the missing CRS; it must not become a frame or "other"
    assert classify(make_raster("ortho_nocrs.tif", count=3, crs=None)) == K.ORTHOPHOTO


def test_jpeg_with_world_file_is_an_orthophoto(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "map.jpg", exif=exif_bytes({0x010F: "DJI"}))
    (tmp_path / "map.jgw").write_text("0.1\n0\n0\n-0.1\n560000\n6215500\n")
    assert classify(path) == K.ORTHOPHOTO


def test_dji_infrared_xmp_is_thermal(tmp_path: Path) -> None:
    xmp = xmp_packet({"drone-dji:ImageSource": "InfraredCamera"})
    assert (
        classify(make_jpeg(tmp_path / "DJI_0001_T.JPG", exif=exif_bytes({0x010F: "DJI"}), xmp=xmp))
        == K.THERMAL_FRAME
    )


def _tiff(path: Path, width: int, height: int, bits: int, make: str | None = None) -> Path:
    entries = [(0x0100, 4, 1, width), (0x0101, 4, 1, height), (0x0102, 3, 1, bits), (0x0115, 3, 1, 1)]
    extra = b""
    if make:
        text = make.encode() + b"\x00"
        entries.append((0x010F, 2, len(text), 8 + 2 + 12 * 5 + 4))
        extra = text
    entries.sort()
    body = struct.pack("<2sHI", b"II", 42, 8) + struct.pack("<H", len(entries))
    for tag, typ, n, value in entries:
        body += struct.pack("<HHII", tag, typ, n, value)
    path.write_bytes(body + struct.pack("<I", 0) + extra)
    return path


def test_garbage_never_raises(tmp_path: Path) -> None:
    cases = {
        "empty.jpg": b"",
        "text.jpg": b"hello",
        "trunc.jpg": b"\xff\xd8\xff\xe1\x40\x00Exif\x00\x00II*\x00",
        "bad.tif": b"II*\x00\xff\xff\xff\x7f",
        "empty.tif": b"",
        "rand.png": os.urandom(64),
        "x.fff": b"nope",
        "notes.txt": b"\xff\xfe\x00garbage",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    kinds = {name: classify(tmp_path / name) for name in cases}
    # a broken image keeps the kind its name promises, so ingest reads it and quarantines it
    assert kinds["empty.jpg"] == kinds["text.jpg"] == kinds["trunc.jpg"] == K.RGB_FRAME
    assert kinds["bad.tif"] == kinds["empty.tif"] == kinds["rand.png"] == K.ORTHOPHOTO
    assert kinds["x.fff"] == K.THERMAL_FRAME
    assert kinds["notes.txt"] == K.OTHER
    assert classify(tmp_path / "does-not-exist.jpg") == K.RGB_FRAME


def test_unicode_and_spaces_in_names(tmp_path: Path) -> None:
    path = make_jpeg(
        tmp_path / "Skanderborg sø æblehave 01.jpg", exif=exif_bytes({0x010F: "DJI", 0x0110: "FC6310"})
    )
    assert classify(path) == K.RGB_FRAME


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("geo.txt", "EPSG:4326\nimg.jpg 9.9 56.0 100\n", K.CONTROL),
        ("checkpoints.txt", "anything", K.CONTROL),
        ("survey_chk.csv", "a,b,c", K.CONTROL),
        ("points.txt", "WGS84 UTM 32N\n560000 6215500 50 100 200 DJI_0001.JPG\n", K.CONTROL),
        ("notes.txt", "EPSG:4326\njust text\n", K.OTHER),
        ("flight.MRK", "1\t123.4\t[2024]\n", K.CONTROL),
        ("DJI_0001.SRT", "1\n00:00:00,000 --> 00:00:01,000\n", K.TELEMETRY),
    ],
)
def test_control_and_telemetry_names(tmp_path: Path, name: str, text: str, kind: FileKind) -> None:
    (tmp_path / name).write_text(text)
    assert classify(tmp_path / name) == kind


def test_radiometric_tiff_is_thermal(tmp_path: Path) -> None:
    assert classify(_tiff(tmp_path / "IR_0001.tif", 640, 512, 16)) == K.THERMAL_FRAME
    assert classify(_tiff(tmp_path / "IMG_0001.tif", 640, 512, 16, make="Canon")) == K.RGB_FRAME
    assert classify(_tiff(tmp_path / "scan.tif", 640, 512, 8)) == K.OTHER
    assert classify(_tiff(tmp_path / "raw.dng", 64, 48, 16)) == K.RGB_FRAME
    assert (
        classify(_tiff(tmp_path / "huge.tif", 4_000_000_000, 3, 8)) == K.RGB_FRAME
    )  # read_capture rejects it


def test_unreadable_file_is_classified_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_jpeg(tmp_path / "DJI_0001.JPG", exif=exif_bytes({0x010F: "DJI"}))

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("builtins.open", deny)
    assert classify(path) == K.RGB_FRAME


@pytest.mark.parametrize(
    ("make", "xmp", "kind"),
    [
        (
            "Parrot",
            b'<rdf:Description Camera:BandName="NIR" Camera:CentralWavelength="790"/>',
            K.MULTISPECTRAL_FRAME,
        ),
        ("Parrot", b"<Camera:BandName>Red</Camera:BandName>", K.MULTISPECTRAL_FRAME),
        ("MicaSense", b"", K.RGB_FRAME),  # no model (no registry entry), no band XMP: a camera TIFF
    ],
)
def test_multispectral_band_by_xmp(tmp_path: Path, make: str, xmp: bytes, kind: FileKind) -> None:
    import numpy as np
    from PIL import Image
    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    tags = ImageFileDirectory_v2()
    tags[271] = make
    if xmp:
        tags[700] = xmp
        tags.tagtype[700] = 1  # BYTE, as cameras write it
    path = tmp_path / "IMG_0001_4.tif"
    Image.fromarray(np.full((36, 48), 900, np.uint16)).save(path, tiffinfo=tags)
    assert classify(path) == kind


def test_classify_and_read_capture_open_a_frame_once(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = tmp_path / "DJI_0018.JPG"
    frame.write_bytes((data_dir / "brighton_beach" / "images" / "DJI_0018.JPG").read_bytes())
    opened: list[str] = []
    os_open, io_open = os.open, builtins.open

    def count_os(path: str, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(path))
        return os_open(path, *args, **kwargs)

    def count_io(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.fspath(path))
        return io_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", count_os)
    monkeypatch.setattr(builtins, "open", count_io)
    kind = classify(frame)
    capture = read_capture(frame, frame.name, sha256="", size=0, kind=kind)
    monkeypatch.undo()
    assert opened.count(str(frame)) == 1  # one sniff: first bytes, header walk, tail; EXIF decoded once
    assert kind == FileKind.RGB_FRAME
    assert capture.attitude.gimbal_pitch == -89.9 and capture.camera.model == "FC300S"
