"""Single frames: DEM sampling, rendering through the camera model, COGs, thumbnails, layers."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from flights.models import Attitude, CameraInfo, Capture, FileKind, ImageQuality, Position
from pipeline.frames.dem import DemSampler
from pipeline.frames.locate import frame_record, frame_view, locate_frame
from pipeline.frames.render import frame_grid, render_frame
from pipeline.frames.write import write_frame_cog, write_thumbnail
from pipeline.georef.camera import PinholeCamera
from pipeline.georef.footprint import FramePose, frame_footprint
from pipeline.georef.pose import transformer_to
from pipeline.georef.raycast import CameraPosition, project_to_image
from pipeline.georef.rotation import CameraAttitude, GridFactors
from pipeline.layers.gpkg import write_layers
from pipeline.rasters.cog import validate_cog

CAM = PinholeCamera(400, 300, 400.0, 400.0, 200.0, 150.0)
CRS = "EPSG:25832"


def _capture(**kw: object) -> Capture:
    base: dict[str, object] = {
        "path": "DJI_0001.JPG",
        "sha256": "0" * 64,
        "size": 1,
        "kind": FileKind.RGB_FRAME,
        "time_utc": datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        "position": Position(lat=56.04, lon=9.93, relative_altitude_m=60.0, absolute_altitude_m=120.0),
        "attitude": Attitude(gimbal_yaw=30.0, gimbal_pitch=-70.0, gimbal_roll=2.0, flight_yaw=0.0),
        "camera": CameraInfo(make="DJI", model="X", width=400, height=300, calibrated_focal_px=400.0),
        "quality": ImageQuality(
            blur_score=123.0,
            mean_brightness=100,
            dark_fraction=0,
            saturated_fraction=0,
            decoded_width=400,
            decoded_height=300,
        ),
    }
    base.update(kw)
    return Capture(**base)  # type: ignore[arg-type]


def test_dem_sampler_any_crs(make_raster: Callable[..., Path]) -> None:
    # A DEM in EPSG:4326 whose heights rise 1 m per 0.0001° of latitude, sampled in EPSG:25832.
    rows = np.arange(200)
    lat_top, step = 56.05, 0.0001
    heights = (50.0 + ((lat_top - (rows + 0.5) * step) - 56.03) * 1e4)[:, None] * np.ones((1, 300))
    dem = make_raster(
        "dem.tif",
        width=300,
        height=200,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(9.92, lat_top, step, step),
        data=heights[None].astype(np.float32),
        nodata=-9999.0,
    )
    tr = transformer_to(CRS)
    e, n = tr.transform(9.93, 56.04)
    sampler = DemSampler(dem, CRS, (e - 100, n - 100, e + 100, n + 100))
    assert float(sampler(np.array([e]), np.array([n]))[0]) == pytest.approx(150.0, abs=0.3)
    assert math.isnan(float(sampler(np.array([e + 1e5]), np.array([n]))[0]))


@pytest.mark.parametrize("approximate", [True, False])
def test_render_samples_the_projected_pixel(monkeypatch: pytest.MonkeyPatch, approximate: bool) -> None:
    """Every rendered pixel holds the image position its ground point projects to: exactly, or
    within the approximate transformer's tolerance (coarse lattice + bilinear, like gdalwarp -et)."""
    from pipeline.frames import render as frames

    if not approximate:
        monkeypatch.setattr(frames, "_approximate_maps", lambda *args: None)
    tolerance = frames.APPROX_TOLERANCE_PX if approximate else 1e-2
    cols, rows = np.meshgrid(np.arange(400) + 0.5, np.arange(300) + 0.5)
    image = np.stack([cols, rows]).astype(np.float32)
    pose = FramePose(
        CameraPosition(560000.0, 6215000.0, 60.0),
        CameraAttitude(30, -70, 2, "g", "g"),
        GridFactors(0.77, 0.99964),
    )
    fp = frame_footprint(CAM, pose)
    grid = frame_grid(fp)
    out, valid = render_frame(image, CAM, pose, grid)
    assert 0.5 < valid.mean() < 1.0
    transform = grid[0]
    r, c = np.nonzero(valid)
    pick = np.linspace(0, len(r) - 1, 50).astype(int)
    e = transform.c + (c[pick] + 0.5) * transform.a
    n = transform.f + (r[pick] + 0.5) * transform.e
    u, v, ok = project_to_image(CAM, pose.rotation(), pose.position, pose.factors, e, n, 0.0)
    inner = ok & (u > 1) & (u < 399) & (v > 1) & (v < 299)
    assert np.abs(out[0, r[pick], c[pick]] - u)[inner].max() < tolerance
    assert np.abs(out[1, r[pick], c[pick]] - v)[inner].max() < tolerance


