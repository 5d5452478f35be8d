"""Freshness checks of a flight's products for the QA report.

The capture time is the product's own (``Product.time_start``/``time_end``, set by the
process stage from the raster's metadata, the flight's frames or the delivery's
``--captured`` declaration, in that order; ``Product.capture_time_source`` says
which). A product without one is *capture date unknown*: the check warns (never skips —
an unknown date is a finding, not a missing input) and publication refuses the product
until a date is declared or a person overrides it (:mod:`webgis_export.gates`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from core.localtime import local_text
from pipeline.models import Product
from qa.freshness import FreshnessStatus, evaluate, load_kind_map, load_rules
from qa.models import CheckResult, Status

UNDATED_MESSAGE = (
    "optagelsesdato ukendt: hverken filen, flyvningens billeder eller leverancen (--captured) angiver "
    "en dato; produktet offentliggøres ikke, før en dato er angivet / capture date unknown: neither the "
    "file, the flight's frames nor the delivery (--captured) give a date; publication is refused until one "
    "is declared (dronegis ingest --captured DATE) or overridden (dronegis publish --allow-undated REASON)"
)


def capture_time(product: Product) -> datetime | None:
    """The product's capture time (its start, else its end), or None when unknown."""
    return product.time_start or product.time_end


def capture_source(product: Product) -> str:
    """Where the product's capture time came from (``unknown`` when it has none)."""
    if capture_time(product) is None:
        return "unknown"
    return product.capture_time_source or "product"


def freshness_checks(
    products: list[Product], now: datetime, rules_path: Path | None
) -> tuple[list[CheckResult], dict[str, FreshnessStatus]]:
    """One freshness check per product: pass (fresh), warn (ageing or date unknown) or fail (stale)."""
    rules, kinds = load_rules(rules_path), load_kind_map(rules_path)
    out: list[CheckResult] = []
    statuses: dict[str, FreshnessStatus] = {}
    for p in products:
        cid, title = f"freshness.{p.id}", f"Freshness of {p.id}"
        captured = capture_time(p)
        if captured is None:
            figures: dict[str, object] = {"captured": None, "capture_time_source": "unknown"}
            out.append(
                CheckResult(id=cid, title=title, status="warn", figures=figures, message=UNDATED_MESSAGE)
            )
            continue
        s = evaluate(str(p.kind), captured, now, rules, kinds)
        statuses[p.id] = s
        status: Status = "pass" if s.status == "fresh" else "warn" if s.status == "warn" else "fail"
        out.append(
            CheckResult(
                id=cid,
                title=title,
                status=status,
                figures={**s.model_dump(mode="json"), "capture_time_source": capture_source(p)},
                message=f"{s.status}: {s.message} (captured {local_text(captured)}, {capture_source(p)})",
            )
        )
    return out, statuses
