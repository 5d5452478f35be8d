"""From captures to products: the ``process`` stage and its rooms, and the product contract.

May import :mod:`core` and :mod:`flights`; never :mod:`qa`, :mod:`webgis_export` or :mod:`dronegis`.

The public API (``from pipeline import process_flight, ProcessConfig, Product``)::

    products = process_flight(workspace, "flight-1", ProcessConfig(target_crs="EPSG:25832"))

Rooms by stage, each with its math, its tasks and its stage function: :mod:`pipeline.rasters`,
:mod:`pipeline.thermal`, :mod:`pipeline.frames`, :mod:`pipeline.gcp`, :mod:`pipeline.mosaic`,
:mod:`pipeline.layers`; the pure math of cameras and heights in :mod:`pipeline.georef` and
:mod:`pipeline.geodesy`; the analyses in :mod:`pipeline.zonal`, :mod:`pipeline.buildings`,
:mod:`pipeline.vegetation`, :mod:`pipeline.change`, :mod:`pipeline.surface`, :mod:`pipeline.volumes`
and :mod:`pipeline.roofs`. The contract read by QA and publication is :mod:`pipeline.models`, read
and written on disk only by :mod:`pipeline.products`.
"""

from pipeline.executors import Executor, SerialExecutor, executor_for
from pipeline.models import (
    Accuracy,
    AccuracySource,
    Datum,
    Evidence,
    GcpFit,
    Georef,
    HeightDatum,
    Product,
    ProductKind,
    ProductThermal,
    ThermalOverrides,
    VectorInfo,
    View,
)
from pipeline.process import date_products, process_flight
from pipeline.products import load_products, product_id, read_products, write_products
from pipeline.rasters import ReprojectConfig, reproject_to_cog, write_cog
from pipeline.run import STAGES, ProcessConfig, ProcessRun, StageOutput
from pipeline.thermal import convert_frame, thermal_stage

__all__ = [
    "STAGES",
    "Accuracy",
    "AccuracySource",
    "Datum",
    "Evidence",
    "Executor",
    "GcpFit",
    "Georef",
    "HeightDatum",
    "ProcessConfig",
    "ProcessRun",
    "Product",
    "ProductKind",
    "ProductThermal",
    "ReprojectConfig",
    "SerialExecutor",
    "StageOutput",
    "ThermalOverrides",
    "VectorInfo",
    "View",
    "convert_frame",
    "date_products",
    "executor_for",
    "load_products",
    "process_flight",
    "product_id",
    "read_products",
    "reproject_to_cog",
    "thermal_stage",
    "write_cog",
    "write_products",
]
