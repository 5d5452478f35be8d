"""Freshness ("aktualitet") of a product: its age against rules per product kind.

Aktualitet is the time the data is known to match reality — the capture time, not the
publication date (REFERENCE.md §6). Rules come from a TOML file; the defaults are the
§6 table:

- ``age`` rules (RGB orthophoto, elevation, facade/oblique frames): fresh below
  ``fresh_months``, warn until ``stale_months``, stale from then on;
- ``heating_season`` (building thermal): valid only within the heating season of the
  capture (Oct–Apr); it expires on 30 Sep after the capture; a capture outside the season
  is stale at once;
- ``phenology`` (nature indices): fresh within ±``window_days`` of the capture day,
  then warn (compare like-season only), stale after ``stale_months`` if set.

The clock is always injected: ``evaluate(kind, captured, now)``. Calendar rules (months, the
season, the expiry day) count days in Europe/Copenhagen, where the flights are flown.
"""

from __future__ import annotations

import calendar
import tomllib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field

from core.errors import QAError
from core.localtime import local_date
from core.models import Frozen

FreshStatus = Literal["fresh", "warn", "stale"]
RuleMode = Literal["age", "heating_season", "phenology"]


class FreshnessRule(Frozen):
    """How one product kind ages."""

    mode: RuleMode = "age"
    fresh_months: int | None = Field(12, description="age rules: fresh below this many months")
    stale_months: int | None = Field(36, description="stale from this many months (None: never)")
    window_days: int = Field(21, description="phenology: ± days around the capture day")
    season_months: tuple[int, ...] = Field((10, 11, 12, 1, 2, 3, 4), description="heating-season months")
    expiry_month: int = 9
    expiry_day: int = 30
    description: str = ""


DEFAULT_RULES: dict[str, FreshnessRule] = {
    "rgb_orthophoto": FreshnessRule(description="drone RGB orthophoto: fresh < 12 months, stale > 36"),
    "elevation": FreshnessRule(description="DSM/DTM: as the orthophoto"),
    "thermal": FreshnessRule(
        mode="heating_season",
        fresh_months=None,
        stale_months=None,
        description="building thermal: heating season of capture (Oct–Apr), expires 30 Sep after",
    ),
    "nature_index": FreshnessRule(
        mode="phenology",
        fresh_months=None,
        stale_months=None,
        description="ExG/VARI/NDVI: ±3 weeks of the capture day; compare like-season only",
    ),
    "oblique": FreshnessRule(fresh_months=24, stale_months=48, description="facade/oblique: 24/48 months"),
}

KIND_TO_RULE: dict[str, str] = {
    "orthophoto": "rgb_orthophoto",
    "rgb_orthophoto": "rgb_orthophoto",
    "dsm": "elevation",
    "dtm": "elevation",
    "thermal_frame": "thermal",
    "thermal_mosaic": "thermal",
    "thermal": "thermal",
    "buildings": "thermal",  # heat loss per building: as old as the thermal flight it was measured on
    "hot_spots": "thermal",
    "rgb_frame": "oblique",
    "oblique": "oblique",
    "facade": "oblique",
    "footprints": "rgb_orthophoto",
    "photo_points": "oblique",
    "vegetation_index": "nature_index",
    "change_map": "nature_index",  # made for nature flights against the last flight of the place
    "change_areas": "nature_index",
    "volumes": "elevation",  # quantities measured on a DSM: as old as the DSM
    "cut_fill": "elevation",
    "roof_planes": "elevation",
    "check_points": "rgb_orthophoto",
    "ndvi": "nature_index",
    "exg": "nature_index",
    "vari": "nature_index",
    "nature_index": "nature_index",
}


