"""Real footprints: GeoDanmark (EPSG:3044) and the opengeos buildings (CRS84) over °C rasters."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from exactextract import exact_extract
from rasterio.features import rasterize
from rasterio.transform import from_origin

from pipeline.buildings import (
    BuildingsConfig,
    BuildingsReport,
    FlightConditions,
    Reliability,
    buildings_stage,
)
from pipeline.zonal import read_polygons, zonal_stats

GEODANMARK = "dk_sdfi_dhmqc/demo/build_1km_6173_632.geojson"
OPENGEOS = "opengeos_data/elevation/buildings.geojson"
OPENGEOS_HAG = "opengeos_data/elevation/hag.tif"
RES = 0.1


@pytest.fixture(scope="module")
def geodanmark(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, gpd.GeoDataFrame]:
    """A °C raster over the GeoDanmark tile: each roof uniform (6 + 0.5 i °C), a 1 m² leak on roof 0."""
    frame = gpd.read_file(data_dir / GEODANMARK).to_crs("EPSG:25832")  # independent reprojection
    minx, miny, maxx, maxy = frame.total_bounds
    # grid offset by 3.7 mm: no cell centre falls exactly on a cm-precision vertex or edge, where the
    # centre rule's tie-break (GDAL scanline vs shapely's strict "inside") would decide
    x0, y0 = np.floor(minx) - 5 + 0.0037, np.ceil(maxy) + 5 + 0.0037
    width, height = int((np.ceil(maxx) + 5 - x0) / RES), int((y0 - np.floor(miny) + 5) / RES)
    transform = from_origin(x0, y0, RES, RES)
    temps = [6.0 + 0.5 * i for i in range(len(frame))]
    data = rasterize(
        zip(frame.geometry, temps, strict=True),
        out_shape=(height, width),
        transform=transform,
        fill=1.0,
        dtype="float32",
    )
    leak = frame.geometry.iloc[0].representative_point()
    col, row = int((leak.x - x0) / RES), int((y0 - leak.y) / RES)
    data[row : row + 10, col : col + 10] = temps[0] + 5.0
    path = tmp_path_factory.mktemp("geodanmark") / "celsius.tif"
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32"}
    with rasterio.open(path, "w", **profile, crs="EPSG:25832", transform=transform) as dst:
        dst.write(data, 1)
    return path, frame.assign(temp=temps)


def test_geodanmark_footprints_over_a_celsius_raster(
    data_dir: Path, geodanmark: tuple[Path, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    raster, frame = geodanmark
    config = BuildingsConfig(
        footprints=data_dir / GEODANMARK,
        thermal=raster,
        out_dir=tmp_path / "out",
        flight=FlightConditions(air_temp_c=2.0),
    )
    report = buildings_stage(config)
    assert [b.id for b in report.buildings] == [str(int(v)) for v in frame["FID"]]
    for b, temp in zip(report.buildings[1:], frame["temp"].iloc[1:], strict=True):
        assert b.stats.mean == pytest.approx(temp, abs=0.05) and b.stats.max == pytest.approx(temp, abs=0.05)
        assert b.stats.coverage == 1.0 and not b.hot_spots
    (leak,) = report.buildings[0].hot_spots
    assert leak.area_m2 == pytest.approx(1.0, abs=RES * 1.0)  # ± one 1 m row of cells
    assert leak.peak_c == pytest.approx(frame["temp"].iloc[0] + 5.0, abs=0.05)
    gpkg = gpd.read_file(report.outputs["geopackage"], layer="buildings")
    assert gpkg.crs.to_epsg() == 25832 and len(gpkg) == 11
    # footprint areas in the output equal the source's (EPSG:3044 and 25832 share their projection)
    assert np.allclose(gpkg.geometry.area, frame.geometry.area, rtol=1e-6)
    assert sorted(b.rank for b in report.buildings) == list(range(1, 12))


def centre_filtered(raster: Path, polys: list[shapely.Geometry]) -> list[np.ndarray]:
    """exactextract's cells of each polygon whose centre lies inside it (its values, finite)."""
    frame = gpd.GeoDataFrame(geometry=polys, crs=rasterio.open(raster).crs)
    out = exact_extract(str(raster), frame, ["center_x", "center_y", "values"], output="pandas")
    kept = []
    for poly, (_, row) in zip(polys, out.iterrows(), strict=True):
        values = np.asarray(row["values"], dtype=np.float64)
        inside = shapely.contains_xy(poly, np.asarray(row["center_x"]), np.asarray(row["center_y"]))
        kept.append(values[inside & np.isfinite(values)])
    return kept


