"""Capture time of delivered rasters: the file's (ODM, XMP, GDAL IMAGERY), else frames, else --captured."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core.errors import UsageError
from flights.models import Capture, DeliveredFile, FileKind, Flight
from flights.raster_time import declared_capture, raster_capture
from flights.rasters import read_raster

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _ortho(path: Path, tags: dict[str, str] | None = None, imagery: dict[str, str] | None = None) -> Path:
    """A 32×32 RGB orthophoto near Skanderborg (EPSG:25832), with the given TIFF/GDAL tags."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=32,
        height=32,
        count=3,
        dtype="uint8",
        crs="EPSG:25832",
        transform=from_origin(557900, 6212000, 0.5, 0.5),
    ) as dst:
        dst.write(np.full((3, 32, 32), 120, dtype="uint8"))
        if tags:
            dst.update_tags(**tags)
        if imagery:
            dst.update_tags(ns="IMAGERY", **imagery)
    return path


def _read(path: Path, zone: ZoneInfo = CPH) -> DeliveredFile:
    return read_raster(
        path, path.name, sha256="0" * 64, size=path.stat().st_size, kind=FileKind.ORTHOPHOTO, zone=zone
    )


def test_odm_datetime_is_the_mean_capture_time_in_utc(tmp_path: Path) -> None:
    """ODM (PR #1797) writes TIFFTAG_DATETIME = mean capture time with +00:00 and TIFFTAG_SOFTWARE = ODM x."""
    path = _ortho(
        tmp_path / "odm.tif",
        {"TIFFTAG_DATETIME": "2025:06:12 08:15:00+00:00", "TIFFTAG_SOFTWARE": "ODM 3.5.5"},
    )
    out = subprocess.run(["exiftool", "-s3", "-IFD0:ModifyDate", str(path)], capture_output=True, text=True)
    assert out.stdout.strip() == "2025:06:12 08:15:00+00:00"  # really TIFF tag 306, as exiftool reads it
    found = _read(path)
    assert found.time_utc == datetime(2025, 6, 12, 8, 15, tzinfo=UTC)
    assert found.time_source == "tiff:DateTime (ODM 3.5.5: mean capture time)"


def test_xmp_and_gdal_imagery_times(tmp_path: Path) -> None:
    xmp = _ortho(tmp_path / "xmp.tif")
    subprocess.run(
        [
            "exiftool",
            "-q",
            "-overwrite_original",
            "-XMP-exif:DateTimeOriginal=2023:09:01 21:30:00+02:00",
            str(xmp),
        ],
        check=True,
    )
    found = _read(xmp)
    assert found.time_utc == datetime(2023, 9, 1, 19, 30, tzinfo=UTC)
    assert found.time_source == "xmp:exif:DateTimeOriginal"
    imagery = _ortho(tmp_path / "imd.tif", imagery={"ACQUISITIONDATETIME": "2024-05-03 10:15:00"})
    found = _read(imagery)
    assert found.time_utc == datetime(2024, 5, 3, 10, 15, tzinfo=UTC)  # GDAL's IMAGERY times are UTC
    assert found.time_source == "gdal:IMAGERY/ACQUISITIONDATETIME"


def test_other_software_datetime_is_file_creation_in_the_camera_zone(tmp_path: Path) -> None:
    path = _ortho(
        tmp_path / "qgis.tif", {"TIFFTAG_DATETIME": "2025:01:14 22:30:00", "TIFFTAG_SOFTWARE": "QGIS"}
    )
    found = _read(path)
    assert found.time_utc == datetime(2025, 1, 14, 21, 30, tzinfo=UTC)  # 22:30 CET
    assert found.time_source == "tiff:DateTime=file creation (QGIS)+assumed:Europe/Copenhagen"
    bad = _read(_ortho(tmp_path / "bad.tif", {"TIFFTAG_DATETIME": "yesterday-ish"}))
    assert bad.time_utc is None and bad.time_source == "none"  # ignored, never fatal


def test_real_odm_orthophotos_carry_no_date(data_dir: Path) -> None:
    """WebODM's fixture orthophoto (GeoTIFF) and odm_br's (PNG + world file): no date anywhere."""
    for path in (
        data_dir / "webodm_fixtures" / "app" / "fixtures" / "orthophoto.tif",
        data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png",
    ):
        found = _read(path)
        assert found.time_utc is None and found.time_source == "none", path
    webodm = _read(data_dir / "webodm_fixtures" / "app" / "fixtures" / "orthophoto.tif")
    west, south, east, north = webodm.bounds_wgs84 or (0, 0, 0, 0)
    assert -100 < west < east < -85 and 35 < south < north < 50  # UTM 15N: the central USA


def test_declared_capture() -> None:
    day = declared_capture("2025-06-12", CPH, NOW)
    assert day.start == datetime(2025, 6, 11, 22, tzinfo=UTC) and day.end == datetime(
        2025, 6, 12, 21, 59, 59, tzinfo=UTC
    )
    winter = declared_capture("2025-01-14", CPH, NOW)
    assert winter.start == datetime(2025, 1, 13, 23, tzinfo=UTC)  # CET: UTC+1
    instant = declared_capture("2025-06-12T10:30", CPH, NOW)
    assert instant.start == instant.end == datetime(2025, 6, 12, 8, 30, tzinfo=UTC)
    assert declared_capture("2025-06-12T10:30Z", CPH, NOW).start == datetime(2025, 6, 12, 10, 30, tzinfo=UTC)
    with pytest.raises(UsageError, match="neither a date"):
        declared_capture("12/06/2025", CPH, NOW)
    with pytest.raises(UsageError, match="future"):
        declared_capture("2026-03-05", CPH, NOW)


def _flight(captures: tuple[Capture, ...] = (), declared: str | None = None) -> Flight:
    return Flight(
        id="f",
        source="/x",
        ingested_at=NOW,
        captures=captures,
        captured=declared_capture(declared, CPH, NOW) if declared else None,
    )


def test_raster_capture_order() -> None:
    """The file's capture metadata, else the frames' span, else the declaration, else file creation."""
    frames = tuple(
        Capture(
            path=f"F{i}.JPG",
            sha256="0",
            size=1,
            kind=FileKind.RGB_FRAME,
            time_utc=datetime(2025, 5, 1, 9, i, tzinfo=UTC),
        )
        for i in (0, 20)
    )
    odm = DeliveredFile(
        path="o.tif",
        sha256="0",
        size=1,
        kind=FileKind.ORTHOPHOTO,
        time_utc=datetime(2025, 5, 1, 9, 10, tzinfo=UTC),
        time_source="tiff:DateTime (ODM 3.5.5: mean capture time)",
    )
    created = odm.model_copy(update={"time_source": "tiff:DateTime=file creation (QGIS)", "time_utc": NOW})
    bare = DeliveredFile(path="b.tif", sha256="0", size=1, kind=FileKind.ORTHOPHOTO)
    assert raster_capture(odm, _flight(frames, "2025-04-01")) == (odm.time_utc, odm.time_utc, odm.time_source)
    span = raster_capture(created, _flight(frames, "2025-04-01"))
    assert span == (frames[0].time_utc, frames[1].time_utc, "frames: 2 captures of the flight")
    declared = raster_capture(created, _flight((), "2025-04-01"))
    assert declared is not None and declared[2] == "declared: --captured 2025-04-01"
    assert raster_capture(created, _flight()) == (NOW, NOW, "tiff:DateTime=file creation (QGIS)")
    assert raster_capture(bare, _flight()) is None
