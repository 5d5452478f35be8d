"""The buildings stage on a synthetic scene with known answers (EPSG:4326 footprints, 25832 raster)."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest

from pipeline.buildings import (
    BuildingsConfig,
    BuildingsReport,
    FlightConditions,
    Reliability,
    buildings_stage,
)
from tests.pipeline.buildings.scene import AIR_C, RES, scene_array, write_footprints, write_raster


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> BuildingsReport:
    folder = tmp_path_factory.mktemp("scene")
    thermal = write_raster(folder / "celsius.tif", scene_array())
    rgb = write_raster(folder / "rgb.tif", (scene_array() * 10).astype("uint8"), count=3)
    config = BuildingsConfig(
        footprints=write_footprints(folder / "roofs.geojson", "EPSG:4326"),
        thermal=thermal,
        rgb=rgb,
        out_dir=folder / "out",
        flight=FlightConditions(air_temp_c=AIR_C),
    )
    return buildings_stage(config)


def by_id(report: BuildingsReport) -> dict[str, object]:
    return {b.id: b for b in report.buildings}


def test_uniform_roofs_exact_figures(report: BuildingsReport) -> None:
    b = by_id(report)
    r1 = b["R1"].stats
    assert (r1.pixel_count, r1.valid_count, r1.coverage) == (8000, 8000, 1.0)
    assert r1.mean == pytest.approx(8.0, abs=0.05) and r1.max == pytest.approx(8.0, abs=0.05)
    assert r1.std == pytest.approx(0.0, abs=1e-9)
    assert b["R3"].stats.median == pytest.approx(10.5, abs=0.05)
    assert b["R1"].excess_air_k == pytest.approx(8.0 - AIR_C, abs=0.05)


def test_planted_leak_area_peak_and_roof_mean(report: BuildingsReport) -> None:
    r2 = by_id(report)["R2"]
    assert r2.stats.mean == pytest.approx((7700 * 8.0 + 300 * 14.0) / 8000, abs=0.05)
    assert r2.stats.max == pytest.approx(14.0, abs=0.05)
    (spot,) = r2.hot_spots
    assert spot.area_m2 == pytest.approx(3.0, abs=2.0 * RES)  # ± one row of the 2 m wide leak
    assert spot.peak_c == pytest.approx(14.0, abs=0.05)
    assert spot.mean_excess_k == pytest.approx(6.0, abs=0.05)
    assert spot.geometry.area == pytest.approx(3.0, rel=0.01)  # polygon in EPSG:25832
    assert spot.geometry.bounds == pytest.approx((560017.0, 6215494.5, 560019.0, 6215496.0), abs=0.11)


def test_small_leak_below_the_area_rule_is_not_a_hot_spot(report: BuildingsReport) -> None:
    r6 = by_id(report)["R6"]
    assert [round(s.area_m2, 2) for s in r6.hot_spots] == [1.0]
    assert r6.stats.max == pytest.approx(13.0, abs=0.05)


def test_roof_half_outside_the_flight(report: BuildingsReport) -> None:
    r4 = by_id(report)["R4"]
    assert r4.stats.coverage == pytest.approx(0.5, abs=1e-9)
    assert r4.stats.valid_count == 6000 and r4.stats.pixel_count == 12000
    assert r4.stats.mean == pytest.approx(9.3, abs=0.05)
    assert r4.reliability is Reliability.LIMITED and "partial_coverage" in r4.reasons


def test_ranking_classes_and_reliability(report: BuildingsReport) -> None:
    b = by_id(report)
    # comparable roofs: use 120 has five roofs; their medians 8, 8, 10.5, 9.3, 8 → reference 8 °C
    assert b["R3"].reference_c == pytest.approx(8.0, abs=1e-6)
    assert b["R3"].score_k == pytest.approx(2.5, abs=0.02) and b["R3"].heat_class == "D"
    assert b["R4"].score_k == pytest.approx(1.3, abs=0.02) and b["R4"].heat_class == "C"
    assert b["R2"].score_k == pytest.approx(300 * 6.0 / 8000, abs=0.02) and b["R2"].heat_class == "A"
    order = [x.id for x in sorted(report.buildings, key=lambda x: x.rank or 99)]
    assert order[:3] == ["R3", "R4", "R2"]
    # the metal roof is the warmest, but unreliable: flagged and ranked after every reliable one
    assert b["R5"].reliability is Reliability.UNRELIABLE and "reflective_roof" in b["R5"].reasons
    assert b["R5"].score_k > b["R3"].score_k and b["R5"].rank == len(report.buildings)
    assert b["R1"].material == "clay tile" and b["R1"].emissivity == 0.93


def test_geopackage_and_json_carry_the_same_figures(report: BuildingsReport) -> None:
    gpkg, doc = report.outputs["geopackage"], json.loads(report.outputs["json"].read_text())
    assert sorted(row[0] for row in pyogrio.list_layers(gpkg)) == ["buildings", "hot_spots"]
    layer = gpd.read_file(gpkg, layer="buildings")
    assert layer.crs.to_epsg() == 25832 and len(layer) == 6
    spots = gpd.read_file(gpkg, layer="hot_spots")
    assert sorted(spots["building_id"]) == ["R2", "R6"]
    for row, entry in zip(layer.to_dict("records"), doc["buildings"], strict=True):
        for field in ("id", "rank", "heat_class", "score_k", "mean_c", "max_c", "coverage", "hot_spot_count"):
            assert row[field] == entry[field], field
    assert doc["flight"]["air_temp_c"] == AIR_C and doc["use_field"] == "byg021BygningensAnvendelse"


def test_cards_danish_first_with_english_and_images(report: BuildingsReport) -> None:
    out = report.outputs["geopackage"].parent
    page = (out / report.cards["R2"]).read_text(encoding="utf-8")
    assert page.index("lang='da'") < page.index("lang='en'")
    assert "Varme områder" in page and "Hot spots" in page and "Sådan læses kortet" in page
    for kind in ("thermal", "rgb", "histogram"):
        image = out / "cards" / f"R2_{kind}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"src='R2_{kind}.png'" in page
    index = (out / "cards" / "index.html").read_text(encoding="utf-8")
    assert index.index(">R3<") < index.index(">R4<") < index.index(">R5<")
