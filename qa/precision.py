"""Positional accuracy against independent check points (pure math, no I/O).

Formulas from REFERENCE.md §1: RMSE divides by n; RMSE_r = hypot(RMSE_x, RMSE_y);
NSSDA 95 % = 1.7308·RMSE_r and 1.96·RMSE_z; CE90 = 1.5175·RMSE_r; LE90 = 1.6449·RMSE_z;
ASPRS Edition 2 adds the check-point survey error per axis, requires 30 check points,
flags blunders above 3× the per-axis target and bias above 25 % of the class.

Errors are ``product − survey`` in metres.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from core.models import Frozen
from pipeline.models.accuracy import CE90_FACTOR, LE90_FACTOR, NSSDA_H95, NSSDA_V95
from qa.models import Status

ASPRS_MIN_CHECKPOINTS = 30
BLUNDER_FACTOR = 3.0
BIAS_FRACTION = 0.25

DEFAULT_TOLERANCE_GSD: Mapping[str, tuple[float, float]] = {
    # purpose -> (horizontal, vertical) tolerance as multiples of the product GSD (REFERENCE §1.7)
    "survey": (2.5, 4.0),
    "building-inspection": (2.5, 4.0),
    "nature-monitoring": (5.0, 8.0),
    "other": (2.5, 4.0),
}
#: The largest vertical tolerance (RMSE_V, metres) of any product. A multiple of a coarse grid's cell
#: would let a geoid-sized error pass (4 × a 16 m DTM cell = 64 m, while ellipsoidal and DVR90 heights
#: differ by N ≈ 36-42 m in Denmark); 1 m is still several times the few-decimetre vertical error
#: of a drone DSM with GCPs or of a Danish terrain model.
VERTICAL_TOLERANCE_CAP_M = 1.0


class PointError(NamedTuple):
    """Error of one check point: product − survey (metres); ``dz`` None when not measured.

    >>> PointError("CHK1", 0.03, -0.04, None).dh
    0.05
    """

    name: str
    dx: float
    dy: float
    dz: float | None = None

    @property
    def dh(self) -> float:
        """Horizontal error length."""
        return round(math.hypot(self.dx, self.dy), 12)


class Accuracy(Frozen):
    """Accuracy figures of one product against its check points (metres)."""

    n: int
    n_z: int
    rmse_x: float
    rmse_y: float
    rmse_r: float
    rmse_z: float | None
    rmse_3d: float | None
    mean_x: float
    mean_y: float
    mean_z: float | None
    std_x: float
    std_y: float
    std_z: float | None
    nssda_h95: float
    nssda_h95_unequal: float | None
    nssda_v95: float | None
    ce90: float
    le90: float | None
    survey_sigma_h: float
    survey_sigma_v: float
    asprs_rmse_h: float
    asprs_rmse_v: float | None
    horizontal_class: float | None
    vertical_class: float | None
    horizontal_class_met: bool | None
    vertical_class_met: bool | None
    count_warning: str | None
    blunders: tuple[str, ...]
    bias_axes: tuple[str, ...]


def rmse(values: Sequence[float]) -> float:
    """Root mean square, dividing by n (not n − 1)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("RMSE of an empty set of errors")
    return float(np.sqrt(np.mean(arr**2)))


def asprs_rmse_h(rmse_x: float, rmse_y: float, sigma_x: float = 0.0, sigma_y: float | None = None) -> float:
    """ASPRS Edition 2 horizontal RMSE including the survey error per axis (geoprims form).

    >>> round(asprs_rmse_h(0.04, 0.03, 0.01), 5)
    0.05196
    """
    sy = sigma_x if sigma_y is None else sigma_y
    return math.hypot(math.sqrt(rmse_x**2 + sigma_x**2), math.sqrt(rmse_y**2 + sy**2))


