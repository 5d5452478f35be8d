"""The nearest-to-nadir rule over several thermal views (pipeline.buildings.views), on known rasters.

Two °C rasters over the same ground: an oblique view (30°, 20 °C everywhere) covering all three
footprints, and a near-nadir view (5°, 10 °C) covering footprint A whole, B for 50 % and C not
at all. A takes the nadir view; B (under 90 % there) and C take the oblique one; a third view
whose raster is in kelvin is left out.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from core.errors import RasterInputError
from pipeline.buildings import BuildingsConfig
from pipeline.buildings.stage import write_report
from pipeline.buildings.views import ThermalView, measure_views, view_order

X0, Y0, CELL = 500_000.0, 6_200_000.0, 0.1


def _raster(path: Path, value: float, width_m: float) -> Path:
    width, height = int(width_m / CELL), int(20 / CELL)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
               "crs": "EPSG:25832", "transform": from_origin(X0, Y0, CELL, CELL)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, height, width), value, np.float32))
    return path


def test_each_building_takes_the_nearest_to_nadir_view_covering_it(tmp_path: Path) -> None:
    oblique = _raster(tmp_path / "oblique.tif", 20.0, 40.0)  # x 0-40 m
    nadir = _raster(tmp_path / "nadir.tif", 10.0, 16.0)  # x 0-16 m
    kelvin = _raster(tmp_path / "kelvin.tif", 290.0, 40.0)
    boxes = {"A": (2, 5, 8, 15), "B": (11, 5, 21, 15), "C": (25, 5, 35, 15)}  # B: 5 of its 10 m inside nadir
    frame = gpd.GeoDataFrame(
        {"id": list(boxes)},
        geometry=[shapely.box(X0 + a, Y0 - d, X0 + c, Y0 - b) for a, b, c, d in boxes.values()],
        crs="EPSG:25832",
    )
    frame.to_file(tmp_path / "fp.geojson", driver="GeoJSON")
    views = [
        ThermalView(raster=oblique, view_angle_deg=30.0),
        ThermalView(raster=kelvin, view_angle_deg=1.0),
        ThermalView(raster=nadir, view_angle_deg=5.0),
    ]
    assert [v.raster for v in view_order(views)] == [kelvin, nadir, oblique]
    config = BuildingsConfig(footprints=tmp_path / "fp.geojson", thermal=oblique, out_dir=tmp_path / "out")
    measured = measure_views(config, views)
    by_id = {b.id: b for b in measured.buildings}
    assert (by_id["A"].thermal, by_id["A"].view_angle_deg, by_id["A"].stats.mean) == (nadir, 5.0, 10.0)
    assert (by_id["B"].thermal, by_id["B"].view_angle_deg, by_id["B"].stats.mean) == (oblique, 30.0, 20.0)
    assert (by_id["C"].thermal, by_id["C"].stats.coverage) == (oblique, 1.0)
    report = write_report(config, measured)  # scored together, cards crop each building's own raster
    layer = gpd.read_file(report.outputs["geopackage"], layer="buildings").set_index("id")
    assert (
        layer.loc["A", "thermal_source"] == "nadir.tif" and layer.loc["B", "thermal_source"] == "oblique.tif"
    )
    assert layer.loc["A", "rank"] == 3  # the coldest roof ranks last
    assert (tmp_path / "out" / "cards" / "A_thermal.png").is_file()
    assert layer.loc["B", "view_angle_deg"] == pytest.approx(30.0)


def test_only_kelvin_views_are_refused(tmp_path: Path) -> None:
    kelvin = _raster(tmp_path / "kelvin.tif", 290.0, 40.0)
    frame = gpd.GeoDataFrame(
        {"id": ["A"]}, geometry=[shapely.box(X0 + 2, Y0 - 15, X0 + 8, Y0 - 5)], crs="EPSG:25832"
    )
    frame.to_file(tmp_path / "fp.geojson", driver="GeoJSON")
    config = BuildingsConfig(footprints=tmp_path / "fp.geojson", thermal=kelvin, out_dir=tmp_path / "out")
    with pytest.raises(RasterInputError, match="kelvin"):
        measure_views(config, [ThermalView(raster=kelvin)])
