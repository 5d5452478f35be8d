"""Co-registration of AFTER onto BEFORE on the common grid: coarse phase correlation, fine ECC patches.

1. Both rasters are read on a coarse copy of the grid (longest side ``coarse_size``; GDAL uses
   the inputs' overviews) and phase-correlated on their texture. A peak response below
   ``min_peak`` means the two do not show the same ground: :class:`CoregistrationError`.
2. Up to ``patches``² full-resolution patches (the most textured cell of each part of the grid
   where both have data) are matched by ECC, each started from the coarse shift; AFTER's patch is
   read at the integer part of that shift so ECC only refines the rest.
3. The patch shifts give a translation, or a small affine when they disagree systematically
   (:func:`pipeline.change.coregister.fit_motion`). A shift beyond ``max_shift_m`` is refused
   rather than corrected: that is a georeferencing error to fix, not a misregistration.
"""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray
from rasterio.windows import Window

from core.errors import CoregistrationError, NoOverlapError
from pipeline.change.coregister import (
    PatchShift,
    ecc_motion,
    erode,
    fill,
    fit_motion,
    high_pass,
    motion_at,
    phase_shift,
    texture,
    translation,
)
from pipeline.change.grid import GridReader
from pipeline.change.inputs import full_scale, gray, value
from pipeline.change.models import Alignment, AlignSettings, ChangeKind, Grid
from pipeline.rasters.inputs import RasterInfo

log = logging.getLogger(__name__)

#: Share of a patch that must have data in both rasters.
MIN_PATCH_COVERAGE = 0.8
#: Smallest patch side (pixels) matched by ECC.
MIN_PATCH = 96
#: Coarse cells with data in both rasters needed to try matching at all.
MIN_COMMON_CELLS = 64


class Coarse(NamedTuple):
    """Both rasters on a coarse copy of the grid: grey (for matching) and compared values."""

    factor: int
    gray_before: NDArray[np.float32]
    gray_after: NDArray[np.float32]
    value_before: NDArray[np.float32]
    value_after: NDArray[np.float32]


def read_coarse(
    before: RasterInfo,
    after: RasterInfo,
    grid: Grid,
    kind: ChangeKind,
    bands: tuple[list[int], list[int]],
    size: int,
    index: str,
) -> Coarse:
    """Read both rasters (uncorrected) on a grid whose longest side is about ``size`` pixels."""
    factor = max(1, math.ceil(max(grid.width, grid.height) / size))
    coarse = grid.scaled(factor)
    with GridReader(before, coarse, bands[0]) as b, GridReader(after, coarse, bands[1]) as a:
        db, da = b.read(), a.read()
    vb, va = value(kind, db, index, full_scale(before)), value(kind, da, index, full_scale(after))
    return Coarse(factor, gray(kind, db), gray(kind, da), vb, va)


def coarse_bias(coarse: Coarse, matrix: tuple[float, ...]) -> tuple[float, int]:
    """Median of corrected AFTER − BEFORE on the coarse level, and the number of cells it used."""
    f = coarse.factor
    a, b, c, d, e, g = matrix
    # the motion in coarse pixels: S⁻¹ M S with S = scale(f)
    m = np.array([[a, b, c / f], [d, e, g / f]], dtype=np.float32)
    rows, cols = coarse.value_after.shape
    moved = cv2.warpAffine(
        coarse.value_after, m, (cols, rows), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"),
    )  # fmt: skip
    diff = moved - coarse.value_before
    finite = diff[np.isfinite(diff)]
    return (float(np.median(finite)) if finite.size else 0.0), int(finite.size)


def identity(grid: Grid, peak: float = math.nan) -> Alignment:
    """The alignment that changes nothing (co-registration switched off)."""
    return Alignment(
        dx_px=0.0, dy_px=0.0, dx_m=0.0, dy_m=0.0, shift_m=0.0, matrix=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        model="none", peak=peak, corrected=False, resolution_m=grid.resolution,
    )  # fmt: skip


def coregister(
    before: RasterInfo,
    after: RasterInfo,
    grid: Grid,
    kind: ChangeKind,
    bands: tuple[list[int], list[int]],
    settings: AlignSettings,
    coarse: Coarse,
) -> Alignment:
    """Estimate (and decide whether to correct) the motion of AFTER relative to BEFORE.

    Raises:
        NoOverlapError: the rasters have (almost) no pixel with data in common.
        CoregistrationError: no match (low peak or no converging patch), or the shift exceeds the tolerance.
    """
    gray_b, gray_a, factor = coarse.gray_before, coarse.gray_after, coarse.factor
    common = np.isfinite(gray_b) & np.isfinite(gray_a)
    if int(common.sum()) < MIN_COMMON_CELLS:
        raise NoOverlapError(
            f"{before.path.name} og {after.path.name} har næsten ingen data samme sted / "
            f"{before.path.name} and {after.path.name} overlap, but have data in common on only "
            f"{int(common.sum())} coarse cells ({grid.resolution * factor:.2f} m); nothing to compare"
        )
    if not settings.enabled:
        return identity(grid)
    tex_b, tex_a = texture(gray_b, np.isfinite(gray_b)), texture(gray_a, np.isfinite(gray_a))
    cdx, cdy, peak = phase_shift(tex_b, tex_a)
    if peak < settings.min_peak:
        raise CoregistrationError(
            f"{before.path.name} og {after.path.name} kan ikke samregistreres (viser de samme sted?) / "
            f"{before.path.name} and {after.path.name} cannot be matched: phase-correlation peak "
            f"{peak:.3f} < {settings.min_peak} (different areas, or too little stable texture)"
        )
    start = (cdx * factor, cdy * factor)
    windows = _patch_windows(grid, np.abs(tex_b) * common, factor, settings)
    with GridReader(before, grid, bands[0]) as b, GridReader(after, grid, bands[1]) as a:
        found = [p for w in windows if (p := _patch(b, a, kind, w, start, settings.min_ecc)) is not None]
    if not found:
        raise CoregistrationError(
            f"{before.path.name} og {after.path.name} kan ikke samregistreres i fuld opløsning / "
            f"{before.path.name} and {after.path.name} cannot be matched at full resolution: no patch "
            f"converged with ECC ≥ {settings.min_ecc} (coarse shift {start[0]:.1f}, {start[1]:.1f} px, "
            f"peak {peak:.3f})"
        )
    return _alignment(grid, found, peak, settings, after)


