"""A synthetic thermal scene with known answers: roofs, planted leaks, a roof half outside the flight."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin

X0, Y0, RES = 560000.0, 6215500.0, 0.1
WIDTH, HEIGHT = 700, 400  # 70 m × 40 m
GROUND_C = 2.0
AIR_C = 0.0


class Roof(NamedTuple):
    id: str
    box: tuple[float, float, float, float]  # metres from the upper-left corner: x0, y0 (down), x1, y1
    temp: float
    use: int
    material: int | None = None


ROOFS = [
    Roof("R1", (2, 2, 12, 10), 8.0, 120, 5),
    Roof("R2", (15, 2, 25, 10), 8.0, 120, 1),  # leak: 2 m × 1.5 m at 14 °C
    Roof("R3", (28, 2, 38, 10), 10.5, 120),
    Roof("R4", (64, 20, 76, 30), 9.3, 120),  # 6 of its 12 m lie past the raster's right edge
    Roof("R5", (2, 20, 12, 30), 12.0, 320, 6),  # metal: reflective, unreliable
    Roof("R6", (15, 20, 25, 30), 8.0, 120),  # leaks of 1.0 m² (counts) and 0.4 m² (too small)
]
LEAKS = {  # (x0, y0, x1, y1) in metres from the corner, °C
    "R2": [((17, 4, 19, 5.5), 14.0)],
    "R6": [((17, 22, 18, 23), 11.0), ((21, 22, 21.4, 23), 13.0)],
}


def world_box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box given in metres from the raster's upper-left corner, in EPSG:25832."""
    return shapely.box(X0 + x0, Y0 - y1, X0 + x1, Y0 - y0)


def paint(data: np.ndarray, box: tuple[float, float, float, float], value: float) -> None:
    """Set the cells of a box (metres from the corner, on cell edges) to ``value``."""
    x0, y0, x1, y1 = (round(v / RES) for v in box)
    data[y0:y1, x0 : min(x1, data.shape[1])] = value


def scene_array(offset: float = 0.0) -> np.ndarray:
    """The °C array of the scene (+ ``offset``, e.g. 273.15 for a kelvin raster)."""
    data = np.full((HEIGHT, WIDTH), GROUND_C, dtype="float32")
    for roof in ROOFS:
        paint(data, roof.box, roof.temp)
    for leaks in LEAKS.values():
        for box, value in leaks:
            paint(data, box, value)
    return data + np.float32(offset)


def write_raster(path: Path, data: np.ndarray, count: int = 1) -> Path:
    """Write the scene as a GeoTIFF in EPSG:25832."""
    bands = np.broadcast_to(data, (count, *data.shape))
    profile = {"driver": "GTiff", "width": WIDTH, "height": HEIGHT, "count": count, "dtype": data.dtype}
    with rasterio.open(
        path, "w", **profile, crs="EPSG:25832", transform=from_origin(X0, Y0, RES, RES)
    ) as dst:
        dst.write(bands)
    return path


def write_footprints(path: Path, crs: str = "EPSG:4326", *, short_names: bool = False) -> Path:
    """The roofs as footprints with BBR use and roof-material codes, in ``crs``.

    ``short_names`` uses the ≤ 10-character names of BBR Shapefile exports.
    """
    names = (
        ("BYGNING_ID", "BYG_ANVEND", "TAG_KODE")
        if short_names
        else ("id_lokalId", "byg021BygningensAnvendelse", "byg033Tagdaekningsmateriale")
    )
    frame = gpd.GeoDataFrame(
        {
            names[0]: [r.id for r in ROOFS],
            names[1]: [r.use for r in ROOFS],
            names[2]: [r.material for r in ROOFS],
        },
        geometry=[world_box(*r.box) for r in ROOFS],
        crs="EPSG:25832",
    ).to_crs(crs)
    frame.to_file(path)
    return path
