"""The analysis sub-stages of ``process`` (issues 13, 14) on real rasters.

Two nature-monitoring flights deliver the real odm_br orthophoto (EPSG:32722, 0.1157 m): the
earlier as it is, the later shifted by a known amount with a planted change (grass replaced by
dirt, tests/pipeline/change/change_pairs.py). ``process`` of the later flight must write the same
index COGs as ``vegetation_indices`` (the function of ``dronegis vegetation``) and the same change
map and areas as ``detect_change`` (``dronegis change``) on the two delivered files. A survey flight
delivering the Danish malstroem DTM with a pile as its DSM gets the same volumes as
``run_volumes`` (``dronegis volume``). Reruns keep every product; failures are skipped with reasons.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import Purpose
from flights.raster_time import declared_capture
from pipeline.change.models import ChangeConfig
from pipeline.change.stage import detect_change
from pipeline.models import ProductKind
from pipeline.process import process_flight
from pipeline.products import load_products, load_skipped
from pipeline.run import ProcessConfig
from pipeline.vegetation.stage import VegetationConfig, vegetation_indices
from pipeline.volumes.models import VerticalError, VolumeConfig
from pipeline.volumes.stage import run_volumes
from qa.models import CheckResult, QAReport

sys.path.insert(0, str(Path(__file__).parent / "change"))
from change_pairs import shifted, write_rgba  # noqa: E402
from shapely.geometry import Point  # noqa: E402

NOW = datetime(2026, 11, 28, tzinfo=UTC)
CRS = "EPSG:32722"


def ingest(ws: Workspace, folder: Path, flight: str, purpose: Purpose, captured: str) -> None:
    ingest_folder(
        folder,
        IngestConfig(
            archive_dir=ws.archive(flight),
            quarantine_dir=ws.quarantine(flight),
            flight_id=flight,
            purpose=purpose,
            now=NOW,
            flight_json=ws.flight_json(flight),
            captured=declared_capture(captured, ZoneInfo("Europe/Copenhagen"), NOW),
        ),
    )


@pytest.fixture(scope="module")
def nature(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    """Two nature flights of one area (2026-05-10 and 2026-06-20), processed in EPSG:32722."""
    root = tmp_path_factory.mktemp("nature")
    png = data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png"
    with rasterio.open(png) as src:
        rgb, transform = src.read()[:3], src.transform
    alpha = np.where(rgb.max(axis=0) > 0, 255, 0).astype(np.uint8)
    folders = {name: root / name / "odm_orthophoto" for name in ("may", "june")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    before = write_rgba(folders["may"] / "odm_orthophoto.tif", rgb, alpha, transform)
    after = shifted(before, folders["june"] / "odm_orthophoto.tif", 2.4, -1.7, plant=True)
    ws = Workspace.at(root / "ws")
    ingest(ws, root / "may", "may", Purpose.NATURE_MONITORING, "2026-05-10")
    ingest(ws, root / "june", "june", Purpose.NATURE_MONITORING, "2026-06-20")
    config = ProcessConfig(target_crs=CRS)
    process_flight(ws, "may", config)
    process_flight(ws, "june", config)
    return {"root": root, "ws": ws.root, "before": before, "after": after}


def _pixels(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, masked=True).filled(np.nan)


def _by_kind(ws: Workspace, flight: str, kind: ProductKind) -> list:  # type: ignore[type-arg]
    return [p for p in load_products(ws, flight) if p.kind is kind]


def test_nature_flight_indices_equal_dronegis_vegetation(nature: dict[str, Path], tmp_path: Path) -> None:
    ws = Workspace.at(nature["ws"])
    indices = _by_kind(ws, "june", ProductKind.VEGETATION_INDEX)
    assert sorted(p.id.rsplit("-", 1)[1] for p in indices) == ["exg", "gli", "ngrdi", "vari"]
    ortho = next(p for p in load_products(ws, "june") if p.kind is ProductKind.ORTHOPHOTO)
    direct = vegetation_indices(ws.root / ortho.path, VegetationConfig(out_dir=tmp_path))
    for made in direct.products:
        product = next(p for p in indices if p.id.endswith(made.index.lower()))
        np.testing.assert_array_equal(_pixels(ws.root / product.path), _pixels(made.path))
        assert product.units == "index (unitless)" and product.crs == CRS
        assert product.time_start == ortho.time_start and product.time_start is not None
        with rasterio.open(ws.root / product.path) as src:
            assert src.dtypes[0] == "float32" and src.nodata == -9999.0
            assert src.tags()["DRONEGIS_TIME_START"].startswith("2026-06-1")  # the local day, in UTC


def test_second_flight_has_change_products_equal_dronegis_change(
    nature: dict[str, Path], tmp_path: Path
) -> None:
    ws = Workspace.at(nature["ws"])
    (change_map,) = _by_kind(ws, "june", ProductKind.CHANGE_MAP)
    (areas,) = _by_kind(ws, "june", ProductKind.CHANGE_AREAS)
    before = next(p for p in load_products(ws, "may") if p.kind is ProductKind.ORTHOPHOTO)
    after = next(p for p in load_products(ws, "june") if p.kind is ProductKind.ORTHOPHOTO)
    direct = detect_change(
        ws.root / before.path, ws.root / after.path, ChangeConfig(out_dir=tmp_path, target_crs=CRS)
    )
    np.testing.assert_array_equal(_pixels(ws.root / change_map.path), _pixels(direct.change_map))
    ours = pyogrio.read_dataframe(ws.root / areas.path, layer="change_areas")
    theirs = pyogrio.read_dataframe(direct.change_polygons, layer="change_areas")
    assert len(ours) == len(theirs) == areas.vector.count > 0
    assert ours["area_m2"].sum() == pytest.approx(theirs["area_m2"].sum())
    assert abs(direct.alignment.dx_px - 2.4) < 0.1 and abs(direct.alignment.dy_px + 1.7) < 0.1
    assert change_map.time_start == after.time_start
    # the earlier flight has nothing to compare with: skipped, not failed
    assert _by_kind(ws, "may", ProductKind.CHANGE_MAP) == []


def test_rerun_keeps_the_analysis_products(nature: dict[str, Path]) -> None:
    ws = Workspace.at(nature["ws"])
    kinds = (ProductKind.VEGETATION_INDEX, ProductKind.CHANGE_MAP, ProductKind.CHANGE_AREAS)
    first = {p.id: p for p in load_products(ws, "june") if p.kind in kinds}
    stamps = {pid: (ws.root / p.path).stat().st_mtime_ns for pid, p in first.items()}
    process_flight(ws, "june", ProcessConfig(target_crs=CRS))
    again = {p.id: p for p in load_products(ws, "june") if p.kind in kinds}
    assert again == first
    assert stamps == {pid: (ws.root / p.path).stat().st_mtime_ns for pid, p in again.items()}


def test_change_without_overlap_is_skipped(
    nature: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A nature flight far from the others: no change product, the reason on the record, no crash."""
    folder = tmp_path / "far" / "odm_orthophoto"
    folder.mkdir(parents=True)
    with rasterio.open(nature["before"]) as src:
        data, transform = src.read(), src.transform
    moved = transform * rasterio.Affine.translation(100_000, 0)
    write_rgba(folder / "odm_orthophoto.tif", data[:3], data[3], moved)
    ws = Workspace.at(nature["ws"])
    ingest(ws, tmp_path / "far", "far", Purpose.NATURE_MONITORING, "2026-07-01")
    with caplog.at_level(logging.WARNING):
        products = process_flight(ws, "far", ProcessConfig(target_crs=CRS))
    assert any("no earlier flight of the workspace covers" in r.getMessage() for r in caplog.records)
    assert not [p for p in products if p.kind is ProductKind.CHANGE_MAP]
    assert [p for p in products if p.kind is ProductKind.VEGETATION_INDEX]
    # the reason is kept with the products (skipped.json) and shown by dronegis process
    (recorded,) = [s for s in load_skipped(ws, "far") if s.reason.startswith("change")]
    assert recorded.file.startswith("products/far/")
    assert "no earlier flight of the workspace covers" in recorded.reason
    args = ["process", "far", "--workspace", str(ws.root), "--target-crs", CRS, "--json"]
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0 and recorded.model_dump() in json.loads(shown.stdout)["skipped"]
    shutil.rmtree(ws.products("far"))


