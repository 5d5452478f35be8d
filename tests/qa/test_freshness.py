"""Freshness rules with an injected clock on both sides of every boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from core.errors import QAError
from pipeline.models import ProductKind
from qa.freshness import DEFAULT_RULES, add_months, evaluate, load_kind_map, load_rules

CAPTURED = datetime(2024, 5, 10, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "months", "before", "after"),
    [
        ("orthophoto", 12, "fresh", "warn"),
        ("orthophoto", 36, "warn", "stale"),
        ("dsm", 36, "warn", "stale"),
        ("rgb_frame", 24, "fresh", "warn"),
        ("rgb_frame", 48, "warn", "stale"),
    ],
)
def test_age_rules_boundaries(kind: str, months: int, before: str, after: str) -> None:
    boundary = add_months(CAPTURED.date(), months)
    assert evaluate(kind, CAPTURED, at(boundary - DAY)).status == before
    assert evaluate(kind, CAPTURED, at(boundary)).status == after


def test_orthophoto_stale_on_and_age() -> None:
    s = evaluate("orthophoto", CAPTURED, CAPTURED + timedelta(days=100))
    assert s.stale_on == date(2027, 5, 10)
    assert s.age_days == pytest.approx(100.0)
    assert s.rule == "rgb_orthophoto"


@pytest.mark.parametrize(
    ("captured", "expiry"),
    [
        (date(2024, 11, 20), date(2025, 9, 30)),
        (date(2025, 2, 3), date(2025, 9, 30)),
        (date(2024, 10, 1), date(2025, 9, 30)),
    ],
)
def test_thermal_valid_in_its_heating_season(captured: date, expiry: date) -> None:
    cap = at(captured)
    assert evaluate("thermal_mosaic", cap, at(expiry - DAY)).status == "fresh"
    s = evaluate("thermal_mosaic", cap, at(expiry))
    assert (s.status, s.stale_on) == ("stale", expiry)


def test_thermal_outside_the_heating_season_is_stale_at_once() -> None:
    cap = at(date(2024, 7, 1))
    s = evaluate("thermal_frame", cap, cap + timedelta(hours=1))
    assert s.status == "stale"
    assert "outside the heating season" in s.message


def test_nature_index_window_of_three_weeks() -> None:
    cap = at(date(2024, 6, 1))
    assert evaluate("ndvi", cap, cap + timedelta(days=21)).status == "fresh"
    assert evaluate("ndvi", cap, cap + timedelta(days=22)).status == "warn"
    assert evaluate("ndvi", cap, cap + timedelta(days=700)).stale_on is None


def test_naive_times_are_utc() -> None:
    s = evaluate("orthophoto", datetime(2024, 1, 1), datetime(2024, 1, 2))
    assert s.age_days == pytest.approx(1.0)


def test_rules_file_overrides_defaults(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[rules.rgb_orthophoto]\nfresh_months = 6\nstale_months = 18\n\n[kinds]\nmosaic = "rgb_orthophoto"\n'
    )
    table, kinds = load_rules(rules), load_kind_map(rules)
    boundary = add_months(CAPTURED.date(), 6)
    assert evaluate("orthophoto", CAPTURED, at(boundary - DAY), table).status == "fresh"
    assert evaluate("orthophoto", CAPTURED, at(boundary), table).status == "warn"
    assert evaluate("mosaic", CAPTURED, at(add_months(CAPTURED.date(), 18)), table, kinds).status == "stale"


def test_unknown_kind_and_bad_file(tmp_path: Path) -> None:
    with pytest.raises(QAError, match="no freshness rule"):
        evaluate("hologram", CAPTURED, CAPTURED)
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.thermal]\nmode = 'forever'\n")
    with pytest.raises(QAError, match="thermal"):
        load_rules(bad)


def test_add_months_clamps_the_day() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 11, 15), 14) == date(2025, 1, 15)


def test_example_rules_file_matches_the_defaults() -> None:
    from qa.freshness import DEFAULT_RULES

    example = Path(__file__).resolve().parents[2] / "qa" / "examples" / "freshness_rules.toml"
    assert load_rules(example) == DEFAULT_RULES  # the example spells out the defaults
    for name, rule in load_rules(example).items():
        assert rule.mode == DEFAULT_RULES[name].mode
        assert rule.fresh_months == DEFAULT_RULES[name].fresh_months
        assert rule.stale_months == DEFAULT_RULES[name].stale_months
    assert load_kind_map(example)["thermal_mosaic"] == "thermal"


def test_every_product_kind_has_a_freshness_rule() -> None:
    """QA rates every product process can make (a kind without a rule failed the flight's QA)."""
    now = datetime(2026, 12, 6, tzinfo=UTC)
    for kind in ProductKind:
        assert evaluate(kind.value, now - timedelta(days=30), now).rule in DEFAULT_RULES, kind
