"""COG profiles, writing and validation (pipeline.rasters.cog)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from rasterio._env import get_gdal_config
from rasterio.enums import ColorInterp
from rasterio.transform import from_origin

from core.errors import UsageError
from pipeline.models import ProductKind
from pipeline.rasters import cog
from pipeline.rasters.cog import (
    COG_PROFILES,
    CogProfile,
    overview_factors,
    profile_for,
    validate_cog,
    write_cog,
    write_cog_array,
)

FIXTURES = Path("rio_cogeo_fixtures/tests/fixtures")


def gdalinfo(path: Path) -> str:
    """Debian gdal-bin (GDAL 3.6) must open what we write."""
    done = subprocess.run(["gdalinfo", str(path)], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_registry_names_and_copies() -> None:
    assert COG_PROFILES.names == (
        "analysis_f32", "classes", "cutfill_f32", "dsm_f32", "ortho_jpeg", "ortho_webp", "thermal_f32"
    )
    first = COG_PROFILES.get("ortho_jpeg")
    first.creation_options["QUALITY"] = "10"
    assert COG_PROFILES.get("ortho_jpeg").creation_options["QUALITY"] == "85"
    assert COG_PROFILES.get("dsm_f32").overview_resampling == "average"
    assert COG_PROFILES.get("classes").warp_resampling == "nearest"
    for kind, name in ((ProductKind.VEGETATION_INDEX, "analysis_f32"), (ProductKind.CUT_FILL, "cutfill_f32")):
        profile = COG_PROFILES.get(profile_for(kind))
        assert profile.name == name and profile.dtype == "float32" and profile.nodata == -9999.0


def test_registry_unknown_and_register() -> None:
    with pytest.raises(UsageError, match="unknown COG profile 'nope'"):
        COG_PROFILES.get("nope")
    extra = COG_PROFILES.get("ortho_jpeg").model_copy(update={"name": "ortho_lossless"})
    bigger = COG_PROFILES.register(extra)
    assert "ortho_lossless" in bigger
    assert "ortho_lossless" not in COG_PROFILES


def test_overview_factors() -> None:
    assert overview_factors(512, 512) == []
    assert overview_factors(1000, 300) == [2]
    assert overview_factors(20000, 20000) == [2, 4, 8, 16, 32, 64]


@pytest.mark.parametrize(
    ("name", "valid", "strict_valid"),
    [
        ("image_rgb.tif", True, True),
        ("validate/image_rioCOG_gdal3.1.tif", True, True),
        ("validate/cog_no_offest.tif", True, True),
        ("validate/image_no_overview.tif", True, False),
        ("validate/image_external.tif", False, False),
        ("validate/image_dec.tif", False, False),
    ],
)
def test_validate_cog_fixtures(data_dir: Path, name: str, valid: bool, strict_valid: bool) -> None:
    path = data_dir / FIXTURES / name
    result = validate_cog(path)
    assert result.valid is valid, result
    assert validate_cog(path, strict=True).valid is strict_valid
    assert result.path == str(path)
    if not valid:
        assert result.errors


def test_write_cog_rgb_fixture(data_dir: Path, tmp_path: Path) -> None:
    dst = write_cog(
        data_dir / FIXTURES / "image_rgb.tif", tmp_path / "rgb.tif", "ortho_jpeg", tags={"A": "b"}
    )
    check = validate_cog(dst)
    assert check.valid, check
    info = gdalinfo(dst)
    assert "LAYOUT=COG" in info and "COMPRESSION=YCbCr JPEG" in info
    with rasterio.open(dst) as out, rasterio.open(data_dir / FIXTURES / "image_rgb.tif") as src:
        assert out.crs == src.crs and out.transform.almost_equals(src.transform)
        assert out.tags()["A"] == "b"
        assert out.overviews(1) == overview_factors(out.width, out.height)
        diff = np.abs(out.read().astype(int) - src.read().astype(int))
        assert diff.mean() < 6.0  # JPEG q85 on real, detailed imagery
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rgb.tif"]  # no scratch left


def test_write_cog_prebuilt_overviews_and_relabel(
    make_raster: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cog, "PREBUILD_OVERVIEWS_ABOVE", 100)
    src = make_raster("big.tif", width=1500, height=1100, count=3, crs=None)
    dst = write_cog(src, tmp_path / "out" / "big.tif", "ortho_webp", crs="EPSG:25832")
    assert validate_cog(dst).valid
    with rasterio.open(dst) as out:
        assert out.crs.to_epsg() == 25832
        assert out.overviews(1) == [2, 4]
        assert out.profile["compress"] == "webp"
    assert "LAYOUT=COG" in gdalinfo(dst)
    assert not list(src.parent.glob("big.tif.*")), "input untouched: no .ovr beside it"


def test_write_cog_float_nodata(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    data = np.full((1, 700, 600), 21.5, dtype="float32")
    data[0, :50] = -9999.0
    src = make_raster("t.tif", width=600, height=700, dtype="float32", nodata=-9999.0, data=data)
    dst = write_cog(src, tmp_path / "t_cog.tif", "thermal_f32")
    assert validate_cog(dst).valid
    with rasterio.open(dst) as out:
        assert out.nodata == -9999.0 and out.dtypes[0] == "float32"
        assert out.profile["compress"] == "deflate"
        band = out.read(1, masked=True)
        assert band.mask[:50].all() and float(band.mean()) == pytest.approx(21.5)
        overview = out.read(1, out_shape=(350, 300), masked=True)
        assert float(overview.max()) == pytest.approx(21.5)


def test_write_cog_block_cache_is_megabytes(
    make_raster: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cache_mb reaches GDAL as MB: an int GDAL_CACHEMAX is bytes to rasterio (GDALSetCacheMax64)."""
    seen: list[int] = []
    copy = rasterio.shutil.copy

    def spy(*args: object, **kwargs: object) -> None:
        seen.append(int(get_gdal_config("GDAL_CACHEMAX")))
        copy(*args, **kwargs)

    monkeypatch.setattr(rasterio.shutil, "copy", spy)
    src = make_raster("c.tif", width=64, height=64, dtype="float32", nodata=-9999.0)
    write_cog(src, tmp_path / "c_cog.tif", "thermal_f32", cache_mb=64)
    assert seen and set(seen) == {64 << 20}


