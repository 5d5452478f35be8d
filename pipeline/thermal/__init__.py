"""The ``thermal`` room: radiometric frames to °C, and how each product's °C values were made.

- :mod:`pipeline.thermal.radiometry` — pure math: the FLIR radiometric model (raw counts <-> °C).
- :mod:`pipeline.thermal.dji` — DJI R-JPEGs through the optional ``dronegis[dji]`` SDK port.
- :mod:`pipeline.thermal.tiff` — radiometric TIFFs (float °C, 16-bit with a scale/offset profile).
- :mod:`pipeline.thermal.convert` — any supported file to °C with the record of how it was made.
- :mod:`pipeline.thermal.frames` — per-frame °C GeoTIFFs (tags, lossless ZSTD, durable together).
- :mod:`pipeline.thermal.parameters` — the measurement parameters of a product, in one spelling.
- :mod:`pipeline.thermal.stage` — the thermal stage: every thermal frame of a flight to °C, one task
  per frame, with the per-flight overrides stored and the record of what was used.
"""

from pipeline.models import ProductThermal, ThermalOverrides, ThermalValue
from pipeline.thermal.convert import convert_frame, distance_from_capture
from pipeline.thermal.dji import DjiThermal, dji_available, read_dji, read_dji_metadata
from pipeline.thermal.frames import NODATA, TAG_PREFIX, frame_tags, run_frames, write_thermal_frame
from pipeline.thermal.parameters import merge_thermal, product_thermal, used_parameters
from pipeline.thermal.radiometry import MeasurementParameters, celsius_to_raw, raw_to_celsius
from pipeline.thermal.stage import (
    ThermalStageResult,
    ThermalTask,
    convert_thermal_frame,
    load_overrides,
    load_record,
    thermal_stage,
)
from pipeline.thermal.tiff import TIFF_PROFILES, CelsiusFrame, read_radiometric_tiff

__all__ = [
    "NODATA",
    "TAG_PREFIX",
    "TIFF_PROFILES",
    "CelsiusFrame",
    "DjiThermal",
    "MeasurementParameters",
    "ProductThermal",
    "ThermalOverrides",
    "ThermalStageResult",
    "ThermalTask",
    "ThermalValue",
    "celsius_to_raw",
    "convert_frame",
    "convert_thermal_frame",
    "dji_available",
    "distance_from_capture",
    "frame_tags",
    "load_overrides",
    "load_record",
    "merge_thermal",
    "product_thermal",
    "raw_to_celsius",
    "read_dji",
    "read_dji_metadata",
    "read_radiometric_tiff",
    "run_frames",
    "thermal_stage",
    "used_parameters",
    "write_thermal_frame",
]
