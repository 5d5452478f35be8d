"""Settings for the CLI and the service (pydantic-settings, prefix ``DRONEGIS_``).

Built once in the CLI's main group or in ``create_app(settings)`` and passed down;
nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flights.municipality import DEFAULT_MUNICIPALITY, SKANDERBORG_KOMKODE

Role = Literal["pilot", "gis", "viewer"]


class Token(BaseModel):
    """An API token and the role it grants."""

    model_config = ConfigDict(frozen=True)

    token: str
    role: Role
    name: str = ""


class Basemap(BaseModel):
    """A background map the viewer draws under the layers (WMTS or WMS), e.g. Dataforsyningen's skærmkort.

    Example (environment, JSON)::

        DRONEGIS_BASEMAP='{"kind": "wmts", "url": "https://api.dataforsyningen.dk/topo_skaermkort_DAF",
                           "layer": "topo_skaermkort", "matrix_set": "View1", "token": "…",
                           "attribution": "Skærmkort: Styrelsen for Dataforsyning og Infrastruktur"}'

    The token is sent by the browser in every tile request (``token=`` query parameter, as
    Dataforsyningen expects): use a token meant for public web maps. Without a basemap the
    viewer draws an offline one from the municipal boundary, the postal districts and the
    layers' footprints.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["wmts", "wms"] = "wmts"
    url: str = Field(description="service URL without request parameters")
    layer: str = Field(description="WMTS layer identifier, or WMS LAYERS")
    matrix_set: str = Field("View1", description="WMTS tile matrix set (View1 is EPSG:25832)")
    format: str = Field("image/png", description="image format requested")
    token: str | None = Field(None, description="sent as token=… with every request")
    attribution: str = Field("", description="credit line shown on the map and in prints")
    title: str = Field("Skærmkort", description="name shown in the basemap chooser")


class Geocoder(BaseModel):
    """An address and place-name search with the DAWA / Dataforsyningen API shape.

    ``GET {url}/autocomplete?q=…&type=adresse&srid=25832`` (addresses: ``forslagstekst``,
    ``data.x``, ``data.y``) and ``GET {url}/stednavne2?q=…&srid=25832`` (place names: ``navn``,
    ``sted.visueltcenter``), e.g. ``https://api.dataforsyningen.dk``; the server asks it, so
    the token never reaches a browser.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="base URL, e.g. https://api.dataforsyningen.dk")
    token: str | None = Field(None, description="sent as token=… when set")
    timeout_s: float = Field(5.0, gt=0, description="seconds before a search gives up")
    limit: int = Field(6, ge=1, le=20, description="addresses and places asked for, each")


class ServerLimits(BaseModel):
    """The server's read deadlines and caps (environment: ``DRONEGIS_SERVER__<FIELD>``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header_timeout_s: float = Field(10.0, gt=0, description="seconds for a request line and its headers")
    body_idle_timeout_s: float = Field(60.0, gt=0, description="seconds of silence tolerated inside a body")
    keep_alive_s: int = Field(5, ge=1, description="seconds an idle keep-alive connection stays open")
    max_connections: int = Field(512, ge=1, description="open connections; above it new ones get 503")
    max_header_bytes: int = Field(64 * 1024, ge=1024, description="request line + headers (h11)")
    render_threads: int = Field(
        0, ge=0, description="threads drawing tiles, FeatureInfo and maps up to 1024² (0: two per core)"
    )
    bulk_threads: int = Field(2, ge=1, description="threads drawing GetMaps above 1024², at a lower priority")


class Settings(BaseSettings):
    """Every knob of dronegis. Environment: ``DRONEGIS_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="DRONEGIS_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    workspace: Path = Field(Path("workspace"), description="workspace root")
    target_crs: str = "EPSG:25832"
    proj_grids: Path | None = Field(None, description="folder with the DVR90 PROJ grids")
    municipality: Path = Field(
        DEFAULT_MUNICIPALITY,
        description="GeoJSON/GPKG of the municipality boundary (default: Skanderborg, shipped with dronegis)",
    )
    municipality_code: str = Field(
        SKANDERBORG_KOMKODE, description="KOMKODE selecting one municipality of a national boundary file"
    )
    blur_threshold: float = Field(
        15.0,
        description="variance of the Laplacian (half-resolution grey decode, flights.quality) below which a "
        "frame is blurry",
    )
    camera_timezone: str = Field(
        "Europe/Copenhagen",
        description="IANA zone assumed for capture times without an offset in the file (ingest)",
    )
    ingest_lock_timeout: float = Field(
        600.0, ge=0, description="seconds an ingest waits while another process ingests the same flight"
    )
    tokens: tuple[Token, ...] = ()
    public_url: str | None = Field(None, description="external base URL used in capabilities")
    dask_scheduler: str | None = None
    basemap: Basemap | None = Field(None, description="background map of the viewer (default: offline)")
    geocoder: Geocoder | None = Field(None, description="address/place search (default: coordinates only)")
    max_upload_bytes: int = 20 * 1024**3
    server: ServerLimits = Field(
        default_factory=ServerLimits, description="read deadlines and connection cap of dronegis serve"
    )
    footprints: Path | None = Field(
        None,
        description="building footprints (GeoDanmark BYGNING / BBR export; any OGR format and CRS): "
        "process analyses heat loss per building over every thermal flight",
    )
    footprints_id_field: str | None = Field(None, description="the footprints' building id attribute")
    volume_polygons: Path | None = Field(
        None,
        description="polygons (any OGR format and CRS) whose cut/fill process measures on every DSM of a "
        "flight (like dronegis process --volume-polygons)",
    )
    volume_base: Literal["plane", "lowest", "average", "surface"] = Field(
        "plane", description="base of the volumes (surface: the raster volume_base_dem)"
    )
    volume_base_dem: Path | None = Field(
        None, description="base surface raster (DTM or an earlier DSM) for volume_base=surface"
    )
    privacy_zones: Path | None = Field(
        None,
        description="polygon file (any OGR format and CRS) of privacy zones masked out of every publication",
    )
    privacy_detect_people: bool = Field(
        False, description="blur people found by OpenCV's HOG people detector in published frames"
    )
    retention_policy: Path | None = Field(
        None, description="retention policy per purpose (TOML; default: dronegis/records/retention.toml)"
    )