def _alignment(
    grid: Grid, found: list[PatchShift], peak: float, settings: AlignSettings, after: RasterInfo
) -> Alignment:
    motion = fit_motion(found, settings.affine_tolerance_px)
    dx, dy = motion_at(motion.matrix, grid.width / 2, grid.height / 2)
    res = grid.resolution
    corners = [(0, 0), (grid.width, 0), (0, grid.height), (grid.width, grid.height)]
    largest = max(
        math.hypot(*motion_at(motion.matrix, x, y)) for x, y in [(grid.width / 2, grid.height / 2), *corners]
    )
    shift_m = math.hypot(dx * res, dy * res)
    if largest * res > settings.max_shift_m:
        raise CoregistrationError(
            f"{after.path.name} er forskudt mere end tolerancen på {settings.max_shift_m:g} m og "
            "rettes ikke; kontrollér georefereringen / "
            f"{after.path.name} is shifted by {shift_m:.2f} m ({dx:.1f}, {dy:.1f} px; up to "
            f"{largest * res:.2f} m across the area) against BEFORE: more than the tolerance of "
            f"{settings.max_shift_m:g} m; "
            "not corrected — check its georeferencing"
        )
    a, b, _, d, e, _ = motion.matrix
    result = Alignment(
        dx_px=dx, dy_px=dy, dx_m=dx * res, dy_m=-dy * res, shift_m=shift_m, matrix=motion.matrix,
        model=motion.model, peak=peak, ecc=float(np.median([p.ecc for p in found])), patches=len(found),
        residual_px=motion.residual_px, corrected=True, resolution_m=res, max_shift_m=largest * res,
        scale=math.sqrt(abs(a * e - b * d)), rotation_deg=math.degrees(math.atan2(d - b, a + e)),
    )  # fmt: skip
    log.info(
        "co-registration: %.3f, %.3f px (%.3f m), %s, %d patches", dx, dy, shift_m, motion.model, len(found)
    )
    return result


def _patch_windows(
    grid: Grid, energy: NDArray[np.floating], factor: int, settings: AlignSettings
) -> list[Window]:
    """The most textured patch-sized window in each of patches × patches cells of the grid."""
    # small grids get smaller patches, so that the patches see different parts of the area
    size = max(
        MIN_PATCH, min(settings.patch, grid.width // settings.patches, grid.height // settings.patches)
    )
    size = min(size, grid.width, grid.height)
    half = size / (2 * factor)
    smooth = cv2.blur(np.nan_to_num(energy).astype(np.float32), (max(1, int(2 * half)),) * 2)
    windows = []
    rows = np.array_split(np.arange(smooth.shape[0]), settings.patches)
    cols = np.array_split(np.arange(smooth.shape[1]), settings.patches)
    for r in rows:
        for c in cols:
            if r.size == 0 or c.size == 0:
                continue
            cell = smooth[r[0] : r[-1] + 1, c[0] : c[-1] + 1]
            i, j = np.unravel_index(int(np.argmax(cell)), cell.shape)
            x = min(max(0, int((c[0] + j + 0.5) * factor - size / 2)), grid.width - size)
            y = min(max(0, int((r[0] + i + 0.5) * factor - size / 2)), grid.height - size)
            windows.append(Window(x, y, size, size))
    return list(dict.fromkeys(windows))


def _patch(
    before: GridReader,
    after: GridReader,
    kind: ChangeKind,
    window: Window,
    start: tuple[float, float],
    min_ecc: float,
) -> PatchShift | None:
    """ECC shift of one patch, None when it lacks data or does not converge."""
    ox, oy = round(start[0]), round(start[1])
    moved = Window(window.col_off + ox, window.row_off + oy, window.width, window.height)
    gb, ga = gray(kind, before.read(window)), gray(kind, after.read(moved))
    vb, va = np.isfinite(gb), np.isfinite(ga)
    if vb.mean() < MIN_PATCH_COVERAGE or va.mean() < MIN_PATCH_COVERAGE:
        return None
    init = translation(start[0] - ox, start[1] - oy)
    refined = ecc_motion(high_pass(fill(gb, vb)), high_pass(fill(ga, va)), init, mask=erode(vb & va, 7))
    if refined is None or refined[1] < min_ecc:
        return None
    matrix, cc = refined
    cx, cy = window.col_off + window.width / 2, window.row_off + window.height / 2
    return PatchShift(cx, cy, float(matrix[0, 2]) + ox, float(matrix[1, 2]) + oy, cc)
