"""Frozen models of published vector layers: a GeoPackage layer served as a feature collection.

A :class:`VectorLayer` is to a vector product what :class:`webgis_export.models.Layer` is to a
raster one: the published copy (``publish/layers/<id>/features.gpkg``), its schema, extent and
style, and the same publication facts — access, title, capture time, QA status, accuracy,
overrides, STAC item. ``publish/collections.json`` is a JSON list of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import Field

from core.models import Frozen
from pipeline.models import Accuracy, ProductKind
from webgis_export.models import Access, Bounds, QAFinding

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]


class Captured(Protocol):
    """What a published raster or vector layer says about when it was flown (WMS TIME, STAC)."""

    @property
    def id(self) -> str:
        """The layer id."""

    @property
    def time_start(self) -> datetime | None:
        """Capture start (UTC)."""

    @property
    def time_end(self) -> datetime | None:
        """Capture end (UTC)."""

    @property
    def capture_time_source(self) -> str | None:
        """Where the capture time came from."""

    @property
    def captured_before(self) -> datetime | None:
        """Capture date unknown: the ingest time, an upper bound."""

    @property
    def published_at(self) -> datetime:
        """When the layer was published."""


class FieldInfo(Frozen):
    """One attribute of a vector layer: its name and JSON type (OGC API queryables, WFS schema)."""

    name: str
    type: FieldType


class VectorStyle(Frozen):
    """How WMS draws a vector layer: an outline, a translucent fill, point symbols, classes.

    Colours are ``#rrggbb`` or ``#rrggbbaa``. With ``class_field`` set, a polygon's fill is the
    colour its value has in ``classes`` (e.g. the heat classes A–E of buildings).
    """

    name: str = "default"
    title: str = "Default"
    stroke: str = "#1f5fbf"
    fill: str | None = "#1f5fbf33"
    width: int = Field(2, ge=1, le=16, description="outline width in pixels")
    radius: int = Field(5, ge=1, le=32, description="point symbol radius in pixels")
    class_field: str | None = None
    classes: dict[str, str] = Field(default_factory=dict)


class VectorLayer(Frozen):
    """One published vector product (``publish/collections.json`` holds a list of these)."""

    id: str = Field(description="URL-safe id, unique among published raster and vector layers")
    title: str
    kind: ProductKind
    access: Access = "internal"
    flight: str
    product_id: str
    gpkg: str = Field(description="the published GeoPackage, relative to the publish root")
    table: str = Field(description="its layer (table) name")
    crs: str = Field(description="storage CRS of the published copy, e.g. EPSG:25832")
    geometry_type: str = Field(description="OGR geometry type: Polygon, MultiPolygon, Point, Unknown …")
    feature_count: int
    fields: tuple[FieldInfo, ...]
    time_field: str | None = Field(
        None, description="a per-feature capture time (datetime) the OGC API datetime parameter filters on"
    )
    bounds: Bounds | None = Field(None, description="minx, miny, maxx, maxy in crs; None when empty")
    bounds_wgs84: Bounds | None = Field(None, description="west, south, east, north in degrees")
    time_start: datetime | None = None
    time_end: datetime | None = None
    capture_time_source: str | None = None
    captured_before: datetime | None = None
    overrides: dict[str, str] = Field(default_factory=dict)
    qa_status: str | None = None
    qa_findings: tuple[QAFinding, ...] = Field((), description="the checks behind a QA warn or fail")
    freshness: str | None = None
    qa_override: str | None = None
    accuracy: Accuracy | None = Field(None, description="the product's accuracy statement (as raster layers)")
    accuracy_evidence: str | None = Field(None, description="measured, estimated, unknown or not measured")
    style: VectorStyle = VectorStyle()
    stac_item: str = Field(description="STAC item path relative to the publish root")
    published_at: datetime

    @property
    def capture_time(self) -> datetime | None:
        """The capture start, or the end when only that is known."""
        return self.time_start or self.time_end

    def field(self, name: str) -> FieldInfo | None:
        """The attribute called ``name``, if the layer has one."""
        return next((f for f in self.fields if f.name == name), None)
