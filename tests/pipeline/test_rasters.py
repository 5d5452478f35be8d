"""Opening georeferenced raster inputs and rejecting implausible georeferencing (pipeline.rasters)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from rasterio.transform import Affine, from_origin

from core.errors import GeoreferenceError, UsageError
from pipeline.models import ProductKind
from pipeline.rasters.area import crs_string
from pipeline.rasters.inputs import check_target_area, detect_kind, open_raster, read_prj

BR_PNG = Path("odm_br/odm_extra_gcp_br_ckeck.png")


@pytest.mark.parametrize(
    ("rel", "crs", "kind", "count"),
    [
        ("webodm_fixtures/app/fixtures/orthophoto.tif", "EPSG:32615", ProductKind.ORTHOPHOTO, 4),
        ("opengeos_data/elevation/dsm.tif", "EPSG:26918", ProductKind.DSM, 1),
        ("opengeos_data/elevation/dtm.tif", "EPSG:26918", ProductKind.DTM, 1),
        ("dk_malstroem/tests/data/dtm.tif", "EPSG:25832", ProductKind.DTM, 1),
        ("dk_surfclass/tests/data/classes.tif", "EPSG:25832", None, 1),
        ("rio_cogeo_fixtures/tests/fixtures/image_rgb.tif", "EPSG:3857", ProductKind.ORTHOPHOTO, 3),
    ],
)
def test_open_real_inputs(data_dir: Path, rel: str, crs: str, kind: ProductKind | None, count: int) -> None:
    info = open_raster(data_dir / rel)
    assert info.crs == crs and info.kind is kind and info.band_count == count
    assert not info.crs_from_user
    assert info.resolution[0] > 0


def test_webodm_alpha_and_dsm_nodata(data_dir: Path) -> None:
    assert open_raster(data_dir / "webodm_fixtures/app/fixtures/orthophoto.tif").has_alpha
    assert open_raster(data_dir / "opengeos_data/elevation/dsm.tif").nodata == -9999.0


def test_world_file_png_needs_crs(data_dir: Path) -> None:
    with pytest.raises(GeoreferenceError, match=r"odm_extra_gcp_br_ckeck.png: no CRS .* --crs"):
        open_raster(data_dir / BR_PNG)
    info = open_raster(data_dir / BR_PNG, crs="EPSG:32722")
    assert info.crs == "EPSG:32722" and info.crs_from_user
    assert info.resolution == pytest.approx((0.1156593, 0.1156593))
    assert info.kind is ProductKind.ORTHOPHOTO and info.has_alpha


def test_world_file_with_esri_prj(data_dir: Path, tmp_path: Path) -> None:
    for suffix in (".png", ".pgw"):
        shutil.copy(data_dir / BR_PNG.with_suffix(suffix), tmp_path / f"ortho{suffix}")
    esri = (
        'PROJCS["WGS_1984_UTM_Zone_22S",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",'
        '6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
        'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",'
        '10000000.0],PARAMETER["Central_Meridian",-51.0],PARAMETER["Scale_Factor",0.9996],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
    )
    (tmp_path / "ortho.prj").write_text(esri)
    assert read_prj(tmp_path / "ortho.png") == "EPSG:32722"
    info = open_raster(tmp_path / "ortho.png")
    assert info.crs == "EPSG:32722" and not info.crs_from_user


def test_broken_prj(tmp_path: Path, make_raster: Callable[..., Path]) -> None:
    src = make_raster("x.tif", crs=None)
    (tmp_path / "x.prj").write_text("not a crs")
    with pytest.raises(GeoreferenceError, match=r"x.prj: cannot parse the CRS"):
        open_raster(src)


def test_no_crs(make_raster: Callable[..., Path]) -> None:
    src = make_raster("nocrs.tif", crs=None)
    with pytest.raises(GeoreferenceError, match=r"nocrs.tif: no CRS"):
        open_raster(src)
    assert open_raster(src, crs="EPSG:25832").crs == "EPSG:25832"


def test_no_geotransform(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    assert cv2.imwrite(str(path), np.zeros((4, 4), "uint8"))  # a TIFF without GeoTIFF tags
    with pytest.raises(GeoreferenceError, match="no geotransform"):
        open_raster(path, crs="EPSG:25832")


def _world_file_png(tmp_path: Path, lines: list[str]) -> Path:
    png = tmp_path / "w.png"
    assert cv2.imwrite(str(png), np.full((8, 8, 3), 100, "uint8"))
    (tmp_path / "w.pgw").write_text("\n".join(lines) + "\n")
    return png


def test_zero_pixel_size(tmp_path: Path) -> None:
    png = _world_file_png(tmp_path, ["0.0", "0.0", "0.0", "0.0", "560000.0", "6215500.0"])
    with pytest.raises(GeoreferenceError, match=r"w.png: world file w.pgw was rejected \(zero pixel size"):
        open_raster(png, crs="EPSG:25832")  # a CRS cannot fix a zero pixel size


@pytest.mark.parametrize(
    "transform", [Affine(0, 0, 560000, 0, 0, 6215500), Affine(0.5, 0, 560000, 0, 0, 6215500)]
)
def test_zero_pixel_size_geotiff(make_raster: Callable[..., Path], transform: Affine) -> None:
    src = make_raster("zero.tif", transform=transform)
    with pytest.raises(GeoreferenceError, match=r"zero.tif: pixel size is zero"):
        open_raster(src, crs="EPSG:25832")


def test_nan_pixel_size(tmp_path: Path) -> None:
    png = _world_file_png(tmp_path, ["nan", "0.0", "0.0", "-0.05", "560000.0", "6215500.0"])
    with pytest.raises(GeoreferenceError, match=r"w.png: geotransform has NaN/inf values \(nan"):
        open_raster(png, crs="EPSG:25832")


def test_degree_sized_bounds_in_projected_crs(make_raster: Callable[..., Path]) -> None:
    src = make_raster("deg.tif", transform=from_origin(9.93, 56.04, 0.00001, 0.00001))
    with pytest.raises(
        GeoreferenceError, match=r"deg.tif: bounds .* look like degrees .* ETRS89 / UTM zone 32N"
    ):
        open_raster(src)
    assert open_raster(src, crs="EPSG:4258").crs == "EPSG:4258"


def test_metres_in_geographic_crs(make_raster: Callable[..., Path]) -> None:
    src = make_raster("m.tif", crs="EPSG:4326")  # make_raster's default transform is in metres
    with pytest.raises(GeoreferenceError, match=r"m.tif: .* looks like metres but EPSG:4326 is geographic"):
        open_raster(src)


def test_swapped_axes_projected(make_raster: Callable[..., Path]) -> None:
    src = make_raster("swap.tif", transform=from_origin(6215500, 560000, 0.5, 0.5))
    with pytest.raises(GeoreferenceError, match=r"swap.tif: .* axes are in the wrong order"):
        open_raster(src)


def test_swapped_axes_geographic(make_raster: Callable[..., Path]) -> None:
    src = make_raster("swapll.tif", crs="EPSG:4326", transform=from_origin(56.04, 170.0, 0.0001, 0.0001))
    with pytest.raises(GeoreferenceError, match=r"swapll.tif: latitude .* lat/lon are swapped"):
        open_raster(src)


def test_far_outside_area_of_use(make_raster: Callable[..., Path]) -> None:
    src = make_raster("far.tif", transform=from_origin(-3_000_000, 2_000_000, 0.5, 0.5))
    with pytest.raises(
        GeoreferenceError, match=r"far.tif: .* far outside the area of use of ETRS89 / UTM zone 32N"
    ):
        open_raster(src)
    assert open_raster(src, crs="EPSG:25832").crs_from_user  # the user's word


def test_target_area(data_dir: Path) -> None:
    info = open_raster(data_dir / "webodm_fixtures/app/fixtures/orthophoto.tif")
    with pytest.raises(GeoreferenceError, match=r"orthophoto.tif: .* target ETRS89 / UTM zone 32N"):
        check_target_area(info, "EPSG:25832")
    check_target_area(info, "EPSG:3857")


def test_detect_kind_odm_names() -> None:
    assert detect_kind(Path("odm_dem/dsm.tif"), 1, "float32", False) is ProductKind.DSM
    assert detect_kind(Path("odm_dem/dtm.tif"), 1, "float32", False) is ProductKind.DTM
    assert detect_kind(Path("odm_orthophoto/odm_orthophoto.tif"), 4, "uint8", True) is ProductKind.ORTHOPHOTO
    assert detect_kind(Path("classes.tif"), 1, "uint8", False) is None


def test_crs_string() -> None:
    assert crs_string("epsg:25832") == "EPSG:25832"
    assert crs_string("+proj=utm +zone=32 +ellps=GRS80 +units=m +no_defs").startswith(("EPSG:", "PROJCRS"))
    assert Affine.identity() == Affine(1, 0, 0, 0, 1, 0)


def test_unknown_crs(make_raster: Callable[..., Path]) -> None:
    src = make_raster("u.tif")
    with pytest.raises(UsageError, match="unknown CRS 'EPSG:99999'"):
        open_raster(src, crs="EPSG:99999")
    info = open_raster(src)
    with pytest.raises(UsageError, match="unknown CRS 'nonsense'"):
        check_target_area(info, "nonsense")
