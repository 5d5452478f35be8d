"""The ``roofs`` sub-stage of ``process`` (issue 14) on the opengeos LiDAR DSM/DTM and footprints.

A survey flight delivers the real opengeos ``dsm.tif`` and ``dtm.tif`` (2 m, EPSG:26918) as its DSM
and DTM; ``process`` with the real ``buildings.geojson`` as footprints must write the same roof
planes as ``dronegis roofs`` on the flight's DSM and DTM products. Reruns keep the product; a flight
without a DSM and footprints away from the DSM are skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from click.testing import CliRunner

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.ingest import ingest_folder, load_flight
from flights.ingest_config import IngestConfig
from flights.models import Purpose
from flights.raster_time import declared_capture
from pipeline.models import Product, ProductKind
from pipeline.process import process_flight
from pipeline.products import load_skipped
from pipeline.roofs.flight import roofs_stage
from pipeline.roofs.outputs import slope_class
from pipeline.run import ProcessConfig, ProcessRun

NOW = datetime(2026, 11, 28, tzinfo=UTC)
CRS = "EPSG:26918"
HEIGHT_RMSE_M = 0.712


def _ingest(ws: Workspace, folder: Path, flight: str) -> None:
    ingest_folder(
        folder,
        IngestConfig(
            archive_dir=ws.archive(flight),
            quarantine_dir=ws.quarantine(flight),
            flight_id=flight,
            purpose=Purpose.SURVEY,
            now=NOW,
            flight_json=ws.flight_json(flight),
            captured=declared_capture("2026-09-01", ZoneInfo("Europe/Copenhagen"), NOW),
        ),  # fmt: skip
    )


@pytest.fixture(scope="module")
def roofs_flight(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    """Flight ``lidar`` delivering the opengeos DSM and DTM, processed with the opengeos footprints."""
    root = tmp_path_factory.mktemp("roofs")
    source = data_dir / "opengeos_data" / "elevation"
    folder = root / "flight" / "odm_dem"
    folder.mkdir(parents=True)
    for name in ("dsm.tif", "dtm.tif"):
        shutil.copyfile(source / name, folder / name)
    ws = Workspace.at(root / "ws")
    _ingest(ws, root / "flight", "lidar")
    return {"ws": ws.root, "footprints": source / "buildings.geojson", "root": root}


def _only(products: tuple[Product, ...], kind: ProductKind) -> Product:
    (product,) = [p for p in products if p.kind is kind]
    return product


def test_process_roofs_equal_dronegis_roofs(roofs_flight: dict[str, Path], tmp_path: Path) -> None:
    ws = Workspace.at(roofs_flight["ws"])
    config = ProcessConfig(target_crs=CRS, footprints=roofs_flight["footprints"])
    products = process_flight(ws, "lidar", config)
    planes = _only(products, ProductKind.ROOF_PLANES)
    dsm, dtm = _only(products, ProductKind.DSM), _only(products, ProductKind.DTM)
    args = ["roofs", str(ws.root / dsm.path), "--footprints", str(roofs_flight["footprints"]),
            "--dtm", str(ws.root / dtm.path), "--out", str(tmp_path),
            "--out-crs", CRS, "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output  # 1: some footprint could not be measured
    direct = json.loads(result.stdout)
    ours = gpd.read_file(ws.root / planes.path, layer="roof_planes")
    theirs = gpd.read_file(tmp_path / "roofs.gpkg", layer="roof_planes")
    pd.testing.assert_frame_equal(pd.DataFrame(ours.drop(columns="geometry")),
                                  pd.DataFrame(theirs.drop(columns="geometry")))  # fmt: skip
    assert shapely.equals(ours.geometry.values, theirs.geometry.values).all()
    assert planes.vector is not None and planes.vector.layer == "roof_planes"
    assert planes.vector.count == len(ours) == len(direct["planes"]) > 84
    assert ours.crs.to_epsg() == 26918 and planes.units == "m²"
    assert planes.bounds == pytest.approx(tuple(ours.total_bounds))
    # the figures beside the geometry: true area = planimetric / cos(slope); class by slope
    assert set(ours["building"]) <= {str(b["id"]) for b in direct["buildings"]}
    assert (ours["area_m2"] >= ours["area_2d_m2"] - 1e-9).all()
    assert ours["slope_class"].tolist() == [slope_class(s) for s in ours["slope_deg"]]
    assert set(ours["slope_class"]) >= {"flat", "pitched"}
    # heights above terrain from the flight's DTM product: as direct, and against the HEIGHT attribute
    # the RMSE of run_roofs on the delivered files (tests/pipeline/roofs/test_roof_real.py)
    buildings = gpd.read_file(ws.root / planes.path, layer="buildings")
    direct_buildings = gpd.read_file(tmp_path / "roofs.gpkg", layer="buildings")
    assert buildings["height_m"].tolist() == direct_buildings["height_m"].tolist()
    truth = gpd.read_file(roofs_flight["footprints"])["HEIGHT"].to_numpy(dtype=float)
    known = np.isfinite(truth) & buildings["height_m"].notna().to_numpy()
    rmse = float(np.sqrt(np.mean((buildings["height_m"].to_numpy()[known] - truth[known]) ** 2)))
    assert known.sum() == 82 and rmse == pytest.approx(HEIGHT_RMSE_M, abs=0.01)
    # an unchanged rerun keeps the product (same signature, file untouched)
    mtime = (ws.root / planes.path).stat().st_mtime_ns
    assert _only(process_flight(ws, "lidar", config), ProductKind.ROOF_PLANES) == planes
    assert (ws.root / planes.path).stat().st_mtime_ns == mtime


def test_roofs_without_dsm_or_away_from_it_are_skipped(roofs_flight: dict[str, Path], tmp_path: Path) -> None:
    ws = Workspace.at(roofs_flight["ws"])
    # footprints 5 km east of the DSM: every one outside it -> skipped with the reason, no product
    away = gpd.read_file(roofs_flight["footprints"])
    away["geometry"] = away.geometry.translate(xoff=0.05)
    far = tmp_path / "far.geojson"
    away.to_file(far)
    products = process_flight(ws, "lidar", ProcessConfig(target_crs=CRS, footprints=far))
    assert not [p for p in products if p.kind is ProductKind.ROOF_PLANES]
    reasons = [s.reason for s in load_skipped(ws, "lidar") if s.reason.startswith("roofs:")]
    assert reasons and "outside the DSM" in reasons[0], reasons
    # a flight without a DSM (only the DTM delivered)
    folder = tmp_path / "dtm_only" / "odm_dem"
    folder.mkdir(parents=True)
    shutil.copyfile(roofs_flight["root"] / "flight" / "odm_dem" / "dtm.tif", folder / "dtm.tif")
    _ingest(ws, tmp_path / "dtm_only", "bare")
    config = ProcessConfig(target_crs=CRS, footprints=roofs_flight["footprints"])
    products = process_flight(ws, "bare", config)
    assert not [p for p in products if p.kind is ProductKind.ROOF_PLANES]
    reasons = [s.reason for s in load_skipped(ws, "bare") if s.reason.startswith("roofs:")]
    assert reasons and "no DSM" in reasons[0], reasons


def test_dsm_and_dtm_in_two_datums_are_skipped(roofs_flight: dict[str, Path]) -> None:
    """A DVR90 DSM over an ellipsoidal DTM without the grid: the sub-stage skips the DSM with the reason."""
    ws = Workspace.at(roofs_flight["ws"])
    products = {p.id: p for p in process_flight(ws, "lidar", ProcessConfig(target_crs=CRS))}
    tagged = {}
    for kind, datum in ((ProductKind.DSM, "DVR90 (EPSG:5799)"), (ProductKind.DTM, "ellipsoidal (ETRS89)")):
        product = _only(tuple(products.values()), kind)
        copy = ws.root / "tagged" / Path(product.path).name
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(ws.root / product.path, copy)
        with rasterio.open(copy, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
            ds.update_tags(DRONEGIS_HEIGHT_DATUM=datum)
        tagged[product.id] = product.model_copy(update={"path": copy.relative_to(ws.root).as_posix()})
    config = ProcessConfig(target_crs=CRS, footprints=roofs_flight["footprints"])
    run = ProcessRun(workspace=ws, flight=load_flight(ws.flight_json("lidar")), config=config)
    output = roofs_stage(run, tagged)
    assert not output.products
    (skipped,) = output.skipped
    assert skipped.file == "tagged/dsm.tif" and "ellipsoidal" in skipped.reason and "DVR90" in skipped.reason


def test_cli_process_lists_the_roof_planes(roofs_flight: dict[str, Path]) -> None:
    args = ["process", "lidar", "--workspace", str(roofs_flight["ws"]), "--target-crs", CRS,
            "--footprints", str(roofs_flight["footprints"])]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("roof_planes") and "features" in x)
    assert "(layer roof_planes)" in line and int(line.split()[1]) > 84
