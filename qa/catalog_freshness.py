"""Freshness of the whole catalog: every product of every flight, and every published layer."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Literal, NamedTuple

from core.errors import QAError
from core.models import Frozen
from core.workspace import Workspace
from pipeline.products import load_products
from qa import inputs
from qa.freshness import FreshnessRule, evaluate, load_kind_map, load_rules
from qa.freshness_check import capture_time

logger = logging.getLogger(__name__)

UNDATED = "optagelsesdato ukendt / capture date unknown"


class LayerFreshness(Frozen):
    """One catalog entry's freshness: capture date, age, status and the day it turns stale."""

    id: str
    source: Literal["product", "published"]
    flight: str
    kind: str
    title: str
    captured: datetime | None
    age_days: float | None
    status: Literal["fresh", "warn", "stale", "unknown"]
    stale_on: date | None
    rule: str | None
    message: str


class _Dated(NamedTuple):
    """What one catalog entry is and when it was captured (None: capture date unknown)."""

    id: str
    source: Literal["product", "published"]
    flight: str
    kind: str
    title: str
    captured: datetime | None


def _entry(
    item: _Dated, now: datetime, rules: dict[str, FreshnessRule], kinds: dict[str, str]
) -> LayerFreshness:
    """One entry: ``unknown`` when the capture time is missing or no rule covers ``kind``."""
    ident = {key: value for key, value in item._asdict().items() if key != "captured"}
    unknown = {"age_days": None, "status": "unknown", "stale_on": None, "rule": None}
    kind, captured = item.kind, item.captured
    if captured is None:
        return LayerFreshness(**ident, **unknown, captured=None, message=UNDATED)
    try:
        s = evaluate(kind, captured, now, rules, kinds)
    except QAError as exc:
        return LayerFreshness(**ident, **unknown, captured=captured, message=str(exc))
    return LayerFreshness(
        **ident,
        captured=s.captured,
        age_days=round(s.age_days, 3),
        status=s.status,
        stale_on=s.stale_on,
        rule=s.rule,
        message=s.message,
    )


def _published(workspace: Workspace) -> list[dict[str, object]]:
    path = workspace.layers_json
    if not path.exists():
        return []
    try:
        items = inputs.json_items(path, "layers")
    except (OSError, ValueError) as exc:
        raise QAError(f"published layers {path}: {exc}") from exc
    return [i for i in items if isinstance(i, dict)]


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def catalog_freshness(workspace: Workspace, now: datetime, rules: Path | None = None) -> list[LayerFreshness]:
    """Freshness of every product of every flight, then of every published layer.

    Args:
        workspace: The workspace (``Workspace.flights()``, products.json, publish/layers.json).
        now: The injected clock.
        rules: Freshness rules TOML (default: REFERENCE.md §6).
    """
    table, kinds = load_rules(rules), load_kind_map(rules)
    out: list[LayerFreshness] = []
    for flight_id in workspace.flights():
        for p in load_products(workspace, flight_id):
            captured = capture_time(p)  # dated by the process stage; None: capture date unknown
            item = _Dated(p.id, "product", flight_id, str(p.kind), p.id, captured)
            out.append(_entry(item, now, table, kinds))
    for layer in _published(workspace):
        captured = _as_datetime(layer.get("time_start")) or _as_datetime(layer.get("time_end"))
        item = _Dated(
            str(layer.get("id")),
            "published",
            str(layer.get("flight", "")),
            str(layer.get("kind", "")),
            str(layer.get("title", layer.get("id"))),
            captured,
        )
        out.append(_entry(item, now, table, kinds))
    return out
