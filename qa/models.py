"""Frozen models of QA results: one ``CheckResult`` per check, one ``QAReport`` per flight.

The report is what the GIS team reads and what publication (webgis_export) trusts:
``QAReport.status`` is the overall verdict and ``thermal_publication_blocked`` is the
thermography gate after any recorded override.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from core.models import Frozen
from pipeline.models import Accuracy

QA_SCHEMA_VERSION = "1.0"

Status = Literal["pass", "warn", "fail", "skip"]
"""``skip`` means "not evaluated" and always carries a reason; it never counts as a pass."""

_RANK: dict[str, int] = {"skip": 0, "pass": 1, "warn": 2, "fail": 3}


class CheckResult(Frozen):
    """The outcome of one QA check.

    Attributes:
        id: Stable machine id, e.g. ``precision.orthophoto`` or ``freshness.<product>``.
        title: One line for people.
        status: pass, warn, fail or skip.
        figures: Numbers and small lists the check measured (JSON-serialisable).
        message: What was found, naming the object and the value.
        reason: Why the check was skipped (required when ``status == "skip"``).
    """

    id: str
    title: str
    status: Status
    figures: dict[str, object] = Field(default_factory=dict)
    message: str = ""
    reason: str | None = None

    @model_validator(mode="after")
    def _skip_has_reason(self) -> CheckResult:
        if self.status == "skip" and not self.reason:
            raise ValueError(f"check {self.id} is skipped without a reason")
        return self

    @classmethod
    def skipped(cls, id: str, title: str, reason: str) -> CheckResult:
        """A check that could not be evaluated, with the reason."""
        return cls(id=id, title=title, status="skip", reason=reason, message=f"not evaluated: {reason}")


def overall_status(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """Worst status of the evaluated checks; ``skip`` only when nothing was evaluated."""
    worst: Status = "skip"
    for status in statuses:
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


class QAReport(Frozen):
    """Every QA result of one flight (written to ``qa/<flight>/report.json``).

    Attributes:
        schema_version: Version of this JSON schema.
        flight: Flight id.
        created: When the report was made (the injected clock, UTC).
        status: Overall verdict: the worst status among the checks.
        checks: Every check, in report order.
        figures: Headline figures (e.g. ``precision.<product>.rmse_h_m``).
        accuracy: The accuracy statement of every product measured at independent check points, by
            product id (``pipeline.models.Accuracy``, source ``check_points``); publication prefers it
            to the product's own GCP estimate.
        plots: Plot name -> path relative to the report folder (also inlined in the HTML).
        thermal_gate_failed: The thermography-conditions gate failed.
        thermal_gate_reason: Why the gate failed (None when it passed or was not applicable).
        thermal_gate_override: The recorded reason of a person who overrode a failed gate.
        thermal_publication_blocked: True when the thermal layer must not be published.
    """

    schema_version: str = QA_SCHEMA_VERSION
    flight: str
    created: datetime
    status: Status
    checks: tuple[CheckResult, ...] = ()
    figures: dict[str, object] = Field(default_factory=dict)
    accuracy: dict[str, Accuracy] = Field(default_factory=dict)
    plots: dict[str, str] = Field(default_factory=dict)
    thermal_gate_failed: bool = False
    thermal_gate_reason: str | None = None
    thermal_gate_override: str | None = None
    thermal_publication_blocked: bool = False

    @model_validator(mode="after")
    def _gate_consistent(self) -> QAReport:
        expected = self.thermal_gate_failed and not self.thermal_gate_override
        if self.thermal_publication_blocked != expected:
            raise ValueError(
                f"report {self.flight}: thermal_publication_blocked={self.thermal_publication_blocked} "
                f"contradicts gate_failed={self.thermal_gate_failed}, override={self.thermal_gate_override!r}"
            )
        return self

    @property
    def passed(self) -> bool:
        """True unless some check failed."""
        return self.status != "fail"

    def check(self, check_id: str) -> CheckResult:
        """The check with that id.

        Raises:
            KeyError: when the report has no such check.
        """
        for result in self.checks:
            if result.id == check_id:
                return result
        raise KeyError(f"report {self.flight} has no check {check_id!r}")

    def counts(self) -> dict[str, int]:
        """How many checks have each status."""
        counts = {"pass": 0, "warn": 0, "fail": 0, "skip": 0}
        for result in self.checks:
            counts[result.status] += 1
        return counts
