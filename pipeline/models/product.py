"""The product record: what the pipeline produces, one typed field per fact a reader consumes.

``products/<flight>/products.json`` holds a list of :class:`Product`; it is read and written only by
``pipeline.products``. Unknown keys are refused (``extra="forbid"``), so a renamed field is an error
naming the file and the key, never a silent gap.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from core.models import Frozen
from pipeline.models.accuracy import Accuracy
from pipeline.models.georef import Georef, View
from pipeline.models.thermal import ProductThermal


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
    # Vector products of the analyses: a GeoPackage (``path``) and its layer (``Product.vector.layer``),
    # published as feature collections (webgis_export.vectors) like the two above.
    BUILDINGS = "buildings"
    HOT_SPOTS = "hot_spots"
    CHANGE_AREAS = "change_areas"
    VOLUMES = "volumes"
    ROOF_PLANES = "roof_planes"
    CHECK_POINTS = "check_points"
    # Float32 rasters of the analyses (COG profile ``analysis_f32``/``cutfill_f32``, nodata −9999):
    # an index of an orthophoto (unitless, documented range per index), AFTER − BEFORE of two flights
    # (index units or metres), and DSM − base of the volume polygons (metres, + cut / − fill).
    VEGETATION_INDEX = "vegetation_index"
    CHANGE_MAP = "change_map"
    CUT_FILL = "cut_fill"


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


class Skipped(Frozen):
    """An input the run could not use, and why (naming the file and the value)."""

    file: str
    reason: str


class VectorInfo(Frozen):
    """A vector product's layer in its GeoPackage (``Product.path``), and what it leaves out."""

    layer: str = Field(description="the GeoPackage layer")
    count: int | None = Field(None, ge=0, description="features written")
    skipped: tuple[Skipped, ...] = Field((), description="inputs without a feature, and why")


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
    signature: str | None = Field(
        None, description="hash of the inputs and options it was made from; a rerun keeps it while unchanged"
    )
    capture_time_source: str | None = Field(
        None,
        description="where time_start/time_end came from (file metadata, frames, declaration), or unknown",
    )
    captured_before: datetime | None = Field(
        None, description="capture date unknown: the ingest time, an upper bound of when it was flown"
    )
    warnings: tuple[str, ...] = Field((), description="what processing noticed, each naming the file")
    georef: Georef | None = Field(None, description="how it was placed on the map")
    accuracy: Accuracy | None = Field(
        None, description="what the pipeline can state of its accuracy (a GCP fit)"
    )
    thermal: ProductThermal | None = Field(None, description="thermal products: the measurement parameters")
    view: View | None = Field(None, description="frames: platform, instruments and viewing angles")
    vector: VectorInfo | None = Field(None, description="vector products: the GeoPackage layer")

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