def test_geodanmark_zonal_statistics_agree_with_exactextract(
    data_dir: Path, geodanmark: tuple[Path, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    raster, _ = geodanmark
    noisy = tmp_path / "noisy.tif"
    with rasterio.open(raster) as src:
        profile, data = src.meta, src.read(1)
    data = data + np.random.default_rng(4).normal(0, 0.5, data.shape).astype("float32")
    with rasterio.open(noisy, "w", **profile) as dst:
        dst.write(data, 1)
    polys = [f.geometry for f in read_polygons(data_dir / GEODANMARK, crs="EPSG:25832").features]
    for mine, theirs in zip(zonal_stats(noisy, polys), centre_filtered(noisy, polys), strict=True):
        assert mine.valid_count == theirs.size > 1000
        assert mine.mean == pytest.approx(theirs.mean(), abs=1e-9)
        assert mine.p10 == pytest.approx(np.percentile(theirs, 10), abs=1e-9)
        assert mine.max == theirs.max() and mine.std == pytest.approx(theirs.std(), abs=1e-9)


@pytest.fixture(scope="module")
def opengeos_raster(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A °C raster on the opengeos 2 m grid (EPSG:26918): 3 °C + 0.4 K per metre above ground."""
    with rasterio.open(data_dir / OPENGEOS_HAG) as src:
        profile, hag = src.profile, src.read(1, masked=True)
    celsius = (3.0 + 0.4 * hag.astype("float64")).filled(np.nan).astype("float32")
    profile.update(dtype="float32", nodata=float("nan"))
    path = tmp_path_factory.mktemp("opengeos") / "celsius.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(celsius, 1)
    return path


def test_opengeos_buildings_over_a_celsius_raster(
    data_dir: Path, opengeos_raster: Path, tmp_path: Path
) -> None:
    config = BuildingsConfig(
        footprints=data_dir / OPENGEOS, thermal=opengeos_raster, out_dir=tmp_path / "o", cards=False
    )
    report: BuildingsReport = buildings_stage(config)
    assert len(report.buildings) == 84 and report.raster_crs == "EPSG:26918"
    assert report.cell_size_m == pytest.approx(2.0)
    ranked = [b for b in report.buildings if b.rank is not None]
    assert len(ranked) >= 80
    reliable = [b.rank for b in ranked if b.reliability is not Reliability.UNRELIABLE]
    unreliable = [b.rank for b in ranked if b.reliability is Reliability.UNRELIABLE]
    assert reliable and unreliable  # small sheds hold few 2 m cells
    assert max(reliable) < min(unreliable)
    assert all(
        "too_few_pixels" in b.reasons or "low_coverage" in b.reasons or "no_data" in b.reasons
        for b in report.buildings
        if b.reliability is Reliability.UNRELIABLE
    )
    # independent check of the figures: exactextract's centre-filtered cells
    polys = [f.geometry for f in read_polygons(data_dir / OPENGEOS, crs="EPSG:26918").features]
    for b, theirs in zip(report.buildings, centre_filtered(opengeos_raster, polys), strict=True):
        assert b.stats.valid_count == theirs.size
        if theirs.size:
            assert b.stats.median == pytest.approx(np.median(theirs), abs=1e-6)
    assert "cards" not in report.outputs and report.outputs["geopackage"].exists()
