"""Pure statistics of the values of one polygon (numpy only, no I/O).

Quantiles are numpy's default (Hyndman & Fan type 7, linear interpolation between the
order statistics), which is what exactextract's ``quantile``/``median`` give when every
cell weighs the same. The standard deviation is the population one (ddof = 0), as
exactextract's ``stdev``. Sums run in float64 whatever the raster's dtype.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

QUANTILES = (10.0, 50.0, 90.0)


class ValueSummary(NamedTuple):
    """Summary of a set of values; every figure is None for an empty set.

    Example:
        >>> summarize(np.array([1.0, 2.0, 3.0, 4.0])).median
        2.5
    """

    n: int
    mean: float | None
    median: float | None
    p10: float | None
    p90: float | None
    min: float | None
    max: float | None
    std: float | None


EMPTY = ValueSummary(0, None, None, None, None, None, None, None)


def summarize(values: NDArray[np.floating] | NDArray[np.integer]) -> ValueSummary:
    """Count, mean, median, p10, p90, min, max and population std of a 1-D array of valid values."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return EMPTY
    p10, median, p90 = (float(q) for q in np.percentile(flat, QUANTILES))
    mean = float(flat.mean())
    return ValueSummary(
        n=int(flat.size),
        mean=mean,
        median=median,
        p10=p10,
        p90=p90,
        min=float(flat.min()),
        max=float(flat.max()),
        std=float(np.sqrt(np.mean(np.square(flat - mean)))),
    )


def coverage_share(valid_count: int, pixel_count: int) -> float:
    """Share of a polygon's cells that hold data (0 for a polygon without cells)."""
    return valid_count / pixel_count if pixel_count else 0.0
