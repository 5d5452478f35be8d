"""Is a raster a °C temperature raster? Refuse RGB, 8-bit and kelvin rasters with a clear message."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from rasterio.enums import ColorInterp
from rasterio.io import DatasetReader
from rasterio.windows import Window

from core.errors import RasterInputError

KELVIN_RANGE = (200.0, 400.0)
"""Medians here are taken as kelvin (roofs are −40 … +80 °C, i.e. 233 … 353 K)."""
CELSIUS_RANGE = (-60.0, 150.0)
"""Medians outside this are implausible for a surface temperature in °C."""
SAMPLE_SIDE = 256
SAMPLES_PER_AXIS = 5


class CelsiusCheck(NamedTuple):
    """What the check saw: the sampled median and how many cells it read."""

    median_c: float
    sampled: int


def sample_values(dataset: DatasetReader, band: int = 1) -> np.ndarray:
    """Valid values of a 5 × 5 grid of small windows spread over the raster (never the whole raster)."""
    parts = []
    side = min(SAMPLE_SIDE, dataset.width, dataset.height)
    for fy in np.linspace(0, 1, SAMPLES_PER_AXIS):
        for fx in np.linspace(0, 1, SAMPLES_PER_AXIS):
            col = int(fx * (dataset.width - side))
            row = int(fy * (dataset.height - side))
            values = dataset.read(band, window=Window(col, row, side, side), masked=True)
            data = values.compressed().astype(np.float64)
            parts.append(data[np.isfinite(data)])
    return np.concatenate(parts)


def check_celsius(dataset: DatasetReader, name: str) -> CelsiusCheck:
    """Refuse a raster that is not single-band °C: RGB, 8-bit, kelvin, implausible or empty.

    Raises:
        RasterInputError: naming ``name`` and what was found.
    """
    if dataset.crs is None:
        raise RasterInputError(f"thermal raster {name} has no CRS")
    interp = dataset.colorinterp
    if dataset.count >= 3 or ColorInterp.red in interp:
        raise RasterInputError(
            f"thermal raster {name} has {dataset.count} bands ({', '.join(c.name for c in interp)}): "
            "it looks like an RGB image, not a single-band °C raster"
        )
    dtype = dataset.dtypes[0]
    if dtype in ("uint8", "int8"):
        raise RasterInputError(
            f"thermal raster {name} is 8-bit ({dtype}): a rendered picture, not temperatures in °C"
        )
    values = sample_values(dataset)
    if values.size == 0:
        raise RasterInputError(f"thermal raster {name} has no valid cells in its samples")
    median = float(np.median(values))
    if KELVIN_RANGE[0] <= median <= KELVIN_RANGE[1]:
        raise RasterInputError(
            f"thermal raster {name} has median {median:.1f}: these look like kelvin, not °C "
            f"(subtract 273.15, e.g. dronegis thermal --tiff-profile kelvin)"
        )
    if not CELSIUS_RANGE[0] <= median <= CELSIUS_RANGE[1]:
        raise RasterInputError(
            f"thermal raster {name} has median {median:.1f}, implausible for °C "
            f"(expected {CELSIUS_RANGE[0]:.0f} … {CELSIUS_RANGE[1]:.0f}); raw counts or another unit?"
        )
    return CelsiusCheck(median, int(values.size))
