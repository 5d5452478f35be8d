"""The process stage end to end: ingest -> process_flight -> products.json, reruns, --from, CLI."""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from core.errors import IngestError, UsageError
from core.workspace import Workspace
from pipeline.executors import SerialExecutor
from pipeline.frames import render as frames_module
from pipeline.models import GcpGeoref, HeightDatum, PoseGeoref, ProductKind
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.rasters.cog import validate_cog
from pipeline.run import ProcessConfig
from tests.samples import ingest_into as _ingest

UTM15 = "EPSG:32615"  # brighton_beach is near Duluth, MN


@pytest.fixture(autouse=True)
def small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames_module, "MAX_FRAME_PX", 768)  # keep the renders small in tests


@pytest.fixture
def brighton(tmp_path: Path, data_dir: Path) -> Iterator[Workspace]:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in ("DJI_0018.JPG", "DJI_0030.JPG"):
        shutil.copy(data_dir / "brighton_beach" / "images" / name, folder / name)
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "bb")
    yield ws


def test_frames_footprints_and_products_json(brighton: Workspace) -> None:
    products = process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15))
    kinds = sorted(p.kind.value for p in products)
    assert kinds == ["footprints", "photo_points", "rgb_frame", "rgb_frame"]
    assert [p.model_dump(mode="json") for p in products] == json.loads(
        brighton.products_json("bb").read_text()
    )
    frame = next(p for p in products if p.kind == ProductKind.RGB_FRAME)
    assert validate_cog(brighton.root / frame.path).valid
    assert isinstance(frame.georef, PoseGeoref)
    record = frame.georef.record
    assert record.height_rule == "relative-altitude-over-takeoff-plane"
    assert record.yaw_source == "gimbal" and record.camera_source == "focal+sensor"
    assert (brighton.root / record.thumbnail).exists()
    assert frame.transformation and frame.gsd_m == pytest.approx(0.017, abs=0.001)
    import geopandas as gpd

    layer = gpd.read_file(brighton.footprints_gpkg("bb"), layer="footprints")
    assert sorted(layer["file"]) == ["DJI_0018.JPG", "DJI_0030.JPG"]
    assert layer.crs.to_epsg() == 32615
    # A nadir frame 39.8 m up with fx = 2340 px: about 68 x 38 m on the ground.
    assert layer.geometry.area.iloc[0] == pytest.approx(4000 * 2250 * (39.8 / 2340.4) ** 2, rel=0.02)
    points = gpd.read_file(brighton.photo_points_gpkg("bb"), layer="photo_points")
    assert len(points) == 2 and all(
        layer.geometry.iloc[i].contains(points.geometry.iloc[i]) for i in range(2)
    )


def test_rerun_skips_and_from_forces(brighton: Workspace) -> None:
    first = {p.id: p for p in process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15))}
    cog = brighton.root / next(p.path for p in first.values() if p.kind == ProductKind.RGB_FRAME)
    stamp = cog.stat().st_mtime_ns
    process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15))
    assert cog.stat().st_mtime_ns == stamp
    process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15, from_stage="layers"))
    assert cog.stat().st_mtime_ns == stamp
    process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15, from_stage="frames"))
    assert cog.stat().st_mtime_ns != stamp
    assert {p.id for p in load_products(brighton, "bb")} == set(first)
    with pytest.raises(UsageError, match="unknown stage"):
        process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15, from_stage="nonsense"))


def test_dem_ground(brighton: Workspace, tmp_path: Path) -> None:
    dem = tmp_path / "dem.tif"
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=200,
        height=200,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(-92.0, 46.85, 0.0001, 0.0001),
        nodata=-9999.0,
    ) as dst:
        dst.write(np.full((1, 200, 200), 190.0, dtype=np.float32))
    plane = {p.id: p for p in process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15))}
    on_dem = {p.id: p for p in process_flight(brighton, "bb", ProcessConfig(target_crs=UTM15, dem=dem))}
    frame_id = next(k for k, p in on_dem.items() if p.kind == ProductKind.RGB_FRAME)
    georef = on_dem[frame_id].georef
    assert isinstance(georef, PoseGeoref) and georef.ground == "dem"
    assert georef.record.height_rule == "relative-altitude+dem-takeoff"
    # A flat DEM at the take-off height gives the plane's footprint.
    assert on_dem[frame_id].bounds == pytest.approx(plane[frame_id].bounds, abs=0.05)