PILE_M3 = 314.16


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    """A survey flight delivering the malstroem DTM with a 314.16 m³ cone as its DSM, and the pile polygon."""
    root = tmp_path_factory.mktemp("survey")
    with rasterio.open(data_dir / "dk_malstroem" / "tests" / "data" / "dtm.tif") as ds:
        ground, t, profile = ds.read(1).astype(np.float64), ds.transform, ds.profile
    rows, cols = np.mgrid[0 : ground.shape[0], 0 : ground.shape[1]] + 0.5
    cx, cy = t.c + t.a * 196.5, t.f + t.e * 25.5  # a level patch of the DTM
    cone = np.clip(1 - np.hypot(t.c + t.a * cols - cx, t.f + t.e * rows - cy) / 48.0, 0, None)
    folder = root / "flight" / "odm_dem"
    folder.mkdir(parents=True)
    with rasterio.open(folder / "dsm.tif", "w", **{**profile, "dtype": "float32"}) as out:
        out.write((ground + cone * PILE_M3 / (cone.sum() * abs(t.a * t.e))).astype(np.float32), 1)
    polygons = root / "pile.geojson"
    gpd.GeoDataFrame({"id": ["bunke"]}, geometry=[Point(cx, cy).buffer(68, 64)], crs=25832).to_file(polygons)
    ws = Workspace.at(root / "ws")
    ingest(ws, root / "flight", "pile", Purpose.SURVEY, "2026-09-01")
    return {"ws": ws.root, "polygons": polygons}


