"""Co-registration math: the shift (and, if needed, a small affine) between two images of one grid.

Pure functions over arrays (OpenCV and numpy), no file I/O. Conventions:

- images are rows × columns of the *common grid*; x is the column (east), y the row (south);
- the estimated motion ``M`` (2 × 3) maps a pixel position p of BEFORE to the position in
  AFTER that shows the same ground: ``after(M p) ≈ before(p)``. A pure shift is
  ``[[1, 0, dx], [0, 1, dy]]``: the AFTER content lies ``dx`` columns east and ``dy`` rows south
  of where BEFORE has it. Resampling AFTER at ``M p`` corrects it.

Matching works on *stable texture*: the gradient magnitude of a lightly smoothed image (edges
of roads, buildings, field borders, tree crowns), mean-removed and zero outside the valid
area, so that a change of brightness, white balance or season matters less than in the grey
values, and the footprint edge does not look like texture.

Coarse to fine:

1. :func:`phase_shift` — phase correlation (``cv2.phaseCorrelate`` with a Hann window) of the
   two texture images at a coarse level; its peak response (0–1) says whether they match at all.
2. :func:`ecc_motion` — ECC maximisation (``cv2.findTransformECC``, Gaussian pre-filter 5) of
   full-resolution patches, high-passed (:func:`high_pass`: the image minus its blur, so slopes of
   a DSM and light trends of an orthophoto do not dominate), started from the coarse shift; ECC is
   invariant to brightness and contrast and converges to a few hundredths of a pixel.
3. :func:`fit_motion` — a translation (median of the patch shifts) or, when the patch shifts
   vary across the area by more than the tolerance, an affine fitted to them by least squares.

OpenCV 5.0's ``phaseCorrelate`` multiplies its inputs by the window *in place*; the functions
here always pass copies.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
#: Patch shifts further than this (pixels) from the median may be outliers (see ``fit_motion``).
OUTLIER_PX = 0.5
#: Gaussian sigma (pixels) of the high-pass applied before ECC.
HIGH_PASS_SIGMA = 8.0
#: ECC iterations and convergence threshold (increments of the correlation coefficient).
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)


class PatchShift(NamedTuple):
    """The shift measured on one patch: its centre (grid pixels), the shift and the ECC score."""

    x: float
    y: float
    dx: float
    dy: float
    ecc: float


class Motion(NamedTuple):
    """A fitted motion and how well the patches agree with it."""

    matrix: tuple[float, float, float, float, float, float]
    """Row-major 2 × 3 affine ``M`` (see the module docstring)."""
    model: str
    """``translation`` or ``affine``."""
    residual_px: float
    """RMS distance of the patch shifts from the fitted motion."""


def fill(image: NDArray[np.floating], valid: NDArray[np.bool_]) -> F32:
    """``image`` as float32 with invalid pixels set to the median of the valid ones."""
    out = np.asarray(image, dtype=np.float32).copy()
    ok = valid & np.isfinite(out)
    out[~ok] = float(np.median(out[ok])) if ok.any() else 0.0
    return out


def high_pass(image: F32, sigma: float = HIGH_PASS_SIGMA) -> F32:
    """``image`` minus its Gaussian blur: keeps edges and texture, drops slopes and illumination trends."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    out: F32 = (image - blurred).astype(np.float32)
    return out


def erode(mask: NDArray[np.bool_], pixels: int) -> NDArray[np.bool_]:
    """``mask`` shrunk by ``pixels`` (square structuring element)."""
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    out: NDArray[np.bool_] = cv2.erode(mask.astype(np.uint8), kernel) > 0
    return out


def texture(
    image: NDArray[np.floating], valid: NDArray[np.bool_], sigma: float = 1.0, erode_px: int = 3
) -> F32:
    """Mean-removed gradient magnitude of ``image``, zero outside ``valid`` shrunk by ``erode_px`` pixels.

    Invalid pixels are filled with the median of the valid ones before smoothing, so the
    footprint edge makes no gradient.
    """
    ok = valid & np.isfinite(image)
    if not ok.any():
        return np.zeros(image.shape, dtype=np.float32)
    img = fill(image, ok)
    if sigma > 0:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), dtype=np.float32)
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.asarray(cv2.magnitude(gx, gy), dtype=np.float32)
    inner = erode(ok, erode_px)
    out: F32 = np.zeros_like(mag)
    if inner.any():
        out[inner] = mag[inner] - float(mag[inner].mean())
    return out


