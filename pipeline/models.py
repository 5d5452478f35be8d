"""Frozen models of what the pipeline produces."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from core.models import Frozen


class ProductKind(StrEnum):
    """What a product is; selects its COG profile, style and freshness rule."""

    ORTHOPHOTO = "orthophoto"
    DSM = "dsm"
    DTM = "dtm"
    THERMAL_FRAME = "thermal_frame"
    THERMAL_MOSAIC = "thermal_mosaic"
    RGB_FRAME = "rgb_frame"
    FOOTPRINTS = "footprints"
    PHOTO_POINTS = "photo_points"


class HeightDatum(StrEnum):
    """Vertical reference of height values (never mislabelled)."""

    DVR90 = "DVR90 (EPSG:5799)"
    ELLIPSOIDAL = "ellipsoidal (ETRS89)"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "n/a"


class Product(Frozen):
    """A raster or vector output of one flight, written under products/<flight>/."""

    id: str = Field(description="unique within the workspace, e.g. <flight>-orthophoto")
    flight: str
    kind: ProductKind
    path: str = Field(description="path relative to the workspace root")
    crs: str
    bounds: tuple[float, float, float, float] = Field(description="minx, miny, maxx, maxy in crs")
    gsd_m: float | None = None
    time_start: datetime | None = None
    time_end: datetime | None = None
    source_files: tuple[str, ...] = Field((), description="archive paths the product was made from")
    height_datum: HeightDatum = HeightDatum.NOT_APPLICABLE
    transformation: str | None = Field(None, description="the PROJ operation used to reach crs")
    units: str | None = Field(None, description="value unit: °C, m, or None for imagery")
    properties: dict[str, object] = Field(default_factory=dict, description="kind-specific extras")
