"""How sure a volume is: four independent parts, combined as a root sum of squares.

A volume is V = A_c · Σᵢ (zᵢ − bᵢ) over the n valid cells of a polygon (A_c the cell
area, z the DSM, b the base), the cell-sum of Pix4D's volume tool. Its error has four
parts, each reported on its own (one standard deviation, m³):

1. **Bias** (systematic). A vertical bias β of the DSM shifts every cell: β·A with
   A = n·A_c. A base taken from the same DSM (plane, lowest, average) shifts by the
   same β, so the bias *cancels* and this part is 0; against a base raster from another
   survey it is |β_dsm − β_base|·A.
2. **Random** per-cell error σ (the check-point standard deviation, RMSE² = β² + σ²).
   Uncorrelated between cells: σ_V = σ·A_c·sqrt(n) (Anderson 2019, "Uncertainty in
   quantitative analyses of topographic change: error propagation and the role of
   thresholding", Earth Surf. Process. Landforms 44:1015-1033, eq. 11; the systematic
   part of part 1 is its σ_sys·n·A_c). DSM errors are spatially correlated in practice,
   which makes this a lower bound; with a correlation range a (spherical variogram) the
   error of the mean over an area A of equivalent radius L = sqrt(A/π) is
   σ·sqrt(πa²/(5A)) for L ≥ a and σ·sqrt(1 − L/a + L³/(5a³)) for L < a (Rolstad, Haug &
   Denby 2009, J. Glaciol. 55(192):666-680, used by Anderson 2019 for the correlated
   part), and σ_V = A·that (never less than the uncorrelated figure). Against a base
   raster the two rasters' σ add in quadrature (Lane, Westaway & Hicks 2003, Earth Surf.
   Process. Landforms 28:249-271).
3. **Base** taken from the boundary. Plane: the standard error of the fitted plane's
   mean over the measured cells, s·sqrt(gᵀ(XᵀX)⁻¹g) with s the residual standard
   deviation of the boundary fit (it carries both the DSM noise and the terrain's
   departure from a plane) — times A. Average level: σ/sqrt(n_boundary)·A. Lowest level:
   one cell's error, σ·A.
4. **Cell size.** The pixel-centre rule counts a boundary cell whole or not at all; the
   covered share of a cell cut by a straight edge is roughly uniform, so each boundary
   cell i adds a variance (dᵢ·A_c)²/12, dᵢ = zᵢ − bᵢ. Because the base meets the ground at
   the boundary this part is small unless the polygon cuts through the material.

The 95 % half-width is 1.96 × the total, treating the bias as unknown in sign.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from pipeline.volumes.models import BaseMethod, VerticalError, VolumeUncertainty

Z95 = 1.96
"""Two-sided 95 % quantile of the standard normal distribution."""

MODEL_EN = (
    "One standard deviation per source, combined as a root sum of squares: bias |β_dsm − β_base|·A "
    "(cancels when the base comes from the DSM itself); random σ·A_c·sqrt(n), cells uncorrelated "
    "(Anderson 2019), or Rolstad et al. 2009 with a correlation range; base: standard error of the "
    "boundary plane's mean height, or the level's error, × A; cell size: A_c·sqrt(Σ d²/12) over the "
    "boundary cells. 95 % = 1.96 × total."
)
MODEL_DA = (
    "Én standardafvigelse pr. kilde, samlet som kvadratrod af kvadratsummen: bias |β_dsm − β_basis|·A "
    "(går ud, når basis tages fra selve DSM'en); tilfældig σ·A_c·sqrt(n), celler ukorrelerede "
    "(Anderson 2019), eller Rolstad m.fl. 2009 med en korrelationslængde; basis: standardfejlen på "
    "randplanets middelhøjde, eller niveauets fejl, × A; cellestørrelse: A_c·sqrt(Σ d²/12) over "
    "randcellerne. 95 % = 1,96 × total."
)


class UncertaintyInputs(NamedTuple):
    """What :func:`volume_uncertainty` needs from one measured polygon."""

    method: BaseMethod
    valid_cells: int
    cell_area_m2: float
    boundary_cells: int
    base_mean_error_m: float | None
    """Plane: the fit's standard error of the mean base height; None for the other bases."""
    edge_square_sum: float
    """Σ (DSM − base)² over the boundary cells (m²)."""


