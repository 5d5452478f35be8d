"""Attitude to rotation matrices (REFERENCE §2.4), and the grid rotation of a projected CRS.

Frames: world NED (north, east, down); gimbal body x forward, y right, z down; camera x right,
y down, z along the optical axis. ``R_ned<-gimbal = Rz(yaw) @ Ry(pitch) @ Rx(roll)`` with DJI's
gimbal angles (yaw clockwise from north, pitch -90 = nadir).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Proj

from flights.models import Attitude

FloatArray = NDArray[np.float64]
NADIR_PITCH = -90.0

#: Columns are the camera axes in gimbal coordinates: x_c -> y_g, y_c -> z_g, z_c -> x_g.
R_GIMBAL_FROM_CAMERA: FloatArray = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class CameraAttitude(NamedTuple):
    """Camera heading, pitch and roll in degrees, and where each came from.

    Example:
        >>> CameraAttitude(90.0, -90.0, 0.0, "gimbal", "gimbal").yaw
        90.0
    """

    yaw: float
    pitch: float
    roll: float
    yaw_source: str
    pitch_source: str


class GridFactors(NamedTuple):
    """Meridian convergence (degrees, grid north relative to true north) and point scale factor."""

    convergence_deg: float
    scale: float


def rot_x(deg: float) -> FloatArray:
    """Right-handed rotation about x."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(deg: float) -> FloatArray:
    """Right-handed rotation about y."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(deg: float) -> FloatArray:
    """Right-handed rotation about z."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def r_ned_from_gimbal(yaw: float, pitch: float, roll: float) -> FloatArray:
    """``Rz(yaw) @ Ry(pitch) @ Rx(roll)``, angles in degrees."""
    return rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)


def r_ned_from_camera(attitude: CameraAttitude) -> FloatArray:
    """Rotation taking camera-frame vectors to NED."""
    return r_ned_from_gimbal(attitude.yaw, attitude.pitch, attitude.roll) @ R_GIMBAL_FROM_CAMERA


def camera_attitude(attitude: Attitude) -> CameraAttitude | None:
    """The camera's attitude: gimbal yaw (flight yaw only as a fallback), gimbal pitch and roll.

    A missing gimbal pitch is taken as nadir (fixed nadir cameras write none) and a missing
    roll as 0; the sources say so. Returns None when no yaw is known at all.
    """
    if attitude.gimbal_yaw is not None:
        yaw, yaw_source = attitude.gimbal_yaw, "gimbal"
    elif attitude.flight_yaw is not None:
        yaw, yaw_source = attitude.flight_yaw, "flight"
    else:
        return None
    if attitude.gimbal_pitch is not None:
        pitch, pitch_source = attitude.gimbal_pitch, "gimbal"
    else:
        pitch, pitch_source = NADIR_PITCH, "assumed-nadir"
    roll = attitude.gimbal_roll if attitude.gimbal_roll is not None else 0.0
    return CameraAttitude(yaw, pitch, roll, yaw_source, pitch_source)


def grid_factors(lon: float, lat: float, crs: str | CRS) -> GridFactors:
    """Meridian convergence and point scale factor of ``crs`` at a geographic position (PROJ).

    Raises:
        ValueError: ``crs`` is not projected.
    """
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        raise ValueError(f"{crs.name} is not a projected CRS")
    factors = Proj(crs).get_factors(lon, lat, errcheck=True)
    return GridFactors(float(factors.meridian_convergence), float(factors.meridional_scale))


def ned_to_grid(
    d_north: FloatArray, d_east: FloatArray, factors: GridFactors
) -> tuple[FloatArray, FloatArray]:
    """Horizontal ground offsets (metres, true north/east) to grid offsets (easting, northing).

    The grid bearing is the true bearing minus the convergence, and grid distances are
    ground distances times the point scale factor.
    """
    g = math.radians(factors.convergence_deg)
    c, s = math.cos(g) * factors.scale, math.sin(g) * factors.scale
    return d_east * c - d_north * s, d_north * c + d_east * s
