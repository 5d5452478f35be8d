"""Thermography conditions: both sides of every threshold; sun position against a published value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.errors import QAError
from qa.conditions import ConditionsConfig, Measured, evaluate_conditions, gate, load_conditions
from qa.solar import daylight_phase, hours_since_sunset, sun_position

SKANDERBORG = (56.04, 9.93)
NIGHT = datetime(2024, 1, 15, 22, 0, tzinfo=UTC)  # ~6.6 h after sunset
GOOD = Measured(
    air_temp_c=2.0, indoor_temp_c=21.0, wind_m_s=3.0, humidity_pct=80, hours_since_precipitation=30
)


def by_id(checks: list) -> dict:  # type: ignore[type-arg]
    return {c.id: c for c in checks}


def test_sun_position_matches_nrel_spa_example() -> None:
    # Reda & Andreas (2004) SPA example: 2003-10-17 12:30:30 UTC-7, Golden CO:
    # topocentric zenith 50.11162°, azimuth 194.34024°
    when = datetime(2003, 10, 17, 12, 30, 30, tzinfo=timezone(timedelta(hours=-7)))
    sun = sun_position(when, 39.742476, -105.1786)
    assert sun.elevation == pytest.approx(90 - 50.11162, abs=0.02)
    assert sun.azimuth == pytest.approx(194.34024, abs=0.02)


def test_hours_since_sunset_and_phase() -> None:
    since = hours_since_sunset(NIGHT, *SKANDERBORG)
    assert since is not None and 6.0 < since < 7.0
    assert hours_since_sunset(datetime(2024, 6, 21, 11, 0, tzinfo=UTC), *SKANDERBORG) is None
    assert daylight_phase(sun_position(NIGHT, *SKANDERBORG).elevation) == "night"
    assert daylight_phase(-3.0) == "civil twilight"


def test_good_night_passes_every_rule() -> None:
    checks = evaluate_conditions(GOOD, NIGHT, *SKANDERBORG)
    assert {c.status for c in checks} == {"pass"}
    assert not gate(checks).failed


@pytest.mark.parametrize(
    ("field", "ok", "bad", "rule"),
    [
        ("indoor_temp_c", 12.0, 11.9, "delta_t"),  # air 2 °C: ΔT 10.0 passes, 9.9 fails
        ("wind_m_s", 5.0, 5.1, "wind"),
        ("hours_since_precipitation", 12.0, 11.9, "precipitation"),
        ("humidity_pct", 90.0, 90.1, "humidity"),
    ],
)
def test_both_sides_of_each_measured_threshold(field: str, ok: float, bad: float, rule: str) -> None:
    good = by_id(evaluate_conditions(GOOD.model_copy(update={field: ok}), NIGHT, *SKANDERBORG))
    worse = by_id(evaluate_conditions(GOOD.model_copy(update={field: bad}), NIGHT, *SKANDERBORG))
    assert good[f"conditions.{rule}"].status == "pass"
    assert worse[f"conditions.{rule}"].status == ConditionsConfig().severity[rule]


def test_hours_after_sunset_threshold() -> None:
    sunset = NIGHT - timedelta(hours=hours_since_sunset(NIGHT, *SKANDERBORG) or 0)
    early = by_id(evaluate_conditions(GOOD, sunset + timedelta(hours=2, minutes=55), *SKANDERBORG))
    late = by_id(evaluate_conditions(GOOD, sunset + timedelta(hours=3, minutes=5), *SKANDERBORG))
    assert early["conditions.after_sunset"].status == "fail"
    assert late["conditions.after_sunset"].status == "pass"


def test_daytime_flight_fails_the_sun_rule_and_closes_the_gate() -> None:
    checks = evaluate_conditions(GOOD, datetime(2024, 1, 15, 11, 0, tzinfo=UTC), *SKANDERBORG)
    assert by_id(checks)["conditions.sun"].status == "fail"
    g = gate(checks)
    assert g.failed and g.blocked and "Sun" in (g.reason or "")
    overridden = gate(checks, "inspection of an unheated barn, ΔT not relevant")
    assert overridden.failed and not overridden.blocked
    with pytest.raises(QAError, match="reason"):
        gate(checks, "  ")


def test_heating_season_boundary() -> None:
    april = by_id(evaluate_conditions(GOOD, datetime(2024, 4, 30, 23, 0, tzinfo=UTC), *SKANDERBORG))
    may = by_id(evaluate_conditions(GOOD, datetime(2024, 5, 1, 23, 0, tzinfo=UTC), *SKANDERBORG))
    assert april["conditions.heating_season"].status == "pass"
    assert may["conditions.heating_season"].status == "warn"


def test_missing_logs_fail_required_and_skip_others() -> None:
    checks = by_id(evaluate_conditions(Measured(), NIGHT, *SKANDERBORG))
    assert checks["conditions.delta_t"].status == "fail"
    assert checks["conditions.wind"].status == "fail"
    assert checks["conditions.humidity"].status == "skip" and checks["conditions.humidity"].reason
    no_time = by_id(evaluate_conditions(GOOD, None, None, None))
    assert no_time["conditions.sun"].status == "skip"


def test_conditions_file_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(
        "[measured]\nair_temp_c = 4\nindoor_temp_c = 12\nwind_m_s = 2\n\n"
        '[thresholds]\nmin_delta_t_k = 8\n\n[severity]\ndelta_t = "warn"\n'
    )
    parsed = load_conditions(toml)
    assert parsed.config.min_delta_t_k == 8 and parsed.config.severity["wind"] == "fail"
    checks = by_id(evaluate_conditions(parsed.measured, NIGHT, *SKANDERBORG, parsed.config))
    assert checks["conditions.delta_t"].status == "pass"
    js = tmp_path / "c.json"
    js.write_text(
        json.dumps({"measured": {"air_temp_c": 4, "indoor_temp_c": 12}, "severity": {"delta_t": "warn"}})
    )
    checks = by_id(
        evaluate_conditions(load_conditions(js).measured, NIGHT, *SKANDERBORG, load_conditions(js).config)
    )
    assert checks["conditions.delta_t"].status == "warn"
    bad = tmp_path / "bad.toml"
    bad.write_text("[measured]\nwindy = 3\n")
    with pytest.raises(QAError, match="bad.toml"):
        load_conditions(bad)


def test_example_conditions_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "qa" / "examples" / "conditions.toml"
    parsed = load_conditions(example)
    assert parsed.config == ConditionsConfig()  # the example spells out the defaults
    checks = evaluate_conditions(parsed.measured, NIGHT, *SKANDERBORG, parsed.config)
    assert {c.status for c in checks} == {"pass"}
