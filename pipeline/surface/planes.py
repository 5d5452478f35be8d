"""Planes z = z0 + sx·(x − x0) + sy·(y − y0): least squares, robust fits and orientation.

Coordinates are projected metres, x east and y north (a north-up raster's cell centres
in world coordinates). The fit is centred on (x0, y0), the mean of the points, which
keeps the normal equations well conditioned at UTM magnitudes (x ~ 5·10⁵, y ~ 6·10⁶).

:func:`fit_plane_robust` is iteratively reweighted least squares with Tukey's biweight
(c = 4.685, 95 % efficiency under Gaussian errors) on a scale of 1.4826 × the median
absolute residual (a consistent estimate of σ for Gaussian residuals). Points whose
residual exceeds c × scale get weight 0 and are reported as outliers; that keeps a
truck, a fence post or a stray block on a stockpile's toe line out of the base plane.
(Huber, *Robust Statistics*, 1981; Holland & Welsch, "Robust regression using
iteratively reweighted least-squares", Comm. Stat. 6(9), 1977.)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import SurfaceFitError

TUKEY_C = 4.685
"""Tukey biweight tuning constant (95 % asymptotic efficiency for Gaussian errors)."""
MAD_TO_SIGMA = 1.4826
"""1 / Φ⁻¹(3/4): turns a median absolute deviation into a Gaussian σ."""
SCALE_FLOOR_M = 1e-6
"""Smallest residual scale considered (a micrometre; float32 heights are coarser)."""


class Plane(NamedTuple):
    """The plane z = z0 + sx·(x − x0) + sy·(y − y0) (metres; sx, sy dimensionless).

    Example:
        >>> Plane(0.0, 0.0, 10.0, 0.1, 0.0).at(2.0, 5.0)
        10.2
    """

    x0: float
    y0: float
    z0: float
    sx: float
    sy: float

    def at(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64] | float:
        """Height of the plane at (x, y)."""
        value = (
            self.z0
            + self.sx * (np.asarray(x, np.float64) - self.x0)
            + self.sy * (np.asarray(y, np.float64) - self.y0)
        )
        return float(value) if np.ndim(value) == 0 else np.asarray(value, np.float64)

    @property
    def slope_deg(self) -> float:
        """Inclination from the horizontal, degrees."""
        return orientation(self.sx, self.sy)[0]

    @property
    def aspect_deg(self) -> float:
        """Downslope direction, degrees clockwise from north (NaN for a level plane)."""
        return orientation(self.sx, self.sy)[1]


class PlaneFit(NamedTuple):
    """A fitted plane and what its residuals say about it."""

    plane: Plane
    n: int
    """Points offered to the fit."""
    n_used: int
    """Points with a non-zero weight (the inliers)."""
    rmse_m: float
    """Root mean square residual of the inliers."""
    max_abs_residual_m: float
    """Largest absolute residual among the inliers."""
    scale_m: float
    """Residual standard deviation of the inliers (n_used − 3 degrees of freedom)."""
    cov_unscaled: tuple[float, ...]
    """(XᵀX)⁻¹ of the inliers' centred design [1, x − x0, y − y0], row-major 3×3."""

    @property
    def n_outliers(self) -> int:
        """Points the robust fit gave weight 0."""
        return self.n - self.n_used

    def mean_height_error(self, x_mean: float, y_mean: float) -> float:
        """Standard error of the plane's mean height over an area whose centroid is (x_mean, y_mean).

        The mean of a plane over any area is its height at the area's centroid, a linear
        function gᵀβ of the parameters with g = (1, x̄ − x0, ȳ − y0); its variance is
        s²·gᵀ(XᵀWX)⁻¹g.
        """
        g = np.array([1.0, x_mean - self.plane.x0, y_mean - self.plane.y0])
        cov = np.asarray(self.cov_unscaled, np.float64).reshape(3, 3)
        return float(self.scale_m * math.sqrt(max(float(g @ cov @ g), 0.0)))


def orientation(sx: float, sy: float) -> tuple[float, float]:
    """Slope and aspect of a plane with gradient (sx, sy) = (∂z/∂x, ∂z/∂y).

    Slope is atan(|∇z|) in degrees. Aspect is the direction the plane faces (downslope,
    −∇z), in degrees clockwise from north: atan2(−sx, −sy), in [0, 360); NaN when level.

    Example:
        >>> orientation(-1.0, 0.0)  # falls towards the east
        (45.0, 90.0)
    """
    gradient = math.hypot(sx, sy)
    slope = math.degrees(math.atan(gradient))
    if gradient < 1e-12:
        return slope, math.nan
    return slope, math.degrees(math.atan2(-sx, -sy)) % 360.0


