"""The accuracy statement of a product: what is known about where its pixels are, and how it is known.

One model for every producer and reader. The ``process`` stage states what a GCP fit estimates
(:meth:`Accuracy.from_fit`): a redundant fit's leave-one-out RMSE (``estimated``) or, for a fit
with exactly the minimum number of GCPs, nothing (``unknown``). QA measures products at independent
check points (``measured``, ``qa.accuracy_checks``) and keeps that statement per product in its
report. Publication takes QA's measured statement when there is one, else the product's estimate,
else states ``not measured`` (docs/DESIGN.md, "Accuracy reaches the layer").

The factors are REFERENCE.md §1: NSSDA 95 % = 1.7308·RMSE_r and 1.96·RMSE_z; CE90 = 1.5175·RMSE_r;
LE90 = 1.6449·RMSE_z (normally distributed errors, RMSE_x ≈ RMSE_y).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from core.models import Frozen

NSSDA_H95 = 1.7308
NSSDA_V95 = 1.9600
CE90_FACTOR = 1.5175
LE90_FACTOR = 1.6449


class AccuracySource(StrEnum):
    """Where an accuracy statement comes from."""

    CHECK_POINTS = "check_points"
    """Independent check points measured on the product (QA)."""
    GCP_LOO = "gcp_loo"
    """Leave-one-out RMSE of a GCP fit with redundancy: each GCP predicted by a fit without it."""
    GCP_FIT = "gcp_fit"
    """Residuals of a GCP fit without redundancy: zero by construction, they say nothing."""


class Evidence(StrEnum):
    """How honestly a product's accuracy is known, best first."""

    MEASURED = "measured"
    ESTIMATED = "estimated"
    UNKNOWN = "unknown"
    NOT_MEASURED = "not measured"


class Accuracy(Frozen):
    """The accuracy of one product (metres): figures, the class tested, and where they come from.

    ``rmse_h_m`` is ASPRS Edition 2's RMSE_H (the check-point survey error included) or, for a GCP
    estimate, the leave-one-out radial RMSE; the NSSDA and CE90 figures are derived from the radial
    RMSE without the survey error, as NSSDA defines them.
    """

    source: AccuracySource
    evidence: Evidence
    n: int = Field(ge=0, description="check points measured horizontally, or the GCPs of the fit")
    n_z: int = Field(0, ge=0, description="check points measured in height")
    rmse_h_m: float | None = None
    rmse_v_m: float | None = None
    nssda_h95_m: float | None = Field(None, description="NSSDA horizontal accuracy at 95 % confidence")
    nssda_v95_m: float | None = Field(None, description="NSSDA vertical accuracy at 95 % confidence")
    ce90_m: float | None = Field(None, description="circular error at 90 %")
    le90_m: float | None = Field(None, description="linear (vertical) error at 90 %")
    horizontal_class_m: float | None = Field(None, description="the horizontal class (an RMSE_H) tested")
    vertical_class_m: float | None = Field(None, description="the vertical class (an RMSE_V) tested")
    horizontal_class_met: bool | None = None
    vertical_class_met: bool | None = None
    warnings: tuple[str, ...] = Field((), description="too few points, blunders, bias, a minimal fit")

    @property
    def class_met(self) -> bool | None:
        """Every tested class met (None when no class was tested)."""
        tested = [m for m in (self.horizontal_class_met, self.vertical_class_met) if m is not None]
        return all(tested) if tested else None

    def figures(self) -> dict[str, object]:
        """The statement as readers show it (layers, STAC, GetFeatureInfo, the viewer): every known figure
        with ``class_met``, the source, the evidence and the warnings; unknown figures are left out."""
        shown = self.model_dump(mode="json", exclude_none=True)
        if self.class_met is not None:
            shown["class_met"] = self.class_met
        return shown

    @classmethod
    def from_fit(cls, gcps: int, minimum: int, loo_rmse_r: float | None) -> Accuracy:
        """What a GCP fit states: its leave-one-out estimate, or ``unknown`` without redundancy.

        Args:
            gcps: GCPs in the fit.
            minimum: GCPs the fit's method needs (``pipeline.gcp.fit.minimum_points``).
            loo_rmse_r: the fit's leave-one-out radial RMSE (None: too few GCPs to leave one out).
        """
        if loo_rmse_r is None or gcps <= minimum:
            note = (
                f"GCP fit with exactly the minimum {minimum} GCPs: residuals are zero by construction"
                if gcps <= minimum
                else f"GCP fit with {gcps} GCPs and no leave-one-out figure"
            )
            return cls(source=AccuracySource.GCP_FIT, evidence=Evidence.UNKNOWN, n=gcps, warnings=(note,))
        return cls(
            source=AccuracySource.GCP_LOO,
            evidence=Evidence.ESTIMATED,
            n=gcps,
            rmse_h_m=loo_rmse_r,
            nssda_h95_m=NSSDA_H95 * loo_rmse_r,
            ce90_m=CE90_FACTOR * loo_rmse_r,
        )
