"""Accuracy of every measurable product at the flight's check points, and the georeferencing evidence.

:func:`accuracy_checks` runs, for one flight: the ``checkpoints`` check (sources merged once,
``qa.checkpoints``); one ``precision.<product>`` check per raster product — orthophoto,
elevation model, mosaic, single frame — horizontal accuracy measured on the product itself
(``qa.measure``; ``qa.onproduct`` matches check points from their source frames, a single
frame only from its own), vertical accuracy as the DSM/DTM value at the surveyed position;
and the ``georeferencing`` check saying for every raster product whether its accuracy was
measured (``qa.georeferencing``).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from pyproj import CRS, Transformer

from core.workspace import Workspace
from flights.models import ControlPoint, Flight
from pipeline.models import Accuracy, AccuracySource, Evidence, Product, ProductKind
from qa import plots
from qa.checkpoints import checkpoints_check, gather_checkpoints
from qa.georeferencing import georeferencing_check
from qa.inputs import RASTER_KINDS
from qa.measure import Measurement, measure_product, sample_value
from qa.models import CheckResult, Status
from qa.onproduct import observe_on_product
from qa.precision import Accuracy as Figures
from qa.precision import (
    PointError,
    VerticalAccuracy,
    accuracy,
    error_table,
    tolerance_for,
    verdict,
    vertical_accuracy,
    vertical_verdict,
)


def is_precision_target(product: Product) -> bool:
    """Every raster product: orthophotos, elevation models, mosaics and single frames (GCP or pose)."""
    return product.kind in RASTER_KINDS


def precision_check(
    product: Product,
    raster: Path,
    points: list[ControlPoint],
    purpose: str,
    height_raster: Path | None,
    frames_dir: Path | None = None,
    sources: Collection[str] | None = None,
) -> tuple[CheckResult, list[Measurement], Accuracy | None]:
    """Check-point accuracy of one product, measured on the product itself, and its accuracy statement.

    Check points observed only on source frames are first located on the product by image
    matching from the frames under ``frames_dir`` (``qa.onproduct``), only from ``sources``
    when given (the frames the product was made from).
    """
    cid, title = f"precision.{product.id}", f"Check-point accuracy of {product.id}"
    if not points:
        return (
            CheckResult.skipped(cid, title, "no check points (pass --checkpoints or deliver a CHK file)"),
            [],
            None,
        )
    if (
        frames_dir is not None
        and frames_dir.exists()
        and product.kind not in (ProductKind.DSM, ProductKind.DTM)
    ):
        points = observe_on_product(points, raster, frames_dir, product_id=product.id, sources=sources)
    measured, missing = measure_product(
        points, raster, product_id=product.id, crs=product.crs, height_raster=height_raster
    )
    if not measured:
        reason = (
            f"none of {len(points)} check points is observed on {raster.name}, "
            "directly or by image matching from its source frames"
        )
        return CheckResult.skipped(cid, title, reason), [], None
    if product.gsd_m is None:
        reason = f"product {product.id} has no GSD to derive a tolerance from"
        return CheckResult.skipped(cid, title, reason), measured, None
    status, message, figures, acc = _accuracy_figures(product.gsd_m, purpose, points, measured, missing)
    result = CheckResult(id=cid, title=title, status=status, figures=figures, message=message)
    return result, measured, horizontal_statement(acc)


def _notes(count_warning: str | None, blunders: tuple[str, ...], bias: tuple[str, ...]) -> tuple[str, ...]:
    notes = [count_warning] if count_warning else []
    if blunders:
        notes.append(f"blunders at {', '.join(blunders)}")
    if bias:
        notes.append(f"bias on axis {', '.join(bias)}")
    return tuple(notes)


def horizontal_statement(acc: Figures) -> Accuracy:
    """The accuracy statement of a product measured at check points (horizontal, and height if measured)."""
    return Accuracy(
        source=AccuracySource.CHECK_POINTS,
        evidence=Evidence.MEASURED,
        n=acc.n,
        n_z=acc.n_z,
        rmse_h_m=acc.asprs_rmse_h,
        rmse_v_m=acc.asprs_rmse_v,
        nssda_h95_m=acc.nssda_h95,
        nssda_v95_m=acc.nssda_v95,
        ce90_m=acc.ce90,
        le90_m=acc.le90,
        horizontal_class_m=acc.horizontal_class,
        vertical_class_m=acc.vertical_class,
        horizontal_class_met=acc.horizontal_class_met,
        vertical_class_met=acc.vertical_class_met,
        warnings=_notes(acc.count_warning, acc.blunders, acc.bias_axes),
    )


def vertical_statement(acc: VerticalAccuracy) -> Accuracy:
    """The accuracy statement of an elevation model measured in height at check points."""
    return Accuracy(
        source=AccuracySource.CHECK_POINTS,
        evidence=Evidence.MEASURED,
        n=0,
        n_z=acc.n,
        rmse_v_m=acc.asprs_rmse_v,
        nssda_v95_m=acc.nssda_v95,
        le90_m=acc.le90,
        vertical_class_m=acc.vertical_class,
        vertical_class_met=acc.vertical_class_met,
        warnings=_notes(acc.count_warning, acc.blunders, ("z",) if acc.bias else ()),
    )


def _accuracy_figures(
    gsd_m: float, purpose: str, points: list[ControlPoint], measured: list[Measurement], missing: list[str]
) -> tuple[Status, str, dict[str, object], Figures]:
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
    return status, message, figures, acc


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


def vertical_check(
    product: Product, raster: Path, points: list[ControlPoint], purpose: str
) -> tuple[CheckResult, Accuracy | None]:
    """Vertical accuracy of a DSM/DTM: its value at each check point's surveyed position vs the surveyed z."""
    cid, title = f"precision.{product.id}", f"Vertical accuracy of {product.id}"
    with_z = [p for p in points if p.role == "check" and p.z is not None]
    if not with_z:
        return CheckResult.skipped(cid, title, "no check point with a surveyed height"), None
    if product.gsd_m is None:
        reason = f"product {product.id} has no GSD to derive a tolerance from"
        return CheckResult.skipped(cid, title, reason), None
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
        return CheckResult.skipped(cid, title, f"no check point falls on valid pixels of {raster.name}"), None
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
    result = CheckResult(id=cid, title=title, status=status, figures=figures, message=message)
    return result, vertical_statement(acc)