def asprs_rmse_v(rmse_z: float, sigma_z: float = 0.0) -> float:
    """ASPRS Edition 2 vertical RMSE including the survey error (Table 7.4).

    >>> round(asprs_rmse_v(0.01, 0.02), 4)
    0.0224
    """
    return math.hypot(rmse_z, sigma_z)


def nssda_unequal(rmse_x: float, rmse_y: float) -> float | None:
    """NSSDA Appendix 3-A estimate 2.4477·½(RMSE_x + RMSE_y), when RMSE_min/RMSE_max is 0.6–1.0.

    REFERENCE.md §1.4 marks this rule [U]; it is reported beside the 1.7308·RMSE_r figure.

    >>> round(nssda_unequal(0.04, 0.03), 5)
    0.08567
    """
    low, high = sorted((rmse_x, rmse_y))
    if high == 0 or low / high < 0.6:
        return None
    return 2.4477 * 0.5 * (rmse_x + rmse_y)


def required_checkpoints(area_km2: float) -> int:
    """Check points ASPRS Edition 2 Annex C asks for one land-cover class of ``area_km2``.

    30 up to 500 km², then 5 more per started 250 km², at most 120.

    >>> required_checkpoints(1000), required_checkpoints(500)
    (40, 30)
    """
    if area_km2 <= 500:
        return ASPRS_MIN_CHECKPOINTS
    return min(120, ASPRS_MIN_CHECKPOINTS + 5 * math.ceil((area_km2 - 500) / 250))


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    return float(np.sqrt(np.mean(values**2))), float(np.mean(values)), float(np.std(values))


def _flags(
    errors: Sequence[PointError], h_class: float | None, v_class: float | None
) -> tuple[tuple[str, ...], float, float]:
    """Blunder names and the per-axis targets (inf when no class is set)."""
    axis_target = h_class / math.sqrt(2) if h_class else math.inf
    v_target = v_class if v_class else math.inf
    names = []
    for e in errors:
        over_h = max(abs(e.dx), abs(e.dy)) > BLUNDER_FACTOR * axis_target
        over_v = e.dz is not None and abs(e.dz) > BLUNDER_FACTOR * v_target
        if over_h or over_v:
            names.append(e.name)
    return tuple(names), axis_target, v_target


def count_warning(n: int, min_count: int) -> str | None:
    """A warning when fewer than ``min_count`` check points were measured."""
    if n < min_count:
        return f"{n} check points; ASPRS Edition 2 asks for at least {min_count}"
    return None


def _bias_axes(
    means: tuple[float, float, float | None], h_class: float | None, v_class: float | None
) -> tuple[str, ...]:
    """Axes whose mean error exceeds ``BIAS_FRACTION`` of the class (x, y: horizontal; z: vertical)."""
    mx, my, mz = means
    bias: list[str] = []
    if h_class:
        bias += [axis for axis, m in (("x", mx), ("y", my)) if abs(m) > BIAS_FRACTION * h_class]
    if v_class and mz is not None and abs(mz) > BIAS_FRACTION * v_class:
        bias.append("z")
    return tuple(bias)


