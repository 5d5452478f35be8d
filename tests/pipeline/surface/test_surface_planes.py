"""Planes, orientation and sloped area: plain numbers with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine

from core.errors import SurfaceFitError
from pipeline.surface import (
    cell_centres,
    fit_plane,
    fit_plane_robust,
    grid_gradient,
    orientation,
    surface_factor,
)


@pytest.mark.parametrize(
    ("sx", "sy", "slope", "aspect"),
    [
        (-1.0, 0.0, 45.0, 90.0),  # falls towards the east
        (1.0, 0.0, 45.0, 270.0),  # falls towards the west
        (0.0, -math.tan(math.radians(30)), 30.0, 0.0),  # falls towards the north
        (0.0, math.tan(math.radians(30)), 30.0, 180.0),  # falls towards the south
        (-0.1, -0.1, math.degrees(math.atan(math.sqrt(0.02))), 45.0),  # north-east
    ],
)
def test_orientation_clockwise_from_north(sx: float, sy: float, slope: float, aspect: float) -> None:
    got_slope, got_aspect = orientation(sx, sy)
    assert got_slope == pytest.approx(slope, abs=1e-9)
    assert got_aspect == pytest.approx(aspect, abs=1e-9)


def test_level_plane_has_no_aspect() -> None:
    assert math.isnan(orientation(0.0, 0.0)[1])


def test_least_squares_recovers_a_plane_at_utm_magnitudes() -> None:
    rng = np.random.default_rng(1)
    x = 560_000 + rng.uniform(0, 100, 500)
    y = 6_215_000 + rng.uniform(0, 100, 500)
    z = 50 + 0.05 * (x - 560_000) - 0.03 * (y - 6_215_000)
    fit = fit_plane(x, y, z)
    assert (fit.plane.sx, fit.plane.sy) == pytest.approx((0.05, -0.03), abs=1e-9)
    assert fit.plane.at(560_010.0, 6_215_020.0) == pytest.approx(50 + 0.5 - 0.6, abs=1e-9)
    assert fit.rmse_m < 1e-9


def test_robust_fit_ignores_outliers_and_counts_them() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 50, 400), rng.uniform(0, 50, 400)
    z = 10 + 0.2 * x + rng.normal(0, 0.02, 400)
    z[:20] += 3.0  # a truck parked on the toe line
    plain, robust = fit_plane(x, y, z), fit_plane_robust(x, y, z)
    assert robust.n_outliers == 20
    assert robust.plane.sx == pytest.approx(0.2, abs=2e-3)
    assert robust.rmse_m == pytest.approx(0.02, rel=0.2)
    assert abs(plain.plane.z0 - robust.plane.z0) > 0.1  # least squares is pulled up by the truck


def test_standard_error_of_the_mean_height_matches_sigma_over_root_n() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    x, y = rng.uniform(-10, 10, n), rng.uniform(-10, 10, n)
    fit = fit_plane(x, y, 5 + rng.normal(0, 0.1, n))
    # at the centroid of the points the plane's height is their mean: σ/sqrt(n)
    assert fit.mean_height_error(float(x.mean()), float(y.mean())) == pytest.approx(
        0.1 / math.sqrt(n), rel=0.1
    )


@pytest.mark.parametrize("points", [[(0, 0, 1), (1, 1, 2)], [(0, 0, 1), (1, 1, 2), (2, 2, 3), (3, 3, 4)]])
def test_too_few_or_collinear_points_are_refused(points: list[tuple[float, float, float]]) -> None:
    x, y, z = zip(*points, strict=True)
    with pytest.raises(SurfaceFitError, match="plane"):
        fit_plane(x, y, z, what="polygon A: base plane")


def test_gradient_and_sloped_area_of_a_tilted_grid() -> None:
    t = Affine(0.5, 0, 1000, 0, -0.5, 2000)
    x, y = cell_centres(t, (20, 30))
    z = 3 - 0.4 * x + 0.3 * y
    gx, gy = grid_gradient(z, t.a, t.e)
    assert np.allclose(gx, -0.4) and np.allclose(gy, 0.3)
    assert np.allclose(surface_factor(z, t.a, t.e), math.sqrt(1 + 0.16 + 0.09))


def test_sloped_area_next_to_nodata_uses_one_sided_differences() -> None:
    t = Affine(1, 0, 0, 0, -1, 10)
    x, _ = cell_centres(t, (5, 5))
    z = 2.0 * x
    z[2, 2] = np.nan
    factor = surface_factor(z, t.a, t.e)
    assert np.isnan(factor[2, 2])
    assert np.allclose(factor[np.isfinite(z)], math.sqrt(5.0))
