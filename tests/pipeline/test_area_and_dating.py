"""Process stage: products far outside the target CRS's area of use are refused; every product is dated."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core.errors import GeoreferenceError
from core.workspace import Workspace
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import Purpose
from flights.raster_time import declared_capture
from pipeline.models import ProductKind
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.rasters.area import outside_target_area
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog
from pipeline.run import ProcessConfig

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_outside_target_area_uses_pyprojs_area_of_use() -> None:
    assert outside_target_area([(9.93, 56.05), (14.9, 55.1)], "EPSG:25832") is None  # Skanderborg, Bornholm
    duluth = outside_target_area([(9.93, 56.05), (-91.99, 46.84)], "EPSG:25832")
    assert duluth is not None
    assert "lon -91.99, lat 46.84" in duluth and "EPSG:25832" in duluth and "EPSG:32615" in duluth
    assert "lon 6…12.01, lat 36.53…84.01" in duluth  # pyproj: CRS('EPSG:25832').area_of_use
    assert outside_target_area([(-91.99, 46.84)], "EPSG:32615") is None


@pytest.mark.parametrize(
    ("relpath", "crs", "hint"),
    [
        ("webodm_fixtures/app/fixtures/orthophoto.tif", None, "EPSG:32615"),  # WebODM's, UTM 15N
        ("odm_br/odm_extra_gcp_br_ckeck.png", "EPSG:32722", "EPSG:32722"),  # odm_br, UTM 22S (Brazil)
    ],
)
def test_orthophoto_in_a_far_away_crs_is_refused(
    tmp_path: Path, data_dir: Path, relpath: str, crs: str | None, hint: str
) -> None:
    with pytest.raises(GeoreferenceError, match="outside the area of use") as caught:
        reproject_to_cog(
            data_dir / relpath,
            tmp_path / "out.tif",
            ReprojectConfig(kind=ProductKind.ORTHOPHOTO, src_crs=crs),
        )
    message = str(caught.value)
    assert relpath.split("/")[-1] in message and "EPSG:25832" in message and hint in message
    assert not (tmp_path / "out.tif").exists()
    # the same raster in a CRS made for its place goes through
    product = reproject_to_cog(
        data_dir / relpath,
        tmp_path / "ok.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, src_crs=crs, target_crs=hint),
    )
    assert product.crs == hint


def _ingest(ws: Workspace, folder: Path, flight: str, captured: str | None = None) -> None:
    zone = ZoneInfo("America/Chicago")
    ingest_folder(
        folder,
        IngestConfig(
            archive_dir=ws.archive(flight),
            quarantine_dir=ws.quarantine(flight),
            flight_id=flight,
            purpose=Purpose.SURVEY,
            now=NOW,
            flight_json=ws.flight_json(flight),
            camera_timezone=zone,
            captured=declared_capture(captured, ZoneInfo("Europe/Copenhagen"), NOW) if captured else None,
        ),
    )


def test_duluth_frames_refused_in_epsg_25832(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: brighton_beach (Duluth) used to land at E −4.7e6, N 11.1e6 without a word."""
    folder = tmp_path / "duluth"
    folder.mkdir()
    for name in ("DJI_0018.JPG", "DJI_0019.JPG"):
        shutil.copy(data_dir / "brighton_beach" / "images" / name, folder / name)
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "duluth")
    with caplog.at_level(logging.ERROR), pytest.raises(GeoreferenceError, match="no product; 2 input") as err:
        process_flight(ws, "duluth", ProcessConfig(target_crs="EPSG:25832"))
    assert "EPSG:32615" in str(err.value) and load_products(ws, "duluth") == []
    refused = [r.getMessage() for r in caplog.records if "area of use" in r.getMessage()]
    assert len(refused) == 2 and all("EPSG:32615" in m and "lon -91.99" in m for m in refused)


def _ortho(path: Path, tags: dict[str, str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8", crs="EPSG:25832",
        transform=from_origin(557900, 6212000, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write((np.random.default_rng(3).random((3, 64, 64)) * 255).astype("uint8"))
        if tags:
            dst.update_tags(**tags)


def test_products_are_dated_from_the_file_else_the_declaration_else_unknown(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    dated, undated = tmp_path / "dated", tmp_path / "undated"
    _ortho(
        dated / "odm_orthophoto.tif",
        {"TIFFTAG_DATETIME": "2025:06:12 08:15:00+00:00", "TIFFTAG_SOFTWARE": "ODM 3.5.5"},
    )
    _ortho(undated / "odm_orthophoto.tif")
    _ingest(ws, dated, "dated")
    _ingest(ws, undated, "undated")
    [ortho] = process_flight(ws, "dated")
    assert ortho.time_start == ortho.time_end == datetime(2025, 6, 12, 8, 15, tzinfo=UTC)
    assert ortho.capture_time_source == "tiff:DateTime (ODM 3.5.5: mean capture time)"
    [ortho] = process_flight(ws, "undated")
    assert ortho.time_start is None and ortho.time_end is None
    assert ortho.capture_time_source == "unknown"
    assert ortho.captured_before == NOW  # the ingest: it was flown before
    _ingest(ws, undated, "undated", captured="2025-06-12")  # declared later: the product is re-dated
    [ortho] = process_flight(ws, "undated")  # the COG itself is reused (same signature)
    assert ortho.time_start == datetime(2025, 6, 11, 22, tzinfo=UTC)
    assert ortho.time_end == datetime(2025, 6, 12, 21, 59, 59, tzinfo=UTC)
    assert ortho.capture_time_source == "declared: --captured 2025-06-12"
    assert ortho.captured_before is None


def test_two_delivered_rasters_with_one_file_name_keep_the_first_and_name_the_second(tmp_path: Path) -> None:
    """A delivered raster is named by its file name (ODM: odm_orthophoto/odm_orthophoto.tif); a second
    one of that name in another folder is refused by name instead of silently replacing the first."""
    ws = Workspace.at(tmp_path / "ws")
    _ortho(tmp_path / "two" / "a" / "odm_orthophoto.tif")
    _ortho(tmp_path / "two" / "b" / "odm_orthophoto.tif")
    _ingest(ws, tmp_path / "two", "two", captured="2025-06-12")
    [ortho] = process_flight(ws, "two")
    assert ortho.id == "two-orthophoto-odm_orthophoto" and ortho.source_files == ("a/odm_orthophoto.tif",)
