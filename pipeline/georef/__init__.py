"""Direct georeferencing of single frames: pure math, no file I/O.

- ``camera``: pinhole intrinsics from a Capture's ``CameraInfo`` and Brown distortion.
- ``rotation``: gimbal attitude to rotation matrices (NED), and the grid rotation of UTM.
- ``raycast``: rays to a ground plane or a DEM, with horizon clipping.
- ``footprint``: footprint polygon and GSD of a frame in the target CRS.
"""

from pipeline.georef.camera import BrownDistortion, PinholeCamera, camera_from_info
from pipeline.georef.footprint import Footprint, FramePose, frame_footprint
from pipeline.georef.pose import GroundHeights, frame_pose, transformer_to
from pipeline.georef.raycast import CameraPosition, project_to_image, solve_height
from pipeline.georef.rotation import (
    CameraAttitude,
    GridFactors,
    camera_attitude,
    grid_factors,
    r_ned_from_camera,
)
from pipeline.models.georef import DEFAULT_MAX_RANGE_M

__all__ = [
    "DEFAULT_MAX_RANGE_M",
    "BrownDistortion",
    "CameraAttitude",
    "CameraPosition",
    "Footprint",
    "FramePose",
    "GridFactors",
    "GroundHeights",
    "PinholeCamera",
    "camera_attitude",
    "camera_from_info",
    "frame_footprint",
    "frame_pose",
    "grid_factors",
    "project_to_image",
    "r_ned_from_camera",
    "solve_height",
    "transformer_to",
]
