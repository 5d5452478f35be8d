"""Change between two flights of one area: co-registration, change maps and areas, statistics (issue 13).

- ``models``: frozen settings and results (grid, alignment, change areas, per-polygon figures).
- ``coregister``: the co-registration math (phase correlation, ECC, motion fit; pure).
- ``grid``: the common grid of two rasters and reading them on it (warped VRTs).
- ``inputs``: what a raster is (orthophoto, index raster, DSM) and the value compared.
- ``align``: coarse-to-fine co-registration on the grid.
- ``detect``: the change rule, block regions and their merging (pure).
- ``scan``: the windowed full-resolution pass; ``outputs``: GeoPackage and JSON writers.
- ``stats``: figures per area polygon and time series through :mod:`pipeline.zonal`.
- ``stage``: :func:`detect_change`, the stage function (frozen :class:`ChangeConfig`).
"""

from pipeline.change.models import (
    Alignment,
    AlignSettings,
    AreaStats,
    ChangeArea,
    ChangeConfig,
    ChangeKind,
    ChangeResult,
    Grid,
    SeriesPoint,
)
from pipeline.change.stage import detect_change, read_result
from pipeline.change.stats import area_statistics, time_series

__all__ = [
    "AlignSettings",
    "Alignment",
    "AreaStats",
    "ChangeArea",
    "ChangeConfig",
    "ChangeKind",
    "ChangeResult",
    "Grid",
    "SeriesPoint",
    "area_statistics",
    "detect_change",
    "read_result",
    "time_series",
]
