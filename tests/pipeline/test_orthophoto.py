"""Orthophotos, DSMs and DTMs to COGs in the target CRS (pipeline.rasters.reproject).

Pixels and georeferencing are compared with a ``gdalwarp`` (Debian gdal-bin) of the
same input onto the same grid.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core.errors import EllipsoidalHeightWarning, GeoreferenceError, UsageError
from pipeline.geodesy.dvr90 import dvr90_transformer, geoid_offsets
from pipeline.models import DeliveredGeoref, HeightDatum, Product, ProductKind
from pipeline.rasters.cog import COG_PROFILES, CogProfile, validate_cog
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog

WEBODM = Path("webodm_fixtures/app/fixtures/orthophoto.tif")
DSM = Path("opengeos_data/elevation/dsm.tif")
CLASSES = Path("dk_surfclass/tests/data/classes.tif")
MALSTROEM = Path("dk_malstroem/tests/data/dtm.tif")
BR_PNG = Path("odm_br/odm_extra_gcp_br_ckeck.png")


def _delivered(product: Product) -> DeliveredGeoref:
    """How a delivered raster was reprojected (``Product.georef``)."""
    assert isinstance(product.georef, DeliveredGeoref)
    return product.georef


def lossless(name: str = "ortho_jpeg") -> CogProfile:
    """The profile with DEFLATE instead of a lossy codec, to compare pixels exactly."""
    base = COG_PROFILES.get(name)
    options = base.creation_options | {"COMPRESS": "DEFLATE"}
    options.pop("QUALITY", None)
    return base.model_copy(update={"name": f"{name}_lossless", "creation_options": options})


def gdalwarp_like(src: Path, ours: Path, out: Path, *args: str) -> Path:
    """gdalwarp ``src`` onto exactly the grid of ``ours`` (Debian GDAL 3.6)."""
    with rasterio.open(ours) as ref:
        left, bottom, right, top = ref.bounds
        size = [str(ref.width), str(ref.height)]
        crs = ref.crs.to_string()
    cmd = ["gdalwarp", "-q", "-overwrite", "-t_srs", crs, "-te", *map(repr, (left, bottom, right, top))]
    subprocess.run([*cmd, "-ts", *size, *args, str(src), str(out)], check=True, timeout=120)
    return out


def gdal_default_grid(src: Path, out: Path, crs: str, *args: str) -> rasterio.Affine:
    subprocess.run(
        ["gdalwarp", "-q", "-overwrite", "-t_srs", crs, *args, str(src), str(out)], check=True, timeout=120
    )
    with rasterio.open(out) as ds:
        return ds.transform, ds.width, ds.height


def assert_valid_everywhere(path: Path) -> None:
    check = validate_cog(path)
    assert check.valid, check
    info = subprocess.run(
        ["gdalinfo", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "LAYOUT=COG" in info


def test_webodm_rgba_matches_gdalwarp(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / WEBODM
    product = reproject_to_cog(
        src,
        tmp_path / "o.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs="EPSG:3857", profile=lossless()),
    )
    assert_valid_everywhere(tmp_path / "o.tif")
    ref = gdalwarp_like(src, tmp_path / "o.tif", tmp_path / "ref.tif", "-r", "bilinear")
    with rasterio.open(tmp_path / "o.tif") as ours, rasterio.open(ref) as theirs:
        assert ours.count == 4 and theirs.count == 4  # alpha survives
        a, b = ours.read().astype(int), theirs.read().astype(int)
    both = (a[3] == 255) & (b[3] == 255)
    assert (a[3] > 0).mean() == pytest.approx((b[3] > 0).mean(), abs=0.01)
    assert np.abs(a[:3, both] - b[:3, both]).mean() < 0.5
    assert _delivered(product).warp == "warped" and _delivered(product).resampling == "bilinear"
    assert "Pseudo-Mercator" in (product.transformation or "")
    transform, width, height = gdal_default_grid(src, tmp_path / "g.tif", "EPSG:3857")
    with rasterio.open(tmp_path / "o.tif") as ours:
        assert abs(ours.width - width) <= 1 and abs(ours.height - height) <= 1
        assert ours.transform.almost_equals(transform, precision=1e-3)


def test_webodm_jpeg_alpha_becomes_mask(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / WEBODM
    product = reproject_to_cog(
        src, tmp_path / "o.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs="EPSG:3857")
    )
    assert_valid_everywhere(tmp_path / "o.tif")
    ref = gdalwarp_like(src, tmp_path / "o.tif", tmp_path / "ref.tif", "-r", "bilinear")
    with rasterio.open(tmp_path / "o.tif") as ours, rasterio.open(ref) as theirs:
        assert (
            ours.count == 3 and ours.profile["compress"] == "jpeg" and ours.profile["photometric"] == "ycbcr"
        )
        assert all(flags == [rasterio.enums.MaskFlags.per_dataset] for flags in ours.mask_flag_enums)
        mask, alpha = ours.dataset_mask() > 0, theirs.read(4) > 0
        assert (mask == alpha).mean() > 0.99
        both = mask & alpha
        assert np.abs(ours.read()[:, both].astype(int) - theirs.read()[:3, both].astype(int)).mean() < 6
    assert product.crs == "EPSG:3857" and product.units is None
    assert product.height_datum is HeightDatum.NOT_APPLICABLE


def test_dsm_nodata_matches_gdalwarp(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / DSM
    product = reproject_to_cog(
        src,
        tmp_path / "dsm.tif",
        ReprojectConfig(kind=ProductKind.DSM, target_crs="EPSG:5070", declared_datum=HeightDatum.UNKNOWN),
    )
    assert_valid_everywhere(tmp_path / "dsm.tif")
    ref = gdalwarp_like(
        src, tmp_path / "dsm.tif", tmp_path / "ref.tif", "-r", "bilinear", "-dstnodata", "-9999"
    )
    with rasterio.open(tmp_path / "dsm.tif") as ours, rasterio.open(ref) as theirs:
        assert ours.nodata == -9999.0 and ours.dtypes[0] == "float32"
        assert ours.profile["compress"] == "deflate"
        a, b = ours.read(1), theirs.read(1)
    valid_a, valid_b = a != -9999.0, b != -9999.0
    assert (~valid_a).sum() > 0, "nodata survives"
    assert (valid_a == valid_b).mean() > 0.995
    both = valid_a & valid_b
    diff = np.abs(a[both] - b[both])  # sub-pixel position differences matter only at building edges
    assert np.median(diff) < 0.05 and np.percentile(diff, 99) < 0.5
    assert product.height_datum is HeightDatum.UNKNOWN and product.units == "m"
    assert product.gsd_m == pytest.approx(2.0, rel=0.05)
    assert _delivered(product).warp == "warped"


def test_classes_nearest_matches_gdalwarp(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / CLASSES
    reproject_to_cog(
        src,
        tmp_path / "c.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs="EPSG:32633", profile="classes"),
    )
    assert_valid_everywhere(tmp_path / "c.tif")
    ref = gdalwarp_like(src, tmp_path / "c.tif", tmp_path / "ref.tif", "-r", "near")
    with rasterio.open(tmp_path / "c.tif") as ours, rasterio.open(ref) as theirs, rasterio.open(src) as orig:
        a, b = ours.read(1), theirs.read(1)
        assert ours.nodata == orig.nodata == 0
        assert set(np.unique(a)) <= set(np.unique(orig.read(1)))  # nearest: no new class values
    assert (a == b).mean() > 0.995


def test_utm32_wgs84_to_etrs89_is_an_honest_identity(
    make_raster: Callable[..., Path], tmp_path: Path
) -> None:
    src = make_raster("r32632.tif", width=600, height=500, count=3, crs="EPSG:32632",
                      transform=from_origin(560000, 6215500, 0.05, 0.05))  # fmt: skip
    product = reproject_to_cog(
        src, tmp_path / "o.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, profile=lossless())
    )
    assert _delivered(product).warp == "identity (relabel, no resampling)"
    assert _delivered(product).max_shift_px < 0.01
    assert "ETRS89 to WGS 84 (1)" in (product.transformation or "")
    assert _delivered(product).operation_accuracy_m == 1.0
    with rasterio.open(tmp_path / "o.tif") as out, rasterio.open(src) as orig:
        assert out.crs.to_epsg() == 25832
        assert out.transform == orig.transform
        assert np.array_equal(out.read(), orig.read())
        assert out.tags()["DRONEGIS_WARP"].startswith("identity")
        assert "ETRS89 to WGS 84 (1)" in out.tags()["DRONEGIS_TRANSFORMATION"]
    transform, width, height = gdal_default_grid(src, tmp_path / "g.tif", "EPSG:25832", "-r", "bilinear")
    assert (width, height) == (600, 500)
    assert transform.almost_equals(product_transform(tmp_path / "o.tif"), precision=1e-3)
    with rasterio.open(tmp_path / "g.tif") as theirs, rasterio.open(src) as orig:
        inner = (slice(None), slice(1, -1), slice(1, -1))
        assert np.abs(theirs.read()[inner].astype(int) - orig.read()[inner].astype(int)).max() <= 1


def product_transform(path: Path) -> rasterio.Affine:
    with rasterio.open(path) as ds:
        return ds.transform


def test_forced_warp_equals_identity(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    src = make_raster("r32632.tif", width=300, height=200, count=3, crs="EPSG:32632",
                      transform=from_origin(560000, 6215500, 0.05, 0.05))  # fmt: skip
    warped = reproject_to_cog(
        src,
        tmp_path / "w.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, profile=lossless(), identity_tolerance_px=0.0),
    )
    assert _delivered(warped).warp == "warped"
    with rasterio.open(tmp_path / "w.tif") as out, rasterio.open(src) as orig:
        assert (out.width, out.height) == (300, 200)
        inner = (slice(0, 3), slice(1, -1), slice(1, -1))
        assert np.abs(out.read()[inner].astype(int) - orig.read()[inner].astype(int)).max() <= 1


def test_user_transformation_is_used_and_recorded(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    src = make_raster("a.tif", width=64, height=64, count=3)
    shifted = reproject_to_cog(
        src,
        tmp_path / "s.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, transformation="+proj=affine +xoff=10 +yoff=-5"),
    )
    assert _delivered(shifted).warp == "warped"
    assert "proj=affine xoff=10 yoff=-5" in (shifted.transformation or "")
    assert shifted.bounds[0] == pytest.approx(560010.0, abs=0.01)
    assert shifted.bounds[3] == pytest.approx(6215495.0, abs=0.01)
    src32632 = make_raster("b.tif", width=64, height=64, count=3, crs="EPSG:32632")
    chosen = reproject_to_cog(
        src32632, tmp_path / "c.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, transformation="EPSG:1149")
    )
    assert "ETRS89 to WGS 84 (1)" in (chosen.transformation or "")
    with pytest.raises(UsageError, match="EPSG:1234 is not among PROJ's operations"):
        reproject_to_cog(
            src32632,
            tmp_path / "d.tif",
            ReprojectConfig(kind=ProductKind.ORTHOPHOTO, transformation="EPSG:1234"),
        )
    with pytest.raises(UsageError, match="not a valid PROJ pipeline"):
        reproject_to_cog(
            src32632,
            tmp_path / "e.tif",
            ReprojectConfig(kind=ProductKind.ORTHOPHOTO, transformation="+proj=nonsense"),
        )


def test_world_file_png_needs_crs(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / BR_PNG
    with pytest.raises(GeoreferenceError, match="no CRS"):
        reproject_to_cog(
            src, tmp_path / "br.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs="EPSG:31982")
        )
    assert not (tmp_path / "br.tif").exists()
    product = reproject_to_cog(
        src,
        tmp_path / "br.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs="EPSG:31982", src_crs="EPSG:32722"),
    )
    assert_valid_everywhere(tmp_path / "br.tif")
    assert _delivered(product).source_crs == "EPSG:32722"
    assert "SIRGAS 2000 to WGS 84" in (product.transformation or "")
    with rasterio.open(tmp_path / "br.tif") as out, rasterio.open(src) as orig:
        assert out.crs.to_epsg() == 31982
        assert (out.dataset_mask() > 0).mean() == pytest.approx((orig.read(4) > 0).mean(), abs=0.01)


def test_outside_target_crs_fails(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(GeoreferenceError, match="far outside the area of use of the target"):
        reproject_to_cog(data_dir / WEBODM, tmp_path / "x.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO))


def _dsm(make_raster: Callable[..., Path]) -> Path:
    data = np.full((1, 40, 50), 100.0, dtype="float32")
    data[0, :5, :5] = -9999.0
    return make_raster("dsm.tif", width=50, height=40, dtype="float32", nodata=-9999.0, data=data,
                       transform=from_origin(560000, 6215500, 2.0, 2.0))  # fmt: skip


def test_dsm_to_dvr90_with_grids(make_raster: Callable[..., Path], data_dir: Path, tmp_path: Path) -> None:
    product = reproject_to_cog(
        _dsm(make_raster),
        tmp_path / "d.tif",
        ReprojectConfig(
            kind=ProductKind.DSM, grids=data_dir / "proj_grids", declared_datum=HeightDatum.ELLIPSOIDAL
        ),
    )
    assert product.height_datum is HeightDatum.DVR90
    assert "dk_sdfi_dvr90" in str(product.datum.conversion if product.datum else None)
    with rasterio.open(tmp_path / "d.tif") as out:
        band = out.read(1)
        assert (band[:5, :5] == -9999.0).all(), "nodata is not converted"
        valid = band[band != -9999.0]
        assert 57.0 < valid.min() <= valid.max() < 63.0  # N is about 37-42 m here
        transform = out.transform
    transformer = dvr90_transformer("EPSG:25832", data_dir / "proj_grids")
    assert transformer is not None
    for row, col in [(5, 5), (20, 31), (39, 49), (12, 0)]:  # exact PROJ value at pixel centres
        x, y = transform * (col + 0.5, row + 0.5)
        exact = 100.0 + geoid_offsets(transformer, np.array([x]), np.array([y]))[0]
        assert band[row, col] == pytest.approx(exact, abs=0.001)
    with rasterio.open(tmp_path / "d.tif") as out:
        assert out.tags()["DRONEGIS_HEIGHT_DATUM"] == HeightDatum.DVR90.value
    assert_valid_everywhere(tmp_path / "d.tif")


def test_dsm_without_grids_is_labelled_ellipsoidal(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.warns(EllipsoidalHeightWarning):
        product = reproject_to_cog(
            _dsm(make_raster),
            tmp_path / "d.tif",
            ReprojectConfig(kind=ProductKind.DSM, declared_datum=HeightDatum.ELLIPSOIDAL),
        )
    assert product.height_datum is HeightDatum.ELLIPSOIDAL
    with rasterio.open(tmp_path / "d.tif") as out:
        assert float(out.read(1, masked=True).max()) == 100.0
        assert out.tags()["DRONEGIS_HEIGHT_DATUM"] == HeightDatum.ELLIPSOIDAL.value


def test_danish_dtm_already_dvr90(data_dir: Path, tmp_path: Path, workspace: object) -> None:
    root = tmp_path / "ws"
    dst = root / "products" / "f1" / "dtm.tif"
    product = reproject_to_cog(
        data_dir / MALSTROEM,
        dst,
        ReprojectConfig(
            kind=ProductKind.DTM,
            grids=data_dir / "proj_grids",
            declared_datum=HeightDatum.DVR90,
            flight="f1",
            workspace_root=root,
        ),
    )
    assert product.height_datum is HeightDatum.DVR90
    assert product.path == "products/f1/dtm.tif" and product.id == "f1-dtm" and product.flight == "f1"
    with rasterio.open(dst) as out, rasterio.open(data_dir / MALSTROEM) as orig:
        assert np.array_equal(out.read(1), orig.read(1))
        assert out.nodata == orig.nodata
    assert_valid_everywhere(dst)


def test_rgb_nodata_becomes_mask(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    data = np.full((3, 64, 64), 120, dtype="uint8")
    data[:, :16, :] = 0
    src = make_raster("n.tif", width=64, height=64, count=3, nodata=0, data=data)
    reproject_to_cog(src, tmp_path / "n_cog.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO))
    with rasterio.open(tmp_path / "n_cog.tif") as out:
        mask = out.dataset_mask()
        assert out.count == 3 and out.nodata is None
        assert (mask[:16] == 0).all() and (mask[16:] == 255).all()


def test_geographic_target_axis_order_matches_gdalwarp(data_dir: Path, tmp_path: Path) -> None:
    """EPSG:4326 is lat/lon in the EPSG database; GDAL gets the operation in that order."""
    src = data_dir / "rio_cogeo_fixtures/tests/fixtures/image_rgb.tif"
    product = reproject_to_cog(
        src,
        tmp_path / "g.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs="EPSG:4326", profile=lossless()),
    )
    transform, width, height = gdal_default_grid(src, tmp_path / "ref.tif", "EPSG:4326", "-r", "bilinear")
    with rasterio.open(tmp_path / "g.tif") as ours, rasterio.open(tmp_path / "ref.tif") as theirs:
        assert (ours.width, ours.height) == (width, height)
        assert ours.transform.almost_equals(transform, precision=1e-9)
        assert -61.57 < product.bounds[0] < product.bounds[2] < -61.56  # lon first
        a, b = ours.read()[:3].astype(int), theirs.read().astype(int)
    inner = (slice(None), slice(2, -2), slice(2, -2))
    assert np.abs(a[inner] - b[inner]).mean() < 0.5


def test_geographic_source_matches_gdalwarp(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    src = make_raster("ll.tif", width=300, height=200, count=3, crs="EPSG:4258",
                      transform=from_origin(9.93, 56.04, 0.00002, 0.00001))  # fmt: skip
    product = reproject_to_cog(
        src, tmp_path / "u.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, profile=lossless())
    )
    assert _delivered(product).warp == "warped"
    transform, width, height = gdal_default_grid(src, tmp_path / "ref.tif", "EPSG:25832", "-r", "bilinear")
    with rasterio.open(tmp_path / "u.tif") as ours:
        assert abs(ours.width - width) <= 1 and abs(ours.height - height) <= 1
        assert ours.transform.almost_equals(transform, precision=1e-4)
    assert 557900 < product.bounds[0] < 558000 and 6210900 < product.bounds[3] < 6211000


def test_bad_options_fail_clearly(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    src16 = make_raster("u16.tif", count=3, dtype="uint16")
    with pytest.raises(UsageError, match="u16.tif: uint16 imagery does not fit the 8-bit profile ortho_jpeg"):
        reproject_to_cog(src16, tmp_path / "x.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO))
    src = make_raster("u8.tif", count=3)
    with pytest.raises(UsageError, match="unknown resampling 'smooth'"):
        reproject_to_cog(
            src, tmp_path / "y.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, resampling="smooth")
        )
    with pytest.raises(UsageError, match="unknown COG profile 'png'"):
        reproject_to_cog(src, tmp_path / "z.tif", ReprojectConfig(kind=ProductKind.ORTHOPHOTO, profile="png"))
    assert not list(tmp_path.glob("*.tif.*")), "no scratch left behind"


def test_dvr90_lattice_equals_exact_per_pixel(
    make_raster: Callable[..., Path], data_dir: Path, tmp_path: Path
) -> None:
    """A 4 x 3 km DSM (the geoid varies by centimetres): lattice + bilinear is within 1 mm of PROJ."""
    data = np.full((1, 300, 400), 50.0, dtype="float32")
    src = make_raster("wide.tif", width=400, height=300, dtype="float32", nodata=-9999.0, data=data,
                      transform=from_origin(556000, 6215500, 10.0, 10.0))  # fmt: skip
    reproject_to_cog(
        src,
        tmp_path / "w.tif",
        ReprojectConfig(
            kind=ProductKind.DSM, grids=data_dir / "proj_grids", declared_datum=HeightDatum.ELLIPSOIDAL
        ),
    )
    transformer = dvr90_transformer("EPSG:25832", data_dir / "proj_grids")
    assert transformer is not None
    with rasterio.open(tmp_path / "w.tif") as out:
        band = out.read(1).astype(np.float64)
    cols, rows = np.meshgrid(np.arange(400) + 0.5, np.arange(300) + 0.5)
    exact = 50.0 + geoid_offsets(transformer, 556000 + 10.0 * cols.ravel(), 6215500 - 10.0 * rows.ravel())
    assert np.ptp(exact) > 0.01, "the test area must show geoid variation"
    assert np.abs(band.ravel() - exact).max() < 0.001


def test_thermal_mosaic_and_atomic_replace(make_raster: Callable[..., Path], tmp_path: Path) -> None:
    data = np.linspace(-3.0, 35.0, 64 * 80, dtype="float32").reshape(1, 64, 80)
    data[0, :4, :4] = -9999.0
    src = make_raster("thermal.tif", width=80, height=64, dtype="float32", nodata=-9999.0, data=data,
                      crs="EPSG:32632")  # fmt: skip
    dst = tmp_path / "out" / "thermal_cog.tif"
    for _ in range(2):  # the second run replaces the first atomically
        product = reproject_to_cog(src, dst, ReprojectConfig(kind=ProductKind.THERMAL_MOSAIC, flight="f2"))
    assert product.units == "°C" and _delivered(product).cog_profile == "thermal_f32"
    assert product.height_datum is HeightDatum.NOT_APPLICABLE and product.id == "f2-thermal_mosaic"
    with rasterio.open(dst) as out:
        assert out.nodata == -9999.0 and out.dtypes[0] == "float32"
        assert np.array_equal(out.read(1), data[0])
    assert sorted(p.name for p in dst.parent.iterdir()) == ["thermal_cog.tif"]
