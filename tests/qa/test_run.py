"""run_qa end to end on a tiny synthetic workspace; catalog freshness over it."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core.errors import QAError
from core.workspace import Workspace
from flights.ingest_config import IngestConfig
from flights.models import Capture, FileKind, Flight, ImageQuality, Position, Purpose
from pipeline.models import GcpFit, GcpGeoref, PointResidual, Product, ProductKind
from qa.catalog_freshness import catalog_freshness
from qa.measure import pixel_to_world
from qa.report import read_report
from qa.run import QAConfig, run_qa

T = from_origin(560000.0, 6215500.0, 0.5, 0.5)
CAPTURED = datetime(2025, 1, 14, 21, 30, tzinfo=UTC)  # a January night near Skanderborg
NOW = CAPTURED + timedelta(days=30)


def _raster(path: Path, data: np.ndarray, nodata: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[-1],
        height=data.shape[-2],
        count=data.shape[0],
        dtype=str(data.dtype),
        crs="EPSG:25832",
        transform=T,
        nodata=nodata,
    ) as dst:
        dst.write(data)


def build_workspace(
    ws: Workspace, flight_id: str = "F1", purpose: Purpose = Purpose.BUILDING_INSPECTION
) -> Path:
    """Flight + products (ortho, DSM, thermal mosaic, two frames) + a check-point file; returns the file."""
    q = ImageQuality(
        blur_score=900.0,
        mean_brightness=120.0,
        dark_fraction=0.0,
        saturated_fraction=0.0,
        decoded_width=100,
        decoded_height=75,
    )
    caps = tuple(
        Capture(
            path=f"DJI_{i}.JPG",
            sha256="0" * 64,
            size=1,
            kind=FileKind.RGB_FRAME,
            time_utc=CAPTURED,
            position=Position(lat=56.04, lon=9.93, relative_altitude_m=60.0),
            quality=q,
        )
        for i in range(2)
    )
    aoi = {
        "type": "Polygon",
        "coordinates": [[[9.0, 56.0], [9.0, 56.1], [9.1, 56.1], [9.1, 56.0], [9.0, 56.0]]],
    }
    flight = Flight(id=flight_id, source="/x", purpose=purpose, ingested_at=CAPTURED, captures=caps, aoi=None)
    del aoi
    ws.flight_json(flight_id).parent.mkdir(parents=True, exist_ok=True)
    ws.flight_json(flight_id).write_text(flight.model_dump_json())
    folder = ws.products(flight_id)
    rng = np.random.default_rng(0)
    _raster(folder / "ortho.tif", (rng.random((3, 16, 16)) * 200).astype("uint8"))
    _raster(folder / "dsm.tif", np.full((1, 16, 16), 50.0, dtype="float32"))
    _raster(folder / "thermal.tif", rng.normal(4, 2, (1, 16, 16)).astype("float32"), nodata=-9999)
    bounds = (560000.0, 6215492.0, 560008.0, 6215500.0)
    rel = f"products/{flight_id}"
    products = [
        Product(
            id=f"{flight_id}-orthophoto",
            flight=flight_id,
            kind=ProductKind.ORTHOPHOTO,
            path=f"{rel}/ortho.tif",
            crs="EPSG:25832",
            bounds=bounds,
            gsd_m=0.5,
            time_start=CAPTURED,
        ),
        Product(
            id=f"{flight_id}-dsm",
            flight=flight_id,
            kind=ProductKind.DSM,
            path=f"{rel}/dsm.tif",
            crs="EPSG:25832",
            bounds=bounds,
            gsd_m=0.5,
            time_start=CAPTURED,
        ),
        Product(
            id=f"{flight_id}-thermal",
            flight=flight_id,
            kind=ProductKind.THERMAL_MOSAIC,
            path=f"{rel}/thermal.tif",
            crs="EPSG:25832",
            bounds=bounds,
            gsd_m=0.5,
            time_start=CAPTURED,
        ),
        Product(
            id=f"{flight_id}-f0",
            flight=flight_id,
            kind=ProductKind.RGB_FRAME,
            path=f"{rel}/ortho.tif",
            crs="EPSG:25832",
            bounds=(560000.0, 6215492.0, 560005.0, 6215500.0),
            time_start=CAPTURED,
        ),
        Product(
            id=f"{flight_id}-f1",
            flight=flight_id,
            kind=ProductKind.RGB_FRAME,
            path=f"{rel}/ortho.tif",
            crs="EPSG:25832",
            bounds=(560003.0, 6215492.0, 560008.0, 6215500.0),
            time_start=CAPTURED,
        ),
    ]
    ws.products_json(flight_id).write_text(json.dumps([json.loads(p.model_dump_json()) for p in products]))
    lines = ["EPSG:25832"]
    for i, (col, row) in enumerate([(3, 3), (10, 4), (5, 12), (12, 12)]):
        x, y = pixel_to_world(T, col, row)
        lines.append(f"{x + 0.1:.3f} {y - 0.1:.3f} 49.9 {col} {row} ortho.tif CHK{i}")
    chk = ws.root / "checkpoints_chk.txt"
    chk.write_text("\n".join(lines) + "\n")
    return chk


def test_run_qa_writes_json_and_html(workspace: Workspace) -> None:
    chk = build_workspace(workspace)
    report = run_qa(workspace, "F1", now=NOW, config=QAConfig(checkpoints=chk))
    assert workspace.qa_report_json("F1").exists() and workspace.qa_report_html("F1").exists()
    assert read_report(workspace.qa_report_json("F1")).model_dump(mode="json") == report.model_dump(
        mode="json"
    )
    precision = report.check("precision.F1-orthophoto")
    assert precision.figures["n"] == 4
    assert precision.figures["rmse_x"] == pytest.approx(0.1)
    assert precision.figures["rmse_z"] == pytest.approx(0.1)  # DSM 50.0 vs survey 49.9
    assert precision.status == "warn"  # within 2.5×GSD, but 4 < 30 check points
    assert report.figures["precision.F1-orthophoto.checkpoints"] == 4
    assert report.figures["precision.F1-orthophoto.rmse_h_m"] == pytest.approx(0.1 * 2**0.5)
    assert report.figures["precision.F1-orthophoto.rmse_v_m"] == pytest.approx(0.1)
    dsm = report.check("precision.F1-dsm")  # vertical: DSM 50.0 at every surveyed position vs z 49.9
    assert dsm.figures["rmse_z"] == pytest.approx(0.1) and dsm.figures["n"] == 4
    assert dsm.status == "warn"  # 0.1 m ≤ 4×GSD = 2 m, but only 4 check points
    assert report.figures["precision.F1-dsm.rmse_v_m"] == pytest.approx(0.1)
    assert report.check("freshness.F1-orthophoto").status == "pass"
    # building inspection without logged ΔT/wind: the gate is closed
    assert report.check("conditions.delta_t").status == "fail"
    assert report.thermal_publication_blocked and report.status == "fail"
    assert {"error_vectors", "freshness", "thermal_histogram", "footprints", "overlap"} <= set(report.plots)
    assert all((workspace.qa("F1") / p).exists() for p in report.plots.values())


def test_conditions_and_override(workspace: Workspace, tmp_path: Path) -> None:
    chk = build_workspace(workspace)
    cond = tmp_path / "c.toml"
    cond.write_text(
        "[measured]\nair_temp_c = 1\nindoor_temp_c = 21\nwind_m_s = 8\nhours_since_precipitation = 48\n"
    )
    blocked = run_qa(workspace, "F1", now=NOW, config=QAConfig(checkpoints=chk, conditions=cond))
    assert blocked.thermal_gate_failed and "Wind" in (blocked.thermal_gate_reason or "")
    opened = run_qa(
        workspace,
        "F1",
        now=NOW,
        config=QAConfig(
            checkpoints=chk,
            conditions=cond,
            override_thermal_gate="gusts only at roof level; approved by GIS team",
        ),
    )
    assert opened.thermal_gate_failed and not opened.thermal_publication_blocked
    assert opened.thermal_gate_override == "gusts only at roof level; approved by GIS team"


def test_unknown_flight(workspace: Workspace) -> None:
    with pytest.raises(QAError, match="not found"):
        run_qa(workspace, "nope", now=NOW)


def test_catalog_freshness_products_and_published(workspace: Workspace) -> None:
    build_workspace(workspace)
    workspace.layers_json.parent.mkdir(parents=True, exist_ok=True)
    workspace.layers_json.write_text(
        json.dumps(
            [
                {
                    "id": "old-ortho",
                    "kind": "orthophoto",
                    "flight": "F0",
                    "title": "Old",
                    "time_start": "2021-05-01T10:00:00Z",
                },
            ]
        )
    )
    later = datetime(2025, 10, 1, tzinfo=UTC)
    entries = {e.id: e for e in catalog_freshness(workspace, later)}
    assert entries["F1-orthophoto"].status == "fresh"
    assert entries["F1-thermal"].status == "stale"  # heating season 2024/25 expired 30 Sep 2025
    assert entries["F1-thermal"].stale_on.isoformat() == "2025-09-30"  # type: ignore[union-attr]
    assert entries["old-ortho"].source == "published" and entries["old-ortho"].status == "stale"


def test_run_qa_on_the_ingested_sample_flight(workspace: Workspace, tmp_path: Path) -> None:
    """Real ingest output (flights.sample -> flights.ingest) through run_qa, before any processing."""
    from flights.ingest import ingest_folder
    from flights.sample import make_sample_flight

    folder = tmp_path / "sample"
    make_sample_flight(folder)
    ingest_folder(
        folder,
        IngestConfig(
            archive_dir=workspace.archive("S1"),
            quarantine_dir=workspace.quarantine("S1"),
            flight_id="S1",
            purpose=Purpose.BUILDING_INSPECTION,
            now=NOW,
            flight_json=workspace.flight_json("S1"),
        ),
    )
    report = run_qa(workspace, "S1", now=NOW)
    assert report.check("precision").status == "skip"  # nothing processed yet
    assert report.check("image.blur").status == "pass"
    assert report.check("image.black").status == "pass"
    assert report.check("georeferencing").figures["rtk_fix_ratio"] == 1.0
    sun = report.check("conditions.sun")
    assert sun.status == "fail" and sun.figures["phase"] == "day"  # the sample was flown at 10:00 in June
    assert report.thermal_publication_blocked
    plausibility = report.check("thermal.plausibility")  # the archived R-JPEG decoded to °C before processing
    assert plausibility.status == "pass" and "DJI_0007_R.JPG" in plausibility.figures["frames"]  # type: ignore[operator]


def _fitted(pid: str, gcps: int, loo: float | None) -> Product:
    """An orthophoto made by an affine GCP fit of ``gcps`` points (``Product.georef``)."""
    dr = 0.0 if loo is None else 0.04
    residuals = tuple(
        PointResidual(name=f"G{i}", role="gcp", dx=dr, dy=0.0, dr=dr, d_px=0.0) for i in range(gcps)
    )
    identity = ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    fit = GcpFit(
        method="affine",
        order=1,
        forward=identity,
        inverse=identity,
        rmse_r=dr,
        loo_rmse_r=loo,
        residuals=residuals,
    )
    return Product(
        id=pid,
        flight="F1",
        kind=ProductKind.ORTHOPHOTO,
        path="x.tif",
        crs="EPSG:25832",
        bounds=(0, 0, 1, 1),
        georef=GcpGeoref(fit=fit),
    )


def test_georeferencing_evidence_from_a_gcp_fit(workspace: Workspace) -> None:
    from qa.georeferencing import georeferencing_check

    build_workspace(workspace)
    flight = Flight.model_validate_json(workspace.flight_json("F1").read_text())
    result = georeferencing_check(flight, [_fitted("P", 5, 0.07)], measured=set())
    assert result.status == "pass"  # redundant fit: estimated by leave-one-out
    assert result.figures["P.gcp_loo_rmse_m"] == 0.07
    assert result.figures["accuracy_evidence"] == {"P": "estimated"}
    assert "leave-one-out RMSE 0.070 m over 5 GCPs" in result.figures["accuracy_evidence_detail"]["P"]  # type: ignore[index]
    nothing = georeferencing_check(flight, [], measured=set())
    assert nothing.status == "warn" and "not measured" in nothing.message
    assert nothing.figures["frame_gsd_m"] is None  # no focal length in the synthetic captures


def test_minimum_gcp_fit_is_accuracy_unknown(workspace: Workspace) -> None:
    """Exactly the minimum GCPs (3 for affine): zero residuals by construction, never 'backed by GCPs'."""
    from qa.georeferencing import georeferencing_check

    build_workspace(workspace)
    flight = Flight.model_validate_json(workspace.flight_json("F1").read_text())
    result = georeferencing_check(flight, [_fitted("P", 3, None)], measured=set())
    assert result.status == "warn"
    assert result.figures["accuracy_evidence"] == {"P": "unknown"}
    assert "accuracy not measured for 1 of 1 raster products" in result.message
    assert "exactly the minimum 3 GCPs" in result.message and "backed" not in result.message
    measured = georeferencing_check(flight, [_fitted("P", 3, None)], measured={"P"})
    assert measured.status == "pass" and measured.figures["accuracy_evidence"] == {"P": "measured"}


def test_coverage_from_a_footprints_file_aoi_and_the_real_municipality(
    workspace: Workspace, data_dir: Path
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    build_workspace(workspace)
    flight = Flight.model_validate_json(workspace.flight_json("F1").read_text())
    aoi = {
        "type": "Polygon",
        "coordinates": [
            [[9.930, 56.040], [9.932, 56.040], [9.932, 56.041], [9.930, 56.041], [9.930, 56.040]]
        ],
    }
    workspace.flight_json("F1").write_text(flight.model_copy(update={"aoi": aoi}).model_dump_json())
    # two frames near Skanderborg (EPSG:25832), one far outside the municipality (Copenhagen)
    frames = gpd.GeoDataFrame(
        {"path": ["DJI_0.JPG", "DJI_1.JPG", "far.JPG"]},
        geometry=[
            box(557900, 6210900, 558010, 6211050),
            box(557990, 6210900, 558100, 6211050),
            box(724000, 6175000, 724100, 6175100),
        ],
        crs="EPSG:25832",
    )
    path = workspace.products("F1") / "footprints.gpkg"
    frames.to_file(path, driver="GPKG")
    products = json.loads(workspace.products_json("F1").read_text())
    products = [p for p in products if p["kind"] != "rgb_frame"]
    products.append(
        json.loads(
            Product(
                id="F1-footprints",
                flight="F1",
                kind=ProductKind.FOOTPRINTS,
                path="products/F1/footprints.gpkg",
                crs="EPSG:25832",
                bounds=(0, 0, 1, 1),
            ).model_dump_json()
        )
    )
    workspace.products_json("F1").write_text(json.dumps(products))
    report = run_qa(
        workspace,
        "F1",
        now=NOW,
        config=QAConfig(
            municipality=data_dir / "dagi_neogeografen" / "geojson" / "kommuner.geojson",
            municipality_code="0746",
        ),
    )
    aoi_check = report.check("coverage.aoi")
    assert aoi_check.figures["outside_aoi"] == ["far.JPG"]
    assert aoi_check.figures["covered_pct"] == pytest.approx(100.0)
    assert aoi_check.status == "pass"
    town = report.check("coverage.outside_municipality")
    assert town.figures["entirely_outside"] == ["far.JPG"] and town.status == "fail"
    assert "footprints" in report.plots and "overlap" in report.plots


@pytest.mark.slow
def test_sample_flight_ingest_process_qa(workspace: Workspace, tmp_path: Path) -> None:
    """The whole chain on the synthetic sample: ingest -> process -> QA (GCP figures from the stage)."""
    from flights.ingest import ingest_folder
    from flights.sample import make_sample_flight
    from pipeline.process import process_flight

    make_sample_flight(tmp_path / "sample")
    ingest_folder(
        tmp_path / "sample",
        IngestConfig(
            archive_dir=workspace.archive("S"),
            quarantine_dir=workspace.quarantine("S"),
            flight_id="S",
            purpose=Purpose.SURVEY,
            now=NOW,
            flight_json=workspace.flight_json("S"),
        ),
    )
    products = process_flight(workspace, "S")
    report = run_qa(workspace, "S", now=NOW)
    assert report.check("checkpoints").figures["unique"] == 8
    geo = report.check("georeferencing")
    assert geo.figures["rtk_fix_ratio"] == 1.0
    gcp_frames = {p.id: p for p in products if isinstance(p.georef, GcpGeoref)}
    assert sorted(gcp_frames) == ["S-gcpframe-DJI_0002", "S-gcpframe-DJI_0005"]
    for pid, product in gcp_frames.items():
        assert geo.figures[f"{pid}.gcp_count"] == 4 and geo.figures[f"{pid}.gcp_loo_rmse_m"] is not None
        check = report.check(f"precision.{pid}")  # the check points, matched onto the warped frame
        figures: dict[str, Any] = check.figures
        assert figures["n"] == 6 and check.status == "warn"  # 6 < 30 check points
        assert figures["asprs_rmse_h"] < 0.1 * (product.gsd_m or 0)
        measured = report.accuracy[pid]  # the typed statement publication carries
        assert measured.source == "check_points" and measured.evidence == "measured" and measured.n == 6
        assert measured.rmse_h_m == figures["asprs_rmse_h"] and measured.nssda_h95_m == figures["nssda_h95"]
        assert (
            measured.ce90_m == figures["ce90"]
            and measured.horizontal_class_met == figures["horizontal_class_met"]
        )
        assert measured.warnings == (figures["count_warning"],)
        assert product.accuracy is not None and product.accuracy.evidence == "estimated"  # the fit's own
        # independent of the matching: the stage's residuals of the same check points through the fit
        assert isinstance(product.georef, GcpGeoref)
        by_fit = {c.name: c for c in product.georef.check_points}
        for point in figures["points"]:
            fit = by_fit[point["name"]]
            assert math.hypot(point["dx"] - fit.dx, point["dy"] - fit.dy) < 0.25 * (product.gsd_m or 0)
    evidence = geo.figures["accuracy_evidence"]
    assert isinstance(evidence, dict)
    # the targets do not show in the thermal frame: its accuracy is not measured, and QA says so
    unmeasured = {pid for pid, kind in evidence.items() if kind != "measured"}
    assert unmeasured == {"S-frame-DJI_0007_R", "S-thermal-mosaic"}
    assert geo.status == "warn" and "accuracy not measured for 2 of 10 raster products" in geo.message
    assert report.check("coverage.overlap").status in ("pass", "warn")
    assert report.check("thermal.plausibility").status == "pass"
    assert "footprints" in report.plots
