"""Roof faces from a DSM window: normal-guided RANSAC, then region growing (pure; no I/O).

Method (documented here because the figures depend on it):

1. **Normals.** Each cell's gradient (∂z/∂x, ∂z/∂y) by central differences
   (:func:`pipeline.surface.grid_gradient`) gives its normal (−∂z/∂x, −∂z/∂y, 1).
2. **Sequential RANSAC** (Fischler & Bolles 1981), one face at a time, over the cells
   not yet assigned. A hypothesis is the plane through a random seed cell with that
   cell's gradient (one cell instead of three random points: on a roof of several faces
   three random cells rarely share a face, one cell always lies on one). Each of
   ``hypotheses`` planes is scored on a random sample of at most ``score_sample`` cells;
   a cell is an inlier when its orthogonal distance to the plane is below
   ``distance_m`` *and* its normal is within ``normal_deg`` of the plane's (the normal
   test keeps the two faces of a ridge apart where their planes cross). The best plane
   is refined by least squares over its inliers three times.
3. **Connectivity.** Only the largest 8-connected patch of the inliers becomes the face
   (a plane can be shared by two separate dormers); the rest stays in the pool. The
   search stops when no patch reaches ``min_plane_cells`` and ``min_plane_area_m2``.
4. **Region growing.** Unassigned cells next to a face whose distance to its plane is
   below ``distance_m`` join the nearest such face, repeatedly; this claims the ridge
   and eave cells whose central-difference normals mix two faces.
5. **Final fit.** Each face is refitted robustly (:func:`pipeline.surface.fit_plane_robust`);
   its slope, aspect (clockwise from north, the way the face looks) and true area
   (planimetric area / cos slope) come from that plane.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np
from affine import Affine
from numpy.typing import NDArray

from core.errors import SurfaceFitError
from pipeline.roofs.models import RoofSettings
from pipeline.surface import PlaneFit, cell_centres, fit_plane, fit_plane_robust, grid_gradient

METHOD = (
    "normal-guided sequential RANSAC (one seed cell and its gradient per hypothesis; inliers near the plane "
    "and with a similar normal), largest 8-connected patch per face, region growing by plane distance, "
    "robust (Tukey) final fit per face"
)
"""One line describing the method, written into every run's result."""
_REFINEMENTS = 3
_GROW_ROUNDS = 64


class Segmentation(NamedTuple):
    """Faces found on one window: a label per cell (0: none; k: face k, largest first) and their fits."""

    labels: NDArray[np.int32]
    fits: tuple[PlaneFit, ...]


class _Cells(NamedTuple):
    """Candidate cells as flat arrays: centres, heights, gradients."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    z: NDArray[np.float64]
    gx: NDArray[np.float64]
    gy: NDArray[np.float64]


def _inliers(planes: _Cells, cells: _Cells, settings: RoofSettings) -> NDArray[np.bool_]:
    """Inlier matrix (planes × cells): near the plane and with a similar normal.

    ``planes`` holds, per hypothesis, a point (x, y, z) on it and its gradient (gx, gy).
    """
    sx, sy = planes.gx, planes.gy
    norm_p = np.sqrt(1.0 + sx**2 + sy**2)[:, None]
    height = (
        planes.z[:, None]
        + sx[:, None] * (cells.x[None] - planes.x[:, None])
        + sy[:, None] * (cells.y[None] - planes.y[:, None])
    )
    near = np.abs(cells.z[None] - height) / norm_p < settings.distance_m
    norm_c = np.sqrt(1.0 + cells.gx**2 + cells.gy**2)[None]
    cosine = (sx[:, None] * cells.gx[None] + sy[:, None] * cells.gy[None] + 1.0) / (norm_p * norm_c)
    aligned = cosine > math.cos(math.radians(settings.normal_deg))
    result: NDArray[np.bool_] = near & aligned
    return result


def _plane_inliers(cells: _Cells, fit: PlaneFit, settings: RoofSettings) -> NDArray[np.bool_]:
    p = fit.plane
    plane = _Cells(*(np.array([v]) for v in (p.x0, p.y0, p.z0, p.sx, p.sy)))
    row: NDArray[np.bool_] = _inliers(plane, cells, settings)[0]
    return row


def _take(cells: _Cells, which: NDArray[np.int64]) -> _Cells:
    return _Cells(cells.x[which], cells.y[which], cells.z[which], cells.gx[which], cells.gy[which])


def _best_hypothesis(cells: _Cells, settings: RoofSettings, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Inliers (over all candidate cells) of the best refined hypothesis."""
    n = cells.z.size
    seeds = rng.choice(n, size=min(settings.hypotheses, n), replace=False)
    sample = rng.choice(n, size=min(settings.score_sample, n), replace=False)
    votes = _inliers(_take(cells, seeds), _take(cells, sample), settings).sum(axis=1)
    top = int(np.argmax(votes))
    inliers: NDArray[np.bool_] = _inliers(_take(cells, seeds[top : top + 1]), cells, settings)[0]
    for _ in range(_REFINEMENTS):
        if int(inliers.sum()) < 3:
            break
        try:
            fit = fit_plane(cells.x[inliers], cells.y[inliers], cells.z[inliers])
        except SurfaceFitError:
            break
        inliers = _plane_inliers(cells, fit, settings)
    return inliers


