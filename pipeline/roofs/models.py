"""Frozen models of the roof room: its settings and config, roof planes and buildings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from core.models import Frozen
from pipeline.models import HeightDatum


class RoofSettings(Frozen):
    """How roof faces are found (see ``pipeline.roofs.segment``)."""

    distance_m: float = Field(0.15, gt=0.0, description="largest distance of a cell from its face's plane")
    normal_deg: float = Field(
        20.0, gt=0.0, le=90.0, description="largest angle between a cell's normal and it"
    )
    min_plane_area_m2: float = Field(4.0, gt=0.0, description="smaller faces are left unassigned")
    min_plane_cells: int = Field(3, ge=3, description="a face needs at least this many cells")
    max_planes: int = Field(16, ge=1, description="faces per building at most")
    hypotheses: int = Field(256, ge=8, description="plane hypotheses tried per face (RANSAC)")
    score_sample: int = Field(4000, ge=100, description="cells each hypothesis is scored on at most")
    min_roof_height_m: float = Field(
        1.5, ge=0.0, description="with a DTM: cells lower than this above the terrain are not roof"
    )
    seed: int = Field(0, description="random seed of the hypothesis sampling (results are repeatable)")


class RoofConfig(Frozen):
    """Everything one roof run needs (the CLI and the later process stage build it)."""

    dsm: Path
    footprints: Path
    dtm: Path | None = Field(None, description="terrain model for the height above terrain")
    layer: str | None = Field(None, description="layer of a multi-layer footprint file")
    id_field: str | None = Field(
        None, description="footprint attribute kept as the id; None: guess or number"
    )
    out_dir: Path | None = Field(None, description="where the outputs go; None: figures only")
    out_crs: str = Field("EPSG:25832", description="CRS of the GeoPackage")
    settings: RoofSettings = RoofSettings()
    proj_grids: Path | None = Field(None, description="PROJ grid folder (DVR90 geoid) for datum conversion")
    cache_mb: int = Field(256, ge=16, description="GDAL block cache for reading, MB")


class RoofPlane(Frozen):
    """One roof face: a plane fitted to its cells."""

    building: str
    index: int = Field(description="1-based, largest face first")
    cells: int
    area_2d_m2: float = Field(description="planimetric area of the face's cells")
    area_m2: float = Field(description="true (sloped) area: planimetric / cos(slope)")
    slope_deg: float
    aspect_deg: float | None = Field(
        description="direction the face looks, clockwise from north; None if level"
    )
    rmse_m: float = Field(description="RMS distance of the face's cells from its plane (vertical)")
    height_m: float = Field(description="mean DSM height of the face")


class RoofStatus(StrEnum):
    """How far a building's figures can be trusted."""

    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


class Building(Frozen):
    """Roof figures of one footprint."""

    id: str
    status: RoofStatus
    problems: tuple[str, ...] = ()
    footprint_area_m2: float | None = None
    cells: int = 0
    roof_cells: int = Field(0, description="cells with a DSM height (above the terrain threshold with a DTM)")
    assigned_share: float | None = Field(None, description="share of roof cells assigned to a face")
    planes: int = 0
    roof_area_m2: float | None = Field(
        None, description="faces' true areas + unassigned roof cells at the area-weighted mean slope"
    )
    dominant_slope_deg: float | None = Field(None, description="slope of the largest face")
    dominant_aspect_deg: float | None = None
    mean_slope_deg: float | None = Field(None, description="area-weighted mean slope of the faces")
    height_m: float | None = Field(None, description="median DSM − DTM over the footprint (with a DTM)")
    max_height_m: float | None = Field(None, description="largest DSM − DTM over the footprint (with a DTM)")
    attributes: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class RoofRun(Frozen):
    """The result of one roof run."""

    created: datetime
    dsm: str
    footprints_file: str
    dtm: str | None
    crs: str
    cell_size_m: tuple[float, float]
    settings: RoofSettings
    method: str
    height_datum: HeightDatum = Field(description="datum of the heights (DSM and DTM, after checks)")
    notes: tuple[str, ...] = ()
    buildings: tuple[Building, ...]
    planes: tuple[RoofPlane, ...]
    outputs: dict[str, str] = Field(default_factory=dict)
