"""Dates people read are Copenhagen's; an unknown capture date is a QA warning and 'unknown' (not 'never')."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import rasterio
from rasterio.transform import from_origin

from core.localtime import local_date, local_text
from core.workspace import Workspace
from flights.models import Flight
from pipeline.models import Product, ProductKind
from qa.catalog_freshness import catalog_freshness
from qa.freshness import evaluate
from qa.freshness_check import freshness_checks
from qa.report import render_html
from qa.run import run_qa

NOW = datetime(2025, 10, 1, 12, tzinfo=UTC)


def test_local_text_summer_and_winter() -> None:
    assert local_text(datetime(2016, 6, 23, 21, 31, 59, tzinfo=UTC)) == "2016-06-23 23:31:59 CEST"
    assert local_text(datetime(2025, 1, 14, 23, 30, tzinfo=UTC)) == "2025-01-15 00:30:00 CET"
    assert local_date(datetime(2025, 1, 14, 23, 30)) == local_date(datetime(2025, 1, 15, 0, 30, tzinfo=UTC))


def test_heating_season_counts_copenhagen_days() -> None:
    """A thermal night flight at 00:30 on 1 October (22:30 UTC on 30 September) is in the heating season."""
    night = datetime(2025, 9, 30, 22, 30, tzinfo=UTC)
    status = evaluate("thermal_mosaic", night, datetime(2025, 10, 2, tzinfo=UTC))
    assert (
        status.status == "fresh"
        and status.stale_on is not None
        and status.stale_on.isoformat() == "2026-09-30"
    )
    summer = evaluate(
        "thermal_mosaic", datetime(2025, 9, 30, 20, 0, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC)
    )
    assert summer.status == "stale"  # 22:00 on 30 September: still outside the season


def _product(pid: str, when: datetime | None) -> Product:
    return Product(
        id=pid, flight="F", kind=ProductKind.ORTHOPHOTO, path=f"products/F/{pid}.tif", crs="EPSG:25832",
        bounds=(560000.0, 6215000.0, 560010.0, 6215010.0), time_start=when,
        capture_time_source="tiff:DateTime (ODM 3.5.5: mean capture time)" if when else None,
    )  # fmt: skip


def test_undated_product_warns_in_qa_and_is_unknown_in_the_catalog(workspace: Workspace) -> None:
    dated, undated = (
        _product("F-dated", datetime(2025, 1, 14, 23, 30, tzinfo=UTC)),
        _product("F-undated", None),
    )
    checks, statuses = freshness_checks([dated, undated], NOW, None)
    by_id = {c.id: c for c in checks}
    assert by_id["freshness.F-dated"].status == "pass"
    assert "captured 2025-01-15 00:30:00 CET, tiff:DateTime (ODM 3.5.5" in by_id["freshness.F-dated"].message
    unknown = by_id["freshness.F-undated"]
    assert unknown.status == "warn" and unknown.reason is None  # evaluated: a finding, not a skip
    assert "capture date unknown" in unknown.message and "--allow-undated" in unknown.message
    assert set(statuses) == {"F-dated"}
    flight = Flight(id="F", source="/x", ingested_at=NOW)
    workspace.flight_json("F").parent.mkdir(parents=True)
    workspace.flight_json("F").write_text(flight.model_dump_json())
    workspace.products_json("F").parent.mkdir(parents=True)
    for product in (dated, undated):
        profile = {"driver": "GTiff", "width": 20, "height": 20, "count": 3, "dtype": "uint8"}
        transform = from_origin(560000.0, 6215010.0, 0.5, 0.5)
        with rasterio.open(
            workspace.root / product.path, "w", crs="EPSG:25832", transform=transform, **profile
        ) as dst:
            dst.write(np.full((3, 20, 20), 100, dtype="uint8"))
    workspace.products_json("F").write_text(json.dumps([p.model_dump(mode="json") for p in (dated, undated)]))
    entries = {e.id: e for e in catalog_freshness(workspace, NOW)}
    assert entries["F-undated"].status == "unknown" and entries["F-undated"].stale_on is None
    assert "capture date unknown" in entries["F-undated"].message
    report = run_qa(workspace, "F", now=NOW)
    html = render_html(report, {})  # Danish by default
    assert "Lavet 2025-10-01 14:00:00 CEST" in html  # 12:00 UTC
    assert "Created 2025-10-01 14:00:00 CEST" in render_html(report, {}, "en")
    assert report.check("freshness.F-undated").status == "warn"


def test_thermal_conditions_show_the_capture_in_copenhagen() -> None:
    from qa.conditions import ConditionsConfig, Measured, evaluate_conditions

    checks = evaluate_conditions(
        Measured(), datetime(2025, 1, 14, 21, 30, tzinfo=UTC), 56.05, 9.93, ConditionsConfig()
    )
    sun = next(c for c in checks if c.id == "conditions.sun")
    assert sun.figures["capture_utc"] == "2025-01-14T21:30:00+00:00"
    assert sun.figures["capture_local"] == "2025-01-14 22:30:00 CET"
