"""What the QA report says about one product: its findings, accuracy evidence and figures.

A flight's QA report mixes checks about the whole flight (check points, image quality,
coverage, thermography conditions) with checks about one product (``precision.<id>``,
``freshness.<id>``, ``datum.<id>``). A layer carries the checks that concern it, so a
case handler reads *why* its QA warned or failed: its own product checks, the
flight-wide checks (thermography conditions only on thermal layers), and the accuracy
evidence of ``qa.georeferencing`` for this product.
"""

from __future__ import annotations

from pipeline.models import Accuracy, Product
from qa.models import CheckResult, QAReport
from webgis_export.models import QAFinding

PRODUCT_FAMILIES = frozenset({"precision", "freshness", "datum"})
THERMAL_FAMILIES = frozenset({"conditions", "thermal"})
THERMAL_KINDS = frozenset({"thermal_frame", "thermal_mosaic"})
WEAK_EVIDENCE = frozenset({"unknown", "not measured"})


def _concerns(check: CheckResult, product: Product) -> bool:
    """True when ``check`` is about ``product`` or about its whole flight (and fits its kind)."""
    family, _, rest = check.id.partition(".")
    if family in PRODUCT_FAMILIES and rest:
        return rest == product.id or rest.startswith(product.id + ".")
    if family == "georeferencing":
        return False  # replaced by the product's own evidence (evidence_finding)
    if family in THERMAL_FAMILIES:
        return product.kind.value in THERMAL_KINDS
    return True


def evidence_of(product: Product, report: QAReport | None) -> tuple[str | None, str | None]:
    """QA's accuracy evidence of ``product`` (measured, estimated, unknown, not measured) and its sentence."""
    if report is None:
        return None, None
    check = next((c for c in report.checks if c.id == "georeferencing"), None)
    if check is None:  # no georeferencing check: QA's typed statement, else the product's own
        stated = report.accuracy.get(product.id) or product.accuracy
        return (str(stated.evidence) if stated is not None else None), None
    kinds, details = check.figures.get("accuracy_evidence"), check.figures.get("accuracy_evidence_detail")
    kind = kinds.get(product.id) if isinstance(kinds, dict) else None
    detail = details.get(product.id) if isinstance(details, dict) else None
    return (str(kind) if kind else None), (str(detail) if detail else None)


def findings_of(product: Product, report: QAReport | None) -> tuple[QAFinding, ...]:
    """The warn/fail checks that concern ``product``, its skipped precision check, and weak evidence."""
    if report is None:
        return ()
    found: list[QAFinding] = []
    for check in report.checks:
        if not _concerns(check, product):
            continue
        own_precision = check.id == f"precision.{product.id}"
        if check.status in ("warn", "fail") or (check.status == "skip" and own_precision):
            found.append(
                QAFinding(
                    check=check.id,
                    status=check.status,
                    title=check.title,
                    message=check.message or check.reason or "",
                )
            )
    evidence, detail = evidence_of(product, report)
    if evidence in WEAK_EVIDENCE:
        found.append(
            QAFinding(
                check="georeferencing",
                status="warn",
                title="Georeferencing evidence",
                message=f"accuracy {evidence}: {detail or 'no check point and no GCP fit'}",
            )
        )
    return tuple(found)


def accuracy_of(product: Product, report: QAReport | None) -> Accuracy | None:
    """The accuracy statement a layer of ``product`` carries: measured, else estimated, else none.

    QA's statement from independent check points (``QAReport.accuracy``) wins; without one, the
    product's own (``Product.accuracy``: a GCP fit's leave-one-out estimate, or ``unknown`` for a fit
    without redundancy); without either, ``None`` — the accuracy was not measured.
    """
    measured = report.accuracy.get(product.id) if report is not None else None
    return measured or product.accuracy
