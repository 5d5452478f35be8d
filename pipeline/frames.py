"""Single frames in the target CRS: footprint, georeferenced COG, thumbnail, flight layers.

A frame is projected onto the ground (plane at take-off elevation, or a DEM) through its camera
model by an inverse map: every output ground pixel is projected into the image
(``georef.raycast.project_to_image``, distortion applied) and sampled with ``cv2.remap``.
There is no visibility test: on a DEM, ground hidden behind relief is painted with what hides
it (fine for footprints and inspection frames, not a true orthophoto).

RGB frames become JPEG COGs (profile ``ortho_jpeg``, outside pixels masked); thermal frames
become float32 °C COGs (``thermal_f32``) from the per-frame °C raster of the thermal stage.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, from_bounds
from shapely import wkt
from shapely.geometry import Point

from core.atomic import atomic_path, atomic_write_bytes, scratch_path
from core.errors import GeoreferenceError
from flights.models import Capture, FileKind
from pipeline.cog import write_cog
from pipeline.georef.camera import PinholeCamera, camera_from_info
from pipeline.georef.footprint import Footprint, FramePose, frame_footprint
from pipeline.georef.pose import GroundHeights, frame_pose
from pipeline.georef.raycast import DEFAULT_MAX_RANGE_M, project_to_image
from pipeline.georef.rotation import camera_attitude, r_ned_from_camera
from pipeline.models import FrameRecord, View

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
MAX_FRAME_PX = 4096
THUMBNAIL_PX = 256
BLOCK_ROWS = 512
APPROX_STEP = 16
APPROX_TOLERANCE_PX = 0.125
#: Below this off-nadir angle (degrees) a frame has no viewing azimuth.
NADIR_TOLERANCE_DEG = 0.01


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


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def frame_record(
    capture: Capture, camera: PinholeCamera, pose: FramePose, fp: Footprint, *, thumbnail: str, cog: str
) -> FrameRecord:
    """The layer attributes of one georeferenced frame (``thumbnail``, ``cog``: relative to the workspace)."""
    a = pose.attitude
    pos = capture.position
    return FrameRecord(
        file=capture.path,
        kind=capture.kind.value,
        time=capture.time_utc.isoformat() if capture.time_utc else None,
        relative_altitude_m=pos.relative_altitude_m if pos else None,
        height_above_ground_m=pose.height_above_ground,
        height_rule=pose.height_rule,
        gsd_m=_finite(fp.gsd_centre_m),
        gsd_worst_m=_finite(fp.gsd_worst_m),
        pitch=a.pitch,
        yaw=a.yaw,
        roll=a.roll,
        yaw_source=a.yaw_source,
        grid_bearing=(a.yaw - pose.factors.convergence_deg) % 360.0,
        blur_score=capture.quality.blur_score if capture.quality else None,
        rtk_fixed=capture.rtk.fixed,
        camera_source=camera.source,
        clipped_rays=fp.clipped_rays,
        camera_east=pose.position.east,
        camera_north=pose.position.north,
        footprint_wkt=fp.polygon.wkt,
        thumbnail=thumbnail,
        cog=cog,
    )


def frame_view(capture: Capture) -> View:
    """Instrument and viewing angles of a frame, from its camera attitude (STAC ``instruments``, ``view:*``).

    The optical axis in NED is ``R_ned<-camera · (0, 0, 1)``: its angle from the down axis is the
    off-nadir angle, its horizontal direction the azimuth (clockwise from true north; none when the
    axis is within :data:`NADIR_TOLERANCE_DEG` of the plumb line, where a direction means nothing).
    Without any yaw the angles are unknown.
    """
    make, model = capture.camera.make, capture.camera.model
    instrument = " ".join(p for p in (make, model) if p).lower()
    instruments = (instrument,) if instrument else ()
    attitude = camera_attitude(capture.attitude)
    if attitude is None:
        return View(instruments=instruments)
    north, east, down = r_ned_from_camera(attitude) @ np.array([0.0, 0.0, 1.0])
    off_nadir = math.degrees(math.acos(max(-1.0, min(1.0, float(down)))))
    azimuth = math.degrees(math.atan2(float(east), float(north))) % 360.0
    return View(
        instruments=instruments,
        off_nadir_deg=round(off_nadir, 6),
        azimuth_deg=round(azimuth, 6) % 360.0 if off_nadir > NADIR_TOLERANCE_DEG else None,
    )


def locate_frame(
    capture: Capture,
    target_crs: str,
    *,
    transformer: Transformer,
    dem: DemSampler | None = None,
    takeoff_z: float | None = None,
    camera_absolute_z: float | None = None,
    max_range: float = DEFAULT_MAX_RANGE_M,
) -> tuple[PinholeCamera, FramePose, Footprint]:
    """Camera model, pose and footprint of a frame (plane, or the DEM when given)."""
    camera = camera_from_info(capture.camera)
    ground = None
    if dem is not None and capture.position is not None:
        e, n = transformer.transform(capture.position.lon, capture.position.lat)
        nadir = float(dem(np.array([e]), np.array([n]))[0])
        ground = GroundHeights(
            takeoff=takeoff_z,
            nadir=nadir if math.isfinite(nadir) else None,
            camera_absolute=camera_absolute_z,
        )
    pose = frame_pose(capture, target_crs, ground=ground, transformer=transformer)
    footprint = frame_footprint(
        camera, pose, elevation=dem if ground and ground.nadir is not None else None, max_range=max_range
    )
    if footprint.polygon.is_empty:
        raise GeoreferenceError(f"capture {capture.path}: no ground in view (pitch {pose.attitude.pitch}°)")
    return camera, pose, footprint


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
        u, v, ok = maps if maps is not None else _exact_maps(camera, pose, grid, r0, n, elevation)
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
    r0: int,
    n: int,
    elevation: Any = None,
    cols: FloatArray | None = None,
    rows: FloatArray | None = None,
    in_view_only: bool = True,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Image position of every output pixel centre of rows ``r0 .. r0 + n`` (or of ``cols`` x ``rows``)."""
    transform, width, _ = grid
    cols = np.arange(width, dtype=np.float64) if cols is None else cols
    rows = np.arange(r0, r0 + n, dtype=np.float64) if rows is None else rows
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
    uc, vc, front = _exact_maps(camera, pose, grid, r0, n, cols=cols_c, rows=rows_c, in_view_only=False)
    if not front.all():
        return None
    xi = np.interp(np.arange(width), cols_c, np.arange(len(cols_c))).astype(np.float32)
    yi = np.interp(np.arange(r0, r0 + n), rows_c, np.arange(len(rows_c))).astype(np.float32)
    mx, my = np.broadcast_to(xi, (n, width)), np.broadcast_to(yi[:, None], (n, width))
    u = cv2.remap(uc.astype(np.float32), np.ascontiguousarray(mx), np.ascontiguousarray(my), cv2.INTER_LINEAR)
    v = cv2.remap(vc.astype(np.float32), np.ascontiguousarray(mx), np.ascontiguousarray(my), cv2.INTER_LINEAR)
    mid_c = ((cols_c[:-1] + cols_c[1:]) / 2).astype(int)
    mid_r = ((rows_c[:-1] + rows_c[1:]) / 2).astype(int)
    ue, ve, _ = _exact_maps(camera, pose, grid, r0, n, cols=mid_c.astype(np.float64),
                            rows=mid_r.astype(np.float64), in_view_only=False)  # fmt: skip
    err = np.hypot(u[np.ix_(mid_r - r0, mid_c)] - ue, v[np.ix_(mid_r - r0, mid_c)] - ve)
    if not float(np.max(err, initial=0.0)) < APPROX_TOLERANCE_PX:
        return None
    u64, v64 = u.astype(np.float64), v.astype(np.float64)
    ok = (u64 >= 0) & (u64 <= camera.width) & (v64 >= 0) & (v64 <= camera.height)
    return u64, v64, ok


def read_image(path: Path) -> NDArray[Any]:
    """All bands of an image file (JPEG, TIFF, PNG), georeferenced or not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            data: NDArray[Any] = src.read()
    return data


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


def write_layers(records: Sequence[FrameRecord], footprints: Path, photo_points: Path, crs: str) -> None:
    """The footprints (polygons) and photo-points (camera positions) GeoPackages, atomically."""
    import geopandas as gpd

    base = [r.model_dump(exclude={"footprint_wkt"}) for r in records]
    polys = [wkt.loads(r.footprint_wkt) for r in records]
    points = [Point(r.camera_east, r.camera_north) for r in records]
    _write_gpkg(gpd.GeoDataFrame(base, geometry=polys, crs=crs), footprints, "footprints")
    _write_gpkg(gpd.GeoDataFrame(base, geometry=points, crs=crs), photo_points, "photo_points")


def _write_gpkg(frame: Any, dst: Path, layer: str) -> None:
    with atomic_path(dst, suffix=".gpkg") as tmp:
        frame.to_file(tmp, driver="GPKG", layer=layer)


def is_thermal(capture: Capture) -> bool:
    """True for thermal frames (they are rendered from their °C raster)."""
    return capture.kind == FileKind.THERMAL_FRAME
