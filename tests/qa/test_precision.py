"""ASPRS / NSSDA figures: REFERENCE.md §1.5 worked examples reproduced exactly."""

from __future__ import annotations

import math

import pytest

from qa.precision import (
    PointError,
    accuracy,
    asprs_rmse_h,
    asprs_rmse_v,
    required_checkpoints,
    rmse,
    tolerance_for,
    verdict,
)


@pytest.mark.parametrize(("fit_cm", "expected_cm"), [(1.0, 2.24), (2.0, 2.83), (5.0, 5.39), (10.0, 10.20)])
def test_edition2_table_7_4_vertical(fit_cm: float, expected_cm: float) -> None:
    assert round(asprs_rmse_v(fit_cm / 100, 0.02) * 100, 2) == expected_cm


def test_edition2_horizontal_example_fails_5cm_class() -> None:
    # RMSE_x 4 cm, RMSE_y 3 cm: errors ±4 / ±3 cm give exactly those RMSEs
    errors = [PointError(f"P{i}", s * 0.04, s * 0.03) for i, s in enumerate([1, -1] * 15)]
    acc = accuracy(errors, survey_sigma_h=0.01, horizontal_class=0.05)
    assert round(acc.asprs_rmse_h * 100, 3) == 5.196
    assert acc.horizontal_class_met is False
    # the same fit in 2014 terms, without the survey error
    assert round(acc.rmse_r * 100, 2) == 5.00
    assert round(acc.nssda_h95 * 100, 2) == 8.65
    assert round(acc.ce90 * 100, 2) == 7.59
    assert acc.count_warning is None
    assert math.isclose(acc.mean_x, 0.0, abs_tol=1e-15)


def test_checkpoint_count_annex_c() -> None:
    assert required_checkpoints(1000) == 40
    assert required_checkpoints(500) == 30
    assert required_checkpoints(1000) + required_checkpoints(500) == 70
    assert required_checkpoints(2500) == 70


def test_geoprims_per_axis_survey_error() -> None:
    assert asprs_rmse_h(0.04, 0.03, 0.01) == pytest.approx(math.sqrt(0.0016 + 0.0001 + 0.0009 + 0.0001))


def test_rmse_divides_by_n() -> None:
    assert rmse([3.0, 4.0]) == pytest.approx(math.sqrt(12.5))
    with pytest.raises(ValueError, match="empty"):
        rmse([])


def test_bias_std_le90_and_3d() -> None:
    errors = [PointError("A", 0.1, 0.0, 0.2), PointError("B", 0.3, 0.0, 0.4)]
    acc = accuracy(errors, horizontal_class=0.5, vertical_class=1.0, min_count=30)
    assert acc.mean_x == pytest.approx(0.2)
    assert acc.std_x == pytest.approx(0.1)
    assert acc.rmse_x**2 == pytest.approx(acc.mean_x**2 + acc.std_x**2)
    assert acc.rmse_z == pytest.approx(math.sqrt(0.1))
    assert acc.le90 == pytest.approx(1.6449 * math.sqrt(0.1))
    assert acc.nssda_v95 == pytest.approx(1.96 * math.sqrt(0.1))
    assert acc.rmse_3d == pytest.approx(math.hypot(acc.asprs_rmse_h, acc.asprs_rmse_v))
    assert acc.count_warning is not None and "30" in acc.count_warning
    # bias: |mean_x| 0.2 > 25 % of 0.5 ; |mean_z| 0.3 > 0.25
    assert acc.bias_axes == ("x", "z")


def test_blunder_is_three_times_the_per_axis_target() -> None:
    h_class = 0.10
    limit = 3 * h_class / math.sqrt(2)
    errors = [PointError("ok", limit - 1e-6, 0.0), PointError("bad", 0.0, -(limit + 1e-6))]
    acc = accuracy(errors, horizontal_class=h_class)
    assert acc.blunders == ("bad",)


def test_tolerance_is_a_multiple_of_gsd_per_purpose() -> None:
    tol = tolerance_for(0.1157, "survey")
    assert tol.horizontal == pytest.approx(2.5 * 0.1157)
    assert tolerance_for(0.1, "nature-monitoring").horizontal == pytest.approx(0.5)
    with pytest.raises(ValueError, match="GSD"):
        tolerance_for(0.0)


def test_verdict_pass_warn_fail() -> None:
    tol = tolerance_for(0.1)  # 0.25 m
    biased = accuracy([PointError(f"P{i}", 0.07, -0.07) for i in range(30)], horizontal_class=tol.horizontal)
    status, message = verdict(biased, tol)
    assert (status, biased.bias_axes) == ("warn", ("x", "y")) and "bias" in message
    good = accuracy([PointError(f"P{i}", s * 0.05, -s * 0.05) for i, s in enumerate([1, -1] * 15)])
    assert verdict(good, tol)[0] == "pass"
    few = accuracy([PointError("P", 0.05, 0.05)])
    assert verdict(few, tol)[0] == "warn"
    bad = accuracy([PointError(f"P{i}", s * 0.3, 0.0) for i, s in enumerate([1, -1] * 15)])
    status, message = verdict(bad, tol)
    assert status == "fail" and "0.300" in message


def test_vertical_accuracy_of_an_elevation_product() -> None:
    from qa.precision import vertical_accuracy, vertical_verdict

    acc = vertical_accuracy(
        [("A", 0.01), ("B", -0.01)], survey_sigma_v=0.02, vertical_class=0.05, min_count=2
    )
    assert round(acc.asprs_rmse_v * 100, 2) == 2.24  # Table 7.4 again, through the product path
    assert vertical_verdict(acc)[0] == "pass"
    bad = vertical_accuracy([("A", 0.3), ("B", 0.01)], vertical_class=0.05, min_count=2)
    status, message = vertical_verdict(bad)
    assert status == "fail" and "A" in message and bad.blunders == ("A",)


def test_nssda_appendix_3a_only_for_similar_axes() -> None:
    from qa.precision import nssda_unequal

    assert nssda_unequal(0.04, 0.03) == pytest.approx(2.4477 * 0.035)
    assert nssda_unequal(0.10, 0.05) is None  # ratio 0.5 < 0.6
    assert nssda_unequal(0.0, 0.0) is None
