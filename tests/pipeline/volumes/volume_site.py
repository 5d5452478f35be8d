"""A synthetic site: a tilted plane carrying a cone stockpile, a conical pit and a frustum (helpers)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from rasterio.warp import Resampling, calculate_default_transform, reproject
from shapely.geometry import Point

CELL = 0.2
SIZE = 600
TRANSFORM = Affine(CELL, 0, 560_000, 0, -CELL, 6_215_120)
TILT = (0.05, -0.03)  # ∂z/∂x, ∂z/∂y of the ground


class Shape(NamedTuple):
    """A solid of revolution on the ground: radius R at the foot, height h, flat top of radius top."""

    x: float
    y: float
    radius: float
    height: float
    top: float
    sign: int  # +1 a pile (cut), −1 a pit (fill)

    @property
    def volume(self) -> float:
        """π h (R² + R r + r²) / 3: a cone when r = 0, a frustum otherwise."""
        r, big = self.top, self.radius
        return math.pi * self.height * (big**2 + big * r + r**2) / 3

    def profile(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = np.hypot(x - self.x, y - self.y)
        rise = self.height * np.clip((self.radius - r) / (self.radius - self.top), 0.0, 1.0)
        return self.sign * rise


SHAPES = {
    "cone": Shape(560_030, 6_215_090, 10.0, 3.0, 0.0, 1),
    "pit": Shape(560_090, 6_215_090, 8.0, 2.0, 0.0, -1),
    "frustum": Shape(560_060, 6_215_040, 12.0, 2.5, 5.0, 1),
}


class Site(NamedTuple):
    dsm: Path
    ground: Path
    ground_25833: Path
    polygons: Path


def centres(transform: Affine, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = shape
    xs = transform.c + transform.a * (np.arange(cols) + 0.5)
    ys = transform.f + transform.e * (np.arange(rows) + 0.5)
    return np.meshgrid(xs, ys)


def ground_heights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 50 + TILT[0] * (x - 560_000) + TILT[1] * (y - 6_215_000)


def write_raster(
    path: Path, data: np.ndarray, transform: Affine, crs: str = "EPSG:25832", **tags: str
) -> Path:
    profile = {
        "driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1, "dtype": "float32",
        "crs": crs, "transform": transform, "nodata": -9999.0, "tiled": True, "blockxsize": 256,
        "blockysize": 256,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isfinite(data), data, -9999.0).astype("float32"), 1)
        if tags:
            dst.update_tags(**tags)
    return path


def to_crs(src: Path, dst: Path, crs: str) -> Path:
    """``src`` warped (bilinear) to ``crs`` at about its resolution."""
    with rasterio.open(src) as ds:
        transform, width, height = calculate_default_transform(ds.crs, crs, ds.width, ds.height, *ds.bounds)
        out = np.full((height, width), np.nan, np.float32)
        reproject(
            ds.read(1, masked=True).filled(np.nan), out, src_transform=ds.transform, src_crs=ds.crs,
            dst_transform=transform, dst_crs=crs, resampling=Resampling.bilinear, src_nodata=np.nan,
            dst_nodata=np.nan,
        )  # fmt: skip
    return write_raster(dst, out, transform, crs)


def build_site(folder: Path) -> Site:
    x, y = centres(TRANSFORM, (SIZE, SIZE))
    ground = ground_heights(x, y)
    dsm = ground + sum(s.profile(x, y) for s in SHAPES.values())
    polygons = gpd.GeoDataFrame(
        {"navn": list(SHAPES)}, geometry=[Point(s.x, s.y).buffer(s.radius + 2, 256) for s in SHAPES.values()],
        crs="EPSG:25832",
    ).to_crs("EPSG:4326")  # fmt: skip
    polygons.to_file(folder / "piles.geojson")
    ground_path = write_raster(folder / "ground.tif", ground, TRANSFORM)
    return Site(
        dsm=write_raster(folder / "dsm.tif", dsm, TRANSFORM),
        ground=ground_path,
        ground_25833=to_crs(ground_path, folder / "ground_25833.tif", "EPSG:25833"),
        polygons=folder / "piles.geojson",
    )
