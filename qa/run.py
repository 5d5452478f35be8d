"""``run_qa``: every QA check of one flight, written to qa/<flight>/report.{json,html}."""

from __future__ import annotations

import logging
import statistics
from datetime import datetime
from pathlib import Path

from pyproj import CRS, Transformer

from core.errors import QAError
from core.workspace import Workspace
from flights.aoi import SKANDERBORG_KOMKODE, load_municipality
from flights.models import ControlPoint, FileKind, Flight, Purpose
from flights.quality import DEFAULT_BLUR_THRESHOLD
from pipeline.models import Product, ProductKind
from qa import coverage, image_quality, inputs, plots
from qa.conditions import evaluate_conditions, gate, load_conditions
from qa.freshness_check import freshness_checks
from qa.heights import datum_check
from qa.measure import Measurement, measure_product, sample_value
from qa.models import CheckResult, QAReport, Status
from qa.onproduct import observe_on_product
from qa.precision import (
    PointError,
    accuracy,
    error_table,
    tolerance_for,
    verdict,
    vertical_accuracy,
    vertical_verdict,
)
from qa.report import build_report, write_report

logger = logging.getLogger(__name__)

PRECISION_KINDS = {ProductKind.ORTHOPHOTO, ProductKind.DSM, ProductKind.DTM, ProductKind.THERMAL_MOSAIC}


def is_precision_target(product: Product) -> bool:
    """Orthophotos, elevation models, thermal mosaics and frames georeferenced with GCPs."""
    return product.kind in PRECISION_KINDS or product.properties.get("georeference") == "gcp"


def precision_check(
    product: Product,
    raster: Path,
    points: list[ControlPoint],
    purpose: str,
    height_raster: Path | None,
    frames_dir: Path | None = None,
) -> tuple[CheckResult, list[Measurement]]:
    """Check-point accuracy of one product, measured on the product itself.

    Check points observed only on source frames are first located on the product by image
    matching from the frames under ``frames_dir`` (``qa.onproduct``).
    """
    cid, title = f"precision.{product.id}", f"Check-point accuracy of {product.id}"
    if not points:
        return CheckResult.skipped(
            cid, title, "no check points (pass --checkpoints or deliver a CHK file)"
        ), []
    if (
        frames_dir is not None
        and frames_dir.exists()
        and product.kind not in (ProductKind.DSM, ProductKind.DTM)
    ):
        points = observe_on_product(points, raster, frames_dir, product_id=product.id)
    measured, missing = measure_product(
        points, raster, product_id=product.id, crs=product.crs, height_raster=height_raster
    )
    if not measured:
        return CheckResult.skipped(
            cid,
            title,
            f"none of {len(points)} check points is observed on {raster.name}, "
            "directly or by image matching from its source frames",
        ), []
    if product.gsd_m is None:
        return CheckResult.skipped(
            cid, title, f"product {product.id} has no GSD to derive a tolerance from"
        ), measured
    status, message, figures = _accuracy_figures(product.gsd_m, purpose, points, measured, missing)
    return CheckResult(id=cid, title=title, status=status, figures=figures, message=message), measured


def _accuracy_figures(
    gsd_m: float, purpose: str, points: list[ControlPoint], measured: list[Measurement], missing: list[str]
) -> tuple[Status, str, dict[str, object]]:
    """Verdict, message and figures of the measured check points against the GSD tolerance."""
    errors = [m.error for m in measured]
    tol = tolerance_for(gsd_m, purpose)
    survey_h = max((p.survey_std_h_m or 0.0) for p in points)
    survey_v = max((p.survey_std_v_m or 0.0) for p in points)
    acc = accuracy(
        errors,
        survey_sigma_h=survey_h,
        survey_sigma_v=survey_v,
        horizontal_class=tol.horizontal,
        vertical_class=tol.vertical,
    )
    status, message = verdict(acc, tol)
    figures: dict[str, object] = {
        **acc.model_dump(),
        "gsd_m": gsd_m,
        "tolerance_h_m": tol.horizontal,
        "tolerance_v_m": tol.vertical,
        "tolerance_source": tol.source,
        "points": error_table(errors),
        "not_observed": missing,
    }
    return status, message, figures


