"""``run_qa``: every QA check of one flight, written to qa/<flight>/report.{json,html}."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from core.errors import QAError
from core.models import Frozen
from core.workspace import Workspace
from flights.aoi import SKANDERBORG_KOMKODE, load_municipality
from flights.models import FileKind, Flight, Purpose
from flights.quality import DEFAULT_BLUR_THRESHOLD
from pipeline.models import Accuracy, Product, ProductKind
from pipeline.products import load_products
from pipeline.thermal.stage import load_record
from qa import coverage, image_quality, inputs, plots
from qa.accuracy_checks import accuracy_checks
from qa.conditions import evaluate_conditions, gate, load_conditions
from qa.freshness_check import freshness_checks
from qa.heights import datum_check
from qa.models import CheckResult, QAReport
from qa.report import build_report, write_report
from qa.thermal_params import thermal_parameters_check

logger = logging.getLogger(__name__)


def _is_thermal_flight(flight: Flight, products: list[Product]) -> bool:
    return (
        flight.purpose == Purpose.BUILDING_INSPECTION
        or bool(flight.frames(FileKind.THERMAL_FRAME))
        or any(p.kind in inputs.THERMAL_KINDS for p in products)
    )


class QAConfig(Frozen):
    """The inputs of one QA run besides the workspace, the flight and the clock.

    Attributes:
        checkpoints: Extra check-point file (any format ``flights.control`` reads); its targets
            and the delivered ones count once (``qa.checkpoints``).
        rules: Freshness rules TOML (None: REFERENCE.md §6).
        conditions: Thermography conditions TOML/JSON (logged values + thresholds).
        override_thermal_gate: Reason of a person overriding a failed thermal gate.
        municipality: Municipality boundary (GeoJSON/GPKG) for the frames- and products-outside
            checks; None: Skanderborg's boundary shipped with the package.
        municipality_code: KOMKODE selecting one municipality of a national file (None: 0746 =
            Skanderborg).
        blur_threshold: Variance-of-Laplacian threshold for blurry frames.
    """

    checkpoints: Path | None = None
    rules: Path | None = None
    conditions: Path | None = None
    override_thermal_gate: str | None = None
    municipality: Path | None = None
    municipality_code: str | None = None
    blur_threshold: float = DEFAULT_BLUR_THRESHOLD


def run_qa(
    workspace: Workspace, flight_id: str, *, now: datetime, config: QAConfig | None = None
) -> QAReport:
    """Run every QA check of a flight and write qa/<flight>/report.json and report.html.

    Args:
        workspace: The workspace holding the ingested flight and its products.
        flight_id: Flight id.
        now: The injected clock.
        config: Check points, rules, conditions, override and area (default: none of them).

    Raises:
        QAError: when the flight is unknown or an input file is malformed.
    """
    config = config or QAConfig()
    checkpoints, override_thermal_gate = config.checkpoints, config.override_thermal_gate
    flight = inputs.load_flight(workspace, flight_id)
    products = load_products(workspace, flight_id)
    images: dict[str, bytes] = {}
    figures: dict[str, object] = {}
    statements: dict[str, Accuracy] = {}
    checks = accuracy_checks(workspace, flight, products, checkpoints, figures, images, statements)
    checks.extend(datum_check(p) for p in products if p.kind in (ProductKind.DSM, ProductKind.DTM))
    checks.extend(_image_quality(workspace, flight, products, config.blur_threshold, images))
    area = (config.municipality, config.municipality_code)
    checks.extend(_coverage(workspace, flight, products, area, images))
    fresh_checks, statuses = freshness_checks(products, now, config.rules)
    checks.extend(fresh_checks)
    if statuses:
        images["freshness"] = plots.freshness_timeline(statuses, now)
    thermal_gate = None
    if _is_thermal_flight(flight, products):
        cfile = load_conditions(config.conditions)
        span = flight.time_span
        lat, lon = inputs.flight_centre(flight)
        cond = evaluate_conditions(cfile.measured, span[0] if span else None, lat, lon, cfile.config)
        checks.extend(cond)
        thermal_gate = gate(cond, override_thermal_gate)
        checks.append(_thermal_parameters(workspace, flight, products, figures))
    elif override_thermal_gate:
        raise QAError(f"flight {flight_id} is not a thermal flight: nothing to override")
    report = build_report(flight_id, checks, created=now, figures=figures, thermal_gate=thermal_gate)
    report = report.model_copy(update={"accuracy": statements})
    logger.info("QA of %s: %s (%s)", flight_id, report.status, report.counts())
    return write_report(report, workspace.qa(flight_id), images)


def _thermal_parameters(
    workspace: Workspace, flight: Flight, products: list[Product], figures: dict[str, object]
) -> CheckResult:
    """Measurement parameters of the thermal frames (qa.thermal_params), headline emissivity."""
    result = thermal_parameters_check(load_record(workspace, flight.id), products, flight.purpose)
    if "emissivity" in result.figures:
        figures["thermal.emissivity"] = result.figures["emissivity"]
        figures["thermal.emissivity_source"] = result.figures["emissivity_source"]
    return result


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