def mean_error_sigma(sigma_m: float, area_m2: float, cells: int, correlation_range_m: float | None) -> float:
    """Standard deviation of the mean of ``cells`` per-cell errors σ over ``area_m2``.

    Uncorrelated: σ/sqrt(n). With a correlation range a: Rolstad et al. (2009)'s
    circular approximation (see the module text), never below σ/sqrt(n).
    """
    if cells <= 0 or sigma_m == 0.0:
        return 0.0
    uncorrelated = sigma_m / math.sqrt(cells)
    if correlation_range_m is None:
        return uncorrelated
    a = correlation_range_m
    radius = math.sqrt(area_m2 / math.pi)
    if radius >= a:
        share = math.pi * a**2 / (5.0 * area_m2)
    else:
        ratio = radius / a
        share = 1.0 - ratio + ratio**3 / 5.0
    return max(sigma_m * math.sqrt(share), uncorrelated)


def _bias_part(inputs: UncertaintyInputs, dsm: VerticalError, base: VerticalError, area: float) -> float:
    if inputs.method is not BaseMethod.SURFACE:
        return 0.0
    return abs(dsm.bias_m - base.bias_m) * area


def _random_part(inputs: UncertaintyInputs, dsm: VerticalError, base: VerticalError, area: float) -> float:
    sigma = dsm.sigma_m
    rng = dsm.correlation_range_m
    if inputs.method is BaseMethod.SURFACE:
        sigma = math.hypot(dsm.sigma_m, base.sigma_m)
        ranges = [r for r in (dsm.correlation_range_m, base.correlation_range_m) if r is not None]
        rng = max(ranges) if ranges else None
    return area * mean_error_sigma(sigma, area, inputs.valid_cells, rng)


def _base_part(inputs: UncertaintyInputs, dsm: VerticalError, area: float) -> float:
    match inputs.method:
        case BaseMethod.PLANE:
            return area * (inputs.base_mean_error_m or 0.0)
        case BaseMethod.AVERAGE:
            return area * dsm.sigma_m / math.sqrt(max(inputs.boundary_cells, 1))
        case BaseMethod.LOWEST:
            return area * dsm.sigma_m
        case _:
            return 0.0


def _notes(inputs: UncertaintyInputs, dsm: VerticalError, base: VerticalError) -> tuple[str, ...]:
    notes: list[str] = []
    if inputs.method is BaseMethod.SURFACE:
        if not base.known:
            notes.append(
                "basisrastrets nøjagtighed er ikke oplyst: bias og σ sat til 0 / "
                "base raster accuracy not given: its bias and σ are taken as 0"
            )
    else:
        notes.append(
            "en konstant DSM-bias går ud, da basis tages fra samme DSM / "
            "a constant DSM bias cancels: the base comes from the same DSM"
        )
    if not dsm.known:
        notes.append(
            "DSM'ens lodrette nøjagtighed er ikke oplyst (ingen QA-rapport, ingen --rmse-v): "
            "bias og σ sat til 0 / DSM vertical accuracy not given (no QA report, no --rmse-v): "
            "bias and σ taken as 0"
        )
    elif dsm.correlation_range_m is None:
        notes.append(
            "tilfældig fejl regnet ukorreleret mellem celler: en nedre grænse for fotogrammetriske DSM'er / "
            "random error taken as uncorrelated between cells: a lower bound for photogrammetric DSMs"
        )
    return tuple(notes)


def volume_uncertainty(
    inputs: UncertaintyInputs, dsm: VerticalError, base: VerticalError | None = None
) -> VolumeUncertainty:
    """The four parts of a volume's standard deviation and their 95 % combination."""
    base_error = base or VerticalError()
    area = inputs.valid_cells * inputs.cell_area_m2
    bias = _bias_part(inputs, dsm, base_error, area)
    random = _random_part(inputs, dsm, base_error, area)
    base_part = _base_part(inputs, dsm, area)
    cell = inputs.cell_area_m2 * math.sqrt(inputs.edge_square_sum / 12.0)
    total = math.sqrt(bias**2 + random**2 + base_part**2 + cell**2)
    return VolumeUncertainty(
        bias_m3=bias,
        random_m3=random,
        base_m3=base_part,
        cell_m3=cell,
        total_m3=total,
        total95_m3=Z95 * total,
        notes=_notes(inputs, dsm, base_error),
    )
