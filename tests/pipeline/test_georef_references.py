"""Direct georeferencing against the field's references: Orthority and cameratransform.

Poses: synthetic (yaw 0/90/-135, pitch -90/-60/-30, roll -5/0/+5) at Skanderborg in
EPSG:25832, and the 18 brighton_beach frames (read with ``read_capture``) in their UTM zone.

Two conventions differ between the tools and are mapped here, not hidden:

- DJI gimbal roll turns the camera about its optical axis (REFERENCE §2.4: gimbal frame with
  the optical axis along x). Orthority's EXIF reader adds 90° to the pitch and uses a
  camera-down body frame, which turns roll into a cross-track tilt; it agrees with us for roll
  0 (tested with its own convention) and for any roll when given our camera->body matrix
  ``C_bB``. cameratransform's ``roll_deg`` is the negative of DJI's roll.
- Orthority rotates by the meridian convergence but ignores the grid scale factor (k =
  0.99964 at Skanderborg, 5 cm over 150 m); we apply it, so offsets from the camera are
  divided by k before comparing. In a local transverse Mercator (k = 1) no correction is made.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod, Transformer

from flights.models import CameraInfo, FileKind
from pipeline.georef.camera import PinholeCamera, camera_from_info
from pipeline.georef.footprint import FramePose, border_pixels, cast
from pipeline.georef.pose import frame_pose
from pipeline.georef.raycast import CameraPosition
from pipeline.georef.rotation import R_GIMBAL_FROM_CAMERA, CameraAttitude, GridFactors, grid_factors
from pipeline.models.georef import DEFAULT_MAX_RANGE_M

orthority_camera = pytest.importorskip("orthority.camera")
orthority_param_io = pytest.importorskip("orthority.param_io")
ct = pytest.importorskip("cameratransform")

LON, LAT, H = 9.93, 56.04, 100.0
CRS = "EPSG:25832"
WORKED = PinholeCamera(5472, 3648, 3648.0, 3648.0, 2736.0, 1824.0)
P4RTK = camera_from_info(
    CameraInfo(
        width=5472,
        height=3648,
        dewarp_data="2018-09-04;3678.87,3671.84,10.10,27.29,-0.2687,0.1147,1.5e-5,-4.6e-5,-0.0350",
    )
)
POSES = list(itertools.product([0.0, 90.0, -135.0], [-90.0, -60.0, -30.0], [-5.0, 0.0, 5.0]))
TOLERANCE_M = 0.02
MAX_RANGE = 1e5  # pitch -30 puts the top edge ~1.7 km out: compare it, do not clip it
C_BB_OURS = R_GIMBAL_FROM_CAMERA @ np.diag([1.0, -1.0, -1.0])  # our camera (OpenCV) -> gimbal, PATB camera
FIGURES: dict[str, float] = {}


def _ours(
    camera: PinholeCamera,
    yaw: float,
    pitch: float,
    roll: float,
    crs: str = CRS,
    lon: float = LON,
    lat: float = LAT,
    h: float = H,
) -> tuple[np.ndarray, FramePose, np.ndarray, np.ndarray]:
    e, n = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    factors = grid_factors(lon, lat, crs)
    pose = FramePose(CameraPosition(e, n, h), CameraAttitude(yaw, pitch, roll, "gimbal", "gimbal"), factors)
    u, v = border_pixels(camera, 4)
    hits = cast(camera, pose, u, v, max_range=MAX_RANGE)
    assert not hits.clipped.any()
    return np.stack([hits.east, hits.north], axis=-1), pose, u, v


def _orthority_camera(
    camera: PinholeCamera,
    pose: FramePose,
    crs: str,
    lon: float,
    lat: float,
    rpy: tuple[float, float, float],
    c_bb: np.ndarray | None,
) -> object:
    w, h = camera.width, camera.height
    opk = orthority_param_io._rpy_to_opk(
        tuple(np.radians(rpy)), (lat, lon, pose.position.z), crs, "EPSG:4979", C_bB=c_bb
    )
    common = {
        "sensor_size": (1.0, h / w),
        "cx": (camera.cx - w / 2) / max(w, h),
        "cy": (camera.cy - h / 2) / max(w, h),
        "xyz": (pose.position.east, pose.position.north, pose.position.z),
        "opk": opk,
    }
    focal = (camera.fx / w, camera.fy / w)
    if camera.distortion is None:
        ocam = orthority_camera.PinholeCamera((w, h), focal, **common)
    else:
        d = camera.distortion
        ocam = orthority_camera.BrownCamera(
            (w, h), focal, k1=d.k1, k2=d.k2, p1=d.p1, p2=d.p2, k3=d.k3, **common
        )
    return ocam


def _orthority(
    camera: PinholeCamera,
    pose: FramePose,
    u: np.ndarray,
    v: np.ndarray,
    crs: str,
    lon: float,
    lat: float,
    rpy: tuple[float, float, float],
    c_bb: np.ndarray | None,
) -> np.ndarray:
    ocam = _orthority_camera(camera, pose, crs, lon, lat, rpy, c_bb)
    ji = np.stack([u, v]) - 0.5  # orthority puts the first pixel's centre at 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xyz = ocam.pixel_to_world_z(ji, 0.0)  # type: ignore[attr-defined]
    return np.asarray(xyz[:2].T)


def _record(name: str, value: float) -> None:
    FIGURES[name] = max(FIGURES.get(name, 0.0), value)


@pytest.mark.parametrize(("yaw", "pitch", "roll"), POSES)
def test_orthority_epsg25832(yaw: float, pitch: float, roll: float) -> None:
    ours, pose, u, v = _ours(WORKED, yaw, pitch, roll)
    theirs = _orthority(WORKED, pose, u, v, CRS, LON, LAT, (roll, pitch, yaw), C_BB_OURS)
    cam = np.array([pose.position.east, pose.position.north])
    diff = np.abs((ours - cam) / pose.factors.scale - (theirs - cam)).max()
    _record("orthority_25832", diff)
    assert diff < TOLERANCE_M


@pytest.mark.parametrize(("yaw", "pitch", "roll"), [p for p in POSES if p[2] == 0.0])
def test_orthority_own_dji_convention_roll0(yaw: float, pitch: float, roll: float) -> None:
    ours, pose, u, v = _ours(WORKED, yaw, pitch, roll)
    theirs = _orthority(WORKED, pose, u, v, CRS, LON, LAT, (roll, pitch + 90.0, yaw), None)
    cam = np.array([pose.position.east, pose.position.north])
    assert np.abs((ours - cam) / pose.factors.scale - (theirs - cam)).max() < TOLERANCE_M


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"), [(-135.0, -60.0, 5.0), (90.0, -30.0, -5.0), (0.0, -90.0, 0.0)]
)
def test_orthority_local_tmerc_without_correction(yaw: float, pitch: float, roll: float) -> None:
    local = f"+proj=tmerc +lat_0={LAT} +lon_0={LON} +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    ours, pose, u, v = _ours(WORKED, yaw, pitch, roll, crs=local)
    theirs = _orthority(WORKED, pose, u, v, local, LON, LAT, (roll, pitch, yaw), C_BB_OURS)
    diff = np.abs(ours - theirs).max()
    _record("orthority_tmerc", diff)
    assert diff < TOLERANCE_M


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"), [(0.0, -90.0, 0.0), (-135.0, -60.0, 5.0), (90.0, -45.0, -5.0)]
)
def test_orthority_with_dewarp_distortion(yaw: float, pitch: float, roll: float) -> None:
    """With Brown distortion the comparison runs ground -> pixel through Orthority's
    ``world_to_pixel`` (analytic distortion). Its pixel -> ground inverse uses
    ``cv2.undistortPoints`` with OpenCV's default 5 iterations, which is metres off at the
    corners of a P4RTK frame (k1 = -0.27); our Newton inverse round-trips to 1e-6 px."""
    ours, pose, u, v = _ours(P4RTK, yaw, pitch, roll, h=80.0)
    ocam = _orthority_camera(P4RTK, pose, CRS, LON, LAT, (roll, pitch, yaw), C_BB_OURS)
    cam = np.array([pose.position.east, pose.position.north])
    flat = cam + (ours - cam) / pose.factors.scale  # orthority's grid has no scale factor
    xyz = np.vstack([flat.T, np.zeros(len(flat))])
    ji = ocam.world_to_pixel(xyz)  # type: ignore[attr-defined]
    d_px = np.hypot(ji[0] + 0.5 - u, ji[1] + 0.5 - v)
    gsd = np.asarray(cast(P4RTK, pose, u, v + 1, max_range=MAX_RANGE).north)  # 1 px step on the ground
    step = np.hypot(
        gsd - ours[:, 1], np.asarray(cast(P4RTK, pose, u, v + 1, max_range=MAX_RANGE).east) - ours[:, 0]
    )
    diff = float(np.max(d_px * np.maximum(step, 1e-3)))
    _record("orthority_distortion", diff)
    assert diff < TOLERANCE_M
    assert float(d_px.max()) < 0.05


def _cameratransform_grid(
    camera: PinholeCamera, pose: FramePose, u: np.ndarray, v: np.ndarray, lon: float, lat: float, crs: str
) -> np.ndarray:
    """cameratransform's metres around the camera (x east, y north), taken to the grid with PROJ:
    geodesic forward from the camera along each offset's azimuth, then projected."""
    a = pose.attitude
    cam = ct.Camera(
        ct.RectilinearProjection(
            focallength_x_px=camera.fx,
            focallength_y_px=camera.fy,
            image=(camera.width, camera.height),
            center=(camera.cx, camera.cy),
        ),
        ct.SpatialOrientation(
            elevation_m=pose.height_above_ground, tilt_deg=90.0 + a.pitch, roll_deg=-a.roll, heading_deg=a.yaw
        ),
    )
    pts = cam.spaceFromImage(np.stack([u, v], axis=-1), Z=0.0)
    az = np.degrees(np.arctan2(pts[:, 0], pts[:, 1]))
    dist = np.hypot(pts[:, 0], pts[:, 1])
    lons, lats, _ = Geod(ellps="WGS84").fwd(np.full(len(az), lon), np.full(len(az), lat), az, dist)
    e, n = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lons, lats)
    return np.stack([e, n], axis=-1)