def test_profile_object_accepted(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    custom = CogProfile(
        name="u16",
        description="test",
        creation_options={"COMPRESS": "ZSTD", "BLOCKSIZE": "256"},
        warp_resampling="nearest",
        overview_resampling="nearest",
    )
    src = make_raster("c.tif", width=600, height=600, dtype="uint16")
    dst = write_cog(src, tmp_path / "c_cog.tif", custom)
    with rasterio.open(dst) as out:
        assert out.block_shapes[0] == (256, 256) and out.profile["compress"] == "zstd"
    assert validate_cog(dst).valid


def test_write_cog_array_rgba_to_jpeg_mask(tmp_path: Path) -> None:
    data = np.full((4, 600, 700), 90, dtype="uint8")
    data[3, :, :100] = 0  # transparent left edge
    transform = from_origin(560000, 6215500, 0.1, 0.1)
    dst = write_cog_array(data, tmp_path / "frame.tif", "ortho_jpeg", transform=transform, crs="EPSG:25832",
                          tags={"FRAME": "DJI_0018"})  # fmt: skip
    assert validate_cog(dst).valid
    with rasterio.open(dst) as out:
        assert out.count == 3 and out.profile["compress"] == "jpeg"
        mask = out.dataset_mask()
        assert (mask[:, :100] == 0).all() and (mask[:, 100:] == 255).all()
        assert out.tags()["FRAME"] == "DJI_0018"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frame.tif"]


def test_write_cog_array_thermal(tmp_path: Path) -> None:
    data = np.linspace(-5.0, 40.0, 512 * 640, dtype="float64").reshape(1, 512, 640)
    where = from_origin(560000, 6215500, 1, 1)
    dst = write_cog_array(data, tmp_path / "t.tif", "thermal_f32", transform=where, crs="EPSG:25832")
    with rasterio.open(dst) as out:
        assert out.dtypes[0] == "float32" and out.nodata == -9999.0
        assert np.allclose(out.read(1), data[0], atol=1e-5)
    with pytest.raises(UsageError, match="must be \\(bands, rows, cols\\)"):
        write_cog_array(data[0], tmp_path / "bad.tif", "thermal_f32", transform=where, crs="EPSG:25832")


def test_write_cog_rgba_prebuilt_overviews_keep_mask(
    make_raster: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cog, "PREBUILD_OVERVIEWS_ABOVE", 100)
    data = np.full((4, 1024, 1024), 150, dtype="uint8")
    data[3, :, :256] = 0
    src = make_raster("rgba.tif", width=1024, height=1024, count=4, data=data)
    with rasterio.open(src, "r+") as ds:
        ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    dst = write_cog(src, tmp_path / "rgba_cog.tif", "ortho_jpeg")
    assert validate_cog(dst).valid
    with rasterio.open(dst) as out:
        assert out.count == 3 and out.overviews(1) == [2]
        mask = out.dataset_mask()
        assert (mask[:, :256] == 0).all() and (mask[:, 256:] == 255).all()
        small = out.dataset_mask(out_shape=(512, 512))
        assert (small[:, :120] == 0).all() and (small[:, 136:] == 255).all()


def test_write_cog_failure_is_a_dronegis_error(tmp_path: Path) -> None:
    from core.errors import RasterWriteError

    with pytest.raises(RasterWriteError, match=r"cannot write COG .*out.tif from .*missing.tif"):
        write_cog(tmp_path / "missing.tif", tmp_path / "out.tif", "ortho_jpeg")
    assert list(tmp_path.iterdir()) == []