HEADLINE = {
    "rmse_h_m": "asprs_rmse_h",
    "rmse_v_m": "asprs_rmse_v",
    "ce90_m": "ce90",
    "le90_m": "le90",
    "checkpoints": "n",
    "tolerance_h_m": "tolerance_h_m",
}


def headline_figures(product_id: str, result: CheckResult) -> dict[str, object]:
    """``precision.<product>.<name>`` figures publication copies into the layer (numbers only)."""
    out: dict[str, object] = {}
    for name, key in HEADLINE.items():
        value = result.figures.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[f"precision.{product_id}.{name}"] = value
    return out


def vertical_check(product: Product, raster: Path, points: list[ControlPoint], purpose: str) -> CheckResult:
    """Vertical accuracy of a DSM/DTM: its value at each check point's surveyed position vs the surveyed z."""
    cid, title = f"precision.{product.id}", f"Vertical accuracy of {product.id}"
    with_z = [p for p in points if p.role == "check" and p.z is not None]
    if not with_z:
        return CheckResult.skipped(cid, title, "no check point with a surveyed height")
    if product.gsd_m is None:
        return CheckResult.skipped(cid, title, f"product {product.id} has no GSD to derive a tolerance from")
    errors: list[tuple[str, float]] = []
    outside: list[str] = []
    target = CRS.from_user_input(product.crs)
    for point, z in ((p, p.z) for p in with_z if p.z is not None):
        x, y = (point.x, point.y)
        if CRS.from_user_input(point.crs) != target:
            x, y = Transformer.from_crs(point.crs, target, always_xy=True).transform(point.x, point.y)
        value = sample_value(raster, x, y)
        if value is None:
            outside.append(point.name)
        else:
            errors.append((point.name, value - float(z)))
    if not errors:
        return CheckResult.skipped(cid, title, f"no check point falls on valid pixels of {raster.name}")
    tol = tolerance_for(product.gsd_m, purpose)
    survey_v = max((p.survey_std_v_m or 0.0) for p in with_z)
    acc = vertical_accuracy(errors, survey_sigma_v=survey_v, vertical_class=tol.vertical)
    status, message = vertical_verdict(acc)
    figures: dict[str, object] = {
        **acc.model_dump(),
        "asprs_rmse_h": None,
        "tolerance_v_m": tol.vertical,
        "tolerance_source": tol.source,
        "points": [{"name": n, "dz": e} for n, e in errors],
        "not_on_product": outside,
    }
    return CheckResult(id=cid, title=title, status=status, figures=figures, message=message)


def georeferencing_check(flight: Flight, products: list[Product], any_checkpoints: bool) -> CheckResult:
    """Georeferencing evidence: GCP residuals / leave-one-out, RTK fix ratio, GSD per frame and product."""
    frames = [c for c in flight.captures if c.kind in (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME)]
    flags = [c.rtk.flag for c in frames if c.rtk.flag is not None]
    fix_ratio = sum(f == 50 for f in flags) / len(flags) if flags else None
    gsds = [g for g in (image_quality.frame_gsd(c) for c in frames) if g is not None]
    figures: dict[str, object] = {
        "rtk_fix_ratio": fix_ratio,
        "frame_gsd_m": {"median": statistics.median(gsds), "min": min(gsds), "max": max(gsds)}
        if gsds
        else None,
        "product_gsd_m": {p.id: p.gsd_m for p in products},
    }
    gcp_used = False
    for p in products:
        fit = p.properties.get("gcp_fit") or (
            p.properties.get("fit") if p.properties.get("georeference") == "gcp" else None
        )
        if isinstance(fit, dict):  # a pipeline.gcp.GcpFit dumped by the georeferencing stage
            residuals = [r for r in fit.get("residuals", []) if isinstance(r, dict)]
            figures[f"{p.id}.gcp_rmse_m"] = fit.get("rmse_r")
            figures[f"{p.id}.gcp_loo_rmse_m"] = fit.get("loo_rmse_r")
            figures[f"{p.id}.gcp_residuals"] = residuals
            if "check_points" in p.properties:  # check points against the fit: the stage's view, not QA's
                figures[f"{p.id}.fit_check_residuals"] = p.properties["check_points"]
            gcp_used = gcp_used or any(r.get("role") == "gcp" for r in residuals)
        for key in ("gcp_rmse_m", "loo_rmse_m", "gcp_count"):
            if key in p.properties:
                figures[f"{p.id}.{key}"] = p.properties[key]
                gcp_used = gcp_used or key == "gcp_count" and bool(p.properties[key])
    known = gcp_used or (fix_ratio is not None and fix_ratio >= 0.95) or any_checkpoints
    message = (
        "absolute accuracy backed by GCPs, RTK or check points"
        if known
        else ("absolute accuracy unknown: no GCPs, no RTK fix and no check points (expect metres of shift)")
    )
    return CheckResult(
        id="georeferencing",
        title="Georeferencing evidence (GCP, RTK, GSD)",
        status="pass" if known else "warn",
        figures=figures,
        message=message,
    )