def test_delivered_rasters_become_cogs(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    rng = np.random.default_rng(0)
    with rasterio.open(
        folder / "odm_orthophoto.tif",
        "w",
        driver="GTiff",
        width=256,
        height=256,
        count=3,
        dtype="uint8",
        crs="EPSG:32632",
        transform=from_origin(560000, 6215000, 0.1, 0.1),
    ) as dst:
        dst.write((rng.random((3, 256, 256)) * 255).astype(np.uint8))
    with rasterio.open(
        folder / "dsm.tif",
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=1,
        dtype="float32",
        crs="EPSG:32632",
        transform=from_origin(560000, 6215000, 0.4, 0.4),
        nodata=-9999,
    ) as dst:
        dst.write((50 + rng.random((1, 64, 64))).astype(np.float32))
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "r1")
    products = {p.kind: p for p in process_flight(ws, "r1")}
    assert set(products) == {ProductKind.ORTHOPHOTO, ProductKind.DSM}
    for p in products.values():
        assert p.crs == "EPSG:25832" and p.transformation and validate_cog(ws.root / p.path).valid
    dsm = products[ProductKind.DSM]
    # Undeclared, no vertical CRS, no grid for the geoid test: unknown, never labelled DVR90.
    assert dsm.height_datum == HeightDatum.UNKNOWN and dsm.datum is not None
    assert dsm.datum.source.value == "default" and dsm.datum.conversion is None


def test_unknown_flight(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not ingested"):
        process_flight(Workspace.at(tmp_path), "nope")


def test_cli(brighton: Workspace) -> None:
    from dronegis.cli.main import cli

    runner = CliRunner()
    ok = runner.invoke(
        cli, ["process", "bb", "--workspace", str(brighton.root), "--target-crs", UTM15, "--json"]
    )
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.stdout)
    assert payload["ok"] and {p["kind"] for p in payload["products"]} >= {"rgb_frame", "footprints"}
    missing = runner.invoke(cli, ["process", "nope", "--workspace", str(brighton.root), "--json"])
    assert missing.exit_code == 1 and json.loads(missing.stdout)["ok"] is False
    bad = runner.invoke(cli, ["process", "bb", "--workspace", str(brighton.root), "--from", "nonsense"])
    assert bad.exit_code == 2


def test_thermal_frame_becomes_celsius_cog_and_mosaic(tmp_path: Path, data_dir: Path) -> None:
    """A DJI H20T R-JPEG (oblique, pitch -10.5°): °C COG, clipped rays reported, mosaic written."""
    pytest.importorskip("dji_thermal_cli")
    folder = tmp_path / "delivery"
    folder.mkdir()
    shutil.copy(data_dir / "thermal_parser" / "images" / "DJI_H20T.jpg", folder / "DJI_H20T.jpg")
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "t1")
    products = {p.kind: p for p in process_flight(ws, "t1", ProcessConfig(target_crs="EPSG:32617"))}
    assert set(products) == {
        ProductKind.THERMAL_FRAME,
        ProductKind.THERMAL_MOSAIC,
        ProductKind.FOOTPRINTS,
        ProductKind.PHOTO_POINTS,
    }
    frame = products[ProductKind.THERMAL_FRAME]
    assert frame.units == "°C" and isinstance(frame.georef, PoseGeoref)
    assert frame.georef.footprint_clipped is True and frame.georef.record.clipped_rays > 0
    with rasterio.open(ws.root / frame.path) as ds:
        data = ds.read(1)
        assert ds.dtypes[0] == "float32" and ds.crs.to_epsg() == 32617
        assert 0 < float(np.nanmin(data)) and float(np.nanmax(data)) < 60
    assert validate_cog(ws.root / frame.path).valid
    assert (ws.root / products[ProductKind.THERMAL_MOSAIC].path).exists()
    assert ws.thermal_frame("t1", "DJI_H20T.jpg").exists()
    thermal = frame.thermal  # the SDK's parameters, in our names, with their sources
    assert thermal is not None and thermal.formats[0].startswith("dji-rjpeg (dji-thermal-cli/")
    assert set(thermal.values()) >= {"emissivity", "relative_humidity_pct", "object_distance_m"}
    assert {v.source for v in thermal.values().values()} <= {"file", "rangefinder", "frame"}
    mosaic = products[ProductKind.THERMAL_MOSAIC].thermal
    assert mosaic is not None and mosaic.emissivity == thermal.emissivity