def phase_shift(before: F32, after: F32) -> tuple[float, float, float]:
    """(dx, dy, response) of AFTER relative to BEFORE by phase correlation with a Hann window.

    ``response`` is OpenCV's normalised peak (about 1 for identical images, near 0 for unrelated ones).
    """
    rows, cols = before.shape
    window = cv2.createHanningWindow((cols, rows), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(before.astype(np.float32), after.astype(np.float32), window)
    return float(dx), float(dy), float(response)


def ecc_motion(
    before: F32,
    after: F32,
    init: NDArray[np.float64],
    *,
    affine: bool = False,
    mask: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.float64], float] | None:
    """Refine the 2 × 3 motion ``init`` by ECC on two (high-passed) patches; None when ECC does not converge.

    Returns:
        The motion (``after(M p) ≈ before(p)``) and the final correlation coefficient.
    """
    start = np.asarray(init, dtype=np.float32).copy()
    motion = cv2.MOTION_AFFINE if affine else cv2.MOTION_TRANSLATION
    template_mask = np.ones(before.shape, np.uint8) if mask is None else mask.astype(np.uint8)
    try:
        cc, warp = cv2.findTransformECC(
            before.astype(np.float32), after.astype(np.float32), start, motion, ECC_CRITERIA, template_mask, 5
        )
    except cv2.error:
        return None
    if not math.isfinite(cc):
        return None
    return np.asarray(warp, dtype=np.float64), float(cc)


def translation(dx: float, dy: float) -> NDArray[np.float64]:
    """The 2 × 3 motion of a pure shift."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


def fit_motion(patches: list[PatchShift], affine_tolerance_px: float) -> Motion:
    """A translation, or an affine when the patch shifts vary by more than ``affine_tolerance_px``.

    Each model leaves out its outlying patches first (residual beyond max(3 MAD, 0.5 px): a change
    inside a patch, or a repetitive pattern, pulls its estimate away). With fewer than 4 patches
    (or collinear centres) only a translation is fitted.
    """
    xy = np.array([(p.x, p.y) for p in patches], dtype=np.float64)
    d = np.array([(p.dx, p.dy) for p in patches], dtype=np.float64)
    keep = _inliers(d - np.median(d, axis=0))
    shift = np.median(d[keep], axis=0)
    residual = _rms(d[keep] - shift)
    translation_motion = Motion(_flat(translation(float(shift[0]), float(shift[1]))), "translation", residual)
    if len(patches) < 4 or residual <= affine_tolerance_px:
        return translation_motion
    design = np.column_stack([xy, np.ones(len(xy))])
    coef = _lstsq(design, d)
    if coef is None:
        return translation_motion
    keep = _inliers(d - design @ coef)
    coef = _lstsq(design[keep], d[keep]) if keep.sum() >= 4 else None
    if coef is None:
        return translation_motion
    affine_residual = _rms(d[keep] - design[keep] @ coef)
    if affine_residual >= residual:
        return translation_motion
    # position in AFTER = p + (shift at p) = (I + A) p + t
    matrix = np.column_stack([np.eye(2) + coef[:2].T, coef[2]])
    return Motion(_flat(matrix), "affine", affine_residual)


def _lstsq(design: NDArray[np.float64], d: NDArray[np.float64]) -> NDArray[np.float64] | None:
    coef, _, rank, _ = np.linalg.lstsq(design, d, rcond=None)
    return coef if rank == 3 else None


def _rms(residuals: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(np.sum(residuals**2, axis=1))))


def _inliers(residuals: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Rows whose residual lies within max(3 × MAD, ``OUTLIER_PX``) of 0."""
    dist = np.hypot(residuals[:, 0], residuals[:, 1])
    limit = max(3.0 * 1.4826 * float(np.median(dist)), OUTLIER_PX)
    keep: NDArray[np.bool_] = dist <= limit
    return keep


def _flat(m: NDArray[np.float64]) -> tuple[float, float, float, float, float, float]:
    a, b, c, d, e, f = (float(v) for v in m.reshape(-1))
    return a, b, c, d, e, f


def motion_at(matrix: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    """The shift (dx, dy) the motion gives at grid pixel (x, y)."""
    a, b, c, d, e, f = matrix
    return a * x + b * y + c - x, d * x + e * y + f - y
