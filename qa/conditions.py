"""Thermography survey conditions (REFERENCE.md §5.1) and the thermal publication gate.

Inputs are what the crew logged (air and indoor temperature, wind, humidity, hours since
the last precipitation) plus the capture time and position, from which the sun elevation
and the hours since sunset are computed (``qa.solar``). Each rule yields pass, or — when
violated — the severity configured for it (``fail`` or ``warn``). Any fail closes the gate:
the thermal layer is not published unless a person overrides it with a recorded reason.

Configuration (TOML or JSON) may hold ``[measured]`` values and ``[thresholds]`` /
``[severity]`` tables overriding ``ConditionsConfig``'s defaults.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path

from pydantic import Field

from core.errors import QAError
from core.localtime import local_text
from core.models import Frozen
from qa.models import CheckResult, Status
from qa.solar import daylight_phase, hours_since_sunset, hours_until_sunrise, sun_position, utc


class Measured(Frozen):
    """What the crew logged for a thermography flight (None: not logged)."""

    air_temp_c: float | None = None
    indoor_temp_c: float | None = None
    wind_m_s: float | None = None
    humidity_pct: float | None = None
    hours_since_precipitation: float | None = Field(None, description="hours since the last rain or snow")


DEFAULT_SEVERITY: dict[str, Status] = {
    "delta_t": "fail",
    "wind": "fail",
    "precipitation": "fail",
    "sun": "fail",
    "after_sunset": "fail",
    "heating_season": "warn",
    "humidity": "warn",
}
"""Status of a violated rule unless the conditions file says otherwise."""


class ConditionsConfig(Frozen):
    """Thresholds and the severity of violating each (REFERENCE.md §5.1 defaults)."""

    min_delta_t_k: float = 10.0
    max_wind_m_s: float = 5.0
    dry_hours: float = 12.0
    max_sun_elevation_deg: float = -0.833
    min_hours_after_sunset: float = 3.0
    heating_months: tuple[int, ...] = (10, 11, 12, 1, 2, 3, 4)
    max_humidity_pct: float = 90.0
    severity: dict[str, Status] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    required: tuple[str, ...] = Field(("delta_t", "wind"), description="rules that fail when not logged")


class ConditionsFile(Frozen):
    """A parsed conditions file: logged values plus configuration."""

    measured: Measured = Measured()
    config: ConditionsConfig = ConditionsConfig()


def load_conditions(path: Path | None) -> ConditionsFile:
    """Read a TOML (``.toml``) or JSON conditions file; defaults when ``path`` is None.

    Raises:
        QAError: when the file cannot be read or holds unknown keys.
    """
    if path is None:
        return ConditionsFile()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        config = {**data.get("thresholds", {})}
        if "severity" in data:
            config["severity"] = {**ConditionsConfig().severity, **data["severity"]}
        if "required" in data:
            config["required"] = tuple(data["required"])
        return ConditionsFile(
            measured=Measured(**data.get("measured", {})), config=ConditionsConfig(**config)
        )
    except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise QAError(f"conditions file {path}: {exc}") from exc


def logged_air_temp(*paths: Path | None) -> float | None:
    """The air temperature logged in the first of ``paths`` that exists (None: none logged one).

    The process stage's buildings analysis takes it for the excess over air (``dronegis process
    --conditions``, the service's ``conditions`` file, or ``qa/<flight>/conditions.json``).

    Raises:
        QAError: when that file cannot be read or holds unknown keys.
    """
    found = next((Path(p) for p in paths if p is not None and Path(p).exists()), None)
    return load_conditions(found).measured.air_temp_c if found is not None else None


def _rule(
    rule: str, title: str, ok: bool | None, config: ConditionsConfig, figures: dict[str, object], message: str
) -> CheckResult:
    cid = f"conditions.{rule}"
    if ok is None:
        if rule in config.required:
            return CheckResult(
                id=cid, title=title, status="fail", figures=figures, message=f"not logged: {message}"
            )
        return CheckResult.skipped(cid, title, f"not logged: {message}")
    status: Status = "pass" if ok else config.severity.get(rule, "fail")
    return CheckResult(id=cid, title=title, status=status, figures=figures, message=message)


def _measured_checks(m: Measured, c: ConditionsConfig) -> list[CheckResult]:
    dt = None if m.air_temp_c is None or m.indoor_temp_c is None else m.indoor_temp_c - m.air_temp_c
    return [
        _rule(
            "delta_t",
            "Inside–outside ΔT",
            None if dt is None else dt >= c.min_delta_t_k,
            c,
            {"delta_t_k": dt, "min_delta_t_k": c.min_delta_t_k},
            "indoor and air temperature" if dt is None else f"ΔT {dt:.1f} K (need ≥ {c.min_delta_t_k:g} K)",
        ),
        _rule(
            "wind",
            "Wind speed",
            None if m.wind_m_s is None else m.wind_m_s <= c.max_wind_m_s,
            c,
            {"wind_m_s": m.wind_m_s, "max_wind_m_s": c.max_wind_m_s},
            "wind speed" if m.wind_m_s is None else f"wind {m.wind_m_s:g} m/s (limit {c.max_wind_m_s:g} m/s)",
        ),
        _rule(
            "precipitation",
            "Dry surfaces (no precipitation)",
            None if m.hours_since_precipitation is None else m.hours_since_precipitation >= c.dry_hours,
            c,
            {"hours_since_precipitation": m.hours_since_precipitation, "dry_hours": c.dry_hours},
            "hours since precipitation"
            if m.hours_since_precipitation is None
            else f"{m.hours_since_precipitation:g} h since precipitation (need ≥ {c.dry_hours:g} h)",
        ),
        _rule(
            "humidity",
            "Relative humidity (dew risk)",
            None if m.humidity_pct is None else m.humidity_pct <= c.max_humidity_pct,
            c,
            {"humidity_pct": m.humidity_pct, "max_humidity_pct": c.max_humidity_pct},
            "humidity"
            if m.humidity_pct is None
            else f"RH {m.humidity_pct:g} % (limit {c.max_humidity_pct:g} %)",
        ),
    ]


_TIME_TITLES = {
    "sun": "Sun below the horizon",
    "after_sunset": "Hours after sunset",
    "heating_season": "Heating season",
}


def _time_checks(
    when: datetime | None, lat: float | None, lon: float | None, c: ConditionsConfig
) -> list[CheckResult]:
    if when is None or lat is None or lon is None:
        reason = "capture time or position unknown"
        return [
            CheckResult.skipped(f"conditions.{rule}", title, reason) for rule, title in _TIME_TITLES.items()
        ]
    t = utc(when)
    sun = sun_position(t, lat, lon)
    since = hours_since_sunset(t, lat, lon)
    until = hours_until_sunrise(t, lat, lon)
    phase = daylight_phase(sun.elevation)
    figures: dict[str, object] = {
        "capture_utc": t.isoformat(),
        "capture_local": local_text(t),  # for the report's readers: Copenhagen time
        "sun_elevation_deg": round(sun.elevation, 3),
        "sun_azimuth_deg": round(sun.azimuth, 3),
        "phase": phase,
        "hours_since_sunset": since,
        "hours_until_sunrise": until,
    }
    sun_ok = sun.elevation <= c.max_sun_elevation_deg
    after_ok = since is not None and since >= c.min_hours_after_sunset
    return [
        _rule(
            "sun",
            _TIME_TITLES["sun"],
            sun_ok,
            c,
            figures,
            f"sun elevation {sun.elevation:.2f}° ({phase})",
        ),
        _rule(
            "after_sunset",
            _TIME_TITLES["after_sunset"],
            after_ok,
            c,
            figures,
            "sun is up"
            if since is None
            else f"{since:.2f} h after sunset (need ≥ {c.min_hours_after_sunset:g} h)",
        ),
        _rule(
            "heating_season",
            _TIME_TITLES["heating_season"],
            t.month in c.heating_months,
            c,
            {"month": t.month, "heating_months": list(c.heating_months)},
            f"captured in month {t.month}",
        ),
    ]


def evaluate_conditions(
    measured: Measured,
    when: datetime | None,
    lat: float | None,
    lon: float | None,
    config: ConditionsConfig | None = None,
) -> list[CheckResult]:
    """Every thermography-condition check for one flight.

    Args:
        measured: Logged weather and indoor values.
        when: Capture time (the flight's first capture; naive = UTC).
        lat: Latitude of the flight (WGS 84 degrees).
        lon: Longitude (east positive).
        config: Thresholds and severities.
    """
    c = config or ConditionsConfig()
    return _measured_checks(measured, c) + _time_checks(when, lat, lon, c)


class Gate(Frozen):
    """The thermal publication gate: failed, why, and a recorded override."""

    failed: bool
    reason: str | None = None
    override: str | None = None

    @property
    def blocked(self) -> bool:
        """True when the thermal layer must not be published."""
        return self.failed and not self.override


def gate(checks: list[CheckResult], override: str | None = None) -> Gate:
    """Close the gate when any conditions check failed; an override needs a non-empty reason.

    Raises:
        QAError: when the override reason is blank.
    """
    if override is not None and not override.strip():
        raise QAError("overriding the thermal gate needs a reason")
    failed = [c for c in checks if c.id.startswith("conditions.") and c.status == "fail"]
    if not failed:
        return Gate(failed=False)
    reason = "; ".join(f"{c.title}: {c.message}" for c in failed)
    return Gate(failed=True, reason=reason, override=override.strip() if override else None)