def _is_thermal_flight(flight: Flight, products: list[Product]) -> bool:
    return (
        flight.purpose == Purpose.BUILDING_INSPECTION
        or bool(flight.frames(FileKind.THERMAL_FRAME))
        or any(p.kind in inputs.THERMAL_KINDS for p in products)
    )


def run_qa(
    workspace: Workspace,
    flight_id: str,
    *,
    checkpoints: Path | None = None,
    rules: Path | None = None,
    conditions: Path | None = None,
    now: datetime,
    override_thermal_gate: str | None = None,
    municipality: Path | None = None,
    municipality_code: str | None = None,
    blur_threshold: float = DEFAULT_BLUR_THRESHOLD,
) -> QAReport:
    """Run every QA check of a flight and write qa/<flight>/report.json and report.html.

    Args:
        workspace: The workspace holding the ingested flight and its products.
        flight_id: Flight id.
        checkpoints: Extra check-point file (any format ``flights.control`` reads).
        rules: Freshness rules TOML.
        conditions: Thermography conditions TOML/JSON (logged values + thresholds).
        now: The injected clock.
        override_thermal_gate: Reason of a person overriding a failed thermal gate.
        municipality: Municipality boundary (GeoJSON/GPKG) for the frames- and products-outside
            checks; None: Skanderborg's boundary shipped with the package.
        municipality_code: KOMKODE selecting one municipality of a national file (default 0746 =
            Skanderborg).
        blur_threshold: Variance-of-Laplacian threshold for blurry frames.

    Raises:
        QAError: when the flight is unknown or an input file is malformed.
    """
    flight = inputs.load_flight(workspace, flight_id)
    products = inputs.load_products(workspace, flight_id)
    points = inputs.check_points(flight, checkpoints)
    images: dict[str, bytes] = {}
    figures: dict[str, object] = {}
    checks = _precision(workspace, flight, products, points, figures, images)
    checks.extend(datum_check(p) for p in products if p.kind in (ProductKind.DSM, ProductKind.DTM))
    checks.extend(_image_quality(workspace, flight, products, blur_threshold, images))
    checks.extend(_coverage(workspace, flight, products, (municipality, municipality_code), images))
    fresh_checks, statuses = freshness_checks(products, now, rules)
    checks.extend(fresh_checks)
    if statuses:
        images["freshness"] = plots.freshness_timeline(statuses, now)
    thermal_gate = None
    if _is_thermal_flight(flight, products):
        cfile = load_conditions(conditions)
        span = flight.time_span
        lat, lon = inputs.flight_centre(flight)
        cond = evaluate_conditions(cfile.measured, span[0] if span else None, lat, lon, cfile.config)
        checks.extend(cond)
        thermal_gate = gate(cond, override_thermal_gate)
        checks.append(_thermal_parameters(workspace, flight, products, figures))
    elif override_thermal_gate:
        raise QAError(f"flight {flight_id} is not a thermal flight: nothing to override")
    report = build_report(flight_id, checks, created=now, figures=figures, thermal_gate=thermal_gate)
    logger.info("QA of %s: %s (%s)", flight_id, report.status, report.counts())
    return write_report(report, workspace.qa(flight_id), images)


