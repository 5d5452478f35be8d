"""Request and response bodies of the flight API (:mod:`dronegis.api.flights`, ``uploads``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from dronegis.api.flight_time import CAPTURED_HELP
from dronegis.catalog import FlightRecord, JobRecord
from dronegis.flight_files import FileOut, FlightNotice, ProblemOut
from dronegis.upload_models import Outcome
from flights.models import PURPOSE_ALIASES, HeightDatums, HeightDeclaration, Purpose

PURPOSE_HELP = (
    "why the flight was flown: "
    + ", ".join(p.value for p in Purpose)
    + "; the Danish names are accepted too ("
    + ", ".join(sorted(PURPOSE_ALIASES))
    + ")"
)
Replace = Annotated[
    bool, Query(description="replace stored files whose content differs (the old versions are kept)")
]


class FlightThermal(BaseModel):
    """Thermal measurement parameters of a flight (pipeline.models.ThermalOverrides); unset: the file's."""

    model_config = ConfigDict(extra="forbid")

    emissivity: float | None = Field(
        None, gt=0.0, le=1.0, description="emissivity, 0–1 (e.g. 0.95 for brick)"
    )
    reflected_temp_c: float | None = Field(
        None, ge=-60.0, le=150.0, description="reflected apparent temperature, °C (-60 to 150)"
    )
    relative_humidity_pct: float | None = Field(
        None, ge=0.0, le=100.0, description="relative humidity, % (0–100)"
    )
    atmospheric_temp_c: float | None = Field(
        None, ge=-60.0, le=60.0, description="air temperature at the measurement, °C (-60 to 60)"
    )
    object_distance_m: float | None = Field(
        None,
        ge=0.0,
        le=2000.0,
        description="object distance for every frame, m (default: each frame's height)",
    )


class FlightConditions(BaseModel):
    """What the crew logged during a thermography flight (REFERENCE §5.1); QA's conditions gate reads it.

    The names are those of a ``dronegis qa --conditions`` file's ``[measured]`` table.
    """

    model_config = ConfigDict(extra="forbid")

    air_temp_c: float | None = Field(
        None, ge=-40.0, le=45.0, description="outdoor air temperature, °C (-40 to 45)"
    )
    indoor_temp_c: float | None = Field(
        None, ge=-10.0, le=40.0, description="inside temperature of the buildings, °C (-10 to 40)"
    )
    wind_m_s: float | None = Field(None, ge=0.0, le=40.0, description="wind speed, m/s (0–40)")
    humidity_pct: float | None = Field(None, ge=0.0, le=100.0, description="relative humidity, % (0–100)")
    hours_since_precipitation: float | None = Field(
        None,
        ge=0.0,
        le=8760.0,
        description="hours since the last rain or snow, h (0 = raining; up to a year)",
    )


class FlightCreate(BaseModel):
    """A new flight."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="flight id; generated when absent"
    )
    purpose: Purpose = Field(Purpose.OTHER, description=PURPOSE_HELP)
    title: str = Field("", max_length=200)
    site: str = Field(
        "", max_length=120, description="site name, e.g. Skanderborg Rådhus (the place in layer titles)"
    )
    access: Literal["public", "internal"] = Field("internal", description="access of the published layers")
    target_crs: str | None = Field(
        None, max_length=64, pattern=r"^EPSG:\d{4,6}$", description="CRS of the products (default EPSG:25832)"
    )
    pyramids: bool = Field(
        True, description="render static tile pyramids when publishing (else tiles come from the COG)"
    )
    thermal: FlightThermal | None = Field(
        None, description="thermal measurement parameters replacing the images' values (thermal frames)"
    )
    conditions: FlightConditions | None = Field(
        None, description="conditions logged during the flight (thermography gate of QA)"
    )
    camera_timezone: str | None = Field(
        None,
        max_length=64,
        description="IANA zone of camera clocks for times stored without offset (default: the settings')",
    )
    captured: str | None = Field(None, max_length=40, description=CAPTURED_HELP)
    height_datum: HeightDeclaration | HeightDatums | None = Field(None, description=HeightDatums.__doc__)


class FlightUpdate(BaseModel):
    """Changes to a flight (``PATCH``): only the fields sent change; ``null`` clears a value."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose | None = Field(None, description=PURPOSE_HELP)
    title: str | None = Field(None, max_length=200)
    site: str | None = Field(None, max_length=120)
    access: Literal["public", "internal"] | None = None
    thermal: FlightThermal | None = Field(None, description="merged into the stored parameters")
    conditions: FlightConditions | None = Field(None, description="merged into the stored conditions")


class FlightCreated(BaseModel):
    """The created flight and where to upload."""

    id: str
    purpose: Purpose
    status: str
    files_url: str
    finish_url: str
    flight_url: str


class UploadStateOut(BaseModel):
    """How far one file's upload got, and what its last piece did."""

    path: str
    offset: int
    complete: bool
    total: int | None = None
    outcome: Outcome | None = Field(None, description="when complete: stored, unchanged or replaced")
    upload_id: str | None = Field(None, description="resume with this id (Upload-Id header, or the Location)")


class UploadCreate(BaseModel):
    """A resumable upload (tus-style): the file's path, its total length and optionally its sha256."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1, max_length=4096, description="path in the flight folder, e.g. DCIM/DJI_0001.JPG"
    )
    length: int = Field(ge=0, description="total bytes of the file")
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$", description="checked when the upload completes"
    )
    replace: bool = Field(
        False, description="replace a stored file with different content (the old one is kept)"
    )


class FilesOut(BaseModel):
    """What one multipart or zip request did, and everything the flight has so far."""

    stored: list[str]
    unchanged: list[str] = Field(
        default_factory=list, description="identical to the stored file: nothing done"
    )
    replaced: list[str] = Field(
        default_factory=list, description="replaced explicitly; the old version is kept"
    )
    conflicts: list[str] = Field(
        default_factory=list, description="different from the stored file: not stored"
    )
    files: list[str]
    bytes: int = Field(description="bytes the flight holds (files, kept versions, open uploads)")
    size_text: str


class FinishOut(BaseModel):
    """The queued ingest job, and warnings for the pilot."""

    flight: str
    job: int
    status: str
    files: int
    version: int = Field(description="1, or more after finish with new_version=true on a published flight")
    warnings: list[FlightNotice] = Field(default_factory=list)


class FlightView(BaseModel):
    """A flight with its jobs, products, layers, delivered files, conditions and warnings."""

    flight: FlightRecord
    job: JobRecord | None
    jobs: list[JobRecord]
    products: list[dict[str, object]]
    layers: list[dict[str, object]]
    links: dict[str, str]
    lang: Literal["da", "en"] = Field("da", description="language of the texts (?lang= or Accept-Language)")
    version: int = 1
    files: list[FileOut] = Field(default_factory=list)
    flight_problems: list[ProblemOut] = Field(default_factory=list)
    warnings: list[FlightNotice] = Field(default_factory=list)
    conditions: FlightConditions | None = None
    thermal: FlightThermal | None = None
    job_message: str | None = Field(None, description="why the latest job stopped, for the pilot")


class FilesView(BaseModel):
    """Every delivered file of a flight (``GET /api/flights/{id}/files``)."""

    flight: str
    lang: Literal["da", "en"]
    files: list[FileOut]
    counts: dict[str, int] = Field(description="files per status")
    bytes: int
    size_text: str
    flight_problems: list[ProblemOut] = Field(default_factory=list)
    warnings: list[FlightNotice] = Field(default_factory=list)