def test_frame_grid_caps_size() -> None:
    pose = FramePose(
        CameraPosition(0.0, 0.0, 60.0), CameraAttitude(0, -20, 0, "g", "g"), GridFactors(0.0, 1.0)
    )
    fp = frame_footprint(CAM, pose, max_range=500.0)
    _, width, height = frame_grid(fp, max_px=512)
    assert fp.clipped and max(width, height) <= 513


@pytest.mark.parametrize("thermal", [False, True])
def test_frame_cog_valid(tmp_path: Path, thermal: bool) -> None:
    pose = FramePose(
        CameraPosition(560000.0, 6215000.0, 60.0),
        CameraAttitude(0, -90, 0, "g", "g"),
        GridFactors(0.77, 0.99964),
    )
    fp = frame_footprint(CAM, pose)
    grid = frame_grid(fp)
    rng = np.random.default_rng(0)
    image = (
        (rng.random((1, 300, 400)) * 30).astype(np.float32)
        if thermal
        else (rng.random((3, 300, 400)) * 255).astype(np.uint8)
    )
    bands, valid = render_frame(image, CAM, pose, grid)
    dst = write_frame_cog(bands, valid, grid, tmp_path / "f.tif", crs=CRS, thermal=thermal, tags={"A": "b"})
    assert validate_cog(dst).valid
    with rasterio.open(dst) as ds:
        assert ds.crs.to_epsg() == 25832 and ds.tags()["A"] == "b"
        if thermal:
            assert ds.dtypes[0] == "float32" and 0 <= np.nanmax(ds.read(1)) <= 30
        else:
            assert ds.count == 3 and ds.read_masks(1).any()


def test_locate_frame_and_record() -> None:
    capture = _capture()
    camera, pose, fp = locate_frame(capture, CRS, transformer=transformer_to(CRS))
    assert camera.source == "calibrated" and pose.attitude.yaw_source == "gimbal"
    assert pose.height_rule == "relative-altitude-over-takeoff-plane" and pose.height_above_ground == 60.0
    record = frame_record(capture, camera, pose, fp, thumbnail="t.jpg", cog="c.tif")
    assert record.blur_score == 123.0 and not record.rtk_fixed
    assert record.time == capture.time_utc.isoformat() if capture.time_utc else record.time is None
    assert record.grid_bearing == pytest.approx(30.0 - pose.factors.convergence_deg)
    assert record.gsd_m is not None and record.gsd_m > 60 / 400


def test_frame_view_from_the_pose() -> None:
    """STAC view angles: pitch -60° looking at bearing 30° is 30° off nadir at azimuth 30°."""
    oblique = frame_view(_capture(attitude=Attitude(gimbal_yaw=30.0, gimbal_pitch=-60.0, gimbal_roll=0.0)))
    assert oblique.off_nadir_deg == pytest.approx(30.0) and oblique.azimuth_deg == pytest.approx(30.0)
    assert oblique.instruments == ("dji x",) and oblique.platform is None
    west = frame_view(_capture(attitude=Attitude(gimbal_yaw=-90.0, gimbal_pitch=-45.0)))
    assert west.off_nadir_deg == pytest.approx(45.0) and west.azimuth_deg == pytest.approx(270.0)
    nadir = frame_view(_capture(attitude=Attitude(gimbal_yaw=30.0, gimbal_pitch=-90.0)))
    assert nadir.off_nadir_deg == pytest.approx(0.0, abs=1e-9) and nadir.azimuth_deg is None
    assert frame_view(_capture(attitude=Attitude())).off_nadir_deg is None  # no yaw: no pose


