"""The process stage's thermal sub-stage: per-flight measurement parameters -> °C products.

Real Zenmuse XT R / XT2 R-JPEGs (FLIR core, EXIF GPS, DJI XMP pose) and the synthetic
sample flight go through ingest -> process_flight (or ``dronegis process``); the °C
values are checked against :func:`pipeline.thermal.radiometry.raw_to_celsius` of the file's raw
counts with the overridden parameters, also through the georeferencing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from core.workspace import Workspace
from flights.flir import read_flir
from flights.ingest import load_flight
from flights.models import Capture
from pipeline.frames import render as frames_module
from pipeline.frames.locate import locate_frame
from pipeline.georef.pose import transformer_to
from pipeline.georef.raycast import project_to_image
from pipeline.models import GcpGeoref, PoseGeoref, Product, ProductKind, ThermalOverrides
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.rasters.cog import validate_cog
from pipeline.run import ProcessConfig
from pipeline.thermal.convert import distance_from_capture
from pipeline.thermal.radiometry import MeasurementParameters, raw_to_celsius
from pipeline.thermal.tiff import quiet_rasterio
from tests.samples import ingest_into as _ingest

CRS = "EPSG:31983"  # SIRGAS 2000 / UTM 23S: the XT R frame was shot in Minas Gerais


@pytest.fixture(autouse=True)
def small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames_module, "MAX_FRAME_PX", 512)


@pytest.fixture
def xt(tmp_path: Path, data_dir: Path) -> Workspace:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in ("DJI_XT2.jpg", "DJI_XTR.jpg"):
        shutil.copy(data_dir / "thermal_parser" / "images" / name, folder / name)
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "xt")
    return ws


def _capture(ws: Workspace, flight: str, path: str) -> Capture:
    return next(c for c in load_flight(ws.flight_json(flight)).captures if c.path == path)


def _expected(ws: Workspace, flight: str, path: str, overrides: ThermalOverrides) -> np.ndarray:
    """°C of the file's raw counts with the overridden parameters (the reference)."""
    capture = _capture(ws, flight, path)
    image = read_flir(ws.archived_file(flight, path))
    params = MeasurementParameters.from_thermal(
        image.params, overrides, frame_distance_m=distance_from_capture(capture)
    )
    return raw_to_celsius(image.raw, params)


def _celsius(path: Path) -> np.ndarray:
    """Band 1 of a pixel-space °C raster (no geotransform: the frame is placed later)."""
    with quiet_rasterio(), rasterio.open(path) as ds:
        data: np.ndarray = ds.read(1)
    return data


def _by_kind(products: tuple[Product, ...]) -> dict[ProductKind, Product]:
    return {p.kind: p for p in products}


def _value(product: Product, name: str) -> float | None:
    """One measurement parameter of a thermal product (the same for all its frames)."""
    assert product.thermal is not None
    return product.thermal.values()[name].value


def _check_georeferenced_values(ws: Workspace, flight: str, frame: Product, expected: np.ndarray) -> None:
    """Every valid COG pixel lies within the 3×3 neighbourhood of its source pixel (bilinear)."""
    capture = _capture(ws, flight, frame.source_files[0])
    camera, pose, _ = locate_frame(capture, frame.crs, transformer=transformer_to(frame.crs))
    with rasterio.open(ws.root / frame.path) as ds:
        data = ds.read(1, masked=True)
        transform = ds.transform
    rows, cols = np.nonzero(~np.ma.getmaskarray(data))
    assert rows.size > 100
    pick = np.linspace(0, rows.size - 1, 200).astype(int)
    r, c = rows[pick], cols[pick]
    east = transform.c + (c + 0.5) * transform.a
    north = transform.f + (r + 0.5) * transform.e
    u, v, ok = project_to_image(camera, pose.rotation(), pose.position, pose.factors, east, north, 0.0)
    height, width = expected.shape
    inner = ok & (u > 2) & (u < width - 3) & (v > 2) & (v < height - 3)
    assert inner.sum() > 50
    checked = 0
    for value, uu, vv in zip(data.data[r, c][inner], u[inner], v[inner], strict=True):
        patch = expected[int(vv) - 1 : int(vv) + 2, int(uu) - 1 : int(uu) + 2]
        assert patch.min() - 1e-3 <= value <= patch.max() + 1e-3
        checked += 1
    assert checked == inner.sum()