def accuracy(
    errors: Sequence[PointError],
    *,
    survey_sigma_h: float = 0.0,
    survey_sigma_v: float = 0.0,
    horizontal_class: float | None = None,
    vertical_class: float | None = None,
    min_count: int = ASPRS_MIN_CHECKPOINTS,
) -> Accuracy:
    """Every accuracy figure of one product.

    Args:
        errors: Per-point errors (product − survey), metres.
        survey_sigma_h: RMSE of the check-point survey per horizontal axis.
        survey_sigma_v: RMSE of the check-point survey in height.
        horizontal_class: ASPRS Edition 2 horizontal class (an RMSE_H, metres) to test.
        vertical_class: ASPRS Edition 2 vertical class (an RMSE_V, metres) to test.
        min_count: Check points required before the count warning disappears.

    Raises:
        ValueError: when ``errors`` is empty.
    """
    if not errors:
        raise ValueError("no check-point errors to evaluate")
    dx = np.array([e.dx for e in errors], dtype=np.float64)
    dy = np.array([e.dy for e in errors], dtype=np.float64)
    dz = np.array([e.dz for e in errors if e.dz is not None], dtype=np.float64)
    rx, mx, sx = _stats(dx)
    ry, my, sy = _stats(dy)
    rz, mz, sz = _stats(dz) if dz.size else (None, None, None)
    rr = math.hypot(rx, ry)
    h2 = asprs_rmse_h(rx, ry, survey_sigma_h)
    v2 = asprs_rmse_v(rz, survey_sigma_v) if rz is not None else None
    blunders, _, _ = _flags(errors, horizontal_class, vertical_class)
    bias = _bias_axes((mx, my, mz), horizontal_class, vertical_class)
    return Accuracy(
        n=len(errors),
        n_z=int(dz.size),
        rmse_x=rx,
        rmse_y=ry,
        rmse_r=rr,
        rmse_z=rz,
        rmse_3d=math.hypot(h2, v2) if v2 is not None else None,
        mean_x=mx,
        mean_y=my,
        mean_z=mz,
        std_x=sx,
        std_y=sy,
        std_z=sz,
        nssda_h95=NSSDA_H95 * rr,
        nssda_h95_unequal=nssda_unequal(rx, ry),
        nssda_v95=NSSDA_V95 * rz if rz is not None else None,
        ce90=CE90_FACTOR * rr,
        le90=LE90_FACTOR * rz if rz is not None else None,
        survey_sigma_h=survey_sigma_h,
        survey_sigma_v=survey_sigma_v,
        asprs_rmse_h=h2,
        asprs_rmse_v=v2,
        horizontal_class=horizontal_class,
        vertical_class=vertical_class,
        horizontal_class_met=None if horizontal_class is None else h2 <= horizontal_class,
        vertical_class_met=None if vertical_class is None or v2 is None else v2 <= vertical_class,
        count_warning=count_warning(len(errors), min_count),
        blunders=blunders,
        bias_axes=bias,
    )


class Tolerance(NamedTuple):
    """Pass/fail limits on RMSE_H and RMSE_V (metres), with where they came from."""

    horizontal: float
    vertical: float | None
    source: str


def tolerance_for(
    gsd_m: float,
    purpose: str = "other",
    multiples: Mapping[str, tuple[float, float]] = DEFAULT_TOLERANCE_GSD,
) -> Tolerance:
    """Tolerance as a multiple of the product GSD for a flight purpose; vertical at most 1 m.

    >>> tolerance_for(0.1, "survey")
    Tolerance(horizontal=0.25, vertical=0.4, source='2.5×GSD horizontal, 4×GSD vertical (survey)')
    >>> tolerance_for(16.0).vertical
    1.0
    """
    if gsd_m <= 0 or not math.isfinite(gsd_m):
        raise ValueError(f"GSD must be a positive number of metres, got {gsd_m!r}")
    h, v = multiples.get(purpose, multiples.get("other", (2.5, 4.0)))
    vertical = round(v * gsd_m, 12)
    source = f"{h:g}×GSD horizontal, {v:g}×GSD vertical ({purpose})"
    if vertical > VERTICAL_TOLERANCE_CAP_M:
        vertical = VERTICAL_TOLERANCE_CAP_M
        source += f", vertical capped at {VERTICAL_TOLERANCE_CAP_M:g} m"
    return Tolerance(round(h * gsd_m, 12), vertical, source)


