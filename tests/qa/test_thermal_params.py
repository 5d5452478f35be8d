"""The ``thermal.parameters`` QA check: figures, sources, warnings, and the report table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.workspace import Workspace
from flights.models import Purpose
from pipeline.models import Product, ProductKind, ThermalOverrides
from pipeline.thermal.parameters import product_thermal
from qa.models import QAReport
from qa.report import build_report, render_html
from qa.thermal_params import thermal_parameters_check

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _frame(emissivity: float, source: str = "file", reflected: float = 20.0) -> dict[str, Any]:
    return {
        "format": "flir-rjpeg",
        "emissivity": emissivity,
        "reflected_temp_c": reflected,
        "atmospheric_temp_c": 5.0,
        "relative_humidity_pct": 60.0,
        "object_distance_m": 40.0,
        "sources": {
            "emissivity": source,
            "reflected_temp_c": "file",
            "atmospheric_temp_c": "file",
            "relative_humidity_pct": "file",
            "object_distance_m": "frame",
        },
    }


def _record(*frames: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"overrides": overrides or {}, "frames": {f"T_{i}.jpg": f for i, f in enumerate(frames)}}


def test_override_emissivity_passes_with_figures() -> None:
    record = _record(_frame(0.93, "override"), _frame(0.93, "override"), overrides={"emissivity": 0.93})
    check = thermal_parameters_check(record, [], Purpose.BUILDING_INSPECTION)
    assert check.status == "pass" and check.id == "thermal.parameters"
    assert check.figures["emissivity"] == 0.93 and check.figures["emissivity_source"] == "override"
    assert check.figures["parameters"] == {  # type: ignore[comparison-overlap]
        "emissivity": 0.93,
        "reflected_temp_c": 20.0,
        "atmospheric_temp_c": 5.0,
        "relative_humidity_pct": 60.0,
        "object_distance_m": 40.0,
    }
    assert check.figures["sources"]["object_distance_m"] == "frame"  # type: ignore[index]
    assert check.figures["overrides"] == {"emissivity": 0.93} and check.figures["frames"] == 2
    assert "emissivity=0.93 (override)" in check.message


@pytest.mark.parametrize(
    ("purpose", "status"), [(Purpose.BUILDING_INSPECTION, "warn"), (Purpose.NATURE_MONITORING, "pass")]
)
def test_file_default_emissivity_one_warns_for_building_inspection(purpose: Purpose, status: str) -> None:
    check = thermal_parameters_check(_record(_frame(1.0, "file")), [], purpose)
    assert check.status == status and "emissivity 1.0 from the file" in check.message


def test_emissivity_one_set_deliberately_passes() -> None:
    check = thermal_parameters_check(_record(_frame(1.0, "override")), [], Purpose.BUILDING_INSPECTION)
    assert check.status == "pass"


def test_missing_emissivity_warns_for_building_inspection() -> None:
    radiometric_tiff = {"format": "tiff-float-celsius"}  # carries no parameters
    check = thermal_parameters_check(_record(radiometric_tiff), [], Purpose.BUILDING_INSPECTION)
    assert check.status == "warn" and "emissivity not recorded" in check.message


def test_parameters_differing_between_frames_warn() -> None:
    record = _record(_frame(0.95, reflected=18.0), _frame(0.95, reflected=22.5))
    check = thermal_parameters_check(record, [], Purpose.SURVEY)
    assert check.status == "warn" and check.figures["differing"] == ["reflected_temp_c"]
    assert check.figures["parameters"]["reflected_temp_c"] == {"min": 18.0, "max": 22.5}  # type: ignore[index]
    assert "reflected_temp_c differs between frames: 18–22.5" in check.message


def test_products_are_read_when_the_record_is_missing() -> None:
    thermal = product_thermal(
        [_frame(0.9, "override"), _frame(0.9, "override", reflected=25.0)], ThermalOverrides(emissivity=0.9)
    )
    mosaic = Product(
        id="F-thermal-mosaic",
        kind=ProductKind.THERMAL_MOSAIC,
        flight="F",
        path="products/F/thermal.tif",
        crs="EPSG:25832",
        bounds=(0.0, 0.0, 1.0, 1.0),
        thermal=thermal,
    )
    check = thermal_parameters_check({}, [mosaic], Purpose.BUILDING_INSPECTION)
    assert check.figures["emissivity"] == 0.9 and check.figures["emissivity_source"] == "override"
    assert check.status == "warn" and check.figures["differing"] == ["reflected_temp_c"]


def test_no_thermal_data_is_skipped_with_reason() -> None:
    check = thermal_parameters_check({}, [], Purpose.BUILDING_INSPECTION)
    assert check.status == "skip" and check.reason


def test_report_html_shows_the_parameter_table() -> None:
    record = _record(_frame(0.93, "override"))
    check = thermal_parameters_check(record, [], Purpose.BUILDING_INSPECTION)
    report = build_report("F", [check], created=NOW)
    page = render_html(report, {}, "en")
    table = page[page.index("id='thermal-parameters'") :]
    assert "<th>parameter</th><th>value</th><th>source</th>" in table
    assert "<td>Emissivity</td><td>0.93 </td><td>override</td>" in table
    assert "<td>Object distance</td><td>40 m</td><td>frame</td>" in table
    danish = render_html(report, {})  # the default
    table = danish[danish.index("id='thermal-parameters'") :]
    assert "Termografiske parametre" in table and "<th>parameter</th><th>værdi</th><th>kilde</th>" in table
    assert "<td>Emissivitet</td><td>0.93 </td><td>override</td>" in table
    assert "id='thermal-parameters'" not in render_html(build_report("F", [], created=NOW), {})


@pytest.mark.slow
def test_sample_flight_override_emissivity_reaches_the_report(tmp_path: Path) -> None:
    """flights.sample -> ingest -> process_flight(emissivity override) -> run_qa: report.json and HTML."""
    from flights.ingest import ingest_folder
    from flights.ingest_config import IngestConfig
    from flights.sample import make_sample_flight
    from pipeline.process import process_flight
    from pipeline.run import ProcessConfig
    from qa.run import run_qa

    workspace = Workspace.at(tmp_path / "ws")
    make_sample_flight(tmp_path / "sample")
    ingest_folder(
        tmp_path / "sample",
        IngestConfig(
            archive_dir=workspace.archive("S"),
            quarantine_dir=workspace.quarantine("S"),
            flight_id="S",
            purpose=Purpose.BUILDING_INSPECTION,
            now=NOW,
            flight_json=workspace.flight_json("S"),
        ),
    )
    products = process_flight(
        workspace, "S", ProcessConfig(thermal_overrides=ThermalOverrides(emissivity=0.93))
    )
    thermal = [p for p in products if p.kind in (ProductKind.THERMAL_FRAME, ProductKind.THERMAL_MOSAIC)]
    sources = [p.thermal.values()["emissivity"].source for p in thermal if p.thermal]
    assert len(sources) == len(thermal) > 0 and set(sources) == {"override"}
    run_qa(workspace, "S", now=NOW)
    doc = json.loads((workspace.qa("S") / "report.json").read_text(encoding="utf-8"))
    check = next(c for c in doc["checks"] if c["id"] == "thermal.parameters")
    assert check["status"] in ("pass", "warn")
    assert check["figures"]["parameters"]["emissivity"] == 0.93
    assert check["figures"]["sources"]["emissivity"] == "override"
    assert check["figures"]["overrides"]["emissivity"] == 0.93
    assert doc["figures"]["thermal.emissivity"] == 0.93
    assert doc["figures"]["thermal.emissivity_source"] == "override"
    QAReport.model_validate(doc)
    page = (workspace.qa("S") / "report.html").read_text(encoding="utf-8")  # written in Danish
    assert "<td>Emissivitet</td><td>0.93 </td><td>override</td>" in page