def test_volumes_stage_equals_dronegis_volume(survey: dict[str, Path], tmp_path: Path) -> None:
    ws = Workspace.at(survey["ws"])
    config = ProcessConfig(volume_polygons=survey["polygons"], volume_rmse_v_m=0.05, volume_bias_v_m=0.01,
                           volume_error_source="QA report (test)")  # fmt: skip
    products = process_flight(ws, "pile", config)
    (cutfill,) = [p for p in products if p.kind is ProductKind.CUT_FILL]
    (volumes,) = [p for p in products if p.kind is ProductKind.VOLUMES]
    dsm = next(p for p in products if p.kind is ProductKind.DSM)
    error = VerticalError.from_rmse(0.05, bias_m=0.01, source="QA report (test)")
    direct = run_volumes(
        VolumeConfig(dsm=ws.root / dsm.path, polygons=survey["polygons"], out_dir=tmp_path, dsm_error=error)
    )
    np.testing.assert_array_equal(_pixels(ws.root / cutfill.path), _pixels(Path(direct.outputs["cutfill"])))
    ours = pyogrio.read_dataframe(ws.root / volumes.path, layer="volumes")
    theirs = pyogrio.read_dataframe(direct.outputs["gpkg"], layer="volumes")
    assert ours["net_m3"].tolist() == theirs["net_m3"].tolist()
    assert ours["uncertainty95_m3"].tolist() == theirs["uncertainty95_m3"].tolist()
    assert ours["net_m3"][0] > 0 and ours["balance"][0] == "cut"
    assert ours["uncertainty95_m3"][0] > 0
    assert volumes.vector is not None and volumes.vector.count == 1 and cutfill.units == "m"
    # unchanged rerun: kept; without a QA figure the uncertainty is unknown (stated, not zero)
    assert process_flight(ws, "pile", config) == products
    unknown = process_flight(ws, "pile", ProcessConfig(volume_polygons=survey["polygons"]))
    (volumes,) = [p for p in unknown if p.kind is ProductKind.VOLUMES]
    table = pyogrio.read_dataframe(ws.root / volumes.path, layer="volumes")
    assert table["net_m3"][0] == pytest.approx(ours["net_m3"][0])
    assert any("vertical accuracy not given" in w for w in volumes.warnings)