def verdict(acc: Accuracy, tolerance: Tolerance) -> tuple[Status, str]:
    """``(status, message)`` of an accuracy against a tolerance.

    Fails when RMSE_H (or RMSE_V, when heights were measured and a vertical tolerance is
    set) exceeds the tolerance or a blunder was flagged; warns on too few check points
    or bias; passes otherwise.
    """
    problems = []
    if acc.asprs_rmse_h > tolerance.horizontal:
        problems.append(
            f"RMSE_H {acc.asprs_rmse_h:.3f} m > {tolerance.horizontal:.3f} m ({tolerance.source})"
        )
    if (
        tolerance.vertical is not None
        and acc.asprs_rmse_v is not None
        and acc.asprs_rmse_v > tolerance.vertical
    ):
        problems.append(f"RMSE_V {acc.asprs_rmse_v:.3f} m > {tolerance.vertical:.3f} m")
    if acc.blunders:
        problems.append(f"blunders at {', '.join(acc.blunders)}")
    if problems:
        return "fail", "; ".join(problems)
    notes = [w for w in (acc.count_warning,) if w]
    if acc.bias_axes:
        notes.append(f"bias on axis {', '.join(acc.bias_axes)}")
    summary = f"RMSE_H {acc.asprs_rmse_h:.3f} m ≤ {tolerance.horizontal:.3f} m ({tolerance.source})"
    if notes:
        return "warn", summary + "; " + "; ".join(notes)
    return "pass", summary


def error_table(errors: Sequence[PointError]) -> list[dict[str, object]]:
    """Per-point errors as JSON-ready rows."""
    return [{"name": e.name, "dx": e.dx, "dy": e.dy, "dz": e.dz, "dh": e.dh} for e in errors]


class VerticalAccuracy(Frozen):
    """Vertical accuracy of an elevation product (DSM/DTM) at check points (metres)."""

    n: int
    rmse_z: float
    mean_z: float
    std_z: float
    nssda_v95: float
    le90: float
    survey_sigma_v: float
    asprs_rmse_v: float
    vertical_class: float | None
    vertical_class_met: bool | None
    count_warning: str | None
    blunders: tuple[str, ...]
    bias: bool


def vertical_accuracy(
    errors: Sequence[tuple[str, float]],
    *,
    survey_sigma_v: float = 0.0,
    vertical_class: float | None = None,
    min_count: int = ASPRS_MIN_CHECKPOINTS,
) -> VerticalAccuracy:
    """Vertical figures from ``(name, dz)`` pairs (product − survey).

    Raises:
        ValueError: when ``errors`` is empty.
    """
    if not errors:
        raise ValueError("no vertical check-point errors to evaluate")
    dz = np.array([e for _, e in errors], dtype=np.float64)
    rz, mz, sz = _stats(dz)
    v2 = asprs_rmse_v(rz, survey_sigma_v)
    limit = BLUNDER_FACTOR * vertical_class if vertical_class else math.inf
    return VerticalAccuracy(
        n=len(errors),
        rmse_z=rz,
        mean_z=mz,
        std_z=sz,
        nssda_v95=NSSDA_V95 * rz,
        le90=LE90_FACTOR * rz,
        survey_sigma_v=survey_sigma_v,
        asprs_rmse_v=v2,
        vertical_class=vertical_class,
        vertical_class_met=None if vertical_class is None else v2 <= vertical_class,
        count_warning=count_warning(len(errors), min_count),
        blunders=tuple(name for name, e in errors if abs(e) > limit),
        bias=bool(vertical_class and abs(mz) > BIAS_FRACTION * vertical_class),
    )


def vertical_verdict(acc: VerticalAccuracy) -> tuple[Status, str]:
    """``(status, message)`` of a vertical accuracy against its class (the vertical tolerance)."""
    summary = f"RMSE_V {acc.asprs_rmse_v:.3f} m"
    if acc.vertical_class is not None:
        summary += f" vs {acc.vertical_class:.3f} m"
    if acc.vertical_class_met is False or acc.blunders:
        extra = f"; blunders at {', '.join(acc.blunders)}" if acc.blunders else ""
        return "fail", summary + extra
    notes = [n for n in (acc.count_warning, "bias" if acc.bias else None) if n]
    return ("warn", summary + "; " + "; ".join(notes)) if notes else ("pass", summary)
