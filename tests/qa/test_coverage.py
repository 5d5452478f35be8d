"""Coverage: covered share, holes as polygons, overlap counts, frames outside an area."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from qa.coverage import coverage, coverage_check, outside_check, overlap_check, overlap_map

FEET = {"a": box(0, 0, 60, 100), "b": box(40, 0, 100, 100), "c": box(300, 300, 310, 310)}
AOI = box(0, 0, 100, 120)


def test_covered_share_and_hole() -> None:
    cov = coverage(FEET, AOI)
    assert cov.covered_fraction == pytest.approx(100 * 100 / (100 * 120))
    assert len(cov.holes) == 1 and cov.holes[0].area == pytest.approx(100 * 20)
    assert cov.outside_aoi == ["c"]


def test_overlap_counts() -> None:
    omap = overlap_map({"a": FEET["a"], "b": FEET["b"]}, cell_m=1.0)
    assert omap.counts.max() == 2
    assert int((omap.counts == 2).sum()) == 20 * 100
    check, _ = overlap_check({"a": FEET["a"], "b": FEET["b"]})
    assert check.status == "warn"  # 80 % of the area seen by one frame only
    assert check.figures["max"] == 2


def test_coverage_check_thresholds() -> None:
    assert coverage_check(FEET, AOI).status == "fail"  # 83 %
    assert coverage_check(FEET, box(0, 0, 100, 105)).status == "warn"  # 95.2 %
    assert coverage_check(FEET, box(1, 1, 99, 99)).status == "pass"
    assert coverage_check(FEET, None).status == "skip"


def test_frames_outside_the_municipality() -> None:
    town = box(-10, -10, 200, 200)
    result = outside_check(FEET, town)
    assert result.status == "fail" and result.figures["entirely_outside"] == ["c"]
    assert outside_check({"a": FEET["a"]}, town).status == "pass"
    assert outside_check(FEET, None).status == "skip"
