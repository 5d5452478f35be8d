"""Height grids: cell centres, gradients and true (sloped) surface area.

A cell of a height grid with gradient ∇z covers the planimetric area A = |dx·dy| and
the sloped area A·sqrt(1 + |∇z|²) (the area element of the surface z(x, y)); the
gradient is taken with central differences, one-sided at the grid's edge and next to
nodata (``numpy.gradient``'s scheme made NaN-aware). On a plane this is exact; on
curved ground it is second-order accurate in the cell size.
"""

from __future__ import annotations

import numpy as np
from affine import Affine
from numpy.typing import NDArray


def cell_centres(
    transform: Affine, shape: tuple[int, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """World x and y of every cell centre of a north-up grid of ``shape`` (rows, cols)."""
    rows, cols = shape
    xs = transform.c + transform.a * (np.arange(cols, dtype=np.float64) + 0.5)
    ys = transform.f + transform.e * (np.arange(rows, dtype=np.float64) + 0.5)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return grid_x, grid_y


def grid_gradient(
    heights: NDArray[np.floating], dx: float, dy: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """World gradient (∂z/∂x, ∂z/∂y) of a north-up grid, x east and y north.

    Args:
        heights: 2-D heights in metres; NaN where there is no data.
        dx: the affine's ``a`` (cell width, east positive).
        dy: the affine's ``e`` (cell height, negative for north-up rows running south).

    Returns:
        Both components per cell. Where a valid cell has no valid neighbour along an
        axis, that component is 0; NaN cells get whatever their neighbours give.
    """
    z = np.asarray(heights, np.float64)
    if z.ndim != 2:
        raise ValueError(f"grid_gradient: heights must be 2-D, got shape {z.shape}")
    return _axis_gradient(z, dx, axis=1), _axis_gradient(z, dy, axis=0)


def surface_factor(heights: NDArray[np.floating], dx: float, dy: float) -> NDArray[np.float64]:
    """Per cell, sloped area ÷ planimetric area = sqrt(1 + (∂z/∂x)² + (∂z/∂y)²).

    Args:
        heights: 2-D heights in metres; NaN where there is no data.
        dx: cell width in metres.
        dy: cell height in metres (its sign does not matter).

    Returns:
        The factor per cell (≥ 1), NaN where ``heights`` is NaN; see :func:`grid_gradient`.
    """
    gx, gy = grid_gradient(heights, dx, dy)
    factor: NDArray[np.float64] = np.sqrt(1.0 + gx**2 + gy**2)
    factor[~np.isfinite(np.asarray(heights, np.float64))] = np.nan
    return factor


def _axis_gradient(z: NDArray[np.float64], step: float, axis: int) -> NDArray[np.float64]:
    """Central difference along ``axis``, one-sided next to NaN cells or the edge, 0 when isolated."""
    if z.shape[axis] < 2:
        return np.zeros_like(z)
    ahead = np.full_like(z, np.nan)
    behind = np.full_like(z, np.nan)
    if axis == 0:
        ahead[:-1] = z[1:] - z[:-1]
        behind[1:] = z[1:] - z[:-1]
    else:
        ahead[:, :-1] = z[:, 1:] - z[:, :-1]
        behind[:, 1:] = z[:, 1:] - z[:, :-1]
    both = np.isfinite(ahead) & np.isfinite(behind)
    gradient = np.where(both, 0.5 * (ahead + behind), np.where(np.isfinite(ahead), ahead, behind))
    result: NDArray[np.float64] = np.nan_to_num(gradient / step, nan=0.0)
    return result
