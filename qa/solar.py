"""Sun position from time and place: the NOAA solar calculator algorithm in numpy (no network).

The equations are those of NOAA's Global Monitoring Laboratory solar calculator
spreadsheet (after Meeus, *Astronomical Algorithms*): Julian century, geometric mean
longitude and anomaly of the sun, equation of centre, apparent longitude, obliquity,
declination, equation of time, true solar time, hour angle, zenith, plus NOAA's
approximate atmospheric refraction. Accuracy is about 0.01° for dates 1800–2100.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np

SUNRISE_ELEVATION_DEG = -0.833
"""Apparent sunrise/sunset: upper limb on the horizon with standard refraction."""


class SunPosition(NamedTuple):
    """Sun elevation (refraction-corrected) and azimuth (clockwise from north), degrees."""

    elevation: float
    azimuth: float


def _julian_day(when: datetime) -> float:
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return utc.timestamp() / 86400.0 + 2440587.5


def _refraction(elev: np.ndarray) -> np.ndarray:
    """NOAA's approximate refraction correction (degrees) for a geometric elevation."""
    t = np.tan(np.radians(np.clip(elev, -89.0, 89.0)))
    high = 58.1 / t - 0.07 / t**3 + 0.000086 / t**5
    mid = 1735 + elev * (-518.2 + elev * (103.4 + elev * (-12.79 + elev * 0.711)))
    low = -20.774 / t
    corr = np.where(elev > 5, high, np.where(elev > -0.575, mid, low))
    return np.where(elev > 85, 0.0, corr / 3600.0)


def sun_position_jd(jd: np.ndarray, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised sun elevation and azimuth (degrees) for Julian days ``jd`` at lat/lon (°, east +)."""
    jc = (np.asarray(jd, dtype=np.float64) - 2451545.0) / 36525.0
    l0 = np.mod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0)
    m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc)
    e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    mr = np.radians(m)
    c = (
        np.sin(mr) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
        + np.sin(2 * mr) * (0.019993 - 0.000101 * jc)
        + np.sin(3 * mr) * 0.000289
    )
    omega = 125.04 - 1934.136 * jc
    app_long = l0 + c - 0.00569 - 0.00478 * np.sin(np.radians(omega))
    obliq0 = 23 + (26 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60
    obliq = np.radians(obliq0 + 0.00256 * np.cos(np.radians(omega)))
    decl = np.arcsin(np.sin(obliq) * np.sin(np.radians(app_long)))
    y = np.tan(obliq / 2) ** 2
    l0r = np.radians(l0)
    eq_time = 4 * np.degrees(
        y * np.sin(2 * l0r)
        - 2 * e * np.sin(mr)
        + 4 * e * y * np.sin(mr) * np.cos(2 * l0r)
        - 0.5 * y * y * np.sin(4 * l0r)
        - 1.25 * e * e * np.sin(2 * mr)
    )
    minutes_utc = np.mod((np.asarray(jd) - 0.5) * 1440.0, 1440.0)
    true_solar = np.mod(minutes_utc + eq_time + 4 * lon, 1440.0)
    hour_angle = np.where(true_solar / 4 < 0, true_solar / 4 + 180, true_solar / 4 - 180)
    latr, har = np.radians(lat), np.radians(hour_angle)
    cos_zen = np.clip(np.sin(latr) * np.sin(decl) + np.cos(latr) * np.cos(decl) * np.cos(har), -1.0, 1.0)
    zenith = np.arccos(cos_zen)
    elev = 90.0 - np.degrees(zenith)
    denom = np.cos(latr) * np.sin(zenith)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_az = np.clip((np.sin(latr) * np.cos(zenith) - np.sin(decl)) / denom, -1.0, 1.0)
    az0 = np.degrees(np.arccos(cos_az))
    azimuth = np.where(hour_angle > 0, np.mod(az0 + 180, 360), np.mod(540 - az0, 360))
    return elev + _refraction(elev), azimuth


def sun_position(when: datetime, lat: float, lon: float) -> SunPosition:
    """Sun elevation and azimuth at one time and place (naive times are UTC).

    >>> round(sun_position(datetime(2024, 6, 21, 11, 0, tzinfo=UTC), 56.05, 9.92).elevation)
    57
    """
    elev, az = sun_position_jd(np.array([_julian_day(when)]), lat, lon)
    return SunPosition(float(elev[0]), float(az[0]))


def hours_since_sunset(when: datetime, lat: float, lon: float, *, step_minutes: float = 1.0) -> float | None:
    """Hours since the sun last went below the apparent horizon; None while it is up.

    Searches the previous 24 h minute by minute; returns 24.0 when the sun stayed down
    the whole time (polar night).
    """
    return _hours_to_sun_up(when, lat, lon, step_minutes, direction=-1)


def hours_until_sunrise(when: datetime, lat: float, lon: float, *, step_minutes: float = 1.0) -> float | None:
    """Hours until the sun next rises; None while it is up; 24.0 when it stays down a day."""
    return _hours_to_sun_up(when, lat, lon, step_minutes, direction=1)


def _hours_to_sun_up(
    when: datetime, lat: float, lon: float, step_minutes: float, *, direction: int
) -> float | None:
    """Hours to the nearest minute with the sun up, searching 24 h back (-1) or ahead (+1).

    None while the sun is up at ``when``; 24.0 when it stays down the whole day.
    """
    jd0 = _julian_day(when)
    steps = np.arange(0, 24 * 60 + step_minutes, step_minutes)
    elev, _ = sun_position_jd(jd0 + direction * steps / 1440.0, lat, lon)
    if elev[0] > SUNRISE_ELEVATION_DEG:
        return None
    up = np.flatnonzero(elev > SUNRISE_ELEVATION_DEG)
    return 24.0 if up.size == 0 else float(steps[up[0]] / 60.0)


def daylight_phase(elevation: float) -> str:
    """``day``, ``civil twilight``, ``nautical twilight``, ``astronomical twilight`` or ``night``."""
    if elevation > SUNRISE_ELEVATION_DEG:
        return "day"
    if elevation > -6:
        return "civil twilight"
    if elevation > -12:
        return "nautical twilight"
    if elevation > -18:
        return "astronomical twilight"
    return "night"


def utc(when: datetime) -> datetime:
    """A datetime in UTC (naive values are taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


__all__ = [
    "SunPosition",
    "daylight_phase",
    "hours_since_sunset",
    "hours_until_sunrise",
    "sun_position",
    "sun_position_jd",
    "utc",
]
