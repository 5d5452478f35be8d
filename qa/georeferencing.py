"""Georeferencing evidence of a flight, and how honestly each raster product's accuracy is known.

Accuracy evidence of one raster product, best first:

- ``measured``: independent check points were measured on the product (``qa.accuracy_checks``).
- ``estimated``: the product comes from a GCP fit with redundancy; its leave-one-out RMSE (each
  GCP predicted by a fit without it) estimates the accuracy at the GCPs.
- ``unknown``: a GCP fit with exactly the minimum number of GCPs (``pipeline.gcp.fit.minimum_points``)
  or no leave-one-out figure: its residuals are zero by construction and say nothing.
- ``not measured``: no check point on the product and no GCP fit. An RTK fix, however good, places
  the cameras; it is reported but does not measure the product.

The check passes only when every raster product is measured or estimated; otherwise it warns
"accuracy not measured", so neither the report nor the layers published from it say "pass" for
an accuracy nobody measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection

from flights.models import FileKind, Flight
from pipeline.gcp.fit import minimum_points
from pipeline.models import Accuracy, Evidence, GcpFit, GcpGeoref, Product
from qa import image_quality
from qa.inputs import RASTER_KINDS
from qa.models import CheckResult

SHOWN = 6
NOT_MEASURED = "nøjagtighed ikke målt / accuracy not measured"


def gcp_fit_of(product: Product) -> GcpFit | None:
    """The GCP fit a product was warped with (``Product.georef``), or None."""
    return product.georef.fit if isinstance(product.georef, GcpGeoref) else None


def stated_accuracy(product: Product) -> Accuracy | None:
    """What a GCP-fitted product's fit states of its accuracy: the product's statement, else its fit's."""
    if product.accuracy is not None:
        return product.accuracy
    fit = gcp_fit_of(product)
    if fit is None:
        return None
    need = minimum_points(fit.method, fit.order)
    return Accuracy.from_fit(fit.gcp_count, need if need is not None else 0, fit.loo_rmse_r)


def fit_evidence(product: Product) -> tuple[str, str]:
    """``(evidence, sentence)`` of a GCP-fitted product: ``estimated`` (leave-one-out RMSE) or ``unknown``."""
    stated = stated_accuracy(product)
    if stated is not None and stated.evidence is Evidence.ESTIMATED and stated.rmse_h_m is not None:
        return "estimated", f"GCP leave-one-out RMSE {stated.rmse_h_m:.3f} m over {stated.n} GCPs"
    if stated is not None and stated.warnings:
        return "unknown", stated.warnings[0]
    return "unknown", "GCP fit without a leave-one-out figure"


def _fit_figures(product: Product, georef: GcpGeoref) -> dict[str, object]:
    fit = georef.fit
    out: dict[str, object] = {
        f"{product.id}.gcp_rmse_m": fit.rmse_r,
        f"{product.id}.gcp_loo_rmse_m": fit.loo_rmse_r,
        f"{product.id}.gcp_residuals": [r.model_dump(mode="json") for r in fit.residuals],
        f"{product.id}.gcp_count": fit.gcp_count,
    }
    if georef.check_points:  # check points against the fit: the stage's view, not QA's
        out[f"{product.id}.fit_check_residuals"] = [c.model_dump(mode="json") for c in georef.check_points]
    return out


def _evidence(products: list[Product], measured: Collection[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Evidence class and sentence of every raster product (module docstring)."""
    kinds, sentences = {}, {}
    for p in (p for p in products if p.kind in RASTER_KINDS):
        if p.id in measured:
            kinds[p.id], sentences[p.id] = "measured", "measured at independent check points"
        elif isinstance(p.georef, GcpGeoref):
            kinds[p.id], sentences[p.id] = fit_evidence(p)
        else:
            kinds[p.id], sentences[p.id] = "not measured", "no check point measured on it and no GCP fit"
    return kinds, sentences


def _message(kinds: dict[str, str], sentences: dict[str, str], fix_ratio: float | None) -> str:
    rtk = f"; RTK fixed {fix_ratio:.0%} of frames (camera positions, not the products)" if fix_ratio else ""
    if not kinds:
        return f"{NOT_MEASURED}: no raster product to measure yet" + rtk
    weak = [pid for pid, kind in kinds.items() if kind in ("unknown", "not measured")]
    if not weak:
        how = sorted(set(kinds.values()))
        return f"nøjagtighed målt / accuracy of all {len(kinds)} raster products {' or '.join(how)}" + rtk
    shown = "; ".join(f"{pid}: {sentences[pid]}" for pid in weak[:SHOWN])
    more = f"; … {len(weak) - SHOWN} more" if len(weak) > SHOWN else ""
    return f"{NOT_MEASURED} for {len(weak)} of {len(kinds)} raster products ({shown}{more})" + rtk


def georeferencing_check(flight: Flight, products: list[Product], measured: Collection[str]) -> CheckResult:
    """Georeferencing evidence: accuracy evidence per raster product, GCP fits, RTK fix ratio, GSDs.

    Args:
        flight: The flight (frames: RTK flags and GSD).
        products: The flight's products.
        measured: Ids of the products whose accuracy was measured at check points.
    """
    frames = [c for c in flight.captures if c.kind in (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME)]
    flags = [c.rtk.flag for c in frames if c.rtk.flag is not None]
    fix_ratio = sum(f == 50 for f in flags) / len(flags) if flags else None
    gsds = [g for g in (image_quality.frame_gsd(c) for c in frames) if g is not None]
    kinds, sentences = _evidence(products, measured)
    figures: dict[str, object] = {
        "rtk_fix_ratio": fix_ratio,
        "frame_gsd_m": {"median": statistics.median(gsds), "min": min(gsds), "max": max(gsds)}
        if gsds
        else None,
        "product_gsd_m": {p.id: p.gsd_m for p in products},
        "accuracy_evidence": kinds,
        "accuracy_evidence_detail": sentences,
    }
    for p in products:
        if isinstance(p.georef, GcpGeoref):
            figures.update(_fit_figures(p, p.georef))
    weak = not kinds or any(kind in ("unknown", "not measured") for kind in kinds.values())
    return CheckResult(
        id="georeferencing",
        title="Georeferencing evidence (check points, GCP fits, RTK, GSD)",
        status="warn" if weak else "pass",
        figures=figures,
        message=_message(kinds, sentences, fix_ratio),
    )