def test_overridden_parameters_reach_frame_cog_mosaic_and_products_json(xt: Workspace) -> None:
    overrides = ThermalOverrides(emissivity=0.9, relative_humidity_pct=70.0, reflected_temp_c=10.0)
    products = _by_kind(process_flight(xt, "xt", ProcessConfig(target_crs=CRS, thermal_overrides=overrides)))
    # The XT2 frame looks at the horizon (gimbal pitch 0): unusable at ingest, never converted.
    assert not xt.thermal_frame("xt", "DJI_XT2.jpg").exists()
    frame = products[ProductKind.THERMAL_FRAME]
    assert frame.source_files == ("DJI_XTR.jpg",) and frame.units == "°C"
    assert validate_cog(xt.root / frame.path).valid

    expected = _expected(xt, "xt", "DJI_XTR.jpg", overrides)
    np.testing.assert_array_equal(_celsius(xt.thermal_frame("xt", "DJI_XTR.jpg")), expected)
    _check_georeferenced_values(xt, "xt", frame, expected)

    thermal = frame.thermal
    assert thermal is not None
    values = {name: v.value for name, v in thermal.values().items()}
    assert values["emissivity"] == 0.9 and values["relative_humidity_pct"] == 70.0
    assert values["reflected_temp_c"] == 10.0
    assert values["object_distance_m"] == 20.0  # oblique (-8.3°): the file's value
    assert {name: v.source for name, v in thermal.values().items()} == {
        "emissivity": "override",
        "reflected_temp_c": "override",
        "atmospheric_temp_c": "file",
        "relative_humidity_pct": "override",
        "object_distance_m": "file",
    }
    assert thermal.overrides.emissivity == 0.9 and thermal.formats == ("flir-fff (dronegis)",)
    assert thermal.raster == "products/xt/thermal/DJI_XTR_celsius.tif"

    mosaic = products[ProductKind.THERMAL_MOSAIC]
    assert mosaic.thermal is not None and mosaic.thermal.emissivity is not None
    assert mosaic.thermal.emissivity.value == 0.9
    assert validate_cog(xt.root / mosaic.path).valid
    stored = {p["id"]: p for p in json.loads(xt.products_json("xt").read_text())}
    assert stored[frame.id]["thermal"]["emissivity"]["source"] == "override"
    assert stored[mosaic.id]["thermal"]["emissivity"] == {"min": 0.9, "max": 0.9, "source": "override"}
    assert ThermalOverrides.model_validate_json(xt.thermal_overrides("xt").read_text()) == overrides


def test_unchanged_reruns_skip_and_new_emissivity_recomputes(xt: Workspace) -> None:
    first = _by_kind(
        process_flight(
            xt, "xt", ProcessConfig(target_crs=CRS, thermal_overrides=ThermalOverrides(emissivity=0.95))
        )
    )
    paths = [
        xt.thermal_frame("xt", "DJI_XTR.jpg"),
        xt.root / first[ProductKind.THERMAL_FRAME].path,
        xt.root / first[ProductKind.THERMAL_MOSAIC].path,
    ]
    stamps = [p.stat().st_mtime_ns for p in paths]

    again = _by_kind(process_flight(xt, "xt", ProcessConfig(target_crs=CRS)))  # stored overrides reused
    assert [p.stat().st_mtime_ns for p in paths] == stamps
    assert _value(again[ProductKind.THERMAL_FRAME], "emissivity") == 0.95
    process_flight(
        xt, "xt", ProcessConfig(target_crs=CRS, thermal_overrides=ThermalOverrides(emissivity=0.95))
    )
    assert [p.stat().st_mtime_ns for p in paths] == stamps  # same values given again: still up to date

    low = ThermalOverrides(emissivity=0.7)
    changed = _by_kind(process_flight(xt, "xt", ProcessConfig(target_crs=CRS, thermal_overrides=low)))
    assert all(p.stat().st_mtime_ns != s for p, s in zip(paths, stamps, strict=True))
    frame = changed[ProductKind.THERMAL_FRAME]
    assert _value(frame, "emissivity") == 0.7
    assert frame.signature != first[ProductKind.THERMAL_FRAME].signature
    expected = _expected(xt, "xt", "DJI_XTR.jpg", low)
    np.testing.assert_array_equal(_celsius(paths[0]), expected)
    assert not np.allclose(expected, _expected(xt, "xt", "DJI_XTR.jpg", ThermalOverrides(emissivity=0.95)))
    _check_georeferenced_values(xt, "xt", frame, expected)

    stamps = [p.stat().st_mtime_ns for p in paths]
    process_flight(xt, "xt", ProcessConfig(target_crs=CRS, from_stage="thermal"))
    assert all(p.stat().st_mtime_ns != s for p, s in zip(paths, stamps, strict=True))
    stamps = [p.stat().st_mtime_ns for p in paths]
    process_flight(xt, "xt", ProcessConfig(target_crs=CRS, from_stage="mosaic"))
    after = [p.stat().st_mtime_ns for p in paths]
    assert after[:2] == stamps[:2] and after[2] != stamps[2]  # only the mosaic is rewritten


