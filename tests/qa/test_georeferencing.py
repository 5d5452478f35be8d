"""Accuracy evidence from real pipeline.gcp fits: the minimum number of GCPs is 'accuracy unknown'."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from flights.models import Flight, Purpose
from pipeline.gcp import GcpPair, fit_gcps
from pipeline.models import Product, ProductKind
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
        properties={"georeference": "gcp", "fit": fit.model_dump(mode="json")},
    )


def test_minimum_gcps_is_accuracy_unknown() -> None:
    product = _frame(3)
    fit = product.properties["fit"]
    assert isinstance(fit, dict) and fit["rmse_r"] < 1e-9 and fit["loo_rmse_r"] is None
    assert fit_evidence(fit) == (
        "unknown",
        "GCP fit with exactly the minimum 3 GCPs: residuals are zero by construction",
    )
    result = georeferencing_check(FLIGHT, [product], measured=set())
    assert result.status == "warn"
    assert "nøjagtighed ikke målt / accuracy not measured for 1 of 1 raster products" in result.message
    assert "backed" not in result.message


def test_redundant_gcps_report_leave_one_out() -> None:
    product = _frame(6)
    fit = product.properties["fit"]
    assert isinstance(fit, dict)
    loo = fit["loo_rmse_r"]
    assert isinstance(loo, float) and loo > fit["rmse_r"] > 0  # held-out GCPs miss by more than fitted ones
    kind, sentence = fit_evidence(fit)
    assert kind == "estimated" and sentence == f"GCP leave-one-out RMSE {loo:.3f} m over 6 GCPs"
    result = georeferencing_check(FLIGHT, [product], measured=set())
    assert result.status == "pass" and result.figures[f"{product.id}.gcp_count"] == 6
    residuals = result.figures[f"{product.id}.gcp_residuals"]
    assert isinstance(residuals, list) and all(r["loo_dr"] is not None for r in residuals)
