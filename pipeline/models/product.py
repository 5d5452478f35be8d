"""Frozen models of what the pipeline produces."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

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


class DatumSource(StrEnum):
    """Where a DSM/DTM's vertical datum was decided, in the order the sources are tried."""

    FILE_CRS = "file_crs"
    """The file's own vertical CRS (compound CRS such as EPSG:7416, or GeoTIFF vertical keys)."""
    DECLARATION = "declaration"
    """The delivery's declaration (``dronegis ingest --height-datum``, the upload API)."""
    GEOID_TEST = "geoid_test"
    """Heights below the DVR90 geoid N − 5 m over Denmark, which ellipsoidal heights cannot be."""
    DEFAULT = "default"
    """No source decided: the datum is unknown."""


class Datum(Frozen):
    """The vertical datum of a DSM/DTM product and how it was decided (``pipeline.geodesy``)."""

    datum: HeightDatum = Field(description="datum of the product's height values")
    delivered: HeightDatum = Field(description="datum decided for the delivered heights")
    source: DatumSource
    vertical_crs: str | None = Field(
        None, description="vertical CRS of the product's heights: EPSG:5799 (DVR90), EPSG:4937 (ellipsoidal)"
    )
    crs: str | None = Field(None, description="CRS written in the COG: compound (EPSG:7416) where DVR90")
    geoid_n_m: float | None = Field(
        None, description="DVR90 geoid height N (ellipsoidal minus DVR90) at the product centre, m"
    )
    share_below_geoid: float | None = Field(
        None, description="share of the sampled heights below N − 5 m (the geoid test), None if not run"
    )
    conversion: str | None = Field(None, description="PROJ operation that converted the heights, if any")
    note: str = Field("", description="how the decision was reached, Danish then English")
    warnings: tuple[str, ...] = Field((), description="contradictions found, each naming the file")


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
    height_datum: HeightDatum = Field(
        HeightDatum.NOT_APPLICABLE, description="the product's height datum (``datum.datum`` when decided)"
    )
    datum: Datum | None = Field(None, description="DSM/DTM: the vertical datum decision")
    transformation: str | None = Field(None, description="the PROJ operation used to reach crs")
    units: str | None = Field(None, description="value unit: °C, m, or None for imagery")
    properties: dict[str, object] = Field(default_factory=dict, description="kind-specific extras")

    @model_validator(mode="before")
    @classmethod
    def _height_datum_from_decision(cls, data: object) -> object:
        """``height_datum`` follows ``datum``; a product giving both must give the same datum."""
        if not isinstance(data, dict) or data.get("datum") is None:
            return data
        decision = data["datum"]
        decided = HeightDatum(decision.datum if isinstance(decision, Datum) else decision["datum"])
        given = data.get("height_datum")
        if given is not None and HeightDatum(given) is not decided:
            raise ValueError(f"product {data.get('id')}: height_datum {given} contradicts datum {decided}")
        return {**data, "height_datum": decided}