def _own_frames(product: Product, flight: Flight) -> list[str] | None:
    """Frames of the flight a product was made from (None: not made from frames, e.g. a delivered ortho)."""
    captured = {c.path for c in flight.captures}
    own = [f for f in product.source_files if f in captured]
    return own or None


def accuracy_checks(
    workspace: Workspace,
    flight: Flight,
    products: list[Product],
    extra_checkpoints: Path | None,
    figures: dict[str, object],
    images: dict[str, bytes],
    statements: dict[str, Accuracy],
) -> list[CheckResult]:
    """Check points and their sources, precision of every measurable product, georeferencing evidence.

    Headline figures go into ``figures``, the error plots into ``images`` and the accuracy statement of
    every product measured at check points into ``statements`` (by product id).

    Raises:
        QAError: the extra check-point file cannot be read.
    """
    merged = gather_checkpoints(flight, extra_checkpoints)
    points = merged.check_points()
    checks = [checkpoints_check(merged)]
    heights = next((workspace.root / p.path for p in products if p.kind == ProductKind.DSM), None)
    vectors: list[tuple[float, float, PointError]] = []
    measured_ids: set[str] = set()
    for p in (p for p in products if is_precision_target(p)):
        raster = workspace.root / p.path
        if p.kind in (ProductKind.DSM, ProductKind.DTM):
            result, statement = vertical_check(p, raster, points, str(flight.purpose))
        else:
            frames, own = workspace.archive(flight.id), _own_frames(p, flight)
            purpose = str(flight.purpose)
            result, measured, statement = precision_check(p, raster, points, purpose, heights, frames, own)
            if measured and not vectors:
                vectors = [(m.survey_x, m.survey_y, m.error) for m in measured]
        checks.append(result)
        if statement is not None:
            statements[p.id] = statement
        if result.status != "skip":
            measured_ids.add(p.id)
            figures.update(headline_figures(p.id, result))
    if len(checks) == 1:
        checks.append(
            CheckResult.skipped("precision", "Check-point accuracy", "no orthophoto, DSM or thermal mosaic")
        )
    checks.append(georeferencing_check(flight, products, measured_ids))
    if vectors:
        images["error_vectors"] = plots.error_vectors_plot(vectors)
        images["error_histogram"] = plots.error_histogram([v[2] for v in vectors])
    return checks