def test_volumes_without_dsm_are_skipped(nature: dict[str, Path], survey: dict[str, Path]) -> None:
    ws = Workspace.at(nature["ws"])
    products = process_flight(ws, "may", ProcessConfig(target_crs=CRS, volume_polygons=survey["polygons"]))
    assert not [p for p in products if p.kind in (ProductKind.VOLUMES, ProductKind.CUT_FILL)]


def test_cli_process_volume_polygons_without_qa_report(survey: dict[str, Path]) -> None:
    """``dronegis process --volume-polygons``: volumes appear; no QA report -> accuracy unknown, said so."""
    runner = CliRunner()
    polygons = str(survey["polygons"])
    args = ["process", "pile", "--workspace", str(survey["ws"]), "--json", "--volume-polygons", polygons]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "vertical accuracy is unknown" in result.stderr
    kinds = {p["kind"] for p in json.loads(result.stdout)["products"]}
    assert {"cut_fill", "volumes"} <= kinds
    bad = runner.invoke(cli, [*args, "--volume-base", "surface"])
    assert bad.exit_code == 2 and "--volume-base-dem" in bad.output


def test_cli_process_volumes_take_rmse_v_from_the_qa_report(survey: dict[str, Path]) -> None:
    """The flight's QA report (vertical check: ASPRS RMSE_V 0.08 m, mean error 0.03 m) sets the DSM error."""
    ws = Workspace.at(survey["ws"])
    report = QAReport(
        flight="pile", created=NOW, status="pass",
        checks=(CheckResult(id="precision.dsm", title="DSM", status="pass",
                            figures={"rmse_z": 0.08, "asprs_rmse_v": 0.08, "mean_z": 0.03, "n": 12}),),
    )  # fmt: skip
    ws.qa_report_json("pile").parent.mkdir(parents=True, exist_ok=True)
    ws.qa_report_json("pile").write_text(report.model_dump_json(), encoding="utf-8")
    try:
        polygons = str(survey["polygons"])
        args = ["process", "pile", "--workspace", str(ws.root), "--json", "--volume-polygons", polygons]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        (volumes,) = [p for p in json.loads(result.stdout)["products"] if p["kind"] == "volumes"]
        dsm = next(p for p in load_products(ws, "pile") if p.kind is ProductKind.DSM)
        error = VerticalError.from_rmse(0.08, bias_m=0.03, source="QA report")
        config = VolumeConfig(dsm=ws.root / dsm.path, polygons=survey["polygons"], dsm_error=error)
        direct = run_volumes(config)
        ours = pyogrio.read_dataframe(ws.root / volumes["path"], layer="volumes")
        figures = direct.polygons[0].uncertainty
        assert figures is not None and figures.random_m3 > 0  # σ = √(0.08² − 0.03²); the plane base cancels β
        assert ours["uncertainty_random_m3"][0] == pytest.approx(figures.random_m3, abs=0.005)
        assert ours["uncertainty95_m3"][0] == pytest.approx(figures.total95_m3, abs=0.005)
    finally:
        ws.qa_report_json("pile").unlink()


def test_change_that_cannot_be_matched_is_skipped(
    nature: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Same place, unrelated content (the orthophoto turned upside down): the match fails, with the reason."""
    folder = tmp_path / "turned" / "odm_orthophoto"
    folder.mkdir(parents=True)
    with rasterio.open(nature["before"]) as src:
        data, transform = src.read(), src.transform
    turned = data[:, ::-1, ::-1].copy()
    write_rgba(folder / "odm_orthophoto.tif", turned[:3], turned[3], transform)
    ws = Workspace.at(nature["ws"])
    ingest(ws, tmp_path / "turned", "turned", Purpose.NATURE_MONITORING, "2026-08-01")
    with caplog.at_level(logging.WARNING):
        products = process_flight(ws, "turned", ProcessConfig(target_crs=CRS))
    assert not [p for p in products if p.kind in (ProductKind.CHANGE_MAP, ProductKind.CHANGE_AREAS)]
    reasons = [r.getMessage() for r in caplog.records if "change against" in r.getMessage()]
    assert reasons and "june" in reasons[0] and "match" in reasons[0].lower(), reasons
    shutil.rmtree(ws.products("turned"))
