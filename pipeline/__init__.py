"""From captures to products: the ``process`` stage and its rooms, and the product contract.

May import :mod:`core` and :mod:`flights`; never :mod:`qa`, :mod:`webgis_export` or :mod:`dronegis`.

The public API: the product contract, the run's configuration and the thermal room from here
(``from pipeline import ProcessConfig, Product, thermal_stage``); the whole stage from its module::

    from pipeline.process import process_flight

    products = process_flight(workspace, "flight-1", ProcessConfig(target_crs="EPSG:25832"))

The facade loads no analysis room: importing any ``pipeline`` module (``pipeline.thermal.frames``
for ``dronegis thermal``) runs this file first, and ``pipeline.process`` with every room behind it
costs about 0.5 CPU-s of start-up (pydantic models, report templates), 2.5 ms a frame over 200
thermal frames. ``process_flight``/``date_products`` are therefore imported from
:mod:`pipeline.process`, ``reproject_to_cog``/``write_cog`` from :mod:`pipeline.rasters`.

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
from pipeline.products import load_products, product_id, read_products, write_products
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
    "SerialExecutor",
    "StageOutput",
    "ThermalOverrides",
    "VectorInfo",
    "View",
    "convert_frame",
    "executor_for",
    "load_products",
    "product_id",
    "read_products",
    "thermal_stage",
    "write_products",
]
