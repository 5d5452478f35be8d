"""The contract between process, QA and publication: frozen, typed product models.

Every fact a reader consumes is a typed field: ``Product.georef`` (how it was placed),
``Product.accuracy`` (what is known of its accuracy), ``Product.thermal`` (the measurement
parameters), ``Product.view`` (platform, instruments, viewing angles), ``Product.datum`` (the
vertical datum), ``Product.vector`` (the GeoPackage layer). Nothing here imports a room of the
pipeline.
"""

from pipeline.models.accuracy import Accuracy, AccuracySource, Evidence
from pipeline.models.fit import GcpFit, PointResidual
from pipeline.models.georef import (
    DeliveredGeoref,
    FrameRecord,
    GcpGeoref,
    Georef,
    MosaicGeoref,
    PoseGeoref,
    View,
)
from pipeline.models.product import (
    Datum,
    DatumSource,
    HeightDatum,
    Product,
    ProductKind,
    Skipped,
    VectorInfo,
)
from pipeline.models.thermal import ProductThermal, ThermalOverrides, ThermalValue

__all__ = [
    "Accuracy",
    "AccuracySource",
    "Datum",
    "DatumSource",
    "DeliveredGeoref",
    "Evidence",
    "FrameRecord",
    "GcpFit",
    "GcpGeoref",
    "Georef",
    "HeightDatum",
    "MosaicGeoref",
    "PointResidual",
    "PoseGeoref",
    "Product",
    "ProductKind",
    "ProductThermal",
    "Skipped",
    "ThermalOverrides",
    "ThermalValue",
    "VectorInfo",
    "View",
]
