"""Settings for the CLI and the service (pydantic-settings, prefix ``DRONEGIS_``).

Built once in the CLI's main group or in ``create_app(settings)`` and passed down;
nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flights.aoi import DEFAULT_MUNICIPALITY, SKANDERBORG_KOMKODE

Role = Literal["pilot", "gis", "viewer"]


class Token(BaseModel):
    """An API token and the role it grants."""

    model_config = ConfigDict(frozen=True)

    token: str
    role: Role
    name: str = ""


class Settings(BaseSettings):
    """Every knob of dronegis. Environment: ``DRONEGIS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="DRONEGIS_", frozen=True, extra="ignore")

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
    max_upload_bytes: int = 20 * 1024**3
