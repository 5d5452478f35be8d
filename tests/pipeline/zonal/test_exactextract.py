"""Our zonal statistics against exactextract on the same raster and polygons (the rule in pipeline.zonal)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from exactextract import exact_extract
from rasterio.transform import from_origin

from pipeline.zonal import polygon_pixels, zonal_stats

ORIGIN = (560000.0, 6215500.0)
RES = 0.5
OPS = ["count", "mean", "median", "quantile(q=0.1)", "quantile(q=0.9)", "min", "max", "stdev"]
CELL_OPS = ["cell_id", "center_x", "center_y", "values"]


@pytest.fixture(scope="module")
def raster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ee") / "celsius.tif"
    rng = np.random.default_rng(7)
    data = (rng.normal(12.0, 3.0, (240, 320))).astype("float32")
    data[100:130, 40:70] = np.nan  # a gap in the flight
    profile = {"driver": "GTiff", "width": 320, "height": 240, "count": 1, "dtype": "float32"}
    transform = from_origin(*ORIGIN, RES, RES)
    with rasterio.open(path, "w", **profile, crs="EPSG:25832", transform=transform, nodata=np.nan) as dst:
        dst.write(data, 1)
    return path


def aligned_polygons() -> list[shapely.Polygon]:
    """Polygons whose edges run along cell edges (coverage 0 or 1), one crossing the gap, one an L."""
    x0, y0 = ORIGIN

    def cells(c0: int, r0: int, c1: int, r1: int) -> shapely.Polygon:
        return shapely.box(x0 + c0 * RES, y0 - r1 * RES, x0 + c1 * RES, y0 - r0 * RES)

    ell = shapely.union_all([cells(200, 10, 260, 30), cells(200, 30, 220, 80)])
    return [cells(10, 10, 50, 40), cells(30, 90, 90, 140), ell, cells(0, 200, 320, 240)]


def general_polygons(seed: int = 3) -> list[shapely.Polygon]:
    """Random triangles, rotated rectangles and a star over the raster (edges cut cells anywhere)."""
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    polys = []
    for _ in range(12):
        cx, cy = x0 + rng.uniform(10, 150), y0 - rng.uniform(10, 110)
        pts = rng.uniform(-9, 9, (3, 2)) + (cx, cy)
        polys.append(shapely.Polygon(pts))
        rect = shapely.affinity.rotate(
            shapely.box(cx - 6.3, cy - 3.1, cx + 6.3, cy + 3.1), rng.uniform(0, 90)
        )
        polys.append(rect)
    star = shapely.Polygon(
        [
            (x0 + 80 + r * np.cos(a), y0 - 60 + r * np.sin(a))
            for a, r in zip(np.linspace(0, 2 * np.pi, 21)[:-1], [20, 8] * 10, strict=True)
        ]
    )
    return [*polys, star]


def run_exactextract(raster: Path, polys: list[shapely.Polygon], ops: list[str]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"n": range(len(polys))}, geometry=polys, crs="EPSG:25832")
    return exact_extract(str(raster), frame, ops, output="pandas", include_cols=["n"])


def test_aligned_polygons_give_exactextract_figures(raster: Path) -> None:
    polys = aligned_polygons()
    theirs = run_exactextract(raster, polys, OPS)
    ours = zonal_stats(raster, polys)
    for mine, (_, row) in zip(ours, theirs.iterrows(), strict=True):
        assert mine.valid_count == row["count"]  # coverage weights are exactly 0/1
        for field, col in [
            ("mean", "mean"),
            ("median", "median"),
            ("p10", "quantile_10"),
            ("p90", "quantile_90"),
            ("min", "min"),
            ("max", "max"),
            ("std", "stdev"),
        ]:
            assert getattr(mine, field) == pytest.approx(row[col], abs=1e-5), (mine.index, field)
    assert ours[1].valid_count < ours[1].pixel_count  # the one crossing the gap
    assert ours[3].pixel_count == 320 * 40


def test_general_polygons_same_cells_and_figures_as_centre_filtered_exactextract(raster: Path) -> None:
    polys = general_polygons()
    theirs = run_exactextract(raster, polys, CELL_OPS)
    ours = zonal_stats(raster, polys)
    checked = 0
    for poly, mine, (_, row) in zip(polys, ours, theirs.iterrows(), strict=True):
        cx, cy = np.asarray(row["center_x"]), np.asarray(row["center_y"])
        values = np.asarray(row["values"], dtype=np.float64)
        keep = shapely.contains_xy(poly, cx, cy) & np.isfinite(values)
        cells = set(np.asarray(row["cell_id"])[keep].tolist())
        assert set(polygon_pixels(raster, poly).cell_ids(320).tolist()) == cells
        kept = values[keep]
        assert mine.valid_count == kept.size
        if not kept.size:
            continue
        checked += 1
        assert mine.mean == pytest.approx(kept.mean(), abs=1e-9)
        assert mine.median == pytest.approx(np.median(kept), abs=1e-9)
        assert mine.p90 == pytest.approx(np.percentile(kept, 90), abs=1e-9)
        assert (mine.min, mine.max) == (kept.min(), kept.max())
        assert mine.std == pytest.approx(kept.std(), abs=1e-9)
    assert checked >= 20
