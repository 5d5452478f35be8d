"""The ``rasters`` room: delivered orthophotos, DSMs and DTMs as COGs in the target CRS, and COG writing.

- :mod:`pipeline.rasters.cog` — COG profiles (one per product kind), the COG writer, validation.
- :mod:`pipeline.rasters.area` — a CRS's area of use: whether positions can be mapped in it.
- :mod:`pipeline.rasters.inputs` — any georeferenced raster opened and its georeferencing checked.
- :mod:`pipeline.rasters.operations` — the PROJ operation to the target CRS and how far it moves pixels.
- :mod:`pipeline.rasters.warp` — the target grid materialised strip by strip in bounded memory.
- :mod:`pipeline.rasters.reproject` — one raster to a COG product (:class:`ReprojectConfig`).
- :mod:`pipeline.rasters.stage` — the ``rasters`` sub-stage of ``process``.
"""

from pipeline.rasters.area import AREA_MARGIN_DEG, OUTSIDE_AREA, crs_string, outside_target_area
from pipeline.rasters.cog import (
    COG_PROFILES,
    PROFILE_FOR_KIND,
    CogProfile,
    CogProfiles,
    CogValidation,
    profile_for,
    validate_cog,
    write_cog,
    write_cog_array,
)
from pipeline.rasters.inputs import RasterInfo, check_target_area, open_raster
from pipeline.rasters.operations import Operation, choose_operation
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog
from pipeline.rasters.stage import RASTER_KINDS, rasters_stage

__all__ = [
    "AREA_MARGIN_DEG",
    "COG_PROFILES",
    "OUTSIDE_AREA",
    "PROFILE_FOR_KIND",
    "RASTER_KINDS",
    "CogProfile",
    "CogProfiles",
    "CogValidation",
    "Operation",
    "RasterInfo",
    "ReprojectConfig",
    "check_target_area",
    "choose_operation",
    "crs_string",
    "open_raster",
    "outside_target_area",
    "profile_for",
    "rasters_stage",
    "reproject_to_cog",
    "validate_cog",
    "write_cog",
    "write_cog_array",
]