def test_failed_conversion_is_reported_not_guessed(xt: Workspace) -> None:
    """A thermal frame the thermal stage cannot convert is skipped with its reason."""
    archived = xt.archived_file("xt", "DJI_XTR.jpg")
    archived.chmod(0o644)
    archived.write_bytes(archived.read_bytes()[:5000])  # FLIR segments cut off
    products = process_flight(xt, "xt", ProcessConfig(target_crs=CRS))
    assert not [p for p in products if p.kind in (ProductKind.THERMAL_FRAME, ProductKind.THERMAL_MOSAIC)]
    assert not xt.thermal_frame("xt", "DJI_XTR.jpg").exists()
    record = json.loads(xt.thermal_record("xt").read_text())
    assert "DJI_XTR.jpg" in record["failed"]


def test_cli_options_and_params_file(xt: Workspace, tmp_path: Path) -> None:
    from dronegis.cli.main import cli

    params = tmp_path / "thermal.toml"
    params.write_text("[thermal]\nemissivity = 0.8\nhumidity = 65\nreflected-temp = 5.0\n")
    runner = CliRunner()
    base = ["process", "xt", "--workspace", str(xt.root), "--target-crs", CRS, "--json"]
    ok = runner.invoke(
        cli, [*base, "--thermal-params", str(params), "--emissivity", "0.85", "--air-temp", "25"]
    )
    assert ok.exit_code == 0, ok.output
    (frame,) = [p for p in json.loads(ok.stdout)["products"] if p["kind"] == "thermal_frame"]
    used = frame["thermal"]
    assert used["emissivity"]["min"] == 0.85  # the option wins over the file
    assert used["relative_humidity_pct"]["min"] == 65.0
    assert used["reflected_temp_c"]["min"] == 5.0 and used["atmospheric_temp_c"]["min"] == 25.0
    assert used["atmospheric_temp_c"]["source"] == "override"
    expected = _expected(
        xt,
        "xt",
        "DJI_XTR.jpg",
        ThermalOverrides(
            emissivity=0.85, relative_humidity_pct=65.0, reflected_temp_c=5.0, atmospheric_temp_c=25.0
        ),
    )
    np.testing.assert_array_equal(_celsius(xt.thermal_frame("xt", "DJI_XTR.jpg")), expected)

    as_json = tmp_path / "thermal.json"
    as_json.write_text(json.dumps({"emissivity": 0.6, "distance": 12.5}))
    ok = runner.invoke(cli, [*base, "--thermal-params", str(as_json)])
    assert ok.exit_code == 0, ok.output
    (frame,) = [p for p in load_products(xt, "xt") if p.kind == ProductKind.THERMAL_FRAME]
    assert _value(frame, "emissivity") == 0.6 and _value(frame, "object_distance_m") == 12.5
    assert frame.thermal is not None
    assert frame.thermal.overrides == ThermalOverrides(emissivity=0.6, object_distance_m=12.5)

    bad = tmp_path / "bad.toml"
    bad.write_text("emisivity = 0.9\n")
    wrong = runner.invoke(cli, [*base, "--thermal-params", str(bad)])
    assert wrong.exit_code == 2 and "emisivity" in wrong.output and "bad.toml" in wrong.output
    out_of_range = tmp_path / "range.json"
    out_of_range.write_text('{"humidity": 140}')
    wrong = runner.invoke(cli, [*base, "--thermal-params", str(out_of_range)])
    assert wrong.exit_code == 2 and "range.json" in wrong.output
    assert runner.invoke(cli, [*base, "--emissivity", "1.5"]).exit_code == 2


def test_sample_flight_thermal_frame(tmp_path: Path) -> None:
    """The demo flight's synthetic XT2-style frame (60 m, nadir): distance from the frame's height."""
    from flights.sample import make_sample_flight

    make_sample_flight(tmp_path / "sample")
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, tmp_path / "sample", "s")
    products = process_flight(ws, "s", ProcessConfig(thermal_overrides=ThermalOverrides(emissivity=0.97)))
    (frame,) = [p for p in products if p.kind == ProductKind.THERMAL_FRAME]
    thermal = frame.thermal
    assert thermal is not None and thermal.object_distance_m is not None and thermal.emissivity is not None
    assert thermal.object_distance_m.value == pytest.approx(60.0)
    assert thermal.object_distance_m.source == "frame"
    assert thermal.emissivity.source == "override"
    assert validate_cog(ws.root / frame.path).valid
    expected = _expected(ws, "s", "DJI_0007_R.JPG", ThermalOverrides(emissivity=0.97))
    np.testing.assert_array_equal(_celsius(ws.thermal_frame("s", "DJI_0007_R.JPG")), expected)
    _check_georeferenced_values(ws, "s", frame, expected)
    with rasterio.open(ws.root / frame.path) as ds:
        data = ds.read(1, masked=True)
    assert 22.0 < float(data.max()) < 30.0 and 12.0 < float(np.ma.median(data)) < 20.0  # roof, ground
    kinds = {p.kind for p in products}
    assert ProductKind.THERMAL_MOSAIC in kinds and ProductKind.RGB_FRAME in kinds