@pytest.mark.parametrize(("yaw", "pitch", "roll"), POSES)
def test_cameratransform_epsg25832(yaw: float, pitch: float, roll: float) -> None:
    """Grid coordinates through PROJ geodesy, within the default 500 m maximum range: beyond a
    few hundred metres a flat plane and the ellipsoid part ways (8 cm at 2 km here)."""
    ours, pose, u, v = _ours(WORKED, yaw, pitch, roll)
    near = np.hypot(*(ours - [pose.position.east, pose.position.north]).T) <= DEFAULT_MAX_RANGE_M
    theirs = _cameratransform_grid(WORKED, pose, u[near], v[near], LON, LAT, CRS)
    diff = np.abs(ours[near] - theirs).max()
    _record("cameratransform_25832", diff)
    assert diff < TOLERANCE_M


@pytest.mark.parametrize(("yaw", "pitch", "roll"), POSES)
def test_cameratransform_local_metres(yaw: float, pitch: float, roll: float) -> None:
    """All border points, compared in metres east/north of the camera (no grid, any range)."""
    e, n = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(LON, LAT)
    pose = FramePose(
        CameraPosition(0.0, 0.0, H),
        CameraAttitude(yaw, pitch, roll, "gimbal", "gimbal"),
        GridFactors(0.0, 1.0),
    )
    u, v = border_pixels(WORKED, 4)
    hits = cast(WORKED, pose, u, v, max_range=MAX_RANGE)
    cam = ct.Camera(
        ct.RectilinearProjection(
            focallength_px=WORKED.fx, image=(WORKED.width, WORKED.height), center=(WORKED.cx, WORKED.cy)
        ),
        ct.SpatialOrientation(elevation_m=H, tilt_deg=90.0 + pitch, roll_deg=-roll, heading_deg=yaw),
    )
    pts = cam.spaceFromImage(np.stack([u, v], axis=-1), Z=0.0)
    diff = max(np.abs(hits.east - pts[:, 0]).max(), np.abs(hits.north - pts[:, 1]).max())
    _record("cameratransform_local", diff)
    assert diff < TOLERANCE_M


