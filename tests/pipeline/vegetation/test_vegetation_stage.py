"""The vegetation stage: windowed index COGs equal to the formulas, tags, clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp
from rasterio.transform import from_origin

from core.errors import GeoreferenceError, RasterInputError
from pipeline.rasters.cog import validate_cog
from pipeline.vegetation import Band, Calibration, VegetationConfig, compute_index, vegetation_indices
from pipeline.vegetation.raster import NODATA


def _rgba(path: Path, width: int = 700, height: int = 500) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (3, height, width)).astype(np.uint8)
    rgb[:, :100, :100] = np.array([70, 140, 50], np.uint8)[:, None, None]  # grass
    rgb[:, 100:200, :100] = 0  # black: indices undefined
    alpha = np.full((1, height, width), 255, np.uint8)
    alpha[:, 400:, 600:] = 0  # outside the footprint
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 4, "dtype": "uint8",
        "crs": "EPSG:25832", "transform": from_origin(560000, 6215500, 0.05, 0.05),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.concatenate([rgb, alpha]))
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    return path, np.concatenate([rgb, alpha])


def test_index_cogs_equal_the_formulas_across_window_seams(tmp_path: Path) -> None:
    path, data = _rgba(tmp_path / "ortho.tif")
    start = datetime(2025, 6, 12, 8, 0, tzinfo=UTC)
    config = VegetationConfig(out_dir=tmp_path / "out", window=256, time_start=start)
    result = vegetation_indices(path, config)
    assert [p.index for p in result.products] == ["ExG", "VARI", "GLI", "NGRDI"]
    assert (result.band_source, result.calibration) == ("colorinterp", Calibration.UNCALIBRATED)
    bands = {Band.RED: data[0], Band.GREEN: data[1], Band.BLUE: data[2]}
    for product in result.products:
        assert validate_cog(product.path).valid
        with rasterio.open(product.path) as src:
            assert (src.dtypes[0], src.nodata, src.crs.to_epsg()) == ("float32", NODATA, 25832)
            values = src.read(1)
            tags = src.tags()
        expected = compute_index(product.index, bands)
        expected[data[3] == 0] = np.nan
        expected = np.where(np.isfinite(expected), expected, NODATA).astype(np.float32)
        np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)
        assert tags["DRONEGIS_INDEX"] == product.index
        assert tags["DRONEGIS_CALIBRATION"] == "uncalibrated"
        assert tags["DRONEGIS_TIME_START"] == "2025-06-12T08:00:00+00:00"
        assert tags["DRONEGIS_RANGE"] == f"{product.value_range[0]:g} {product.value_range[1]:g}"
        assert product.stats["count"] == int(np.sum(values != NODATA))
    exg = result.products[0]
    assert exg.stats["max"] <= 2.0 and exg.stats["min"] >= -1.0


def test_multispectral_float_orthophoto_with_band_descriptions(tmp_path: Path) -> None:
    reflect = np.stack([np.full((64, 64), v, np.float32) for v in (0.04, 0.10, 0.05, 0.30, 0.50)])
    path = tmp_path / "ms.tif"
    profile = {
        "driver": "GTiff", "width": 64, "height": 64, "count": 5, "dtype": "float32", "nodata": -10000,
        "crs": "EPSG:25832", "transform": from_origin(560000, 6215500, 0.1, 0.1),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(reflect)
        dst.descriptions = ("Blue", "Green", "Red", "RedEdge", "NIR")
        dst.update_tags(DRONEGIS_CALIBRATION="irradiance")
    result = vegetation_indices(path, VegetationConfig(out_dir=tmp_path / "out", indices=("ndvi", "savi")))
    assert result.calibration is Calibration.IRRADIANCE and result.band_source == "description"
    with rasterio.open(result.products[0].path) as src:
        assert float(src.read(1)[10, 10]) == pytest.approx((0.5 - 0.05) / 0.55, abs=1e-6)
    with rasterio.open(result.products[1].path) as src:
        assert float(src.read(1)[10, 10]) == pytest.approx(1.5 * 0.45 / 1.05, abs=1e-6)
    assert result.warnings == (f"{path}: capture time unknown (no capture time in its metadata, none given)",)


def test_odm_br_orthophoto_png_with_world_file(data_dir: Path, tmp_path: Path) -> None:
    ortho = data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png"
    result = vegetation_indices(ortho, VegetationConfig(out_dir=tmp_path, indices=("GLI",), crs="EPSG:32722"))
    (gli,) = result.products
    assert result.crs == "EPSG:32722" and result.gsd_m == pytest.approx(0.11566, abs=1e-5)
    # mostly bare ground and roads with some vegetation: median near 0, a green tail
    assert -0.05 < gli.stats["p50"] < 0.05 and gli.stats["p98"] > 0.1


def test_refusals_name_the_file_and_the_problem(tmp_path: Path, data_dir: Path) -> None:
    path, _ = _rgba(tmp_path / "ortho.tif", 64, 64)
    with pytest.raises(
        RasterInputError, match=r"ortho.tif: NDVI kræver bånd nir.* / index NDVI needs band\(s\) nir"
    ):
        vegetation_indices(path, VegetationConfig(out_dir=tmp_path, indices=("NDVI",)))
    empty = tmp_path / "empty.tif"
    with rasterio.open(path) as src, rasterio.open(empty, "w", **src.profile) as dst:
        dst.write(np.zeros((4, 64, 64), np.uint8))
    with pytest.raises(RasterInputError, match="empty.tif: alle pixler er uden data / every pixel is nodata"):
        vegetation_indices(empty, VegetationConfig(out_dir=tmp_path / "e"))
    assert not (tmp_path / "e").exists() or not list((tmp_path / "e").iterdir())
    frame = data_dir / "brighton_beach" / "images" / "DJI_0018.JPG"
    with pytest.raises(GeoreferenceError, match="DJI_0018.JPG: no geotransform"):
        vegetation_indices(frame, VegetationConfig(out_dir=tmp_path))


@pytest.mark.parametrize(
    ("software", "expected"),
    [("ODM 3.5.3", datetime(2025, 6, 12, 8, 30, tzinfo=UTC)), ("QGIS 3.34", None)],
)
def test_capture_time_from_the_orthophoto(tmp_path: Path, software: str, expected: datetime | None) -> None:
    """ODM writes the mean capture time into TIFF DateTime; any other software the file's creation time."""
    path, _ = _rgba(tmp_path / "ortho.tif", 64, 64)
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(TIFFTAG_DATETIME="2025:06:12 08:30:00+00:00", TIFFTAG_SOFTWARE=software)
    result = vegetation_indices(path, VegetationConfig(out_dir=tmp_path / "out", indices=("GLI",)))
    assert result.time_start == expected
    with rasterio.open(result.products[0].path) as src:
        assert (src.tags().get("DRONEGIS_TIME_START") is None) == (expected is None)
