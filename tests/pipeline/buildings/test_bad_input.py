"""Bad input: rasters that are not °C, footprints without CRS, broken features — clear errors or flags."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from core.errors import PolygonLayerError, RasterInputError
from pipeline.buildings import BuildingsConfig, Reliability, buildings_stage
from tests.pipeline.buildings.scene import scene_array, world_box, write_footprints, write_raster


def run(tmp_path: Path, thermal: Path, footprints: Path | None = None) -> object:
    config = BuildingsConfig(
        footprints=footprints or write_footprints(tmp_path / "roofs.gpkg", "EPSG:3044"),
        thermal=thermal,
        out_dir=tmp_path / "out",
        cards=False,
    )
    return buildings_stage(config)


@pytest.mark.parametrize(
    ("name", "data", "count", "message"),
    [
        ("rgb.tif", (scene_array() * 10).astype("uint8"), 3, r"rgb\.tif has 3 bands .*RGB"),
        ("grey.tif", (scene_array() * 10).astype("uint8"), 1, r"grey\.tif is 8-bit \(uint8\)"),
        ("kelvin.tif", scene_array(273.15), 1, r"kelvin\.tif has median 275\.1: these look like kelvin"),
        (
            "counts.tif",
            (scene_array() * 1000).astype("uint16"),
            1,
            r"counts\.tif has median 2000\.0, implausible",
        ),
    ],
)
def test_raster_not_in_celsius_is_refused_naming_it(
    tmp_path: Path, name: str, data: np.ndarray, count: int, message: str
) -> None:
    with pytest.raises(RasterInputError, match=message):
        run(tmp_path, write_raster(tmp_path / name, data, count=count))
    assert not (tmp_path / "out" / "buildings.gpkg").exists()


def test_footprints_without_crs_are_refused_naming_the_file(tmp_path: Path) -> None:
    shp = write_footprints(tmp_path / "roofs.shp", "EPSG:25832", short_names=True)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(PolygonLayerError, match=r"roofs\.shp has no CRS"):
        run(tmp_path, write_raster(tmp_path / "c.tif", scene_array()), shp)


def test_bbr_shapefile_names_are_recognised(tmp_path: Path) -> None:
    shp = write_footprints(tmp_path / "bbr.shp", "EPSG:25832", short_names=True)
    report = run(tmp_path, write_raster(tmp_path / "c.tif", scene_array()), shp)
    assert (report.use_field, report.material_field) == ("BYG_ANVEND", "TAG_KODE")
    metal = next(b for b in report.buildings if b.id == "R5")
    assert metal.material == "metal" and metal.reliability is Reliability.UNRELIABLE


def test_broken_features_are_flagged_and_the_rest_analysed(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(560002, 6215490), (560012, 6215498), (560012, 6215490), (560002, 6215498)])
    frame = gpd.GeoDataFrame(
        {"id_lokalId": ["A", "A", "C", "D"]},
        geometry=[world_box(2, 2, 12, 10), world_box(15, 2, 25, 10), shapely.Polygon(), bowtie],
        crs="EPSG:25832",
    ).to_crs("EPSG:3044")
    path = tmp_path / "broken.gpkg"
    frame.to_file(path)
    report = run(tmp_path, write_raster(tmp_path / "c.tif", scene_array()), path)
    found = {b.key: b for b in report.buildings}
    assert set(found) == {"A~0", "A~1", "C", "D"}
    assert found["C"].geometry is None and found["C"].rank is None and found["C"].stats.pixel_count == 0
    assert found["C"].reliability is Reliability.UNRELIABLE and "no_data" in found["C"].reasons
    assert "repaired_footprint" in found["D"].reasons and found["D"].stats.valid_count > 0
    assert all(b.rank is not None for k, b in found.items() if k != "C")
    layer = gpd.read_file(report.outputs["geopackage"], layer="buildings")
    problems = dict(zip(layer["key"], layer["problems"], strict=True))
    assert "occurs more than once" in problems["A~0"] and "empty geometry" in problems["C"]
    assert "Self-intersection" in problems["D"]


def test_footprints_outside_the_raster_get_no_rank_but_do_not_crash(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["far"]}, geometry=[shapely.box(600000, 6100000, 600010, 6100010)], crs=25832
    )
    path = tmp_path / "far.gpkg"
    frame.to_file(path)
    report = run(tmp_path, write_raster(tmp_path / "c.tif", scene_array()), path)
    (far,) = report.buildings
    assert far.stats.valid_count == 0 and far.stats.pixel_count == 10000 and far.rank is None
