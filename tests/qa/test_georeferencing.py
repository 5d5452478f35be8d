"""Accuracy evidence from real pipeline.gcp fits: the minimum number of GCPs is 'accuracy unknown'."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from flights.models import Flight, Purpose
from pipeline.gcp.fit import GcpPair, fit_gcps
from pipeline.models import Accuracy, GcpGeoref, Product, ProductKind
from qa.georeferencing import fit_evidence, georeferencing_check

FLIGHT = Flight(id="G", source="/x", purpose=Purpose.SURVEY, ingested_at=datetime(2025, 1, 1, tzinfo=UTC))


def _pairs(n: int) -> list[GcpPair]:
    rng = np.random.default_rng(5)
    pairs = []
    for i in range(n):
        col, row = rng.uniform(0, 4000), rng.uniform(0, 3000)
        x, y = 560000 + 0.02 * col + rng.normal(0, 0.01), 6215000 - 0.02 * row + rng.normal(0, 0.01)
        pairs.append(GcpPair(f"G{i}", col, row, x, y))
    return pairs


def _frame(n: int) -> Product:
    fit = fit_gcps(_pairs(n), method="affine", crs="EPSG:25832")
    return Product(
        id=f"G-gcpframe-{n}",
        flight="G",
        kind=ProductKind.RGB_FRAME,
        path="x.tif",
        crs="EPSG:25832",
        bounds=(0, 0, 1, 1),
        georef=GcpGeoref(fit=fit),
    )


def test_minimum_gcps_is_accuracy_unknown() -> None:
    product = _frame(3)
    assert isinstance(product.georef, GcpGeoref)
    fit = product.georef.fit
    assert fit.rmse_r < 1e-9 and fit.loo_rmse_r is None
    assert fit_evidence(product) == (
        "unknown",
        "GCP fit with exactly the minimum 3 GCPs: residuals are zero by construction",
    )
    result = georeferencing_check(FLIGHT, [product], measured=set())
    assert result.status == "warn"
    assert "nøjagtighed ikke målt / accuracy not measured for 1 of 1 raster products" in result.message
    assert "backed" not in result.message


def test_redundant_gcps_report_leave_one_out() -> None:
    product = _frame(6)
    assert isinstance(product.georef, GcpGeoref)
    fit = product.georef.fit
    loo = fit.loo_rmse_r
    assert isinstance(loo, float) and loo > fit.rmse_r > 0  # held-out GCPs miss by more than fitted ones
    kind, sentence = fit_evidence(product)
    assert kind == "estimated" and sentence == f"GCP leave-one-out RMSE {loo:.3f} m over 6 GCPs"
    stated = Accuracy.from_fit(6, 3, loo)  # what the process stage records on the product
    assert fit_evidence(product.model_copy(update={"accuracy": stated})) == (kind, sentence)
    assert stated.nssda_h95_m == pytest.approx(1.7308 * loo) and stated.ce90_m == pytest.approx(1.5175 * loo)
    result = georeferencing_check(FLIGHT, [product], measured=set())
    assert result.status == "pass" and result.figures[f"{product.id}.gcp_count"] == 6
    residuals = result.figures[f"{product.id}.gcp_residuals"]
    assert isinstance(residuals, list) and all(r["loo_dr"] is not None for r in residuals)