class FreshnessStatus(Frozen):
    """Freshness of one product at ``now``."""

    kind: str
    rule: str
    status: FreshStatus
    captured: datetime
    evaluated_at: datetime
    age_days: float
    stale_on: date | None = Field(description="the first day the product counts as stale (None: never)")
    message: str

    @property
    def age(self) -> timedelta:
        """Age at evaluation time."""
        return timedelta(days=self.age_days)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def load_rules(path: Path | None = None) -> dict[str, FreshnessRule]:
    """Default rules, updated by the ``[rules.<name>]`` tables of a TOML file.

    The file may also remap product kinds in a ``[kinds]`` table (kind = "rule name").

    Raises:
        QAError: when the file cannot be read or a rule is malformed.
    """
    rules = dict(DEFAULT_RULES)
    if path is None:
        return rules
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise QAError(f"freshness rules {path}: {exc}") from exc
    for name, table in dict(data.get("rules", {})).items():
        base = rules.get(name, FreshnessRule())
        try:
            rules[name] = base.model_validate({**base.model_dump(), **table})
        except ValueError as exc:
            raise QAError(f"freshness rules {path}: rule {name!r} is malformed: {exc}") from exc
    return rules


def load_kind_map(path: Path | None = None) -> dict[str, str]:
    """Product kind -> rule name, with the ``[kinds]`` table of a rules file applied."""
    kinds = dict(KIND_TO_RULE)
    if path is not None:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        kinds.update({str(k): str(v) for k, v in dict(data.get("kinds", {})).items()})
    return kinds


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def heating_season_expiry(captured: date, rule: FreshnessRule) -> date | None:
    """30 Sep (by default) after a capture in the heating season; None outside the season."""
    if captured.month not in rule.season_months:
        return None
    year = captured.year if captured.month <= rule.expiry_month else captured.year + 1
    return date(year, rule.expiry_month, rule.expiry_day)


def _stale_on(rule: FreshnessRule, captured: date) -> date | None:
    if rule.mode == "heating_season":
        return heating_season_expiry(captured, rule) or captured
    return add_months(captured, rule.stale_months) if rule.stale_months is not None else None


def _classify(
    rule: FreshnessRule, captured: date, today: date, stale_on: date | None
) -> tuple[FreshStatus, str]:
    if stale_on is not None and today >= stale_on:
        if rule.mode == "heating_season" and heating_season_expiry(captured, rule) is None:
            return "stale", "captured outside the heating season: not valid for building thermography"
        return "stale", f"stale since {stale_on.isoformat()}"
    if rule.mode == "heating_season":
        return "fresh", f"valid until {stale_on}"
    if rule.mode == "phenology":
        if abs((today - captured).days) <= rule.window_days:
            return "fresh", f"within ±{rule.window_days} days of the capture day"
        return "warn", f"outside ±{rule.window_days} days of the capture day: compare like-season only"
    if rule.fresh_months is not None and today >= add_months(captured, rule.fresh_months):
        return "warn", f"older than {rule.fresh_months} months"
    return "fresh", f"younger than {rule.fresh_months} months"


def evaluate(
    product_kind: str,
    captured: datetime,
    now: datetime,
    rules: Mapping[str, FreshnessRule] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> FreshnessStatus:
    """Freshness of a product of ``product_kind`` captured at ``captured``, seen at ``now``.

    Args:
        product_kind: A ``ProductKind`` value or a rule name (``rgb_orthophoto``, ``thermal``, ...).
        captured: Capture time (naive values are taken as UTC).
        now: The injected clock.
        rules: Rule table (default: REFERENCE.md §6).
        kinds: Product kind -> rule name.

    Raises:
        QAError: when no rule applies to the kind.
    """
    rules = DEFAULT_RULES if rules is None else rules
    kinds = KIND_TO_RULE if kinds is None else kinds
    name = kinds.get(product_kind, product_kind)
    if name not in rules:
        raise QAError(f"no freshness rule for product kind {product_kind!r} (known: {sorted(rules)})")
    rule = rules[name]
    cap, at = _utc(captured), _utc(now)
    day, today = local_date(cap), local_date(at)  # calendar days in Copenhagen: a night flight at
    stale_on = _stale_on(rule, day)  # 00:30 on 1 October is in the heating season (UTC: 30 September)
    status, message = _classify(rule, day, today, stale_on)
    return FreshnessStatus(
        kind=product_kind,
        rule=name,
        status=status,
        captured=cap,
        evaluated_at=at,
        age_days=(at - cap).total_seconds() / 86400.0,
        stale_on=stale_on,
        message=message,
    )
