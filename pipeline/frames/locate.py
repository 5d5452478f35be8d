"""Where a frame looked: its camera model, pose and footprint, its layer record and its STAC view."""

from __future__ import annotations

import math

import numpy as np
from pyproj import Transformer

from core.errors import GeoreferenceError
from flights.models import Capture, FileKind
from pipeline.frames.dem import DemSampler
from pipeline.georef.camera import PinholeCamera, camera_from_info
from pipeline.georef.footprint import Footprint, FramePose, frame_footprint
from pipeline.georef.pose import GroundHeights, frame_pose
from pipeline.georef.rotation import camera_attitude, r_ned_from_camera
from pipeline.models import FrameRecord, View
from pipeline.models.georef import DEFAULT_MAX_RANGE_M

#: Below this off-nadir angle (degrees) a frame has no viewing azimuth.
NADIR_TOLERANCE_DEG = 0.01


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


def is_thermal(capture: Capture) -> bool:
    """True for thermal frames (they are rendered from their °C raster)."""
    return capture.kind == FileKind.THERMAL_FRAME
