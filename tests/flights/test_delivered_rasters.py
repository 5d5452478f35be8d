"""Delivered rasters given as image + world file + .prj (flights.rasters)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyproj
import pytest
from pyproj.enums import WktVersion

from core.errors import GeoreferenceError
from flights.models import FileKind
from flights.rasters import read_prj, read_raster

BR_PNG = Path("odm_br/odm_extra_gcp_br_ckeck.png")  # PNG + .pgw in UTM 22S, no .prj delivered
UTM22S = pyproj.CRS.from_epsg(32722)


def _png_with_world(data_dir: Path, folder: Path) -> Path:
    png = folder / "ortho.png"
    shutil.copy(data_dir / BR_PNG, png)
    shutil.copy(data_dir / BR_PNG.with_suffix(".pgw"), folder / "ortho.pgw")
    return png


def _read(png: Path) -> tuple[str | None, list[str]]:
    found = read_raster(png, png.name, sha256="0", size=1, kind=FileKind.ORTHOPHOTO)
    return found.crs, [p.code for p in found.problems]


@pytest.mark.parametrize(
    "prj_text",
    [
        UTM22S.to_wkt(WktVersion.WKT1_ESRI),  # what ArcGIS/QGIS write beside a PNG
        UTM22S.to_wkt(WktVersion.WKT1_GDAL),
        UTM22S.to_wkt(WktVersion.WKT2_2019),
        "EPSG:32722\n",
        "32722",
    ],
    ids=["esri_wkt", "ogc_wkt1", "wkt2", "epsg_code", "bare_code"],
)
def test_png_world_file_and_prj_gives_the_crs(data_dir: Path, tmp_path: Path, prj_text: str) -> None:
    png = _png_with_world(data_dir, tmp_path)
    assert _read(png) == (None, ["raster_no_crs"])  # GDAL does not read a .prj beside a PNG
    (tmp_path / "ortho.prj").write_text(prj_text, encoding="utf-8")
    assert _read(png) == ("EPSG:32722", [])
    found = read_prj(png)
    assert found is not None and found.to_epsg() == 32722


def test_pipeline_reads_the_same_prj(data_dir: Path, tmp_path: Path) -> None:
    # one .prj reader for ingest and pipeline: an EPSG code text works in both
    from pipeline.rasters.inputs import open_raster

    png = _png_with_world(data_dir, tmp_path)
    (tmp_path / "ortho.prj").write_text("EPSG:32722", encoding="utf-8")
    info = open_raster(png)
    assert info.crs == "EPSG:32722" and not info.crs_from_user


def test_a_broken_prj_is_a_warning_naming_it(data_dir: Path, tmp_path: Path) -> None:
    png = _png_with_world(data_dir, tmp_path)
    (tmp_path / "ortho.prj").write_text("not a crs", encoding="utf-8")
    with pytest.raises(GeoreferenceError, match=r"ortho\.prj: cannot parse the CRS: 'not a crs'"):
        read_prj(png)
    found = read_raster(png, "d/ortho.png", sha256="0", size=1, kind=FileKind.ORTHOPHOTO)
    assert found.crs is None
    assert [p.code for p in found.problems] == ["raster_no_crs"]
    assert "d/ortho.png" in found.problems[0].message and "ortho.prj" in found.problems[0].message


def test_no_prj_is_none(tmp_path: Path) -> None:
    assert read_prj(tmp_path / "ortho.png") is None
