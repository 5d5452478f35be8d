"""A rendered frame written as a COG (RGB JPEG with a mask, or float32 °C), and its thumbnail.

RGB frames become JPEG COGs (profile ``ortho_jpeg``, outside pixels masked); thermal frames
become float32 °C COGs (``thermal_f32``) from the per-frame °C raster of the thermal stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray

from core.atomic import atomic_write_bytes, scratch_path
from core.errors import GeoreferenceError
from pipeline.frames.render import read_image
from pipeline.rasters.cog import write_cog

THUMBNAIL_PX = 256


def write_frame_cog(
    bands: NDArray[Any],
    valid: NDArray[np.bool_],
    grid: tuple[Affine, int, int],
    dst: Path,
    *,
    crs: str,
    thermal: bool,
    tags: dict[str, str],
) -> Path:
    """Write a rendered frame as a COG: RGB JPEG with a mask, or float32 °C with NaN outside."""
    transform, width, height = grid
    if thermal:
        data = np.where(valid, bands[0], np.nan).astype(np.float32)[None]
        profile: dict[str, Any] = {"count": 1, "dtype": "float32", "nodata": float("nan")}
    else:
        rgb = bands[:3] if bands.shape[0] >= 3 else np.repeat(bands[:1], 3, axis=0)
        data = np.concatenate([rgb.astype(np.uint8), (valid * 255).astype(np.uint8)[None]])
        profile = {"count": 4, "dtype": "uint8", "nodata": None}
    with scratch_path(dst, suffix=".tif") as tmp:
        with rasterio.open(
            tmp,
            "w",
            driver="GTiff",
            width=width,
            height=height,
            crs=crs,
            transform=transform,
            tiled=True,
            blockxsize=256,
            blockysize=256,
            compress=None,  # scratch only: the COG writer compresses
            **profile,
        ) as out:
            out.write(data)
            if not thermal:
                ci = rasterio.enums.ColorInterp
                out.colorinterp = [ci.red, ci.green, ci.blue, ci.alpha]
        write_cog(tmp, dst, "thermal_f32" if thermal else "ortho_jpeg", tags=tags)
    return dst


def write_thumbnail(image_path: Path, dst: Path, size: int = THUMBNAIL_PX) -> Path:
    """A JPEG thumbnail (long side ``size``) of an image, written atomically."""
    data = read_image(image_path)
    if data.dtype != np.uint8:
        finite = data[0][np.isfinite(data[0])]
        lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
        grey = np.clip((np.nan_to_num(data[0], nan=lo) - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(
            np.uint8
        )
        img = cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)
    else:
        img = np.transpose(data[:3] if data.shape[0] >= 3 else np.repeat(data[:1], 3, axis=0), (1, 2, 0))
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR)
    scale = size / max(img.shape[:2])
    small = cv2.resize(
        img,
        (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))),
        interpolation=cv2.INTER_AREA,
    )
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise GeoreferenceError(f"cannot encode a thumbnail of {image_path}")
    atomic_write_bytes(dst, encoded.tobytes())
    return dst
