"""``dronegis qa`` and ``dronegis freshness`` through click's runner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.models import Capture, FileKind, Flight, ImageQuality, Purpose
from pipeline.models import Product, ProductKind

CAPTURED = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def _workspace(root: Path, purpose: Purpose = Purpose.SURVEY) -> Workspace:
    ws = Workspace.at(root)
    q = ImageQuality(
        blur_score=900.0,
        mean_brightness=120.0,
        dark_fraction=0.0,
        saturated_fraction=0.0,
        decoded_width=100,
        decoded_height=75,
    )
    cap = Capture(
        path="a.jpg", sha256="0" * 64, size=1, kind=FileKind.RGB_FRAME, time_utc=CAPTURED, quality=q
    )
    flight = Flight(id="F1", source="/x", purpose=purpose, ingested_at=CAPTURED, captures=(cap,))
    ws.flight_json("F1").parent.mkdir(parents=True)
    ws.flight_json("F1").write_text(flight.model_dump_json())
    ws.products("F1").mkdir(parents=True)
    with rasterio.open(
        ws.products("F1") / "o.tif",
        "w",
        driver="GTiff",
        width=8,
        height=8,
        count=1,
        dtype="uint8",
        crs="EPSG:25832",
        transform=from_origin(560000, 6215500, 1, 1),
    ) as dst:
        dst.write(np.full((1, 8, 8), 100, dtype="uint8"))
    product = Product(
        id="F1-orthophoto",
        flight="F1",
        kind=ProductKind.ORTHOPHOTO,
        path="products/F1/o.tif",
        crs="EPSG:25832",
        bounds=(560000, 6215492, 560008, 6215500),
        gsd_m=1.0,
        time_start=CAPTURED,
    )
    ws.products_json("F1").write_text(json.dumps([json.loads(product.model_dump_json())]))
    return ws


def test_qa_json_and_exit_codes(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["qa", "F1", "--workspace", str(ws.root), "--json", "--now", "2025-04-01T00:00:00Z"]
    )
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.stdout)
    assert payload["flight"] == "F1" and payload["status"] in ("pass", "warn")
    assert ws.qa_report_json("F1").exists() and ws.qa_report_html("F1").exists()
    stale = runner.invoke(cli, ["qa", "F1", "--workspace", str(ws.root), "--now", "2029-01-01"])
    assert stale.exit_code == 1  # the orthophoto is older than 36 months: freshness fails
    assert "FAIL" in stale.stdout


def test_qa_unknown_flight_and_bad_now(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["qa", "nope", "--workspace", str(tmp_path)])
    assert missing.exit_code == 1 and "not found" in missing.output
    bad = runner.invoke(cli, ["qa", "F1", "--workspace", str(tmp_path), "--now", "yesterday"])
    assert bad.exit_code == 2


def test_override_needs_a_thermal_flight(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    result = CliRunner().invoke(cli, ["qa", "F1", "-w", str(ws.root), "--override-thermal-gate", "because"])
    assert result.exit_code == 1 and "not a thermal flight" in result.output


def test_freshness_catalog(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    runner = CliRunner()
    fresh = runner.invoke(cli, ["freshness", "-w", str(ws.root), "--json", "--now", "2025-06-01"])
    assert fresh.exit_code == 0, fresh.output
    layers = json.loads(fresh.stdout)["layers"]
    assert [(e["id"], e["status"], e["stale_on"]) for e in layers] == [
        ("F1-orthophoto", "fresh", "2028-03-03")
    ]
    stale = runner.invoke(cli, ["freshness", "-w", str(ws.root), "--now", "2028-03-03"])
    assert stale.exit_code == 1 and "stale" in stale.stdout