def _largest_patch(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The largest 8-connected patch of ``mask``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    sizes = np.bincount(np.asarray(labels, np.int64).ravel())[1:]
    patch: NDArray[np.bool_] = labels == (int(np.argmax(sizes)) + 1)
    return patch


def _grow(labels: NDArray[np.int32], pool: NDArray[np.bool_], fits: list[PlaneFit], x: NDArray[np.float64],
          y: NDArray[np.float64], z: NDArray[np.float64], distance: float) -> None:  # fmt: skip
    """Give unassigned pool cells next to a face, and near its plane, to the nearest such face."""
    kernel = np.ones((3, 3), np.uint8)
    dists = []
    for fit in fits:  # each face's distance once; the rounds only spread the labels
        p = fit.plane
        dist = np.abs(z - np.asarray(p.at(x, y))) / math.sqrt(1.0 + p.sx**2 + p.sy**2)
        dists.append(np.where(pool & (dist < distance), dist, np.inf))
    for _ in range(_GROW_ROUNDS):
        free = pool & (labels == 0)
        best = np.full(labels.shape, np.inf)
        choice = np.zeros_like(labels)
        for k, dist in enumerate(dists, start=1):
            near_face = cv2.dilate((labels == k).astype(np.uint8), kernel).astype(bool) & free
            better = near_face & (dist < best)
            best[better], choice[better] = dist[better], k
        if not (choice > 0).any():
            return
        labels[choice > 0] = choice[choice > 0]


def _enough(cells: int, cell_area: float, settings: RoofSettings) -> bool:
    return cells >= settings.min_plane_cells and cells * cell_area >= settings.min_plane_area_m2


def segment_roof(
    heights: NDArray[np.floating], roof: NDArray[np.bool_], transform: Affine, settings: RoofSettings
) -> Segmentation:
    """Roof faces of the ``roof`` cells (finite heights) of a north-up window."""
    z = np.asarray(heights, np.float64)
    pool = roof & np.isfinite(z)
    x, y = cell_centres(transform, z.shape)
    gx, gy = grid_gradient(np.where(pool, z, np.nan), transform.a, transform.e)
    cell_area = abs(transform.a * transform.e)
    rng = np.random.default_rng(settings.seed)
    labels = np.zeros(z.shape, np.int32)
    fits: list[PlaneFit] = []
    remaining = pool.copy()
    while len(fits) < settings.max_planes and _enough(int(remaining.sum()), cell_area, settings):
        flat = np.flatnonzero(remaining)
        cells = _Cells(x.ravel()[flat], y.ravel()[flat], z.ravel()[flat], gx.ravel()[flat], gy.ravel()[flat])
        inliers = _best_hypothesis(cells, settings, rng)
        mask = np.zeros(z.size, bool)
        mask[flat[inliers]] = True
        patch = _largest_patch(mask.reshape(z.shape))
        if not _enough(int(patch.sum()), cell_area, settings):
            break
        remaining &= ~patch
        try:
            fits.append(fit_plane(x[patch], y[patch], z[patch]))
        except SurfaceFitError:  # a one-cell-wide strip: no face, its cells may still be grown into one
            continue
        labels[patch] = len(fits)
    _grow(labels, pool, fits, x, y, z, settings.distance_m)
    return _finish(labels, x, y, z)


def _finish(
    labels: NDArray[np.int32], x: NDArray[np.float64], y: NDArray[np.float64], z: NDArray[np.float64]
) -> Segmentation:
    """Robust final fits, faces relabelled largest first."""
    counts = np.bincount(labels.ravel())[1:]
    order = [int(k) + 1 for k in np.argsort(-counts, kind="stable") if counts[k] > 0]
    relabelled = np.zeros_like(labels)
    fits: list[PlaneFit] = []
    for old in order:
        cells = labels == old
        try:
            fit = fit_plane_robust(x[cells], y[cells], z[cells], what=f"roof face {len(fits) + 1}")
        except SurfaceFitError:  # a strip one cell wide: no plane, the cells stay unassigned
            continue
        fits.append(fit)
        relabelled[cells] = len(fits)
    return Segmentation(relabelled, tuple(fits))