def test_locate_frame_on_dem_uses_takeoff_difference(make_raster: Callable[..., Path]) -> None:
    tr = transformer_to(CRS)
    e, n = tr.transform(9.93, 56.04)
    data = np.full((1, 400, 400), 40.0, dtype=np.float32)
    dem_path = make_raster(
        "flat.tif",
        width=400,
        height=400,
        dtype="float32",
        transform=from_origin(e - 400, n + 400, 2.0, 2.0),
        data=data,
    )
    dem = DemSampler(dem_path, CRS, (e - 300, n - 300, e + 300, n + 300))
    capture = _capture()
    _, pose, fp = locate_frame(capture, CRS, transformer=tr, dem=dem, takeoff_z=45.0)
    assert pose.height_rule == "relative-altitude+dem-takeoff"
    assert pose.height_above_ground == pytest.approx(65.0)  # 60 m above a take-off 5 m higher than the ground
    _, plane_pose, plane_fp = locate_frame(capture, CRS, transformer=tr)
    assert fp.polygon.area > plane_fp.polygon.area * (65 / 60) ** 2 * 0.99


def test_thumbnail_and_layers(tmp_path: Path, data_dir: Path) -> None:
    thumb = write_thumbnail(data_dir / "odm_data_copr" / "images" / "IMG_0031.jpg", tmp_path / "t" / "a.jpg")
    import cv2

    img = cv2.imread(str(thumb))
    assert img is not None and max(img.shape[:2]) == 256
    capture = _capture()
    camera, pose, fp = locate_frame(capture, CRS, transformer=transformer_to(CRS))
    record = frame_record(capture, camera, pose, fp, thumbnail="t/a.jpg", cog="f/a.tif")
    second = record.model_copy(update={"file": "DJI_0002.JPG"})
    write_layers([record, second], tmp_path / "fp.gpkg", tmp_path / "pp.gpkg", CRS)
    import geopandas as gpd

    footprints = gpd.read_file(tmp_path / "fp.gpkg", layer="footprints")
    points = gpd.read_file(tmp_path / "pp.gpkg", layer="photo_points")
    assert footprints.crs.to_epsg() == 25832 and len(footprints) == 2
    for column in ("time", "relative_altitude_m", "gsd_m", "pitch", "yaw", "file", "blur_score", "rtk_fixed"):
        assert column in footprints.columns
    assert footprints.geometry.iloc[0].geom_type == "Polygon" and points.geometry.iloc[0].geom_type == "Point"
    assert footprints["time"].iloc[0].startswith("2026-05-01T10:00")


