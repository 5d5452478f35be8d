"""Zonal statistics with known answers: uniform zones, edges of the raster, gaps, chunking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.transform import from_origin

from core.errors import RasterInputError
from pipeline.zonal import ZonalSettings, iter_polygon_pixels, polygon_pixels, summarize, zonal_stats
from pipeline.zonal.windows import pixel_boxes, plan_chunks, split_box

X0, Y0, RES = 560000.0, 6215500.0, 0.25


def write(path: Path, data: np.ndarray, nodata: float | None = None, res: float = RES) -> Path:
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype,
    }
    with rasterio.open(
        path, "w", **profile, crs="EPSG:25832", transform=from_origin(X0, Y0, res, res), nodata=nodata
    ) as dst:
        dst.write(data, 1)
    return path


def cells(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    return shapely.box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


@pytest.fixture
def zones(tmp_path: Path) -> Path:
    data = np.full((400, 400), 5.0, dtype="float32")
    data[40:80, 40:120] = 12.5  # roof A
    data[200:260, 300:400] = 20.0  # roof B, touches the right edge
    data[300:320, 10:30] = -9999.0  # nodata hole
    return write(tmp_path / "zones.tif", data, nodata=-9999.0)


def test_uniform_zone_exact_figures(zones: Path) -> None:
    (stats,) = zonal_stats(zones, [cells(40, 40, 120, 80)])
    assert (stats.pixel_count, stats.valid_count, stats.coverage) == (3200, 3200, 1.0)
    assert stats.mean == stats.median == stats.p10 == stats.p90 == stats.min == stats.max == 12.5
    assert stats.std == 0.0


def test_half_outside_the_raster_counts_the_missing_half(zones: Path) -> None:
    (stats,) = zonal_stats(zones, [cells(300, 200, 500, 260)])  # 200 columns, 100 of them past the edge
    assert stats.pixel_count == 200 * 60
    assert stats.valid_count == 100 * 60
    assert stats.coverage == 0.5
    assert stats.mean == 20.0


def test_nodata_hole_and_entirely_outside(zones: Path) -> None:
    stats = zonal_stats(zones, [cells(0, 290, 40, 330), cells(-100, -100, -50, -50), None])
    assert stats[0].pixel_count == 1600 and stats[0].valid_count == 1600 - 400
    assert stats[0].mean == 5.0
    assert (stats[1].pixel_count, stats[1].valid_count, stats[1].mean) == (2500, 0, None)
    assert (stats[2].pixel_count, stats[2].coverage) == (0, 0.0)


def test_centre_rule_on_half_cells(zones: Path) -> None:
    # x from column 40.6 to 50.6: the centres c + 0.5 inside are those of columns 41 .. 50
    (stats,) = zonal_stats(zones, [cells(40.6, 40, 50.6, 41)])
    assert stats.pixel_count == 10


def test_chunked_reads_equal_single_reads(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    data = rng.normal(10, 2, (600, 700)).astype("float32")
    path = write(tmp_path / "noise.tif", data)
    polys = [
        shapely.affinity.rotate(cells(c, r, c + w, r + h), a)
        for c, r, w, h, a in zip(
            rng.uniform(-20, 680, 60),
            rng.uniform(-20, 580, 60),
            rng.uniform(3, 90, 60),
            rng.uniform(3, 90, 60),
            rng.uniform(0, 90, 60),
            strict=True,
        )
    ]
    default = zonal_stats(path, polys)
    tiny = zonal_stats(path, polys, ZonalSettings(chunk_size=32, max_window_pixels=500))
    assert default == tiny
    for poly, stats in zip(polys, default, strict=True):
        one = polygon_pixels(path, poly)
        assert summarize(one.valid_values()).mean == stats.mean
        assert one.pixel_count == stats.pixel_count


def test_every_polygon_yielded_once(zones: Path) -> None:
    polys = [cells(40, 40, 120, 80), None, cells(-100, -100, -50, -50), cells(0, 0, 400, 400)]
    with rasterio.open(zones) as dataset:
        seen = sorted(p.index for p in iter_polygon_pixels(dataset, polys, ZonalSettings(chunk_size=64)))
    assert seen == [0, 2, 3]


def test_window_math() -> None:
    transform = from_origin(X0, Y0, RES, RES)
    boxes = pixel_boxes(np.array([[X0 + 1.0, Y0 - 2.0, X0 + 2.1, Y0 - 1.0]]), transform)
    assert boxes.tolist() == [[4, 8, 4, 9]]
    chunks, single = plan_chunks(np.array([[0, 10, 0, 10], [5, 15, 100, 130], [0, 500, 0, 10]]), 64)
    assert [c.indices.tolist() for c in chunks] == [[0], [1]] and single.tolist() == [2]
    assert split_box((0, 10, 0, 7), 20) == [
        (0, 2, 0, 7),
        (2, 4, 0, 7),
        (4, 6, 0, 7),
        (6, 8, 0, 7),
        (8, 10, 0, 7),
    ]


def test_rotated_grid_refused() -> None:
    with pytest.raises(RasterInputError, match="rotated"):
        pixel_boxes(np.zeros((1, 4)), from_origin(0, 0, 1, 1) * Affine.rotation(10))
