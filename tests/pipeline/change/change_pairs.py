"""Pairs of rasters for the change tests, made from the real odm_br orthophoto (EPSG:32722, 0.1157 m)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from scipy import ndimage

CRS = "EPSG:32722"
#: Grass of the western field (rows, cols) and bare dirt of the north-west corner, both 100 × 100 px.
GRASS = (slice(180, 280), slice(20, 120))
DIRT = (slice(25, 125), slice(5, 105))


def write_rgba(path: Path, rgb: np.ndarray, alpha: np.ndarray, transform: object, crs: str = CRS) -> Path:
    profile = {
        "driver": "GTiff", "width": rgb.shape[2], "height": rgb.shape[1], "count": 4, "dtype": "uint8",
        "crs": crs, "transform": transform,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.concatenate([rgb, alpha[None]]))
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    return path


def shifted(source: Path, dst: Path, dx: float, dy: float, *, plant: bool = False, gain: float = 1.0) -> Path:
    """A copy whose content lies ``dx`` columns east and ``dy`` rows south (cubic spline, exact sub-pixel).

    ``plant`` replaces the grass of :data:`GRASS` by the dirt texture of :data:`DIRT` first;
    ``gain`` brightens everything (another exposure). The border the shift uncovers is masked.
    """
    with rasterio.open(source) as src:
        data, transform = src.read(), src.transform
    rgb = data[:3].astype(np.float64) * gain
    if plant:
        rgb[:, GRASS[0], GRASS[1]] = data[:3, DIRT[0], DIRT[1]] * gain
    moved = np.stack([ndimage.shift(b, (dy, dx), order=3, mode="constant", cval=0.0) for b in rgb])
    inside = ndimage.shift(np.ones(rgb.shape[1:]), (dy, dx), order=1, mode="constant", cval=0.0) > 0.999
    inside = ndimage.binary_erosion(inside, iterations=2)
    return write_rgba(
        dst, np.clip(moved, 0, 255).round().astype(np.uint8), inside.astype(np.uint8) * 255, transform
    )
