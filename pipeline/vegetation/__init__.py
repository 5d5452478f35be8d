"""Vegetation indices of orthophotos and multispectral band frames (issue 13).

- ``indices``: the index formulas and their registry (pure numpy).
- ``bands``: which raster band is red, green, blue, red edge or NIR (pure).
- ``frames``: band and calibration metadata of multispectral band frames (MicaSense, DJI, Sequoia).
- ``reflectance``: DNs to radiance / reflectance and the calibration label (pure numpy).
- ``raster``: window-by-window float rasters, scratch files and COG conversion, running statistics.
- ``stage``: :func:`vegetation_indices`, the stage function (frozen :class:`VegetationConfig`).
"""

from pipeline.vegetation.bands import BandMap, identify_bands, parse_band_spec
from pipeline.vegetation.frames import BandFrame, read_band_frame
from pipeline.vegetation.indices import INDICES, Band, IndexSpec, compute_index, index_spec
from pipeline.vegetation.reflectance import Calibration, panel_factor, to_reflectance
from pipeline.vegetation.stage import IndexProduct, VegetationConfig, VegetationResult, vegetation_indices

__all__ = [
    "INDICES",
    "Band",
    "BandFrame",
    "BandMap",
    "Calibration",
    "IndexProduct",
    "IndexSpec",
    "VegetationConfig",
    "VegetationResult",
    "compute_index",
    "identify_bands",
    "index_spec",
    "panel_factor",
    "parse_band_spec",
    "read_band_frame",
    "to_reflectance",
    "vegetation_indices",
]
