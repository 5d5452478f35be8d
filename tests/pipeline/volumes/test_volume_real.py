"""Real rasters: a 314.16 m³ pile on the Danish malstroem DTM, building volumes on the opengeos DSM/DTM.

Each figure is checked against an independent implementation written here: cells chosen
with GEOS/matplotlib instead of GDAL's rasterizer, the plane fitted with numpy's lstsq in
its own Tukey reweighting loop.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from shapely.geometry import Point

from pipeline.volumes import BaseMethod, VolumeConfig, VolumeStatus, run_volumes

PILE_M3 = 314.16
PILE_CELL = (25.5, 196.5)  # row, col of the pile's centre: a level patch of the DTM (3 cm from a plane)
PILE_RADIUS = 48.0


class Pile(NamedTuple):
    dtm: Path
    dsm: Path
    polygons: Path
    heights: np.ndarray
    transform: Affine


def centres(transform: Affine, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    return transform.c + transform.a * cols, transform.f + transform.e * rows


@pytest.fixture(scope="module")
def pile(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Pile:
    """The DTM plus a cone whose cell sum is exactly 314.16 m³ (cell area × Σ heights)."""
    dtm = data_dir / "dk_malstroem" / "tests" / "data" / "dtm.tif"
    folder = tmp_path_factory.mktemp("malstroem")
    with rasterio.open(dtm) as ds:
        ground, t, profile = ds.read(1).astype(np.float64), ds.transform, ds.profile
    x, y = centres(t, ground.shape)
    cx, cy = t.c + t.a * PILE_CELL[1], t.f + t.e * PILE_CELL[0]
    cone = np.clip(1 - np.hypot(x - cx, y - cy) / PILE_RADIUS, 0, None)
    heights = cone * PILE_M3 / (cone.sum() * abs(t.a * t.e))
    dsm = folder / "dsm_with_pile.tif"
    with rasterio.open(dsm, "w", **{**profile, "dtype": "float32"}) as out:
        out.write((ground + heights).astype(np.float32), 1)
    polygons = folder / "pile.geojson"
    gpd.GeoDataFrame(
        {"id": ["bunke"]}, geometry=[Point(cx, cy).buffer(PILE_RADIUS + 20, 64)], crs=25832
    ).to_file(polygons)
    with rasterio.open(dsm) as ds:
        return Pile(dtm, dsm, polygons, ds.read(1).astype(np.float64), t)


def independent_plane_volume(pile: Pile) -> float:
    """Tukey-IRLS plane through the cells the ring crosses (GEOS intersects), Σ(DSM − plane) in the ring."""
    polygon = gpd.read_file(pile.polygons).geometry[0]
    t, z = pile.transform, pile.heights
    x, y = centres(t, z.shape)
    rows, cols = np.mgrid[0 : z.shape[0], 0 : z.shape[1]]
    boxes = shapely.box(t.c + t.a * cols, t.f + t.e * (rows + 1), t.c + t.a * (cols + 1), t.f + t.e * rows)
    crossed = shapely.intersects(boxes, polygon.exterior)
    ex, ey, ez = x[crossed], y[crossed], z[crossed]
    design = np.column_stack([np.ones_like(ex), ex - ex.mean(), ey - ey.mean()])
    weights = np.ones_like(ez)
    for _ in range(200):
        root = np.sqrt(weights)
        beta = np.linalg.lstsq(design * root[:, None], ez * root, rcond=None)[0]
        residual = ez - design @ beta
        u = residual / (4.685 * max(1.4826 * np.median(np.abs(residual)), 1e-6))
        new = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
        if np.allclose(new, weights, atol=1e-13):
            break
        weights = new
    base = beta[0] + beta[1] * (x - ex.mean()) + beta[2] * (y - ey.mean())
    inside = shapely.contains_xy(polygon, x, y)
    return float((z - base)[inside].sum()) * abs(t.a * t.e)


def test_pile_is_found_against_the_dtm(pile: Pile) -> None:
    result = run_volumes(
        VolumeConfig(dsm=pile.dsm, polygons=pile.polygons, base=BaseMethod.SURFACE, base_dem=pile.dtm)
    )
    found = result.polygons[0]
    assert found.status is VolumeStatus.OK
    assert found.net_m3 == pytest.approx(PILE_M3, rel=1e-3)
    assert found.fill_m3 == pytest.approx(0.0, abs=0.5)  # float32 rounding of ~25 m heights only


def test_pile_with_a_plane_base_agrees_with_an_independent_implementation(pile: Pile) -> None:
    result = run_volumes(VolumeConfig(dsm=pile.dsm, polygons=pile.polygons))
    found = result.polygons[0]
    assert found.net_m3 == pytest.approx(independent_plane_volume(pile), rel=1e-3)
    # 16 m cells of real terrain: a plane is a coarse base. The error stays inside the bound its
    # boundary residuals give (RMSE × area), which is what the report shows next to the figure.
    assert abs(found.net_m3 - PILE_M3) < found.base.residual_rmse_m * found.area_2d_m2


def test_building_volumes_on_the_opengeos_dsm_agree_with_numpy(data_dir: Path) -> None:
    folder = data_dir / "opengeos_data" / "elevation"
    config = VolumeConfig(
        dsm=folder / "dsm.tif", polygons=folder / "buildings.geojson", base=BaseMethod.SURFACE,
        base_dem=folder / "dtm.tif", out_crs="EPSG:26918",
    )  # fmt: skip
    result = run_volumes(config)
    with rasterio.open(folder / "dsm.tif") as dsm, rasterio.open(folder / "dtm.tif") as dtm:
        diff = dsm.read(1, masked=True).astype(np.float64) - dtm.read(1, masked=True).astype(np.float64)
        t, crs = dsm.transform, dsm.crs
    x, y = centres(t, diff.shape)
    buildings = gpd.read_file(folder / "buildings.geojson").to_crs(crs)
    measured = 0
    for geom, found in zip(buildings.geometry, result.polygons, strict=True):
        inside = shapely.contains_xy(geom, x, y) & ~np.ma.getmaskarray(diff)
        expected = float(diff.data[inside].sum()) * abs(t.a * t.e)
        if found.status is VolumeStatus.FAILED:
            assert not inside.any(), found.problems
            continue
        measured += 1
        assert found.net_m3 == pytest.approx(expected, rel=1e-3, abs=1e-6)
    assert measured >= 80
    total = sum(p.net_m3 or 0.0 for p in result.polygons)
    assert math.isfinite(total) and total > 0
