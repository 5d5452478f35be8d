"""Pure georeferencing math: camera model, rotations, the worked example, rays, heights, GSD."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import GeoreferenceError
from flights.models import Attitude, CameraInfo
from pipeline.georef.camera import (
    BrownDistortion,
    PinholeCamera,
    camera_from_info,
    focal35_divisor,
    parse_dewarp,
)
from pipeline.georef.footprint import FramePose, frame_footprint
from pipeline.georef.raycast import (
    CameraPosition,
    intersect_dem,
    project_to_image,
    ray_directions,
    solve_height,
)
from pipeline.georef.rotation import (
    R_GIMBAL_FROM_CAMERA,
    CameraAttitude,
    GridFactors,
    camera_attitude,
    grid_factors,
    ned_to_grid,
    r_ned_from_camera,
)

WORKED = PinholeCamera(5472, 3648, 3648.0, 3648.0, 2736.0, 1824.0)
LOCAL = GridFactors(0.0, 1.0)
P4RTK_DEWARP = "2018-09-04;3678.87,3671.84,10.10,27.29,-0.2687,0.1147,1.5e-5,-4.6e-5,-0.0350"


def pose(
    yaw: float, pitch: float, roll: float = 0.0, h: float = 100.0, factors: GridFactors = LOCAL
) -> FramePose:
    return FramePose(
        CameraPosition(0.0, 0.0, h), CameraAttitude(yaw, pitch, roll, "gimbal", "gimbal"), factors
    )


# --- REFERENCE §2.4 worked example, exactly -----------------------------------------------------


def test_worked_example_nadir_north() -> None:
    fp = frame_footprint(WORKED, pose(0, -90))
    assert fp.corners == pytest.approx(np.array([[-75, 50], [75, 50], [75, -50], [-75, -50]]), abs=1e-9)
    assert fp.gsd_centre_m == pytest.approx(0.0274, abs=5e-5)
    assert fp.clipped_rays == 0


def test_worked_example_yaw_90_top_faces_east() -> None:
    fp = frame_footprint(WORKED, pose(90, -90))
    assert fp.corners[0] == pytest.approx([50, 75], abs=1e-9)


def test_worked_example_oblique_45() -> None:
    fp = frame_footprint(WORKED, pose(0, -45))
    assert fp.centre == pytest.approx((0, 100), abs=1e-9)
    top = 100 * (1 + math.tan(math.atan(0.5))) / (1 - math.tan(math.atan(0.5)))
    assert top == pytest.approx(300.0)
    expected = [[-212.132, 300], [212.132, 300], [70.711, 33.333], [-70.711, 33.333]]
    assert fp.corners == pytest.approx(np.array(expected), abs=1e-3)


def test_gimbal_to_camera_axes() -> None:
    assert R_GIMBAL_FROM_CAMERA @ [1, 0, 0] == pytest.approx([0, 1, 0])
    assert R_GIMBAL_FROM_CAMERA @ [0, 1, 0] == pytest.approx([0, 0, 1])
    assert R_GIMBAL_FROM_CAMERA @ [0, 0, 1] == pytest.approx([1, 0, 0])
    r = r_ned_from_camera(CameraAttitude(0, -90, 0, "g", "g"))
    assert r @ [0, 0, 1] == pytest.approx([0, 0, 1], abs=1e-12)  # nadir: optical axis points down
    assert r @ [0, -1, 0] == pytest.approx([1, 0, 0], abs=1e-12)  # image top faces north


# --- attitude sources ---------------------------------------------------------------------------


def test_gimbal_yaw_preferred_flight_yaw_fallback() -> None:
    both = camera_attitude(Attitude(gimbal_yaw=45, gimbal_pitch=-80, gimbal_roll=1, flight_yaw=10))
    assert both is not None and (both.yaw, both.yaw_source, both.pitch, both.roll) == (45, "gimbal", -80, 1)
    fallback = camera_attitude(Attitude(flight_yaw=10))
    assert fallback is not None and (fallback.yaw, fallback.yaw_source) == (10, "flight")
    assert (fallback.pitch, fallback.pitch_source) == (-90, "assumed-nadir")
    assert camera_attitude(Attitude()) is None


# --- meridian convergence and grid scale (PROJ) -------------------------------------------------


def test_convergence_at_skanderborg() -> None:
    factors = grid_factors(9.93, 56.04, "EPSG:25832")
    assert factors.convergence_deg == pytest.approx(
        math.degrees(math.atan(math.tan(math.radians(0.93)) * math.sin(math.radians(56.04)))), abs=1e-3
    )
    assert factors.convergence_deg == pytest.approx(0.77, abs=0.01)
    assert 0.9996 < factors.scale < 0.99970
    # A ray 150 m true north lands ~2 m west of grid north (REFERENCE §2.4 step 6).
    de, dn = ned_to_grid(np.array(150.0), np.array(0.0), factors)
    assert float(de) == pytest.approx(-2.02, abs=0.01)


def test_grid_factors_reject_geographic() -> None:
    with pytest.raises(ValueError, match="not a projected CRS"):
        grid_factors(9.93, 56.04, "EPSG:4326")


# --- camera model ------------------------------------------------------------------------------


def test_camera_source_order() -> None:
    base = {"make": "DJI", "model": "X", "width": 5472, "height": 3648}
    dewarp = camera_from_info(CameraInfo(**base, calibrated_focal_px=3666, dewarp_data=P4RTK_DEWARP))
    assert dewarp.source == "dewarp" and (dewarp.cx, dewarp.cy) == (2736 + 10.10, 1824 + 27.29)
    assert dewarp.distortion == BrownDistortion(-0.2687, 0.1147, 1.5e-5, -4.6e-5, -0.0350)
    undistorted = camera_from_info(CameraInfo(**base, dewarp_data=P4RTK_DEWARP, dewarp_flag=1))
    assert undistorted.distortion is None
    cal = camera_from_info(
        CameraInfo(**base, calibrated_focal_px=3666.67, optical_center_x=2740, optical_center_y=1830)
    )
    assert (cal.source, cal.fx, cal.cx, cal.cy) == ("calibrated", 3666.67, 2740, 1830)
    mm = camera_from_info(CameraInfo(**base, focal_length_mm=8.8, sensor_width_mm=13.2))
    assert (mm.source, mm.fx) == ("focal+sensor", pytest.approx(3648.0))
    f35 = camera_from_info(CameraInfo(**base, focal_length_35mm=24))
    assert (f35.source, f35.fx) == ("focal35", pytest.approx(24 * 5472 / 36))
    with pytest.raises(GeoreferenceError, match="no focal length"):
        camera_from_info(CameraInfo(**base))
    with pytest.raises(GeoreferenceError, match="image size unknown"):
        camera_from_info(CameraInfo(focal_length_35mm=24))


def test_focal35_divisor_pix4d() -> None:
    assert focal35_divisor(4000, 3000) == 34.6  # 4:3
    assert focal35_divisor(6000, 4000) == 36.0  # 3:2
    assert focal35_divisor(4000, 2250) == 34.6  # 16:9 crop of a 4:3 sensor
    assert focal35_divisor(3000, 4000) == 34.6  # portrait


def test_dewarp_parse_errors() -> None:
    with pytest.raises(GeoreferenceError, match="9"):
        parse_dewarp("2018-09-04;1,2,3")
    with pytest.raises(GeoreferenceError, match="not numeric"):
        parse_dewarp("2018-09-04;a,b,c,d,e,f,g,h,i")


def test_distortion_round_trip_matches_opencv() -> None:
    import cv2

    cam = camera_from_info(CameraInfo(width=5472, height=3648, dewarp_data=P4RTK_DEWARP))
    u, v = np.array([0.0, 100.0, 2736.0, 5472.0, 5000.0]), np.array([0.0, 3000.0, 1824.0, 3648.0, 200.0])
    x, y = cam.normalised(u, v)
    u2, v2 = cam.pixels(x, y)
    assert u2 == pytest.approx(u, abs=1e-6) and v2 == pytest.approx(v, abs=1e-6)
    assert cam.distortion is not None
    obj = np.stack([x, y, np.ones_like(x)], axis=-1)
    projected, _ = cv2.projectPoints(
        obj, np.zeros(3), np.zeros(3), cam.matrix(), cam.distortion.coefficients()
    )
    assert projected.reshape(-1, 2) == pytest.approx(np.stack([u, v], axis=-1), abs=1e-6)


# --- rays: horizon, DEM, inverse projection -----------------------------------------------------


@pytest.mark.parametrize("pitch", [0.0, 10.0, -10.0])
def test_horizon_rays_are_clipped_and_reported(pitch: float) -> None:
    fp = frame_footprint(WORKED, pose(30, pitch), max_range=250.0)
    assert fp.clipped and fp.clipped_rays > 0
    e, n = fp.polygon.exterior.xy
    assert np.all(np.isfinite(e)) and np.all(np.isfinite(n))
    assert float(np.max(np.hypot(e, n))) <= 250.0 + 1e-6
    assert fp.polygon.is_valid and fp.polygon.area > 0


def test_dem_flat_equals_plane_and_slope_moves_footprint() -> None:
    p = FramePose(
        CameraPosition(1000.0, 2000.0, 150.0), CameraAttitude(20, -60, 3, "g", "g"), LOCAL, ground_z=50.0
    )
    plane = frame_footprint(WORKED, p)
    flat = frame_footprint(WORKED, p, elevation=lambda e, n: np.full(np.shape(e), 50.0))
    assert flat.corners == pytest.approx(plane.corners, abs=0.01)
    slope = frame_footprint(WORKED, p, elevation=lambda e, n: 50.0 + 0.2 * (np.asarray(n) - 2000.0))
    # Ground rising towards the north: the far (top) edge lands nearer the camera.
    assert slope.corners[0][1] < plane.corners[0][1] - 5


def test_dem_hit_is_on_surface() -> None:
    position = CameraPosition(0.0, 0.0, 120.0)
    surface = lambda e, n: 10 + 5 * np.sin(np.asarray(e) / 20.0) + 0.05 * np.asarray(n)  # noqa: E731
    r = r_ned_from_camera(CameraAttitude(-135, -40, -5, "g", "g"))
    dirs = ray_directions(WORKED, r, np.array([0.0, 2736.0, 5472.0]), np.array([1824.0, 3648.0, 0.0]))
    hits = intersect_dem(dirs, position, LOCAL, surface, max_range=2000.0)
    assert not hits.clipped.any()
    assert hits.z == pytest.approx(surface(hits.east, hits.north), abs=0.02)


def test_dem_miss_is_clipped() -> None:
    dirs = ray_directions(
        WORKED, r_ned_from_camera(CameraAttitude(0, -20, 0, "g", "g")), np.array([2736.0]), np.array([0.0])
    )
    hits = intersect_dem(
        dirs, CameraPosition(0, 0, 100), LOCAL, lambda e, n: np.full(np.shape(e), np.nan), max_range=300.0
    )
    assert hits.clipped.all() and np.all(np.isfinite(hits.east))


def test_project_to_image_inverts_casting() -> None:
    factors = GridFactors(0.77, 0.99964)
    p = FramePose(CameraPosition(560000.0, 6215000.0, 80.0), CameraAttitude(-135, -60, 5, "g", "g"), factors)
    cam = camera_from_info(CameraInfo(width=5472, height=3648, dewarp_data=P4RTK_DEWARP))
    u, v = np.array([10.0, 2000.0, 5400.0]), np.array([20.0, 1500.0, 3600.0])
    from pipeline.georef.footprint import cast

    hits = cast(cam, p, u, v)
    u2, v2, ok = project_to_image(cam, p.rotation(), p.position, factors, hits.east, hits.north, 0.0)
    assert ok.all() and u2 == pytest.approx(u, abs=1e-4) and v2 == pytest.approx(v, abs=1e-4)
    _, _, behind = project_to_image(
        cam, p.rotation(), p.position, factors, np.array([560000.0 + 500]), np.array([6215000.0 + 500]), 0.0
    )
    assert not behind.any()


# --- heights (REFERENCE §2.5) and GSD (§1.6) ----------------------------------------------------


def test_height_rules() -> None:
    plane = solve_height(relative_altitude=80.0, absolute_altitude=None, rtk_fixed=False)
    assert plane == (80.0, 0.0, "relative-altitude-over-takeoff-plane")
    rtk = solve_height(
        relative_altitude=80.0,
        absolute_altitude=140.0,
        rtk_fixed=True,
        ground_at_takeoff=62.0,
        ground_at_nadir=55.0,
    )
    assert rtk == (140.0, 55.0, "rtk-absolute-altitude")
    baro = solve_height(
        relative_altitude=80.0,
        absolute_altitude=140.0,
        rtk_fixed=False,
        ground_at_takeoff=62.0,
        ground_at_nadir=55.0,
    )
    assert baro == (142.0, 55.0, "relative-altitude+dem-takeoff")
    with pytest.raises(GeoreferenceError, match="RelativeAltitude"):
        solve_height(relative_altitude=None, absolute_altitude=None, rtk_fixed=False)


def test_gsd_pix4d_example_and_oblique_worst() -> None:
    cam = camera_from_info(CameraInfo(width=4608, height=3456, focal_length_mm=15.4, sensor_width_mm=13.125))
    fp = frame_footprint(cam, pose(0, -90, h=100.0))
    assert fp.gsd_centre_m == pytest.approx(0.018496, abs=2e-6)
    width = fp.corners[1][0] - fp.corners[0][0]
    height = fp.corners[0][1] - fp.corners[3][1]
    assert (round(width), round(height)) == (85, 64)
    oblique = frame_footprint(cam, pose(0, -45, h=100.0))
    assert oblique.gsd_worst_m > 2 * oblique.gsd_centre_m > 2 * fp.gsd_centre_m
