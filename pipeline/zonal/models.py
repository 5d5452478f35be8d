"""Frozen result models of the zonal room: polygon layers, per-feature problems, statistics."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import ConfigDict
from shapely.geometry.base import BaseGeometry

from core.models import Frozen

AttributeValue = str | int | float | bool | None


class ProblemCode(StrEnum):
    """What can be wrong with one feature of a polygon layer (codes are stable, for filters and cards)."""

    REPAIRED = "repaired"
    """Invalid (e.g. self-intersecting) polygon, repaired with ``shapely.make_valid``; figures are kept."""
    EMPTY = "empty_geometry"
    """No geometry, or nothing polygonal left after repair; the feature is skipped."""
    NOT_POLYGON = "not_polygon"
    """A point or line where a polygon was expected; the feature is skipped."""
    DUPLICATE_ID = "duplicate_id"
    """Another feature carries the same id; both are kept, the card names carry the position."""
    MISSING_ID = "missing_id"
    """The id field is empty; the id is ``#<position>``."""


class FeatureProblem(Frozen):
    """One problem of one feature, with a message naming the file, the feature and the value."""

    code: ProblemCode
    message: str


class PolygonFeature(Frozen):
    """One feature of a polygon layer, its geometry in the layer's target CRS."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    index: int
    """Position of the feature in the file (0-based); unique even when ids are not."""
    id: str
    """Value of the id field as text (``#<index>`` when the file has no id field or the value is empty)."""
    attributes: dict[str, AttributeValue]
    """Every other attribute of the feature (dates as ISO text)."""
    geometry: BaseGeometry | None
    """(Multi)polygon, 2-D, valid; None when the feature cannot be used (see ``problems``)."""
    problems: tuple[FeatureProblem, ...] = ()

    @property
    def usable(self) -> bool:
        """True when the feature has a polygon to analyse."""
        return self.geometry is not None

    @property
    def key(self) -> str:
        """A name unique within the layer: the id, with ``~<index>`` added when the id is duplicated."""
        duplicated = any(p.code is ProblemCode.DUPLICATE_ID for p in self.problems)
        return f"{self.id}~{self.index}" if duplicated else self.id


class PolygonLayer(Frozen):
    """A polygon layer read from a vector file and reprojected to one CRS."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    source: Path
    layer: str | None
    """Layer name inside the file (GeoPackages may hold several)."""
    id_field: str | None
    """The attribute the ids come from; None when ids are feature positions."""
    source_crs: str
    """CRS of the file as read (``authority:code`` when known, else WKT)."""
    crs: str
    """CRS of the geometries here (``authority:code`` when known, else WKT)."""
    features: tuple[PolygonFeature, ...]

    @property
    def usable(self) -> tuple[PolygonFeature, ...]:
        """Features with a polygon to analyse."""
        return tuple(f for f in self.features if f.usable)

    @property
    def problems(self) -> tuple[tuple[PolygonFeature, FeatureProblem], ...]:
        """Every (feature, problem) pair of the layer."""
        return tuple((f, p) for f in self.features for p in f.problems)


class ZonalStats(Frozen):
    """Statistics of the raster values whose cell centre lies inside one polygon.

    Value figures are None when the polygon has no valid pixel.
    """

    index: int
    """Position of the polygon in the input sequence."""
    pixel_count: int
    """Cells of the raster's grid (extended past its edges) whose centre lies inside the polygon."""
    valid_count: int
    """Of those, cells inside the raster with data (not nodata, not masked, finite)."""
    coverage: float
    """valid_count / pixel_count (0 when the polygon holds no cell centre)."""
    mean: float | None
    median: float | None
    p10: float | None
    p90: float | None
    min: float | None
    max: float | None
    std: float | None
    """Population standard deviation (ddof = 0), as exactextract's ``stdev``."""