def _design(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.float64], float, float]:
    x0, y0 = float(np.mean(x)), float(np.mean(y))
    return np.column_stack([np.ones_like(x), x - x0, y - y0]), x0, y0


def _weighted_solve(
    design: NDArray[np.float64], z: NDArray[np.float64], w: NDArray[np.float64], what: str
) -> NDArray[np.float64]:
    """β minimising Σ wᵢ(zᵢ − xᵢᵀβ)².

    Raises:
        SurfaceFitError: the weighted points do not span a plane.
    """
    normal = design.T @ (design * w[:, None])
    if np.linalg.cond(normal) > 1e12:
        raise SurfaceFitError(f"{what}: the points are collinear or too few to define a plane")
    solution: NDArray[np.float64] = np.linalg.solve(normal, design.T @ (w * z))
    return solution


def _as_points(x: ArrayLike, y: ArrayLike, z: ArrayLike, what: str) -> tuple[NDArray[np.float64], ...]:
    xs, ys, zs = (np.asarray(a, np.float64).ravel() for a in (x, y, z))
    if not xs.size == ys.size == zs.size:
        raise SurfaceFitError(f"{what}: x, y and z differ in length ({xs.size}, {ys.size}, {zs.size})")
    finite = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(zs)
    if int(finite.sum()) < 3:
        raise SurfaceFitError(f"{what}: {int(finite.sum())} valid points; a plane needs at least 3")
    return xs[finite], ys[finite], zs[finite]


def _summarise(
    beta: NDArray[np.float64],
    design: NDArray[np.float64],
    residuals: NDArray[np.float64],
    w: NDArray[np.float64],
    origin: tuple[float, float],
) -> PlaneFit:
    """The fit's figures over its inliers, with an unweighted inlier covariance."""
    used = w > 0
    r = residuals[used]
    dof = max(int(used.sum()) - 3, 1)
    scale = math.sqrt(float(np.sum(r**2)) / dof)
    inverse = np.linalg.pinv(design[used].T @ design[used])
    return PlaneFit(
        plane=Plane(origin[0], origin[1], float(beta[0]), float(beta[1]), float(beta[2])),
        n=int(residuals.size),
        n_used=int(used.sum()),
        rmse_m=float(np.sqrt(np.mean(r**2))),
        max_abs_residual_m=float(np.max(np.abs(r))),
        scale_m=scale,
        cov_unscaled=tuple(float(v) for v in inverse.ravel()),
    )


def fit_plane(x: ArrayLike, y: ArrayLike, z: ArrayLike, *, what: str = "plane fit") -> PlaneFit:
    """Ordinary least-squares plane through the finite points (x, y, z).

    Raises:
        SurfaceFitError: fewer than 3 finite points, or all of them on one line.
    """
    xs, ys, zs = _as_points(x, y, z, what)
    design, x0, y0 = _design(xs, ys)
    w = np.ones_like(zs)
    beta = _weighted_solve(design, zs, w, what)
    return _summarise(beta, design, zs - design @ beta, w, (x0, y0))


def fit_plane_robust(
    x: ArrayLike,
    y: ArrayLike,
    z: ArrayLike,
    *,
    c: float = TUKEY_C,
    max_iter: int = 50,
    what: str = "plane fit",
) -> PlaneFit:
    """Plane through (x, y, z) by IRLS with Tukey's biweight; outliers get weight 0.

    Starts from the least-squares plane and reweights until the parameters change by
    less than a nanometre (or ``max_iter``). The reported RMSE, maximum residual and
    scale are those of the inliers; :attr:`PlaneFit.n_outliers` counts the rest.

    Raises:
        SurfaceFitError: fewer than 3 finite points, collinear points, or fewer than 3
            inliers left.
    """
    xs, ys, zs = _as_points(x, y, z, what)
    design, x0, y0 = _design(xs, ys)
    w = np.ones_like(zs)
    beta = _weighted_solve(design, zs, w, what)
    for _ in range(max_iter):
        residuals = zs - design @ beta
        scale = max(MAD_TO_SIGMA * float(np.median(np.abs(residuals))), SCALE_FLOOR_M)
        u = residuals / (c * scale)
        w = np.where(np.abs(u) < 1.0, (1.0 - u**2) ** 2, 0.0)
        if int(np.count_nonzero(w)) < 3:
            raise SurfaceFitError(f"{what}: fewer than 3 inliers after robust reweighting")
        new_beta = _weighted_solve(design, zs, w, what)
        done = bool(np.all(np.abs(new_beta - beta) < 1e-9))
        beta = new_beta
        if done:
            break
    return _summarise(beta, design, zs - design @ beta, w, (x0, y0))
