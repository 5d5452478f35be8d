"""Building inspection: heat loss per building from a thermal (°C) raster and building footprints.

Per footprint (any vector format and CRS, read by :mod:`pipeline.zonal`): roof temperature
statistics over the cells whose centre lies inside it, excess over the air temperature and
over comparable roofs (same BBR use code), hot spots (:mod:`pipeline.buildings.hotspots`),
reliability (coverage, pixels, view angle, roof material → emissivity, the conditions gate),
a heat-loss score, rank and class A–E (:mod:`pipeline.buildings.score`), a GeoPackage, a
JSON and a card per building. Entry point: :func:`buildings_stage`.
"""

from pipeline.buildings.models import (
    Building,
    BuildingsConfig,
    BuildingsReport,
    FlightConditions,
    HotSpot,
    HotSpotRule,
    Reliability,
    ReliabilityRule,
    ScoreRule,
)
from pipeline.buildings.stage import buildings_stage

__all__ = [
    "Building",
    "BuildingsConfig",
    "BuildingsReport",
    "FlightConditions",
    "HotSpot",
    "HotSpotRule",
    "Reliability",
    "ReliabilityRule",
    "ScoreRule",
    "buildings_stage",
]
