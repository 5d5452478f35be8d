"""A DEM over a run's area, in the target CRS, sampled bilinearly (the ground under single frames)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, from_bounds

from core.errors import GeoreferenceError

FloatArray = NDArray[np.float64]


class DemSampler:
    """Heights of a DEM (any CRS) in the target CRS over an area, sampled bilinearly (NaN outside)."""

    def __init__(self, path: Path, target_crs: str, bounds: tuple[float, float, float, float]) -> None:
        """Read the DEM, warped to ``target_crs``, over ``bounds`` (plus a 50 m margin)."""
        minx, miny, maxx, maxy = bounds
        with rasterio.open(path) as src:
            if src.crs is None:
                raise GeoreferenceError(f"DEM {path} has no CRS")
            nodata = src.nodata
            with WarpedVRT(src, crs=target_crs, resampling=rasterio.enums.Resampling.bilinear) as vrt:
                window = from_bounds(minx - 50, miny - 50, maxx + 50, maxy + 50, vrt.transform)
                c0, r0 = max(0, math.floor(window.col_off)), max(0, math.floor(window.row_off))
                c1 = min(vrt.width, math.ceil(window.col_off + window.width))
                r1 = min(vrt.height, math.ceil(window.row_off + window.height))
                if c1 <= c0 or r1 <= r0:
                    raise GeoreferenceError(
                        f"DEM {path} does not cover the flight ({bounds} in {target_crs})"
                    )
                window = Window(c0, r0, c1 - c0, r1 - r0)  # whole pixels: the transform must match the read
                data = vrt.read(1, window=window, masked=True).astype(np.float64)
                self.transform: Affine = vrt.window_transform(window)
        heights = data.filled(np.nan)
        if nodata is not None:
            heights[heights == nodata] = np.nan
        self.heights = heights.astype(np.float32)
        self.path = path

    def __call__(self, east: FloatArray, north: FloatArray) -> FloatArray:
        """Bilinear heights at grid coordinates (NaN outside the DEM)."""
        east, north = np.asarray(east, dtype=np.float64), np.asarray(north, dtype=np.float64)
        inv = ~self.transform
        col = inv.a * east + inv.b * north + inv.c - 0.5
        row = inv.d * east + inv.e * north + inv.f - 0.5
        size = col.size
        width = min(max(size, 1), 16384)  # cv2.remap wants maps smaller than 32767 in each direction
        pad = (-size) % width
        maps = [
            np.pad(a.ravel(), (0, pad), constant_values=-1e6).astype(np.float32).reshape(-1, width)
            for a in (col, row)
        ]
        out = cv2.remap(
            self.heights,
            maps[0],
            maps[1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=float("nan"),
        )
        return np.asarray(out, dtype=np.float64).ravel()[:size].reshape(east.shape)
