from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from morecantile import Tile
from rio_tiler.io import Reader

from tests.webgis_export.published import blocky_rgb, thermal_field, write_cog
from webgis_export.models import Style
from webgis_export.render import FastWarp, colormap_lut, encode, read_point, style_image
from webgis_export.tms import get_tms


@pytest.fixture(scope="module")
def rgb_cog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cog(tmp_path_factory.mktemp("render") / "rgb.tif", blocky_rgb(), 0.1)


@pytest.fixture(scope="module")
def thermal_cog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cog(tmp_path_factory.mktemp("render") / "thermal.tif", thermal_field(), 0.2, nodata=-9999.0)


def _tiles(cog: Path, tms_id: str, zooms: range) -> list[tuple[int, int, int]]:
    tms = get_tms(tms_id)
    with Reader(str(cog), tms=tms) as reader:
        west, south, east, north = reader.get_geographic_bounds(tms.rasterio_geographic_crs)
    return [(t.z, t.x, t.y) for z in zooms for t in tms.tiles(west, south, east, north, zooms=[z])]


@pytest.mark.parametrize(
    ("tms_id", "zooms", "agree"),
    [
        ("View1", range(14, 17), 0.97),  # native resolution and finer: same pixels
        ("WebMercatorQuad", range(19, 22), 0.97),
        ("View1", range(10, 14), 0.85),  # from overviews: GDAL's warper may pick another level
        ("WebMercatorQuad", range(15, 19), 0.85),
    ],
)
def test_fast_tiles_match_rio_tiler(rgb_cog: Path, tms_id: str, zooms: range, agree: float) -> None:
    tms = get_tms(tms_id)
    tiles = _tiles(rgb_cog, tms_id, zooms)
    assert len(tiles) >= 4
    with rasterio.open(rgb_cog) as dataset, Reader(str(rgb_cog), tms=tms) as reader:
        warp = FastWarp(dataset)
        for z, x, y in tiles:
            if not reader.tile_exists(x, y, z):
                continue
            expected = reader.tile(x, y, z)
            got = warp.read(tuple(tms.xy_bounds(x, y, z)), tms.rasterio_crs, 256, 256)
            assert got is not None
            both = (expected.mask > 0) & (got.mask > 0)
            either = (expected.mask > 0) | (got.mask > 0)
            if either.sum() < 256:  # a sliver of the product: too few pixels to compare
                continue
            assert both.sum() >= 0.97 * either.sum(), f"footprint differs on {z}/{x}/{y}"
            same = np.all(np.abs(expected.data.astype(int) - got.data.astype(int)) <= 1, axis=0)[both]
            assert same.mean() >= agree, f"{tms_id} {z}/{x}/{y}: only {same.mean():.1%} equal"


def test_fast_read_outside_is_none(rgb_cog: Path) -> None:
    tms = get_tms("View1")
    with rasterio.open(rgb_cog) as dataset:
        far = (200000.0, 6100000.0, 200409.6, 6100409.6)
        assert FastWarp(dataset).read(far, tms.rasterio_crs, 256, 256) is None