def test_gcp_fit_warps_the_celsius_raster(tmp_path: Path, data_dir: Path) -> None:
    """A thermal frame with GCPs: the °C raster (not the palette JPEG) is warped, parameters recorded."""
    from pyproj import Transformer

    folder = tmp_path / "delivery"
    folder.mkdir()
    shutil.copy(data_dir / "thermal_parser" / "images" / "DJI_XTR.jpg", folder / "DJI_XTR.jpg")
    e0, n0 = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(-43.4913, -20.2328)
    a = np.radians(20.0)

    def to_map(col: float, row: float) -> tuple[float, float]:  # 5 cm pixels, rotated by 20°
        return (
            e0 + 0.05 * (col * np.cos(a) + row * np.sin(a)),
            n0 + 0.05 * (col * np.sin(a) - row * np.cos(a)),
        )

    lines = [CRS]
    for k, (col, row) in enumerate([(40, 30), (600, 40), (610, 480), (30, 470), (320, 250), (150, 400)]):
        e, n = to_map(col, row)
        lines.append(f"{e:.3f} {n:.3f} 900.0 {col} {row} DJI_XTR.jpg G{k}")
    (folder / "gcp_list.txt").write_text("\n".join(lines) + "\n")
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, folder, "g")
    overrides = ThermalOverrides(emissivity=0.92)
    products = process_flight(ws, "g", ProcessConfig(target_crs=CRS, thermal_overrides=overrides))
    (warped,) = [p for p in products if isinstance(p.georef, GcpGeoref)]
    assert warped.kind == ProductKind.THERMAL_FRAME and warped.units == "°C"
    assert warped.thermal is not None and warped.thermal.emissivity is not None
    assert warped.thermal.emissivity.value == 0.92 and warped.thermal.emissivity.source == "override"
    assert validate_cog(ws.root / warped.path).valid
    expected = _expected(ws, "g", "DJI_XTR.jpg", overrides)
    with rasterio.open(ws.root / warped.path) as ds:
        assert ds.dtypes[0] == "float32"
        spots = [(100.5, 100.5), (500.5, 200.5), (300.5, 400.5), (320.5, 256.5)]
        values = [v[0] for v in ds.sample([to_map(c, r) for c, r in spots])]
    for (u, v), value in zip(spots, values, strict=True):
        patch = expected[int(v) - 1 : int(v) + 2, int(u) - 1 : int(u) + 2]
        assert patch.min() - 1e-3 <= value <= patch.max() + 1e-3
    (mosaic,) = [p for p in products if p.kind == ProductKind.THERMAL_MOSAIC]
    assert mosaic.bounds == warped.bounds  # the mosaic takes the GCP-warped frame, not the GPS-placed one


def test_distance_from_height_above_the_dem(tmp_path: Path) -> None:
    """With --dem the thermal frame's distance is its height above the DEM, not above take-off."""
    from rasterio.transform import from_origin

    from flights.sample import GROUND_Z, HEIGHT, ORIGIN_E, ORIGIN_N, make_sample_flight

    make_sample_flight(tmp_path / "sample")
    ws = Workspace.at(tmp_path / "ws")
    _ingest(ws, tmp_path / "sample", "s")
    # Rising 0.2 m per metre eastwards: take-off (under DJI_0001, 25 m west) is 5 m below the
    # ground under the thermal frame, so the frame is HEIGHT - 5 m above its ground.
    size, left, top = 600, ORIGIN_E - 300.0, ORIGIN_N + 300.0
    east = left + np.arange(size) + 0.5
    dem = tmp_path / "dem.tif"
    with rasterio.open(
        dem, "w", driver="GTiff", width=size, height=size, count=1, dtype="float32",
        crs="EPSG:25832", transform=from_origin(left, top, 1.0, 1.0),
    ) as dst:  # fmt: skip
        dst.write(np.tile(GROUND_Z + 0.2 * (east - ORIGIN_E), (size, 1)).astype(np.float32)[None])
    products = process_flight(ws, "s", ProcessConfig(dem=dem))
    (frame,) = [p for p in products if p.kind == ProductKind.THERMAL_FRAME]
    used = frame.thermal.object_distance_m if frame.thermal else None
    assert used is not None and used.source == "frame"
    assert used.value == pytest.approx(HEIGHT - 5.0, abs=0.2)
    assert isinstance(frame.georef, PoseGeoref) and frame.georef.ground == "dem"
    flat = process_flight(ws, "s")  # without the DEM: the relative altitude again, recomputed
    (frame,) = [p for p in flat if p.kind == ProductKind.THERMAL_FRAME]
    assert _value(frame, "object_distance_m") == pytest.approx(HEIGHT)
