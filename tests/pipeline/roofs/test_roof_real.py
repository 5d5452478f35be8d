"""opengeos LiDAR DSM/DTM (2 m, EPSG:26918) and building footprints with a HEIGHT attribute."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from pipeline.roofs import RoofConfig, RoofStatus, run_roofs

HEIGHT_RMSE_M = 0.712
"""RMSE of our height above terrain (median DSM − DTM over the footprint) against HEIGHT, 82 buildings."""


def test_building_heights_against_the_height_attribute(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "opengeos_data" / "elevation"
    result = run_roofs(
        RoofConfig(
            dsm=folder / "dsm.tif",
            footprints=folder / "buildings.geojson",
            dtm=folder / "dtm.tif",
            out_dir=tmp_path,
            out_crs="EPSG:26918",
        )  # fmt: skip
    )
    footprints = gpd.read_file(folder / "buildings.geojson")
    assert len(result.buildings) == len(footprints) == 84
    assert all(b.status is not RoofStatus.FAILED for b in result.buildings)
    ours = np.array([np.nan if b.height_m is None else b.height_m for b in result.buildings])
    truth = footprints["HEIGHT"].to_numpy(dtype=float)
    known = np.isfinite(ours) & np.isfinite(truth)
    rmse = float(np.sqrt(np.mean((ours[known] - truth[known]) ** 2)))
    assert known.sum() == 82
    assert rmse == pytest.approx(HEIGHT_RMSE_M, abs=0.01)
    # the same medians from an independent selection of cells (GEOS point-in-polygon on cell centres)
    with rasterio.open(folder / "dsm.tif") as dsm, rasterio.open(folder / "dtm.tif") as dtm:
        above = dsm.read(1, masked=True).astype(float) - dtm.read(1, masked=True).astype(float)
        t, crs = dsm.transform, dsm.crs
    rows, cols = np.mgrid[0 : above.shape[0], 0 : above.shape[1]] + 0.5
    x, y = t.c + t.a * cols, t.f + t.e * rows
    for geom, building in zip(footprints.to_crs(crs).geometry, result.buildings, strict=True):
        cells = shapely.contains_xy(geom, x, y) & ~np.ma.getmaskarray(above)
        assert building.height_m == pytest.approx(float(np.median(above.data[cells])), abs=1e-4)
    faces = gpd.read_file(result.outputs["gpkg"], layer="roof_planes")
    assert len(faces) == len(result.planes) > 84
    assert (faces["slope_deg"] >= 0).all() and (faces["slope_deg"] < 90).all()