@pytest.mark.slow
def test_brighton_frame_render_matches_orthority(tmp_path: Path, data_dir: Path) -> None:
    """The rendered frame equals Orthority's orthorectification of the same frame, pose and flat
    ground: phase correlation between the two finds a shift under a third of a pixel."""
    import warnings

    import cv2
    from orthority.camera import PinholeCamera as OrthorityPinhole
    from orthority.ortho import Ortho
    from orthority.param_io import _rpy_to_opk

    from flights.exif import read_capture
    from pipeline.frames.render import read_image
    from pipeline.georef.rotation import R_GIMBAL_FROM_CAMERA

    crs = "EPSG:32615"
    path = data_dir / "brighton_beach" / "images" / "DJI_0018.JPG"
    capture = read_capture(path, path.name, sha256="-", size=path.stat().st_size, kind=FileKind.RGB_FRAME)
    camera, pose, fp = locate_frame(capture, crs, transformer=transformer_to(crs))
    grid = frame_grid(fp, max_px=1024)
    ours, valid = render_frame(read_image(path), camera, pose, grid)
    transform, width, height = grid
    res = transform.a
    # Orthority: same intrinsics and pose (our gimbal frame as its camera->body matrix), flat DEM at z = 0.
    dem = tmp_path / "dem.tif"
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=400,
        height=400,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(transform.c - 100, transform.f + 100, 1.0, 1.0),
    ) as dst:
        dst.write(np.zeros((1, 400, 400), dtype=np.float32))
    assert capture.position is not None
    a = pose.attitude
    opk = _rpy_to_opk(
        tuple(np.radians([a.roll, a.pitch, a.yaw])),
        (capture.position.lat, capture.position.lon, pose.position.z),
        crs,
        "EPSG:4979",
        C_bB=R_GIMBAL_FROM_CAMERA @ np.diag([1.0, -1.0, -1.0]),
    )
    ocam = OrthorityPinhole(
        (camera.width, camera.height),
        (camera.fx / camera.width, camera.fy / camera.width),
        sensor_size=(1.0, camera.height / camera.width),
        xyz=(pose.position.east, pose.position.north, pose.position.z),
        opk=opk,
    )
    out = tmp_path / "orthority.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Ortho(path, dem, ocam, crs=crs).process(
            out,
            resolution=(res, res),
            interp="bilinear",
            dem_interp="bilinear",
            aligned_pixels=True,
            build_ovw=False,
        )
    with rasterio.open(out) as ds:
        col0 = round((ds.transform.c - transform.c) / res)
        row0 = round((transform.f - ds.transform.f) / res)
        theirs = np.zeros((height, width), dtype=np.float32)
        band = ds.read(2).astype(np.float32)
        r0, c0 = max(row0, 0), max(col0, 0)
        r1, c1 = min(row0 + ds.height, height), min(col0 + ds.width, width)
        theirs[r0:r1, c0:c1] = band[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0]
    mine = np.where(valid, ours[1], 0).astype(np.float32)
    both = valid & (theirs > 0)
    assert both.mean() > 0.3
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(np.where(both, mine, 0), np.where(both, theirs, 0), window)
    assert response > 0.3
    assert math.hypot(dx, dy) < 0.34
    # Values differ by sampling (both bilinear on a 4x downsample: aliasing in the forest), not geometry.
    assert float(np.corrcoef(mine[both], theirs[both])[0, 1]) > 0.8


def test_rtk_fixed_uses_absolute_altitude_on_dem(make_raster: Callable[..., Path]) -> None:
    from flights.models import Rtk

    tr = transformer_to(CRS)
    e, n = tr.transform(9.93, 56.04)
    data = np.full((1, 400, 400), 40.0, dtype=np.float32)
    dem_path = make_raster(
        "flat.tif",
        width=400,
        height=400,
        dtype="float32",
        transform=from_origin(e - 400, n + 400, 2.0, 2.0),
        data=data,
    )
    dem = DemSampler(dem_path, CRS, (e - 300, n - 300, e + 300, n + 300))
    capture = _capture(rtk=Rtk(flag=50, altitude_type="RtkAlt"))
    _, pose, _ = locate_frame(capture, CRS, transformer=tr, dem=dem, takeoff_z=45.0, camera_absolute_z=112.0)
    assert pose.height_rule == "rtk-absolute-altitude" and pose.height_above_ground == pytest.approx(72.0)
    not_fixed = _capture(rtk=Rtk(flag=34, altitude_type="RtkAlt"))
    _, pose, _ = locate_frame(
        not_fixed, CRS, transformer=tr, dem=dem, takeoff_z=45.0, camera_absolute_z=112.0
    )
    assert pose.height_rule == "relative-altitude+dem-takeoff"


def test_no_position_or_yaw_fails_clearly() -> None:
    from core.errors import GeoreferenceError

    with pytest.raises(GeoreferenceError, match="DJI_0001.JPG has no GPS position"):
        locate_frame(_capture(position=None), CRS, transformer=transformer_to(CRS))
    with pytest.raises(GeoreferenceError, match="neither gimbal nor flight yaw"):
        locate_frame(_capture(attitude=Attitude()), CRS, transformer=transformer_to(CRS))
