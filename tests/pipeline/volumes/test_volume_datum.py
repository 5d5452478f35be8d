"""Vertical datums with the real DVR90 grids: a DVR90 DSM against an ellipsoidal base raster.

The Danish malstroem DTM (DVR90) with a 314.16 m³ pile is the DSM; the base raster is the
same DTM made ellipsoidal independently of dronegis (pyproj + the grids, tests/samples.py)
and tagged so. With the grids the base is converted and the pile found; without them the
mismatch is caught, never measured.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import Point

from pipeline.models import HeightDatum
from pipeline.volumes import BaseMethod, VolumeConfig, VolumeStatus, run_volumes
from tests.samples import ellipsoidal_copy

PILE_M3 = 314.16
CENTRE_CELL = (25.5, 196.5)


@pytest.fixture(scope="module")
def rasters(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("datums")
    dtm = data_dir / "dk_malstroem" / "tests" / "data" / "dtm.tif"
    with rasterio.open(dtm) as ds:
        ground, t, profile = ds.read(1).astype(np.float64), ds.transform, ds.profile
    rows, cols = np.mgrid[0 : ground.shape[0], 0 : ground.shape[1]] + 0.5
    x, y = t.c + t.a * cols, t.f + t.e * rows
    cx, cy = t.c + t.a * CENTRE_CELL[1], t.f + t.e * CENTRE_CELL[0]
    cone = np.clip(1 - np.hypot(x - cx, y - cy) / 48.0, 0, None)
    pile = cone * PILE_M3 / (cone.sum() * abs(t.a * t.e))
    dsm = folder / "dsm_dvr90.tif"
    with rasterio.open(dsm, "w", **(profile | {"dtype": "float32"})) as out:
        out.write((ground + pile).astype(np.float32), 1)
    base = ellipsoidal_copy(dtm, folder / "dtm_ellipsoidal.tif", data_dir / "proj_grids")
    with rasterio.open(base, "r+") as ds:
        ds.update_tags(DRONEGIS_HEIGHT_DATUM=HeightDatum.ELLIPSOIDAL.value)
    polygons = folder / "pile.geojson"
    gpd.GeoDataFrame({"id": ["bunke"]}, geometry=[Point(cx, cy).buffer(68, 64)], crs=25832).to_file(polygons)
    return {"dsm": dsm, "base": base, "polygons": polygons, "grids": data_dir / "proj_grids"}


def test_ellipsoidal_base_is_converted_with_the_grids(rasters: dict[str, Path]) -> None:
    config = VolumeConfig(
        dsm=rasters["dsm"], polygons=rasters["polygons"], base=BaseMethod.SURFACE, base_dem=rasters["base"],
        proj_grids=rasters["grids"],
    )  # fmt: skip
    result = run_volumes(config)
    assert result.height_datum is HeightDatum.DVR90
    assert any("geoid" in note for note in result.notes)  # the DSM's datum came from the geoid test
    assert any("base raster: ellipsoidal heights converted to DVR90" in note for note in result.notes)
    pile = result.polygons[0]
    assert pile.status is VolumeStatus.OK
    assert pile.net_m3 == pytest.approx(PILE_M3, rel=1e-3)


def test_without_the_grids_the_mismatch_fails_the_polygon(rasters: dict[str, Path]) -> None:
    config = VolumeConfig(
        dsm=rasters["dsm"], polygons=rasters["polygons"], base=BaseMethod.SURFACE, base_dem=rasters["base"]
    )
    pile = run_volumes(config).polygons[0]
    assert pile.status is VolumeStatus.FAILED
    assert "polygon bunke" in pile.problems[0] and "different vertical datums?" in pile.problems[0]


def test_ellipsoidal_dsm_with_a_plane_base_reports_dvr90_heights(
    rasters: dict[str, Path], tmp_path: Path
) -> None:
    ellipsoidal = ellipsoidal_copy(rasters["dsm"], tmp_path / "dsm_ell.tif", rasters["grids"])
    with rasterio.open(ellipsoidal, "r+") as ds:
        ds.update_tags(DRONEGIS_HEIGHT_DATUM=HeightDatum.ELLIPSOIDAL.value)
    as_dvr90 = run_volumes(VolumeConfig(dsm=rasters["dsm"], polygons=rasters["polygons"])).polygons[0]
    converted = run_volumes(
        VolumeConfig(dsm=ellipsoidal, polygons=rasters["polygons"], proj_grids=rasters["grids"])
    )
    assert converted.height_datum is HeightDatum.DVR90
    pile = converted.polygons[0]
    assert pile.base.height_m == pytest.approx(as_dvr90.base.height_m, abs=0.01)
    assert pile.net_m3 == pytest.approx(
        as_dvr90.net_m3, abs=5.0
    )  # 5 m³ = 0.4 mm over the polygon's 14 500 m²
