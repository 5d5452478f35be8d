"""Earthwork volumes per polygon from a DSM: cut, fill, net, areas, base and uncertainty.

``dronegis volume DSM --polygons FILE`` and (later) the ``volume`` stage of ``dronegis
process`` call :func:`run_volumes` with a frozen :class:`VolumeConfig`. The room holds
the pure math (:mod:`~pipeline.volumes.measure`, :mod:`~pipeline.volumes.uncertainty`),
the stage (:mod:`~pipeline.volumes.stage`, datums checked by :mod:`pipeline.surface.heights`)
and its writers (cut/fill COG and legend, GeoPackage, CSV, JSON, HTML).
"""

from pipeline.volumes.models import (
    BaseFit,
    BaseMethod,
    PolygonVolume,
    VerticalError,
    VolumeConfig,
    VolumeRun,
    VolumeStatus,
    VolumeUncertainty,
)
from pipeline.volumes.stage import run_volumes

__all__ = [
    "BaseFit",
    "BaseMethod",
    "PolygonVolume",
    "VerticalError",
    "VolumeConfig",
    "VolumeRun",
    "VolumeStatus",
    "VolumeUncertainty",
    "run_volumes",
]
