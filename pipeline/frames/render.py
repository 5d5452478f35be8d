"""A frame rendered onto the ground in the target CRS: its output grid and the inverse map.

A frame is projected onto the ground (plane at take-off elevation, or a DEM) through its camera
model by an inverse map: every output ground pixel is projected into the image
(``georef.raycast.project_to_image``, distortion applied) and sampled with ``cv2.remap``.
There is no visibility test: on a DEM, ground hidden behind relief is painted with what hides
it (fine for footprints and inspection frames, not a true orthophoto).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin

from flights.exif import check_frame_size
from pipeline.georef.camera import PinholeCamera
from pipeline.georef.footprint import Footprint, FramePose
from pipeline.georef.raycast import project_to_image

FloatArray = NDArray[np.float64]
MAX_FRAME_PX = 4096
BLOCK_ROWS = 512
APPROX_STEP = 16
APPROX_TOLERANCE_PX = 0.125


def frame_grid(fp: Footprint, max_px: int | None = None) -> tuple[Affine, int, int]:
    """North-up output grid over the footprint at the centre GSD (coarser if above ``max_px``)."""
    max_px = max_px or MAX_FRAME_PX
    minx, miny, maxx, maxy = fp.polygon.bounds
    gsd = fp.gsd_centre_m if math.isfinite(fp.gsd_centre_m) else fp.gsd_worst_m
    res = max(gsd if math.isfinite(gsd) and gsd > 0 else 0.01, max(maxx - minx, maxy - miny) / max_px)
    res = float(f"{res:.3g}")
    minx, maxy = math.floor(minx / res) * res, math.ceil(maxy / res) * res
    width, height = math.ceil((maxx - minx) / res), math.ceil((maxy - miny) / res)
    return from_origin(minx, maxy, res, res), max(width, 1), max(height, 1)


def render_frame(
    image: NDArray[Any],
    camera: PinholeCamera,
    pose: FramePose,
    grid: tuple[Affine, int, int],
    *,
    elevation: Any = None,
    interpolation: int = cv2.INTER_LINEAR,
) -> tuple[NDArray[Any], NDArray[np.bool_]]:
    """Sample ``image`` (bands, rows, cols) onto ``grid``; returns the bands and the valid mask."""
    transform, width, height = grid
    bands, rows, cols = image.shape
    if (cols, rows) != (camera.width, camera.height):
        sx, sy = cols / camera.width, rows / camera.height
        camera = replace(
            camera,
            width=cols,
            height=rows,
            fx=camera.fx * sx,
            fy=camera.fy * sy,
            cx=camera.cx * sx,
            cy=camera.cy * sy,
        )
    out = np.zeros((bands, height, width), dtype=image.dtype)
    valid = np.zeros((height, width), dtype=bool)
    for r0 in range(0, height, BLOCK_ROWS):
        n = min(BLOCK_ROWS, height - r0)
        maps = None if elevation is not None else _approximate_maps(camera, pose, grid, r0, n)
        if maps is None:
            cols_all, rows_n = np.arange(width, dtype=np.float64), np.arange(r0, r0 + n, dtype=np.float64)
            maps = _exact_maps(camera, pose, grid, cols_all, rows_n, elevation=elevation)
        u, v, ok = maps
        ok &= np.isfinite(u) & np.isfinite(v)
        mx, my = np.where(ok, u - 0.5, -1).astype(np.float32), np.where(ok, v - 0.5, -1).astype(np.float32)
        for b in range(bands):
            out[b, r0 : r0 + n] = cv2.remap(image[b], mx, my, interpolation, borderMode=cv2.BORDER_REPLICATE)
        valid[r0 : r0 + n] = ok
    return out, valid


def _exact_maps(
    camera: PinholeCamera,
    pose: FramePose,
    grid: tuple[Affine, int, int],
    cols: FloatArray,
    rows: FloatArray,
    *,
    elevation: Any = None,
    in_view_only: bool = True,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Image position of the output pixel centres of ``cols`` x ``rows`` (grid indices)."""
    transform, _, _ = grid
    ge, gn = np.meshgrid(transform.c + (cols + 0.5) * transform.a, transform.f + (rows + 0.5) * transform.e)
    z = elevation(ge, gn) if elevation is not None else pose.ground_z
    return project_to_image(
        camera, pose.rotation(), pose.position, pose.factors, ge, gn, z, in_view_only=in_view_only
    )


def _approximate_maps(
    camera: PinholeCamera, pose: FramePose, grid: tuple[Affine, int, int], r0: int, n: int
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]] | None:
    """Exact positions on a coarse lattice, interpolated bilinearly (GDAL's approximate transformer).

    Used only when every lattice point is in front of the camera and the interpolation error at
    the cell centres stays below ``APPROX_TOLERANCE_PX``; otherwise None (the caller goes exact).
    """
    _, width, _ = grid
    cols_c = np.unique(np.r_[np.arange(0, width, APPROX_STEP), width - 1]).astype(np.float64)
    rows_c = np.unique(np.r_[np.arange(r0, r0 + n, APPROX_STEP), r0 + n - 1]).astype(np.float64)
    if len(cols_c) < 2 or len(rows_c) < 2:
        return None
    uc, vc, front = _exact_maps(camera, pose, grid, cols_c, rows_c, in_view_only=False)
    if not front.all():
        return None
    xi = np.interp(np.arange(width), cols_c, np.arange(len(cols_c))).astype(np.float32)
    yi = np.interp(np.arange(r0, r0 + n), rows_c, np.arange(len(rows_c))).astype(np.float32)
    mx, my = np.broadcast_to(xi, (n, width)), np.broadcast_to(yi[:, None], (n, width))
    u = cv2.remap(uc.astype(np.float32), np.ascontiguousarray(mx), np.ascontiguousarray(my), cv2.INTER_LINEAR)
    v = cv2.remap(vc.astype(np.float32), np.ascontiguousarray(mx), np.ascontiguousarray(my), cv2.INTER_LINEAR)
    mid_c = ((cols_c[:-1] + cols_c[1:]) / 2).astype(int)
    mid_r = ((rows_c[:-1] + rows_c[1:]) / 2).astype(int)
    ue, ve, _ = _exact_maps(
        camera, pose, grid, mid_c.astype(np.float64), mid_r.astype(np.float64), in_view_only=False
    )
    err = np.hypot(u[np.ix_(mid_r - r0, mid_c)] - ue, v[np.ix_(mid_r - r0, mid_c)] - ve)
    if not float(np.max(err, initial=0.0)) < APPROX_TOLERANCE_PX:
        return None
    u64, v64 = u.astype(np.float64), v.astype(np.float64)
    ok = (u64 >= 0) & (u64 <= camera.width) & (v64 >= 0) & (v64 <= camera.height)
    return u64, v64, ok


def read_image(path: Path) -> NDArray[Any]:
    """All bands of an image file (JPEG, TIFF, PNG), georeferenced or not.

    Raises:
        ImplausibleImageError: its header announces more pixels than a camera frame has (a frame
            archived before ingest checked that): refused before any decode, the rest of the
            flight goes on.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            check_frame_size(src.width, src.height, path)
            data: NDArray[Any] = src.read()
    return data
