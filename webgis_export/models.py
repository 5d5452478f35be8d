"""Frozen models of what is published: layers and their styles.

A :class:`Layer` is one published product. It carries everything a WebGIS user or
an OGC client needs without opening the COG: where the COG is, how it is styled,
where it lies (native CRS and WGS84), when it was flown, how accurate it is and
whether QA passed. ``publish/layers.json`` is a JSON list of layers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from core.models import Frozen
from pipeline.models import Accuracy, Datum, HeightDatum, ProductKind
from webgis_export.privacy.models import PrivacyStamp

Access = Literal["public", "internal"]
Bounds = tuple[float, float, float, float]


class Style(Frozen):
    """How a layer is drawn: a colormap over a value range, or RGB pass-through.

    ``colormap`` is a matplotlib colormap name for single-band layers, or ``None``
    for RGB(A) imagery, which is shown as it is.
    """

    name: str = "default"
    title: str = "Default"
    colormap: str | None = None
    vmin: float | None = None
    vmax: float | None = None
    unit: str | None = Field(None, description="value unit shown in legends and GetFeatureInfo: °C, m")

    @property
    def is_rgb(self) -> bool:
        """True when the layer is shown as RGB(A) imagery without a colormap."""
        return self.colormap is None


class QAFinding(Frozen):
    """One QA check behind a layer's QA status: why it warned, failed or was not evaluated."""

    check: str = Field(description="check id, e.g. precision.<product> or conditions.wind")
    status: Literal["warn", "fail", "skip"]
    title: str
    message: str


class Approval(Frozen):
    """A person's approval to publish despite QA findings, with the recorded reason."""

    by: str | None = None
    reason: str


class Layer(Frozen):
    """One published product (``publish/layers.json`` holds a list of these)."""

    id: str = Field(description="URL-safe id, unique among published layers")
    title: str
    kind: ProductKind
    access: Access = "internal"
    flight: str
    product_id: str
    style: Style
    cog: str = Field(description="COG path relative to the publish root")
    crs: str = Field(description="native CRS of the COG, e.g. EPSG:25832")
    bounds: Bounds = Field(description="minx, miny, maxx, maxy in crs")
    bounds_wgs84: Bounds = Field(description="west, south, east, north in degrees")
    width: int
    height: int
    band_count: int
    dtype: str
    nodata: float | None = None
    gsd_m: float
    time_start: datetime | None = None
    time_end: datetime | None = None
    capture_time_source: str | None = Field(
        None, description="where the capture time came from (file, frames, declared) or 'unknown'"
    )
    captured_before: datetime | None = Field(
        None, description="capture date unknown: the ingest time, an upper bound of the capture"
    )
    overrides: dict[str, str] = Field(
        default_factory=dict, description="gate -> recorded reason it was overridden (undated, outside_area)"
    )
    qa_status: str | None = Field(None, description="pass|warn|fail from the QA report, None if none ran")
    freshness: str | None = Field(None, description="status of the freshness rule at publication, if known")
    qa_override: str | None = Field(
        None, description="recorded reason for publishing despite a failed QA gate"
    )
    accuracy: Accuracy | None = Field(
        None,
        description="the product's accuracy statement: measured by QA at check points, else the GCP fit's "
        "estimate (RMSE_H/V, NSSDA 95 %, CE90/LE90, n, class met, source, warnings); None: not measured",
    )
    accuracy_evidence: str | None = Field(
        None, description="QA's accuracy evidence: measured, estimated, unknown or not measured"
    )
    qa_findings: tuple[QAFinding, ...] = Field(
        (), description="checks that made this layer's QA warn or fail, or left its accuracy unevaluated"
    )
    approval: Approval | None = Field(None, description="the GIS team's approval to publish, when needed")
    site: str | None = Field(None, description="site name given by a person (upload, publish --site)")
    locality: str | None = Field(
        None, description="postal district of the layer's centre (webgis_export.places): 8660 Skanderborg"
    )
    height_datum: HeightDatum = HeightDatum.NOT_APPLICABLE
    datum: Datum | None = Field(None, description="DSM/DTM: the product's vertical datum decision")
    thermal: dict[str, float | str] = Field(default_factory=dict, description="emissivity, reflected °C…")
    platform: str | None = Field(None, description="e.g. dji-m300")
    instruments: tuple[str, ...] = ()
    off_nadir_deg: float | None = Field(None, description="single frames: 90 + gimbal pitch")
    azimuth_deg: float | None = Field(None, description="single frames: camera heading, clockwise from north")
    stac_item: str = Field(description="STAC item path relative to the publish root")
    legend: str | None = Field(None, description="legend PNG path relative to the publish root")
    pyramids: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="static pyramid: TMS id -> (min zoom, max zoom)"
    )
    tile_format: Literal["png", "jpeg"] = "png"
    published_at: datetime
    privacy: PrivacyStamp | None = Field(
        None, description="privacy zones and detector applied (also in the layer folder's privacy.json)"
    )

    @property
    def is_thermal(self) -> bool:
        """True for thermal frames and mosaics (values in °C)."""
        return self.kind in (ProductKind.THERMAL_FRAME, ProductKind.THERMAL_MOSAIC)

    @property
    def capture_time(self) -> datetime | None:
        """The capture start, or the end when only that is known."""
        return self.time_start or self.time_end