def _kite_delivery(tmp_path: Path, data_dir: Path) -> Path:
    """A frame with no GPS (COPR kite photo) and six synthetic GCPs plus a check point."""
    folder = tmp_path / "delivery"
    folder.mkdir()
    shutil.copy(data_dir / "odm_data_copr" / "images" / "IMG_0046.jpg", folder / "IMG_0046.jpg")
    rng = np.random.default_rng(3)
    # Pixel -> EPSG:25832: 2 cm pixels, rotated by 30 degrees, plus a 1 cm survey wobble.
    a = np.radians(30.0)
    lines = ["EPSG:25832"]
    spots = [(150, 140), (4000, 130), (4100, 2700), (130, 2600), (2100, 1400), (1200, 2300), (3000, 700)]
    for k, (col, row) in enumerate(spots):
        e = 560000 + 0.02 * (col * np.cos(a) + row * np.sin(a)) + rng.normal(0, 0.01)
        n = 6215000 + 0.02 * (col * np.sin(a) - row * np.cos(a)) + rng.normal(0, 0.01)
        name = "CHK1" if k == 6 else f"G{k}"
        lines.append(f"{e:.3f} {n:.3f} 50.0 {col} {row} IMG_0046.jpg {name}")
    (folder / "gcp_list.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_gcp_stage_warps_frames_without_gps(tmp_path: Path, data_dir: Path) -> None:
    """A frame with no GPS (COPR kite photo) and six synthetic GCPs plus a check point -> COG by a fit."""
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, _kite_delivery(tmp_path, data_dir), "g1")
    products = process_flight(ws, "g1")
    (product,) = [p for p in products if isinstance(p.georef, GcpGeoref)]
    assert isinstance(product.georef, GcpGeoref)
    fit = product.georef.fit
    assert fit.order == 1 and len(fit.residuals) == 6
    assert 0.0 < fit.rmse_r < 0.03 and fit.loo_rmse_r is not None
    (check,) = product.georef.check_points
    assert check.name == "CHK1" and check.dr < 0.05
    assert product.accuracy is not None and product.accuracy.evidence == "estimated"
    assert product.accuracy.rmse_h_m == fit.loo_rmse_r and product.accuracy.n == 6
    assert validate_cog(ws.root / product.path).valid
    assert product.gsd_m == pytest.approx(0.02, rel=0.05)


def test_gcp_stage_refuses_mislabelled_copr_frame(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in ("IMG_0031.jpg", "IMG_0046.jpg"):
        shutil.copy(data_dir / "odm_data_copr" / "images" / name, folder / name)
    shutil.copy(data_dir / "odm_data_copr" / "gcp_list.txt", folder / "gcp_list.txt")
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "c1")
    products = process_flight(ws, "c1", ProcessConfig(target_crs="EPSG:32611"))
    assert not [p for p in products if isinstance(p.georef, GcpGeoref)]


class _PicklingExecutor(SerialExecutor):
    """Runs tasks here, but only after a pickle round trip of function and item (as a pool would)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        out = []
        for item in items:
            self.calls.append(fn.__name__)
            task_fn, task = pickle.loads(pickle.dumps((fn, item)))
            out.append(pickle.loads(pickle.dumps(task_fn(task))))
        return out

    def imap(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return iter(self.map(fn, items))


def test_gcp_stage_runs_one_task_per_frame_on_the_executor(tmp_path: Path, data_dir: Path) -> None:
    """The GCP warp is a picklable task on ``executor``; same products as in-process; reruns reuse."""
    folder = _kite_delivery(tmp_path, data_dir)
    here, there = Workspace.at(tmp_path / "here"), Workspace.at(tmp_path / "there")
    _ingest(here, folder, "g1")
    _ingest(there, folder, "g1")
    executor = _PicklingExecutor()
    process_flight(here, "g1")
    process_flight(there, "g1", executor=executor)
    assert executor.calls.count("warp_gcp_frame") == 1  # the one frame with GCPs
    assert here.products_json("g1").read_bytes() == there.products_json("g1").read_bytes()
    (product,) = [p for p in load_products(there, "g1") if isinstance(p.georef, GcpGeoref)]
    with rasterio.open(here.root / product.path) as a, rasterio.open(there.root / product.path) as b:
        assert np.array_equal(a.read(), b.read()) and a.transform == b.transform
    executor.calls.clear()
    process_flight(there, "g1", executor=executor)
    assert "warp_gcp_frame" not in executor.calls  # unchanged: the product is kept, no task
    process_flight(there, "g1", ProcessConfig(from_stage="gcp"), executor=executor)
    assert executor.calls.count("warp_gcp_frame") == 1


def test_gcp_task_failure_is_a_result_not_an_exception(tmp_path: Path, data_dir: Path) -> None:
    """A task whose frame is missing returns the reason; the parent would record it as skipped."""
    from flights.ingest import load_flight
    from pipeline.gcp.fit import GcpPair
    from pipeline.gcp.tasks import GcpTask, warp_gcp_frame

    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, _kite_delivery(tmp_path, data_dir), "g1")
    capture = load_flight(ws.flight_json("g1")).captures[0]
    spots = [(0.0, 0.0), (100.0, 0.0), (0.0, 100.0), (100.0, 80.0)]
    pairs = tuple(GcpPair(f"G{k}", c, r, 560000 + c, 6215000 - r) for k, (c, r) in enumerate(spots))
    task = GcpTask(
        root=str(ws.root),
        flight="g1",
        relpath="missing.jpg",
        capture=capture,
        pairs=pairs,
        product_id="g1-gcpframe-missing",
        signature="x",
        target_crs="EPSG:25832",
    )
    result = warp_gcp_frame(pickle.loads(pickle.dumps(task)))
    assert result.product is None and result.error and "missing" in result.error
