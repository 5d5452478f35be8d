"""Figures per area polygon (any CRS) and the time series of an area, checked against numpy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from change_pairs import DIRT, GRASS
from shapely.geometry import box

from pipeline.change import ChangeConfig, detect_change, time_series
from pipeline.vegetation import VegetationConfig, vegetation_indices

CRS = "EPSG:32722"
RES = 0.1156592985332547
X0, Y0 = 658490.6022928214, 7167011.175075
CONTROL = (slice(60, 160), slice(800, 900))  # grass east of the road, unchanged


def _box(rows: slice, cols: slice) -> object:
    return box(X0 + cols.start * RES, Y0 - rows.stop * RES, X0 + cols.stop * RES, Y0 - rows.start * RES)


def _exg(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[i].astype(np.float64) for i in range(3))
    return (2 * g - r - b) / (r + g + b)


@pytest.fixture
def areas(tmp_path: Path) -> Path:
    """The planted square and a control square, written in WGS 84 (not the rasters' CRS)."""
    frame = gpd.GeoDataFrame(
        {"navn": ["planted", "control"]}, geometry=[_box(*GRASS), _box(*CONTROL)], crs=CRS
    )
    path = tmp_path / "areas.geojson"
    frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


@pytest.mark.slow
def test_statistics_per_area_polygon(
    odm_br: Path, make_shifted: Callable[..., Path], areas: Path, tmp_path: Path
) -> None:
    after = make_shifted(3.4, -2.7, plant=True)
    config = ChangeConfig(
        out_dir=tmp_path / "out", target_crs=None, before_crs=CRS, polygons=areas, polygon_id="navn"
    )
    result = detect_change(odm_br, after, config)
    planted, control = result.area_stats
    assert (planted.id, control.id) == ("planted", "control")
    with rasterio.open(odm_br) as src:
        rgb = src.read()[:3]
    # BEFORE: the mean ExG of the cells of the square, by numpy on the original pixels
    assert planted.before_mean == pytest.approx(float(np.mean(_exg(rgb[:, GRASS[0], GRASS[1]]))), abs=1e-4)
    assert control.before_mean == pytest.approx(
        float(np.mean(_exg(rgb[:, CONTROL[0], CONTROL[1]]))), abs=1e-4
    )
    # AFTER is read where its ground is (moved by the co-registration): the dirt texture planted there
    assert planted.after_mean == pytest.approx(float(np.mean(_exg(rgb[:, DIRT[0], DIRT[1]]))), abs=0.01)
    assert planted.diff_mean == pytest.approx(planted.after_mean - planted.before_mean)
    assert planted.diff_mean < -0.1 and abs(control.diff_mean) < 0.01
    assert planted.lost_m2 == pytest.approx(100 * 100 * RES * RES, rel=0.10) and planted.gained_m2 == 0
    assert control.lost_m2 == 0 and control.gained_m2 == 0 and control.changed_share == 0
    assert planted.area_m2 == pytest.approx(100 * 100 * RES * RES, rel=1e-6)
    assert planted.coverage_before == 1.0 and planted.coverage_after == 1.0


@pytest.mark.slow
def test_time_series_over_n_flights(
    odm_br: Path, make_shifted: Callable[..., Path], areas: Path, tmp_path: Path
) -> None:
    flights = {
        datetime(2024, 6, 1, tzinfo=UTC): odm_br,
        datetime(2025, 6, 3, tzinfo=UTC): make_shifted(0, 0, plant=True, name="2025.tif"),
        datetime(2023, 5, 30, tzinfo=UTC): make_shifted(0, 0, gain=0.9, name="2023.tif"),
    }
    rasters = []
    for date, ortho in flights.items():
        config = VegetationConfig(
            out_dir=tmp_path / date.strftime("%Y"), indices=("ExG",), crs=CRS, time_start=date
        )
        rasters.append((date, vegetation_indices(ortho, config).products[0].path))
    series = time_series(rasters, areas, polygon_id="navn")
    assert [(p.id, p.date.year) for p in series] == [
        ("planted", 2023), ("planted", 2024), ("planted", 2025),
        ("control", 2023), ("control", 2024), ("control", 2025),
    ]  # fmt: skip
    planted = [p.mean for p in series if p.id == "planted"]
    assert planted[0] == pytest.approx(planted[1], abs=0.01)  # exposure alone does not move chromatic ExG
    assert planted[2] < planted[1] - 0.1  # the grass is gone in 2025
    assert all(p.coverage > 0.99 for p in series if p.id == "control")