# --- brighton_beach: real DJI poses through read_capture --------------------------------------


def _brighton_captures(data_dir: Path) -> list[object]:
    exif = pytest.importorskip("flights.exif")
    images = sorted((data_dir / "brighton_beach" / "images").glob("*.JPG"))
    assert len(images) == 18
    return [
        exif.read_capture(p, p.name, sha256="-", size=p.stat().st_size, kind=FileKind.RGB_FRAME)
        for p in images
    ]


def test_brighton_against_orthority_and_cameratransform(data_dir: Path) -> None:
    crs = "EPSG:32615"  # the frames are near Duluth, MN: their own UTM zone
    worst_o = worst_c = 0.0
    for capture in _brighton_captures(data_dir):
        camera = camera_from_info(capture.camera)  # type: ignore[attr-defined]
        assert camera.source == "focal+sensor"
        pose = frame_pose(capture, crs)  # type: ignore[arg-type]
        assert (
            pose.attitude.yaw_source == "gimbal"
            and pose.height_rule == "relative-altitude-over-takeoff-plane"
        )
        u, v = border_pixels(camera, 4)
        hits = cast(camera, pose, u, v)
        ours = np.stack([hits.east, hits.north], axis=-1)
        pos = capture.position  # type: ignore[attr-defined]
        a = pose.attitude
        theirs = _orthority(camera, pose, u, v, crs, pos.lon, pos.lat, (a.roll, a.pitch, a.yaw), C_BB_OURS)
        cam = np.array([pose.position.east, pose.position.north])
        worst_o = max(worst_o, float(np.abs((ours - cam) / pose.factors.scale - (theirs - cam)).max()))
        worst_c = max(
            worst_c,
            float(np.abs(ours - _cameratransform_grid(camera, pose, u, v, pos.lon, pos.lat, crs)).max()),
        )
    _record("brighton_orthority", worst_o)
    _record("brighton_cameratransform", worst_c)
    assert worst_o < TOLERANCE_M and worst_c < TOLERANCE_M


def test_print_figures() -> None:
    """Not a check of its own: prints the worst differences for the report (pytest -s)."""
    assert all(v < TOLERANCE_M for v in FIGURES.values())
    for name, value in sorted(FIGURES.items()):
        print(f"{name}: worst corner difference {value * 1000:.3f} mm")
