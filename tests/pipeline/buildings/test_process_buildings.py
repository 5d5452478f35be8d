"""The buildings sub-stage of ``process`` on a real thermal flight (the Zenmuse XT R frame).

products.json gains the buildings and hot-spots products; their GeoPackage equals ``dronegis
buildings`` on the flight's thermal mosaic; an unchanged rerun keeps them; without a mosaic
the georeferenced frame is used (the nearest-to-nadir rule) and its oblique view is flagged;
a flight without thermal products and footprints away from them are skipped with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.ingest import load_flight
from pipeline.buildings.flight import flight_buildings_stage, thermal_products
from pipeline.frames import render as frames_module
from pipeline.models import ProductKind
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.run import ProcessConfig, ProcessRun
from tests.pipeline.buildings.thermal_flight import AIR_TEMP_C, CRS, FLIGHT, ID_FIELD, process_with_footprints

FRAME_PX = 1024  # frames rendered at most 1024 px wide: the same code, a quarter of the cells


@pytest.fixture(scope="module")
def flight(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[tuple[Workspace, Path]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frames_module, "MAX_FRAME_PX", FRAME_PX)
        yield process_with_footprints(tmp_path_factory.mktemp("xt-buildings"), data_dir)


def _config(footprints: Path) -> ProcessConfig:
    return ProcessConfig(
        target_crs=CRS, footprints=footprints, footprints_id_field=ID_FIELD, air_temp_c=AIR_TEMP_C
    )


def _run(ws: Workspace, config: ProcessConfig) -> ProcessRun:
    return ProcessRun(workspace=ws, flight=load_flight(ws.flight_json(FLIGHT)), config=config)


def test_products_json_lists_buildings_and_hot_spots(flight: tuple[Workspace, Path]) -> None:
    ws, _ = flight
    by_kind = {p.kind: p for p in load_products(ws, FLIGHT)}
    buildings, spots = by_kind[ProductKind.BUILDINGS], by_kind[ProductKind.HOT_SPOTS]
    assert buildings.path == spots.path == f"products/{FLIGHT}/buildings/buildings.gpkg"
    assert (buildings.vector and buildings.vector.layer, spots.vector and spots.vector.layer) == (
        "buildings",
        "hot_spots",
    )
    assert buildings.vector is not None and buildings.vector.count == 8
    layer = gpd.read_file(ws.root / buildings.path, layer="buildings")
    spot_layer = gpd.read_file(ws.root / spots.path, layer="hot_spots")
    assert spots.vector is not None and spots.vector.count == len(spot_layer)
    assert layer.crs.to_epsg() == 31983 and buildings.crs == CRS
    assert buildings.signature and buildings.signature == spots.signature
    assert buildings.time_start == by_kind[ProductKind.THERMAL_MOSAIC].time_start
    assert layer.total_bounds == pytest.approx(buildings.bounds)
    # the building half over the mosaic's edge is measured on what it covers, and flagged
    edge = layer.set_index("id").loc["B7"]
    assert 0.2 < edge["coverage"] < 0.8 and edge["reliability"] != "good"
    # excess over the logged air temperature
    assert (layer["excess_air_k"] - (layer["median_c"] - AIR_TEMP_C)).abs().max() < 0.002


def test_equal_to_dronegis_buildings_on_the_mosaic(flight: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, footprints = flight
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        cli,
        [
            "buildings",
            str(footprints),
            "--thermal",
            str(ws.thermal_mosaic(FLIGHT)),
            "--id-field",
            ID_FIELD,
            "--air-temp",
            str(AIR_TEMP_C),
            "--date-flown",
            "2018-05-16",
            "--out",
            str(out),
            "--json",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    cli_json = json.loads(result.output[result.output.index("{") :])
    stage_json = json.loads((ws.buildings(FLIGHT) / "buildings.json").read_text(encoding="utf-8"))
    assert stage_json["flight"]["date_flown"] == "2018-05-16"
    assert stage_json["buildings"] == cli_json["buildings"]
    for name in ("buildings", "hot_spots"):
        ours = gpd.read_file(ws.buildings(FLIGHT) / "buildings.gpkg", layer=name)
        theirs = gpd.read_file(out / "buildings.gpkg", layer=name)
        pd.testing.assert_frame_equal(ours.drop(columns="geometry"), theirs.drop(columns="geometry"))
        # the CLI writes EPSG:25832, the flight's products are in its target CRS (UTM 23S)
        assert ours.crs.to_epsg() == 31983 and theirs.crs.to_epsg() == 25832
        mine = ours.to_crs(theirs.crs).geometry
        assert all(a.equals_exact(b, 1e-3) for a, b in zip(mine, theirs.geometry, strict=True))
    assert stage_json["buildings"][0]["mean_c"] is not None
    assert len({b["rank"] for b in stage_json["buildings"]}) == 8


def test_unchanged_rerun_keeps_the_products(flight: tuple[Workspace, Path]) -> None:
    ws, footprints = flight
    gpkg = ws.buildings(FLIGHT) / "buildings.gpkg"
    before = (gpkg.stat().st_mtime_ns, {p.id: p.signature for p in load_products(ws, FLIGHT)})
    config = ProcessConfig(
        target_crs=CRS, footprints=footprints, footprints_id_field=ID_FIELD, air_temp_c=AIR_TEMP_C
    )
    products = process_flight(ws, FLIGHT, config)
    assert (gpkg.stat().st_mtime_ns, {p.id: p.signature for p in products}) == before
    changed = config.model_copy(update={"air_temp_c": AIR_TEMP_C - 2})
    new = {p.kind: p for p in flight_buildings_stage(_run(ws, changed), {p.id: p for p in products}).products}
    assert new[ProductKind.BUILDINGS].signature != before[1][f"{FLIGHT}-buildings"]
    process_flight(ws, FLIGHT, config)  # back to the fixture's products


def test_without_a_mosaic_the_frame_is_used_and_its_oblique_view_flagged(
    flight: tuple[Workspace, Path],
) -> None:
    ws, footprints = flight
    products = {p.id: p for p in load_products(ws, FLIGHT) if p.kind != ProductKind.THERMAL_MOSAIC}
    (frame,) = thermal_products(products)
    assert frame.kind is ProductKind.THERMAL_FRAME and frame.view and frame.view.off_nadir_deg
    config = ProcessConfig(target_crs=CRS, footprints=footprints, footprints_id_field=ID_FIELD)
    run = ProcessRun(workspace=ws, flight=load_flight(ws.flight_json(FLIGHT)), config=config)
    output = flight_buildings_stage(run, products)
    assert {p.kind for p in output.products} == {ProductKind.BUILDINGS, ProductKind.HOT_SPOTS}
    layer = gpd.read_file(ws.buildings(FLIGHT) / "buildings.gpkg", layer="buildings")
    assert set(layer["thermal_source"]) == {"DJI_XTR.tif"}
    assert layer["view_angle_deg"].tolist() == [round(frame.view.off_nadir_deg, 1)] * 8
    assert all("oblique_view" in r for r in layer["reasons"]) and set(layer["reliability"]) == {"unreliable"}
    process_flight(ws, FLIGHT, _config(footprints))  # back to the fixture's products


def test_skipped_with_a_reason(flight: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, footprints = flight
    products = {p.id: p for p in load_products(ws, FLIGHT)}
    config = ProcessConfig(target_crs=CRS, footprints=footprints)
    no_thermal = {
        k: p
        for k, p in products.items()
        if p.kind not in (ProductKind.THERMAL_FRAME, ProductKind.THERMAL_MOSAIC)
    }
    output = flight_buildings_stage(_run(ws, config), no_thermal)
    assert not output.products and "no thermal product" in output.skipped[0].reason
    away = gpd.read_file(footprints)
    away["geometry"] = away.geometry.apply(lambda g: shapely.affinity.translate(g, 0.5, 0.5))  # ~55 km away
    far = tmp_path / "far.geojson"
    away.to_file(far, driver="GeoJSON")
    output = flight_buildings_stage(_run(ws, config.model_copy(update={"footprints": far})), products)
    assert not output.products and "outside the thermal products" in output.skipped[0].reason
    assert output.skipped[0].file == str(far.resolve())
    assert not ws.buildings(FLIGHT).exists()  # a skipped run leaves no stale outputs
    missing = flight_buildings_stage(
        _run(ws, config.model_copy(update={"footprints": tmp_path / "no.gpkg"})), products
    )
    assert "does not exist" in missing.skipped[0].reason
    # the whole process stage goes on and lists no buildings
    kinds = {p.kind for p in process_flight(ws, FLIGHT, ProcessConfig(target_crs=CRS, footprints=far))}
    assert ProductKind.THERMAL_MOSAIC in kinds and ProductKind.BUILDINGS not in kinds
    process_flight(ws, FLIGHT, _config(footprints))  # back to the fixture's products


def test_dronegis_process_with_footprints_and_logged_conditions(
    flight: tuple[Workspace, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, footprints = flight
    conditions = tmp_path / "conditions.toml"
    conditions.write_text("[measured]\nair_temp_c = 7.5\nwind_m_s = 2.0\n", encoding="utf-8")
    monkeypatch.setattr(frames_module, "MAX_FRAME_PX", 1024)
    args = ["process", FLIGHT, "--workspace", str(ws.root), "--target-crs", CRS, "--json"]
    args += ["--footprints", str(footprints), "--id-field", ID_FIELD, "--conditions", str(conditions)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{") :])
    assert {"buildings", "hot_spots"} <= {p["kind"] for p in doc["products"]}
    report = json.loads((ws.buildings(FLIGHT) / "buildings.json").read_text(encoding="utf-8"))
    assert report["flight"]["air_temp_c"] == 7.5  # the logged air temperature, not the fixture's
    for b in report["buildings"]:
        assert b["excess_air_k"] == pytest.approx(b["median_c"] - 7.5, abs=0.002)
    # the setting DRONEGIS_FOOTPRINTS stands in for --footprints
    monkeypatch.setenv("DRONEGIS_FOOTPRINTS", str(footprints))
    monkeypatch.setenv("DRONEGIS_FOOTPRINTS_ID_FIELD", ID_FIELD)
    base = ["process", FLIGHT, "--workspace", str(ws.root), "--target-crs", CRS, "--json"]
    result = CliRunner().invoke(cli, base)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{") :])
    assert {"buildings", "hot_spots"} <= {p["kind"] for p in doc["products"]}
    monkeypatch.delenv("DRONEGIS_FOOTPRINTS")
    process_flight(ws, FLIGHT, _config(footprints))  # back to the fixture's products