def _thermal_parameters(
    workspace: Workspace, flight: Flight, products: list[Product], figures: dict[str, object]
) -> CheckResult:
    """Measurement parameters of the thermal frames (qa.thermal_params), headline emissivity."""
    from pipeline.thermal_stage import load_record
    from qa.thermal_params import thermal_parameters_check

    result = thermal_parameters_check(load_record(workspace, flight.id), products, flight.purpose)
    if "emissivity" in result.figures:
        figures["thermal.emissivity"] = result.figures["emissivity"]
        figures["thermal.emissivity_source"] = result.figures["emissivity_source"]
    return result


def _precision(
    workspace: Workspace,
    flight: Flight,
    products: list[Product],
    points: list[ControlPoint],
    figures: dict[str, object],
    images: dict[str, bytes],
) -> list[CheckResult]:
    """Precision of every measurable product, the georeferencing evidence, error plots."""
    checks: list[CheckResult] = []
    heights = next((workspace.root / p.path for p in products if p.kind == ProductKind.DSM), None)
    vectors: list[tuple[float, float, PointError]] = []
    for p in (p for p in products if is_precision_target(p)):
        raster = workspace.root / p.path
        if p.kind in (ProductKind.DSM, ProductKind.DTM):
            result = vertical_check(p, raster, points, str(flight.purpose))
        else:
            frames = workspace.archive(flight.id)
            result, measured = precision_check(p, raster, points, str(flight.purpose), heights, frames)
            if measured and not vectors:
                vectors = [(m.survey_x, m.survey_y, m.error) for m in measured]
        checks.append(result)
        if result.status != "skip":
            figures.update(headline_figures(p.id, result))
    if not checks:
        checks.append(
            CheckResult.skipped("precision", "Check-point accuracy", "no orthophoto, DSM or thermal mosaic")
        )
    checks.append(georeferencing_check(flight, products, bool(vectors)))
    if vectors:
        images["error_vectors"] = plots.error_vectors_plot(vectors)
        images["error_histogram"] = plots.error_histogram([v[2] for v in vectors])
    return checks


def _image_quality(
    workspace: Workspace,
    flight: Flight,
    products: list[Product],
    blur_threshold: float,
    images: dict[str, bytes],
) -> list[CheckResult]:
    """Frame quality, motion blur, thermal plausibility (products, else archived frames), nodata."""
    checks = image_quality.frame_checks(flight.captures, blur_threshold=blur_threshold)
    checks.append(image_quality.motion_blur_check(flight.captures))
    thermal = inputs.thermal_values(workspace, products)
    undecodable: dict[str, str] = {}
    if not thermal:
        thermal, undecodable = inputs.thermal_frame_values(workspace, flight)
    checks.append(image_quality.thermal_check(thermal, undecodable=undecodable))
    if thermal:
        images["thermal_histogram"] = plots.thermal_histogram(thermal)
    rasters = {p.id: workspace.root / p.path for p in products if p.kind in inputs.RASTER_KINDS}
    checks.append(image_quality.nodata_check(rasters))
    return checks


def _coverage(
    workspace: Workspace,
    flight: Flight,
    products: list[Product],
    municipality: tuple[Path | None, str | None],
    images: dict[str, bytes],
) -> list[CheckResult]:
    feet, crs = inputs.footprints(workspace, products)
    aoi = inputs.aoi_geometry(flight, crs) if crs else None
    area = load_municipality(municipality[0], municipality[1] or SKANDERBORG_KOMKODE)  # EPSG:4326
    town = inputs.to_crs(area, "EPSG:4326", crs) if crs else None
    overlap, omap = coverage.overlap_check(feet)
    if feet:
        images["footprints"] = plots.footprints_plot(feet, aoi, town)
    if omap is not None:
        images["overlap"] = plots.overlap_plot(omap)
    # frames: their footprints, or their camera positions when no frame was georeferenced
    frames = coverage.outside_check(feet if feet else inputs.positions(flight), town if feet else area)
    rasters = coverage.outside_check(inputs.product_footprints(products), area, what="products")
    return [coverage.coverage_check(feet, aoi), overlap, frames, rasters]
