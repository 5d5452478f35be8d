"""Frozen models of the buildings room: the stage's configuration and its per-building findings."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict
from shapely.geometry.base import BaseGeometry

from core.models import Frozen
from pipeline.zonal import FeatureProblem, ZonalStats


class HotSpotRule(Frozen):
    """A hot spot: connected cells at least ``min_excess_k`` above the roof's own median.

    Cells are connected through edges and corners (8-connectivity, or 4); an area counts
    when it covers at least ``min_area_m2`` (cells × cell area). REFERENCE.md §5.3: roof
    anomalies ≥ 2 K above the face's robust median.
    """

    min_excess_k: float = 2.0
    min_area_m2: float = 0.5
    connectivity: Literal[4, 8] = 8


class ScoreRule(Frozen):
    """The heat-loss score and its classes.

    score (K) = mean over the roof's valid cells of max(0, T − T_ref), T_ref the median of the
    comparable roofs' medians (same BBR use code when at least ``min_peers`` reliable roofs share
    it, else all reliable roofs). A uniformly warmer roof and a roof with warm patches both
    raise it. Classes: A below ``class_limits_k[0]`` … E from ``class_limits_k[3]`` (A = least).
    """

    class_limits_k: tuple[float, float, float, float] = (0.5, 1.0, 2.0, 3.5)
    min_peers: int = 3
    histogram_bin_k: float = 0.02
    """Bin width of the per-roof histograms the score is computed from (error ≤ half a bin)."""


class ReliabilityRule(Frozen):
    """When a roof's figures are limited or unreliable."""

    limited_coverage: float = 0.9
    unreliable_coverage: float = 0.5
    limited_pixels: int = 100
    unreliable_pixels: int = 20
    limited_view_angle_deg: float = 30.0
    unreliable_view_angle_deg: float = 45.0


class FlightConditions(Frozen):
    """What is known of the flight (from its logged conditions, or given on the command line)."""

    date_flown: date | None = None
    air_temp_c: float | None = None
    wind_ms: float | None = None
    humidity_pct: float | None = None
    view_angle_deg: float | None = None
    """Off-nadir angle of the thermal view (0 = straight down), when known."""
    gate_passed: bool | None = None
    """The thermography gate's result (QA: ΔT, wind, time after sunset), when known."""
    note: str | None = None


class BuildingsConfig(Frozen):
    """Everything one run of the buildings analysis needs."""

    footprints: Path
    thermal: Path
    """Single-band °C raster (mosaic or georeferenced frame)."""
    out_dir: Path
    rgb: Path | None = None
    """Optional RGB orthophoto for the cards' crops."""
    id_field: str | None = None
    layer: str | None = None
    flight: FlightConditions = FlightConditions()
    hot_spots: HotSpotRule = HotSpotRule()
    score: ScoreRule = ScoreRule()
    reliability: ReliabilityRule = ReliabilityRule()
    output_crs: str = "EPSG:25832"
    cards: bool = True


class Reliability(StrEnum):
    """How far a roof's figures can be trusted."""

    GOOD = "good"
    LIMITED = "limited"
    UNRELIABLE = "unreliable"


class HotSpot(Frozen):
    """One connected warm area of a roof."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    number: int
    """1 = largest area of the roof."""
    area_m2: float
    pixel_count: int
    peak_c: float
    mean_excess_k: float
    """Mean of (T − roof median) over the area."""
    geometry: BaseGeometry
    """Polygon in the output CRS."""


class Building(Frozen):
    """The findings for one building."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    index: int
    id: str
    key: str
    """Unique name (the id, ``~position`` added when duplicated); cards are ``cards/<key>.html``."""
    use_code: str | None
    material: str | None
    emissivity: float | None
    stats: ZonalStats
    hot_spots: tuple[HotSpot, ...] = ()
    reference_c: float | None = None
    """Median of the comparable roofs' medians."""
    peer_group: str | None = None
    excess_air_k: float | None = None
    excess_peers_k: float | None = None
    score_k: float | None = None
    rank: int | None = None
    heat_class: str | None = None
    """A (least heat loss) … E (most), from the score."""
    reliability: Reliability = Reliability.GOOD
    reasons: tuple[str, ...] = ()
    """Codes of what limits the reliability (see :data:`pipeline.buildings.texts.REASONS`)."""
    problems: tuple[FeatureProblem, ...] = ()
    geometry: BaseGeometry | None = None
    """Footprint in the output CRS (None when the feature had no usable polygon)."""
    histogram: tuple[float, float, tuple[int, ...]] | None = None
    """(first bin start °C, bin width K, counts) of the roof's valid cells."""
    thermal: Path | None = None
    """The °C raster the roof was measured on (of several views: the nearest-to-nadir one covering it)."""
    view_angle_deg: float | None = None
    """Off-nadir angle of that view, when known."""


class BuildingsReport(Frozen):
    """One run: inputs, parameters and every building."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    config: BuildingsConfig
    raster_crs: str
    cell_size_m: float
    use_field: str | None
    material_field: str | None
    buildings: tuple[Building, ...]
    cards: dict[str, str] = {}
    """Card of each building (by key), relative to the output folder."""
    outputs: dict[str, Path] = {}
