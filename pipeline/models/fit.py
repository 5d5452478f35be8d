"""A fitted pixel -> map transform and its residuals, as products record it (``Product.georef``).

Fitted by ``pipeline.gcp`` (REFERENCE §3.2, §3.3); read by the GCP warp, QA and publication.
Pixel coordinates are GDAL's: (0, 0) is the top-left *corner* of the image.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pydantic import Field

from core.errors import GeoreferenceError
from core.models import Frozen

FloatArray = NDArray[np.float64]
Method = Literal["affine", "polynomial", "homography"]


class PointResidual(Frozen):
    """Residual of one point: map units and pixels, and the leave-one-out map residual."""

    name: str
    role: str
    dx: float
    dy: float
    dr: float
    d_px: float
    loo_dr: float | None = None


class GcpFit(Frozen):
    """A fitted pixel->map transform with its quality figures."""

    method: Method
    order: int = Field(description="polynomial order (1 for affine, 0 for homography)")
    crs: str | None = None
    forward: tuple[tuple[float, ...], ...] = Field(description="pixel->map coefficients (or 3x3 H)")
    inverse: tuple[tuple[float, ...], ...] = Field(description="map->pixel coefficients (or H⁻¹)")
    pixel_mean: tuple[float, float] = (0.0, 0.0)
    map_mean: tuple[float, float] = (0.0, 0.0)
    residuals: tuple[PointResidual, ...] = ()
    rmse_x: float = 0.0
    rmse_y: float = 0.0
    rmse_r: float = 0.0
    rmse_px: float = 0.0
    loo_rmse_r: float | None = Field(None, description="leave-one-out RMSE (None if too few points)")
    inliers: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def gcp_count(self) -> int:
        """GCPs in the fit (check points never are)."""
        return sum(r.role == "gcp" for r in self.residuals)

    def to_map(self, col: FloatArray, row: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Map coordinates of pixel positions."""
        return apply_transform(
            self.method, self.order, self.forward, (self.pixel_mean, self.map_mean), col, row
        )

    def to_pixel(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Pixel positions of map coordinates."""
        return apply_transform(self.method, self.order, self.inverse, (self.map_mean, self.pixel_mean), x, y)

    def affine(self) -> Affine:
        """The pixel->map geotransform of an affine (order 1) fit.

        Raises:
            GeoreferenceError: the fit is not affine.
        """
        if self.method == "homography" or self.order != 1:
            raise GeoreferenceError(f"a {self.method} fit of order {self.order} is not an affine transform")
        (a0, a1, a2), (b0, b1, b2) = self.forward
        (pc, pr), (mx, my) = self.pixel_mean, self.map_mean
        return Affine(a1, a2, mx + a0 - a1 * pc - a2 * pr, b1, b2, my + b0 - b1 * pc - b2 * pr)


def polynomial_terms(u: FloatArray, v: FloatArray, order: int) -> FloatArray:
    """Terms 1, u, v (order 1), u², uv, v² (2), u³, u²v, uv², v³ (3), as GDAL's ``gdal_crs.cpp``."""
    cols = [np.ones_like(u), u, v]
    if order >= 2:
        cols += [u * u, u * v, v * v]
    if order >= 3:
        cols += [u**3, u * u * v, u * v * v, v**3]
    return np.stack(cols, axis=-1)


def apply_transform(
    method: str,
    order: int,
    coef: tuple[tuple[float, ...], ...],
    means: tuple[tuple[float, float], tuple[float, float]],
    a: FloatArray,
    b: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Evaluate a fit's coefficients (polynomial or homography) on centred coordinates.

    ``means`` are the (source, destination) means the coordinates were centred on.
    """
    src_mean, dst_mean = means
    a = np.asarray(a, dtype=np.float64) - src_mean[0]
    b = np.asarray(b, dtype=np.float64) - src_mean[1]
    if method == "homography":
        h = np.asarray(coef)
        w = h[2, 0] * a + h[2, 1] * b + h[2, 2]
        return (h[0, 0] * a + h[0, 1] * b + h[0, 2]) / w + dst_mean[0], (
            h[1, 0] * a + h[1, 1] * b + h[1, 2]
        ) / w + dst_mean[1]
    t = polynomial_terms(a, b, order)
    return t @ np.asarray(coef[0]) + dst_mean[0], t @ np.asarray(coef[1]) + dst_mean[1]
