"""Footprint polygon and ground sample distance of one frame in the target CRS.

The footprint samples the image border (corners plus ``samples_per_edge`` points per edge),
casts the rays to the ground plane or a DEM and joins the hits into a polygon. GSD is the
ground size of one pixel: at the image centre (mean of the two sides) and the worst (largest
side) over the border samples, which is the far edge of an oblique frame (REFERENCE §1.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Polygon

from pipeline.georef.camera import PinholeCamera
from pipeline.georef.raycast import (
    CameraPosition,
    Elevation,
    GroundPoints,
    intersect_dem,
    intersect_plane,
    ray_directions,
)
from pipeline.georef.rotation import CameraAttitude, GridFactors, r_ned_from_camera
from pipeline.models.georef import DEFAULT_MAX_RANGE_M

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FramePose:
    """Everything about where a frame looked from: grid position, height, attitude, grid factors."""

    position: CameraPosition
    attitude: CameraAttitude
    factors: GridFactors
    ground_z: float = 0.0
    height_rule: str = "relative-altitude-over-takeoff-plane"

    @property
    def height_above_ground(self) -> float:
        """Camera height above the ground plane (m)."""
        return self.position.z - self.ground_z

    def rotation(self) -> FloatArray:
        """``R_ned<-camera`` of this pose."""
        return r_ned_from_camera(self.attitude)


@dataclass(frozen=True, slots=True)
class Footprint:
    """A frame's ground footprint: polygon, corners (TL, TR, BR, BL), centre point and GSD."""

    polygon: Polygon
    corners: FloatArray
    centre: tuple[float, float]
    gsd_centre_m: float
    gsd_worst_m: float
    clipped_rays: int
    samples: int

    @property
    def clipped(self) -> bool:
        """True when any border ray was at/above the horizon or beyond the maximum range."""
        return self.clipped_rays > 0


def border_pixels(camera: PinholeCamera, samples_per_edge: int) -> tuple[FloatArray, FloatArray]:
    """Pixel positions around the image border, clockwise from the top-left corner."""
    w, h, n = float(camera.width), float(camera.height), max(samples_per_edge, 0) + 1
    s = np.linspace(0.0, 1.0, n, endpoint=False)
    u = np.concatenate([s * w, np.full(n, w), (1 - s) * w, np.zeros(n)])
    v = np.concatenate([np.zeros(n), s * h, np.full(n, h), (1 - s) * h])
    return u, v


def cast(
    camera: PinholeCamera,
    pose: FramePose,
    u: FloatArray,
    v: FloatArray,
    *,
    elevation: Elevation | None = None,
    max_range: float = DEFAULT_MAX_RANGE_M,
) -> GroundPoints:
    """Ground points of pixel positions: the pose's plane, or ``elevation`` when given."""
    dirs = ray_directions(camera, pose.rotation(), u, v)
    if elevation is None:
        return intersect_plane(dirs, pose.position, pose.factors, pose.ground_z, max_range=max_range)
    return intersect_dem(dirs, pose.position, pose.factors, elevation, max_range=max_range)


def frame_footprint(
    camera: PinholeCamera,
    pose: FramePose,
    *,
    elevation: Elevation | None = None,
    samples_per_edge: int = 8,
    max_range: float = DEFAULT_MAX_RANGE_M,
) -> Footprint:
    """The footprint of a frame (see the module docstring)."""
    u, v = border_pixels(camera, samples_per_edge)
    hits = cast(camera, pose, u, v, elevation=elevation, max_range=max_range)
    n = samples_per_edge + 1
    corners = np.stack([hits.east[::n], hits.north[::n]], axis=-1)
    polygon = Polygon(np.stack([hits.east, hits.north], axis=-1))
    if not polygon.is_valid:
        # Clipped rays can fold the ring; on a plane the visible ground is convex anyway.
        hull = polygon.convex_hull
        polygon = hull if isinstance(hull, Polygon) else Polygon()
    cu, cv = np.array([camera.width / 2]), np.array([camera.height / 2])
    centre = cast(camera, pose, cu, cv, elevation=elevation, max_range=max_range)
    return Footprint(
        polygon=polygon,
        corners=corners,
        centre=(float(centre.east[0]), float(centre.north[0])),
        gsd_centre_m=float(np.mean(_pixel_sides(camera, pose, cu, cv, elevation, max_range))),
        gsd_worst_m=float(np.max(_pixel_sides(camera, pose, u, v, elevation, max_range, hits.clipped))),
        clipped_rays=int(np.count_nonzero(hits.clipped)),
        samples=len(u),
    )


def _pixel_sides(
    camera: PinholeCamera,
    pose: FramePose,
    u: FloatArray,
    v: FloatArray,
    elevation: Elevation | None,
    max_range: float,
    skip: NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Ground lengths of one pixel step in u and in v at each position (clipped rays excluded)."""
    u0 = np.clip(u, 0, camera.width - 1)
    v0 = np.clip(v, 0, camera.height - 1)
    uu = np.concatenate([u0, u0 + 1, u0])
    vv = np.concatenate([v0, v0, v0 + 1])
    p = cast(camera, pose, uu, vv, elevation=elevation, max_range=max_range)
    n = len(u0)
    e, nn = p.east.reshape(3, n), p.north.reshape(3, n)
    sides = np.stack([np.hypot(e[1] - e[0], nn[1] - nn[0]), np.hypot(e[2] - e[0], nn[2] - nn[0])])
    bad = p.clipped.reshape(3, n).any(axis=0)
    if skip is not None:
        bad |= skip
    sides[:, bad] = np.nan
    if np.all(np.isnan(sides)):
        return np.array([np.nan])
    return sides[~np.isnan(sides)]
