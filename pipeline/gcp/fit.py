"""GCP fits from pixel to map coordinates and their residuals (pure math, no file I/O).

Methods (REFERENCE §3.2, §3.3):

- ``polynomial`` of order 1, 2 or 3 exactly as GDAL's ``gdal_crs.cpp`` does it: least squares
  on coordinates centred on their means, terms 1, x, y, x², xy, y², x³, x²y, xy², y³, at least
  3, 6 or 10 points. Like GDAL, the map->pixel direction is a separate least-squares fit (not
  the inverse of the forward polynomial); :func:`pipeline.gcp.warp.warp_with_fit` samples through
  it, as gdalwarp does.
- ``affine``: order 1, also available as a rasterio ``Affine`` geotransform.
- ``homography`` (planar scenes): ``cv2.findHomography`` with method 0 (least squares) or RANSAC.

Pixel coordinates of a ``GcpPair`` are GDAL's: (0, 0) is the top-left *corner* of the image,
the space of GDAL's GCP transformers and ``gdalwarp -order n``. Control files name pixel
*centres* (OpenSfM/ODM, :mod:`flights.pixels`); :func:`pairs_for_image` is the one place that
converts them (``flights.pixels.to_gdal``), so a fitted and warped frame puts an observed pixel
on its surveyed coordinate. Check points (``role="check"``) are never fitted;
``check_residuals`` measures them against a fit. A fit with exactly :func:`minimum_points`
GCPs has no redundancy: its residuals are zero by construction and say nothing about accuracy.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer

from core.errors import GeoreferenceError
from flights.models import ControlPoint
from flights.pixels import to_gdal
from pipeline.models.fit import GcpFit, Method, PointResidual, polynomial_terms

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
MIN_POINTS = {1: 3, 2: 6, 3: 10}
HOMOGRAPHY_MIN = 4


class GcpPair(NamedTuple):
    """One control point seen in one image: pixel (col, row, GDAL corner-based) and map (x, y)."""

    name: str
    col: float
    row: float
    x: float
    y: float
    role: str = "gcp"


def minimum_points(method: str, order: int) -> int | None:
    """GCPs a fit needs (3, 6, 10 for polynomial orders 1–3, 3 for affine, 4 for a homography).

    None for an unknown method or order. With exactly this many GCPs a fit has no redundancy.
    """
    if method == "homography":
        return HOMOGRAPHY_MIN
    return MIN_POINTS.get(1 if method == "affine" else order)


def _lstsq(src: FloatArray, dst: FloatArray, order: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    t = polynomial_terms(src[:, 0], src[:, 1], order)
    norms = np.linalg.norm(t, axis=0)
    norms[norms == 0] = 1.0
    scaled = t / norms  # column scaling: same least-squares solution, better conditioned
    if np.linalg.matrix_rank(scaled, tol=1e-9 * np.sqrt(len(t))) < t.shape[1]:
        raise GeoreferenceError(
            f"control points are degenerate (collinear?) for a polynomial of order {order}"
        )
    coef, *_ = np.linalg.lstsq(scaled, dst, rcond=None)
    coef = coef / norms[:, None]
    return tuple(float(c) for c in coef[:, 0]), tuple(float(c) for c in coef[:, 1])


def _homography(src: FloatArray, dst: FloatArray, ransac: bool, threshold: float) -> tuple[FloatArray, int]:
    method = cv2.RANSAC if ransac else 0
    h, mask = cv2.findHomography(src.reshape(-1, 1, 2), dst.reshape(-1, 1, 2), method, threshold)
    if h is None:
        raise GeoreferenceError("cv2.findHomography found no homography (degenerate points?)")
    return np.asarray(h, dtype=np.float64), int(mask.sum()) if mask is not None else len(src)


def fit_gcps(
    pairs: Sequence[GcpPair],
    *,
    method: Method = "polynomial",
    order: int = 1,
    crs: str | None = None,
    ransac: bool = False,
    ransac_threshold_px: float = 3.0,
    leave_one_out: bool = True,
) -> GcpFit:
    """Fit a pixel->map transform to the GCPs of ``pairs`` (check points are left out).

    Raises:
        GeoreferenceError: a GCP coordinate that is not finite or beyond 1e9, too few GCPs for the
            method/order, or degenerate geometry.
    """
    gcps = [p for p in pairs if p.role != "check"]
    broken = [p for p in gcps if not all(math.isfinite(v) and abs(v) < 1e9 for v in p[1:5])]
    if broken:
        p = broken[0]
        raise GeoreferenceError(
            f"GCP {p.name}: pixel ({p.col}, {p.row}) or map ({p.x}, {p.y}) is not a plausible finite number"
        )
    order = 1 if method == "affine" else (0 if method == "homography" else order)
    need = minimum_points(method, order)
    if need is None:
        raise GeoreferenceError(f"polynomial order {order} is not 1, 2 or 3")
    if len(gcps) < need:
        raise GeoreferenceError(f"{method} (order {order}) needs at least {need} GCPs, got {len(gcps)}")
    fit = _fit_core(gcps, method, order, crs, ransac, ransac_threshold_px)
    notes = list(fit.warnings)
    if method == "polynomial" and order >= 2 and len(gcps) < 2 * need:
        notes.append(f"order {order} with {len(gcps)} GCPs (< {2 * need}): residuals are optimistic")
    if len(gcps) == need:
        notes.append("exactly the minimum number of GCPs: residuals are zero and say nothing")
    notes += _suspicious_pairs(gcps)
    loo = _leave_one_out(gcps, method, order, crs, ransac, ransac_threshold_px) if leave_one_out else {}
    residuals = tuple(r.model_copy(update={"loo_dr": loo.get(r.name)}) for r in fit.residuals)
    loo_values = [v for v in loo.values() if v is not None]
    loo_rmse = math.sqrt(float(np.mean(np.square(loo_values)))) if loo_values else None
    return fit.model_copy(update={"residuals": residuals, "loo_rmse_r": loo_rmse, "warnings": tuple(notes)})


def _suspicious_pairs(gcps: Sequence[GcpPair], min_px: float = 3.0) -> list[str]:
    """Two GCPs on (almost) the same pixel but apart on the ground: a mislabelled observation."""
    notes = []
    for i, a in enumerate(gcps):
        for b in gcps[i + 1 :]:
            d_px, d_map = math.hypot(a.col - b.col, a.row - b.row), math.hypot(a.x - b.x, a.y - b.y)
            if d_px < min_px and d_map > 0:
                notes.append(
                    f"GCPs {a.name} and {b.name} are {d_px:.1f} px apart but {d_map:.2f} map units apart"
                )
    return notes


def _fit_core(
    gcps: Sequence[GcpPair], method: Method, order: int, crs: str | None, ransac: bool, threshold_px: float
) -> GcpFit:
    pix = np.array([(p.col, p.row) for p in gcps], dtype=np.float64)
    geo = np.array([(p.x, p.y) for p in gcps], dtype=np.float64)
    pm, gm = pix.mean(axis=0), geo.mean(axis=0)
    inliers = len(gcps)
    if method == "homography":
        scale = _rough_scale(pix - pm, geo - gm)
        h, inliers = _homography(pix - pm, geo - gm, ransac, threshold_px * scale)
        forward = tuple(tuple(float(c) for c in row) for row in h)
        inverse = tuple(tuple(float(c) for c in row) for row in np.linalg.inv(h))
    else:
        forward = _lstsq(pix - pm, geo - gm, order)
        inverse = _lstsq(geo - gm, pix - pm, order)
    fit = GcpFit(
        method=method,
        order=order,
        crs=crs,
        forward=forward,
        inverse=inverse,
        pixel_mean=(float(pm[0]), float(pm[1])),
        map_mean=(float(gm[0]), float(gm[1])),
        inliers=inliers,
    )
    return _with_residuals(fit, gcps)


def _rough_scale(pix: FloatArray, geo: FloatArray) -> float:
    """Map units per pixel, from the spread of both point sets."""
    spread_px = float(np.sqrt(np.mean(np.sum(pix * pix, axis=1))))
    return float(np.sqrt(np.mean(np.sum(geo * geo, axis=1)))) / spread_px if spread_px > 0 else 1.0


def residuals_of(fit: GcpFit, pairs: Sequence[GcpPair]) -> tuple[PointResidual, ...]:
    """Residuals of points against a fit (map units: fitted - surveyed; pixels via the inverse)."""
    if not pairs:
        return ()
    cols = np.array([p.col for p in pairs])
    rows = np.array([p.row for p in pairs])
    mx, my = fit.to_map(cols, rows)
    pc, pr = fit.to_pixel(np.array([p.x for p in pairs]), np.array([p.y for p in pairs]))
    out = []
    for i, p in enumerate(pairs):
        dx, dy = float(mx[i] - p.x), float(my[i] - p.y)
        d_px = float(math.hypot(pc[i] - p.col, pr[i] - p.row))
        out.append(PointResidual(name=p.name, role=p.role, dx=dx, dy=dy, dr=math.hypot(dx, dy), d_px=d_px))
    return tuple(out)


def _rmse(values: Sequence[float]) -> float:
    return math.sqrt(float(np.mean(np.square(values)))) if values else 0.0


def _with_residuals(fit: GcpFit, gcps: Sequence[GcpPair]) -> GcpFit:
    res = residuals_of(fit, gcps)
    return fit.model_copy(
        update={
            "residuals": res,
            "rmse_x": _rmse([r.dx for r in res]),
            "rmse_y": _rmse([r.dy for r in res]),
            "rmse_r": _rmse([r.dr for r in res]),
            "rmse_px": _rmse([r.d_px for r in res]),
        }
    )


def check_residuals(fit: GcpFit, pairs: Sequence[GcpPair]) -> tuple[PointResidual, ...]:
    """Residuals of the check points of ``pairs`` against ``fit`` (independent accuracy)."""
    return residuals_of(fit, [p for p in pairs if p.role == "check"])


def _leave_one_out(
    gcps: Sequence[GcpPair], method: Method, order: int, crs: str | None, ransac: bool, threshold_px: float
) -> dict[str, float | None]:
    need = minimum_points(method, order) or MIN_POINTS[order]
    out: dict[str, float | None] = {}
    if len(gcps) - 1 < need:
        return out
    for i, p in enumerate(gcps):
        rest = [q for j, q in enumerate(gcps) if j != i]
        try:
            sub = _fit_core(rest, method, order, crs, ransac, threshold_px)
        except GeoreferenceError:
            out[p.name] = None
            continue
        x, y = sub.to_map(np.array([p.col]), np.array([p.row]))
        out[p.name] = float(math.hypot(x[0] - p.x, y[0] - p.y))
    return out


def pairs_for_image(
    points: Sequence[ControlPoint], image: str, *, target_crs: str | None = None
) -> list[GcpPair]:
    """The (pixel, map) pairs of one image, map coordinates optionally transformed to ``target_crs``.

    Observations name pixel centres (control-file convention); the pairs are in GDAL's corner-based
    pixel space. Image names compare case-insensitively (ODM files mix ``.JPG`` and ``.jpg``);
    several observations of one point on the image (merged files) give one pair at their mean.
    """
    pairs = []
    for point in points:
        seen = [o for o in point.observations if o.image.lower() == image.lower()]
        if not seen:
            continue
        x, y = point.x, point.y
        if target_crs is not None and point.crs != target_crs:
            x, y = Transformer.from_crs(point.crs, target_crs, always_xy=True).transform(x, y)
        col, row = to_gdal(float(np.mean([o.col for o in seen])), float(np.mean([o.row for o in seen])))
        pairs.append(GcpPair(point.name, col, row, float(x), float(y), point.role))
    return pairs
