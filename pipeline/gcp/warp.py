"""Warping an image with a GCP fit (the gdalwarp ``-order n`` equivalent), windowed by output rows."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin
from rasterio.windows import Window

from core.atomic import atomic_path
from core.errors import GeoreferenceError
from pipeline.models import GcpFit


class WarpResult(NamedTuple):
    """Where ``warp_with_fit`` wrote, and the output grid."""

    path: str
    bounds: tuple[float, float, float, float]
    resolution: float
    width: int
    height: int


_RESAMPLING = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}


def suggested_grid(fit: GcpFit, width: int, height: int) -> tuple[tuple[float, float, float, float], float]:
    """Output bounds (the warped source border) and resolution (diagonal metres per diagonal pixel)."""
    s = np.linspace(0.0, 1.0, 21)
    cols = np.concatenate([s * width, np.full_like(s, width), s * width, np.zeros_like(s)])
    rows = np.concatenate([np.zeros_like(s), s * height, np.full_like(s, height), s * height])
    x, y = fit.to_map(cols, rows)
    x0, y0 = fit.to_map(np.array([0.0]), np.array([0.0]))
    x1, y1 = fit.to_map(np.array([float(width)]), np.array([float(height)]))
    res = math.hypot(float(x1[0] - x0[0]), float(y1[0] - y0[0])) / math.hypot(width, height)
    return (float(x.min()), float(y.min()), float(x.max()), float(y.max())), res


def warp_with_fit(
    src: str | object,
    dst: str | object,
    fit: GcpFit,
    *,
    crs: str | None = None,
    resolution: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    resampling: str = "bilinear",
    block_rows: int = 512,
) -> WarpResult:
    """Warp an (ungeoreferenced) image with a fit into a north-up GeoTIFF in the fit's CRS.

    Every output pixel centre goes through the map->pixel direction of the fit and is sampled
    with ``cv2.remap`` (as gdalwarp does with ``-order n``). 8-bit sources get an alpha band,
    others a NaN/0 nodata. The source is read whole (frames and small orthophotos); the output
    is written in row blocks, atomically.

    Raises:
        GeoreferenceError: no CRS for the output, or an empty output grid.
    """
    out_crs = crs or fit.crs
    if out_crs is None:
        raise GeoreferenceError(f"{dst}: the fit carries no CRS and none was given")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(src) as ds:
            data = ds.read()
    _, height, width = data.shape
    auto_bounds, auto_res = suggested_grid(fit, width, height)
    res = resolution or auto_res
    minx, miny, maxx, maxy = bounds or auto_bounds
    out_w, out_h = int(math.ceil((maxx - minx) / res - 1e-9)), int(math.ceil((maxy - miny) / res - 1e-9))
    if out_w <= 0 or out_h <= 0 or out_w * out_h > 40000**2:
        raise GeoreferenceError(f"{dst}: output grid {out_w}x{out_h} at {res} is empty or too large")
    with_alpha = data.dtype == np.uint8
    profile = _profile(data, (out_w, out_h), out_crs, from_origin(minx, maxy, res, res))
    nodata = profile["nodata"]
    fill = float(nodata) if isinstance(nodata, float | int) else 0.0
    dst_path = Path(str(dst))
    interp = _RESAMPLING[resampling]
    cols_x = minx + (np.arange(out_w) + 0.5) * res
    with atomic_path(dst_path, suffix=".tif") as tmp, rasterio.open(tmp, "w", **profile) as out:
        for r0 in range(0, out_h, block_rows):
            n = min(block_rows, out_h - r0)
            ys = maxy - (np.arange(r0, r0 + n) + 0.5) * res
            gx, gy = np.meshgrid(cols_x, ys)
            pc, pr = fit.to_pixel(gx, gy)
            map_x, map_y = (pc - 0.5).astype(np.float32), (pr - 0.5).astype(np.float32)
            valid = (pc >= 0) & (pc <= width) & (pr >= 0) & (pr <= height)
            bands = [cv2.remap(band, map_x, map_y, interp, borderMode=cv2.BORDER_REPLICATE) for band in data]
            block = np.stack([np.where(valid, b, fill).astype(data.dtype) for b in bands])
            if with_alpha:
                block = np.concatenate([block, (valid * 255).astype(np.uint8)[None]])
            out.write(block, window=Window(0, r0, out_w, n))
        if with_alpha:
            out.colorinterp = _color_interp(data.shape[0])
    return WarpResult(str(dst_path), (minx, maxy - out_h * res, minx + out_w * res, maxy), res, out_w, out_h)


def _profile(data: np.ndarray, size: tuple[int, int], crs: str, transform: object) -> dict[str, object]:
    """The output GeoTIFF: the source's bands (plus alpha for 8-bit imagery, else a NaN/0 nodata)."""
    with_alpha = data.dtype == np.uint8
    return {
        "driver": "GTiff",
        "width": size[0],
        "height": size[1],
        "count": data.shape[0] + int(with_alpha),
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "nodata": None if with_alpha else (np.nan if data.dtype.kind == "f" else 0),
    }


def _color_interp(bands: int) -> list[object]:
    base = (
        [ColorInterp.red, ColorInterp.green, ColorInterp.blue] if bands >= 3 else [ColorInterp.gray] * bands
    )
    return [*base[:bands], *[ColorInterp.undefined] * max(0, bands - 3), ColorInterp.alpha]
