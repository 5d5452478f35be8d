"""Rays from a frame camera to a ground plane or a DEM, and ground points back into the image.

Positions are grid coordinates of the target CRS (easting, northing) plus a height in the
ground's vertical datum. Ray directions are NED; ``rotation.ned_to_grid`` applies the meridian
convergence and the point scale factor. Rays at or above the horizon, and rays that would land
beyond ``max_range`` (horizontal metres), are clipped at ``max_range`` and flagged: they never
produce garbage geometry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from core.errors import GeoreferenceError
from pipeline.georef.camera import PinholeCamera
from pipeline.georef.rotation import GridFactors, ned_to_grid
from pipeline.models.georef import DEFAULT_MAX_RANGE_M

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Elevation = Callable[[FloatArray, FloatArray], FloatArray]
HORIZON_EPS = 1e-9


class GroundPoints(NamedTuple):
    """Where rays meet the ground: grid coordinates, height, slant range and a clip flag."""

    east: FloatArray
    north: FloatArray
    z: FloatArray
    slant_range: FloatArray
    clipped: BoolArray


class CameraPosition(NamedTuple):
    """Camera centre in grid coordinates and height in the ground's datum."""

    east: float
    north: float
    z: float


class HeightSolution(NamedTuple):
    """Camera height and the ground it flies over, in one vertical datum, and the rule used."""

    camera_z: float
    ground_z: float
    rule: str


def solve_height(
    *,
    relative_altitude: float | None,
    absolute_altitude: float | None,
    rtk_fixed: bool,
    ground_at_takeoff: float | None = None,
    ground_at_nadir: float | None = None,
) -> HeightSolution:
    """Camera height following REFERENCE §2.5.

    Without a DEM the ground is the plane of the take-off point (z = 0) and the camera is
    ``RelativeAltitude`` above it. With a DEM: ``AbsoluteAltitude`` when RTK is fixed (the caller
    has already converted it to the DEM's datum), else ``RelativeAltitude`` + DEM at take-off.

    Raises:
        GeoreferenceError: the altitudes needed for the applicable rule are missing.
    """
    if ground_at_nadir is None:
        if relative_altitude is None:
            raise GeoreferenceError("no RelativeAltitude: a DEM (--dem) and an RTK-fixed altitude are needed")
        return HeightSolution(relative_altitude, 0.0, "relative-altitude-over-takeoff-plane")
    if rtk_fixed and absolute_altitude is not None:
        return HeightSolution(absolute_altitude, ground_at_nadir, "rtk-absolute-altitude")
    if relative_altitude is not None and ground_at_takeoff is not None:
        return HeightSolution(
            ground_at_takeoff + relative_altitude, ground_at_nadir, "relative-altitude+dem-takeoff"
        )
    raise GeoreferenceError(
        "neither an RTK-fixed AbsoluteAltitude nor RelativeAltitude + take-off DEM height"
    )


def ray_directions(camera: PinholeCamera, r_ned_cam: FloatArray, u: FloatArray, v: FloatArray) -> FloatArray:
    """NED direction vectors (N x 3, camera z component 1) of pixel positions, undistorted."""
    x, y = camera.normalised(np.ravel(u), np.ravel(v))
    d_cam = np.stack([x, y, np.ones_like(x)], axis=0)
    return np.asarray((r_ned_cam @ d_cam).T, dtype=np.float64)


def _clip_far(dirs: FloatArray, t: FloatArray, max_range: float) -> tuple[FloatArray, BoolArray]:
    """Limit the horizontal reach of ``t * dirs`` to ``max_range``; flag what was limited."""
    horizontal = np.hypot(dirs[:, 0], dirs[:, 1])
    reach = t * horizontal
    clipped = ~np.isfinite(t) | (t <= 0) | (reach > max_range)
    t_clip = np.where(horizontal > HORIZON_EPS, max_range / np.maximum(horizontal, HORIZON_EPS), 0.0)
    return np.where(clipped, t_clip, t), clipped


