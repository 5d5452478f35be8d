"""A frame's pose from its ``Capture``: grid position, height rule, camera attitude, grid factors.

Pure apart from PROJ (pyproj) for the geodesy; no file I/O. Camera positions are WGS 84
(EPSG:4326) and go to the target CRS with ``transformation`` (a PROJ pipeline) when given,
else PROJ's best available operation.
"""

from __future__ import annotations

from typing import NamedTuple

from pyproj import Transformer

from core.errors import GeoreferenceError
from flights.models import Capture
from pipeline.georef.footprint import FramePose
from pipeline.georef.raycast import CameraPosition, HeightSolution, solve_height
from pipeline.georef.rotation import camera_attitude, grid_factors

GEOGRAPHIC = "EPSG:4326"


class GroundHeights(NamedTuple):
    """DEM heights needed by the height rule (None without a DEM), in the DEM's datum."""

    takeoff: float | None = None
    nadir: float | None = None
    camera_absolute: float | None = None  # AbsoluteAltitude converted to the DEM's datum


def transformer_to(target_crs: str, transformation: str | None = None) -> Transformer:
    """WGS 84 lon/lat -> ``target_crs`` (always x=lon, y=lat), through ``transformation`` if given."""
    if transformation:
        return Transformer.from_pipeline(transformation)
    return Transformer.from_crs(GEOGRAPHIC, target_crs, always_xy=True)


def frame_pose(
    capture: Capture,
    target_crs: str,
    *,
    ground: GroundHeights | None = None,
    transformer: Transformer | None = None,
) -> FramePose:
    """The pose of a captured frame in ``target_crs``.

    Raises:
        GeoreferenceError: no position, no yaw, or no altitude usable under REFERENCE §2.5.
    """
    position = capture.position
    if position is None:
        raise GeoreferenceError(f"capture {capture.path} has no GPS position")
    attitude = camera_attitude(capture.attitude)
    if attitude is None:
        raise GeoreferenceError(f"capture {capture.path} has neither gimbal nor flight yaw")
    ground = ground or GroundHeights()
    rtk_fixed = capture.rtk.fixed and (capture.rtk.altitude_type in (None, "RtkAlt"))
    try:
        height: HeightSolution = solve_height(
            relative_altitude=position.relative_altitude_m,
            absolute_altitude=ground.camera_absolute,
            rtk_fixed=rtk_fixed,
            ground_at_takeoff=ground.takeoff,
            ground_at_nadir=ground.nadir,
        )
    except GeoreferenceError as exc:
        raise GeoreferenceError(f"capture {capture.path}: {exc}") from exc
    tr = transformer or transformer_to(target_crs)
    east, north = tr.transform(position.lon, position.lat)
    return FramePose(
        position=CameraPosition(float(east), float(north), height.camera_z),
        attitude=attitude,
        factors=grid_factors(position.lon, position.lat, target_crs),
        ground_z=height.ground_z,
        height_rule=height.rule,
    )