def test_thermal_style_and_transparent_nodata(thermal_cog: Path) -> None:
    style = Style(colormap="inferno", vmin=-5.0, vmax=25.0, unit="°C")
    with rasterio.open(thermal_cog) as dataset:
        left, bottom, right, top = dataset.bounds
        image = FastWarp(dataset).read((left, bottom, right, top), dataset.crs, 128, 128)
    assert image is not None
    rendered = style_image(image, style)
    assert rendered.alpha[:8, :8].max() == 0  # the nodata corner
    assert rendered.alpha[64:, 64:].min() == 255
    lut = colormap_lut("inferno")
    assert np.abs(rendered.rgb[100, -1].astype(int) - lut[255]).max() <= 4  # ≈25 °C at the right edge
    png = cv2.imdecode(np.frombuffer(encode(rendered, "png"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert png.shape == (128, 128, 4) and png[0, 0, 3] == 0 and png[100, 100, 3] == 255
    jpeg = cv2.imdecode(np.frombuffer(encode(rendered, "jpeg"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert jpeg.shape == (128, 128, 3)
    assert jpeg[2, 2].min() > 240  # nodata drawn in the (white) background colour


def test_read_point_reports_celsius_and_nodata(thermal_cog: Path) -> None:
    with Reader(str(thermal_cog)) as reader:
        left, _, _, top = reader.bounds
        value = read_point(reader, left + 0.2 * 200.5, top - 0.2 * 100.5, reader.crs)[0]
        corner = read_point(reader, left + 0.3, top - 0.3, reader.crs)[0]
        outside = read_point(reader, left - 100.0, top + 100.0, reader.crs)
    assert value == pytest.approx(-5.0 + 30.0 * 200 / 255, abs=1e-4)
    assert corner is None
    assert outside == [None]


def _nan_thermal(size: int = 256) -> np.ndarray:
    """°C field whose nodata is NaN (as pipeline.thermal.convert writes it), with a NaN corner and stripe."""
    field = thermal_field(size)
    field[field == -9999.0] = np.nan
    field[0, 100:110, :] = np.nan
    return field


def test_nan_nodata_thermal_renders_without_cast_warning(tmp_path: Path) -> None:
    import warnings

    cog = write_cog(tmp_path / "nan.tif", _nan_thermal(), 0.2, nodata=float("nan"))
    style = Style(colormap="inferno", vmin=-5.0, vmax=25.0, unit="°C")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # also when run outside pytest's filterwarnings=error
        with rasterio.open(cog) as dataset:
            image = FastWarp(dataset).read(tuple(dataset.bounds), dataset.crs, 128, 128)  # type: ignore[arg-type]
        assert image is not None and np.isnan(image.data[0]).any()
        rendered = style_image(image, style)
        png = cv2.imdecode(np.frombuffer(encode(rendered, "png"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert rendered.alpha[:8, :8].max() == 0 and rendered.alpha[51, :].max() == 0  # NaN corner and stripe
    assert rendered.alpha[80:, 64:].min() == 255
    assert png[0, 0, 3] == 0 and png[100, 100, 3] == 255


def test_scale_to_byte_maps_non_finite_to_zero() -> None:
    from webgis_export.render import scale_to_byte

    values = np.array([np.nan, -np.inf, np.inf, 10.0, 30.0], dtype=np.float32)
    np.testing.assert_array_equal(scale_to_byte(values, 0.0, 20.0), [0, 0, 255, 127, 255])


@pytest.fixture(scope="module")
def noise_cog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2048² RGB noise with overviews 2 and 4: any other source pixel or level shows."""
    noise = np.random.default_rng(3).integers(0, 255, (3, 2048, 2048), dtype=np.uint8)
    return write_cog(tmp_path_factory.mktemp("render") / "noise.tif", noise, 0.1)


@pytest.mark.parametrize("step", [1.0, 1.5, 1.7, 2.5, 3.5, 5.0])
def test_native_map_equals_gdal_rasterio(noise_cog: Path, step: float) -> None:
    """A map in the COG's own CRS: the same overview and the same pixels as GDAL's nearest RasterIO."""
    with rasterio.open(noise_cog) as dataset:
        left, top = dataset.bounds.left + 13.37, dataset.bounds.top - 13.37
        bounds = (left, top - 300 * step * 0.1, left + 300 * step * 0.1, top)
        ours = FastWarp(dataset).read(bounds, dataset.crs, 300, 300)
        window = rasterio.windows.from_bounds(*bounds, transform=dataset.transform)
        gdal = dataset.read(window=window, out_shape=(3, 300, 300))
    assert ours is not None
    np.testing.assert_array_equal(ours.data, gdal)


def test_strips_and_threads_read_the_same(noise_cog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads in strips of a few rows, and one FastWarp shared by threads, give the same pixels."""
    tms = get_tms("WebMercatorQuad")
    tiles = _tiles(noise_cog, "WebMercatorQuad", range(17, 20))
    with rasterio.open(noise_cog) as dataset:
        warp = FastWarp(dataset)

        def read(tile: tuple[int, int, int]) -> np.ndarray:
            box = tms.xy_bounds(Tile(tile[1], tile[2], tile[0]))
            image = warp.read((box.left, box.bottom, box.right, box.top), tms.rasterio_crs, 256, 256)
            return np.zeros((3, 256, 256), np.uint8) if image is None else image.data

        alone = [read(tile) for tile in tiles]
        with ThreadPoolExecutor(4) as pool:
            shared = list(pool.map(read, tiles))
        monkeypatch.setattr(FastWarp, "STRIP", 7)
        strips = [read(tile) for tile in tiles]
    assert len(tiles) >= 8
    for a, b, c in zip(alone, shared, strips, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