def intersect_plane(
    dirs: FloatArray,
    position: CameraPosition,
    factors: GridFactors,
    ground_z: float,
    *,
    max_range: float = DEFAULT_MAX_RANGE_M,
) -> GroundPoints:
    """Rays meeting the horizontal plane ``z = ground_z`` (REFERENCE §2.4 step 4)."""
    h = position.z - ground_z
    if h <= 0:
        raise GeoreferenceError(
            f"camera height {position.z:.2f} is not above the ground plane {ground_z:.2f}"
        )
    down = dirs[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(down > HORIZON_EPS, h / down, np.inf)
    t, clipped = _clip_far(dirs, t, max_range)
    return _points(dirs, t, position, factors, np.full(len(t), ground_z), clipped)


def _points(
    dirs: FloatArray,
    t: FloatArray,
    position: CameraPosition,
    factors: GridFactors,
    z: FloatArray,
    clipped: BoolArray,
) -> GroundPoints:
    de, dn = ned_to_grid(t * dirs[:, 0], t * dirs[:, 1], factors)
    slant = np.hypot(np.hypot(t * dirs[:, 0], t * dirs[:, 1]), position.z - z)
    return GroundPoints(position.east + de, position.north + dn, z, slant, clipped)


def intersect_dem(
    dirs: FloatArray,
    position: CameraPosition,
    factors: GridFactors,
    elevation: Elevation,
    *,
    max_range: float = DEFAULT_MAX_RANGE_M,
    step_m: float = 1.0,
    tolerance_m: float = 0.01,
) -> GroundPoints:
    """Rays meeting a DEM: march along each ray until it passes below the surface, then bisect.

    ``elevation(east, north)`` returns DEM heights (NaN outside the DEM) in the camera height's
    datum. Marching (not the fixed-point iteration alone) keeps oblique rays over slopes from
    oscillating. Rays that never meet the DEM within ``max_range`` are clipped there.
    """
    horizontal = np.hypot(dirs[:, 0], dirs[:, 1])
    norm = np.linalg.norm(dirs, axis=1)
    t_max = np.where(horizontal > HORIZON_EPS, max_range / np.maximum(horizontal, HORIZON_EPS), 1e4 / norm)
    steps = int(min(20000, math.ceil(float(np.max(t_max * norm)) / step_m))) + 1
    frac = np.linspace(0.0, 1.0, steps)
    t_grid = t_max[:, None] * frac[None, :]
    above = _height_above(dirs, position, factors, elevation, t_grid)
    below = np.where(np.nan_to_num(above, nan=1.0) <= 0)
    first = np.full(len(dirs), -1)
    for ray, index in zip(*below, strict=True):
        if first[ray] < 0:
            first[ray] = index
    hit = first > 0
    t_lo = np.where(hit, t_grid[np.arange(len(dirs)), np.maximum(first - 1, 0)], 0.0)
    t_hi = np.where(hit, t_grid[np.arange(len(dirs)), np.maximum(first, 0)], 0.0)
    tol_t = tolerance_m / norm
    while np.any(hit & (t_hi - t_lo > tol_t)):
        mid = (t_lo + t_hi) / 2
        mid_above = _height_above(dirs, position, factors, elevation, mid[:, None])[:, 0]
        go_up = np.nan_to_num(mid_above, nan=1.0) > 0
        t_lo, t_hi = np.where(go_up, mid, t_lo), np.where(go_up, t_hi, mid)
    t = np.where(hit, (t_lo + t_hi) / 2, np.inf)
    t, clipped = _clip_far(dirs, t, max_range)
    de, dn = ned_to_grid(t * dirs[:, 0], t * dirs[:, 1], factors)
    z = elevation(position.east + de, position.north + dn)
    z = np.where(np.isfinite(z), z, position.z - t * dirs[:, 2])
    return _points(dirs, t, position, factors, np.where(clipped & ~np.isfinite(z), position.z, z), clipped)


def _height_above(
    dirs: FloatArray, position: CameraPosition, factors: GridFactors, elevation: Elevation, t: FloatArray
) -> FloatArray:
    de, dn = ned_to_grid(t * dirs[:, 0, None], t * dirs[:, 1, None], factors)
    ground = elevation(position.east + de, position.north + dn)
    return np.asarray(position.z - t * dirs[:, 2, None] - ground, dtype=np.float64)


def project_to_image(
    camera: PinholeCamera,
    r_ned_cam: FloatArray,
    position: CameraPosition,
    factors: GridFactors,
    east: FloatArray,
    north: FloatArray,
    z: FloatArray | float,
    *,
    in_view_only: bool = True,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Pixel positions (u, v) of ground points, and whether each is in front of the camera and in view.

    With ``in_view_only=False`` the flag only says "in front of the camera and near the field of
    view" (where the distortion model holds), so that callers may interpolate u and v.
    """
    g = math.radians(factors.convergence_deg)
    de, dn = (
        (np.asarray(east) - position.east) / factors.scale,
        (np.asarray(north) - position.north) / factors.scale,
    )
    d_east = de * math.cos(g) + dn * math.sin(g)
    d_north = dn * math.cos(g) - de * math.sin(g)
    d_down = position.z - np.asarray(z, dtype=np.float64) * np.ones_like(d_east)
    ned = np.stack([d_north.ravel(), d_east.ravel(), d_down.ravel()], axis=0)
    cam = r_ned_cam.T @ ned
    front = cam[2] > HORIZON_EPS
    safe = np.where(front, cam[2], 1.0)
    x, y = cam[0] / safe, cam[1] / safe
    u, v = camera.pixels(x, y)
    # Brown polynomials fold back far outside the image: keep only rays near the field of view.
    if camera.distortion is not None and not camera.distortion.is_zero:
        front &= _near_field_of_view(camera, x, y)
    inside = (
        front & (u >= 0) & (u <= camera.width) & (v >= 0) & (v <= camera.height) if in_view_only else front
    )
    shape = np.shape(d_east)
    return u.reshape(shape), v.reshape(shape), inside.reshape(shape)


def _near_field_of_view(camera: PinholeCamera, x: FloatArray, y: FloatArray) -> BoolArray:
    """Normalised coordinates within 1.2 times the radius of the image corners."""
    cu, cv = camera.normalised(
        np.array([0.0, camera.width, 0.0, camera.width]), np.array([0.0, 0.0, camera.height, camera.height])
    )
    return np.asarray(np.hypot(x, y) <= 1.2 * float(np.max(np.hypot(cu, cv))))
