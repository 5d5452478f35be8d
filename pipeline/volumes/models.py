"""Frozen models of the volume room: its config, the vertical error it propagates, its results."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator

from core.models import Frozen
from pipeline.models import HeightDatum


class BaseMethod(StrEnum):
    """The surface volumes are measured against."""

    PLANE = "plane"
    """A plane fitted (robustly) to the DSM along the polygon boundary, like a surveyor's toe line."""
    LOWEST = "lowest"
    """A level at the lowest valid DSM height on the boundary."""
    AVERAGE = "average"
    """A level at the mean DSM height on the boundary."""
    SURFACE = "surface"
    """A base raster: a DTM, or an earlier flight's DSM (material moved between two dates)."""


class VolumeStatus(StrEnum):
    """How far a polygon's figures can be trusted."""

    OK = "ok"
    PARTIAL = "partial"
    """Measured, but part of the polygon has no DSM (coverage below the minimum) or no base."""
    FAILED = "failed"
    """Not measured; ``problems`` says why."""


class VerticalError(Frozen):
    """Vertical error of a height raster, split into a systematic and a random part (metres).

    RMSE² = bias² + σ² (the mean error and the standard deviation of the errors at
    check points, population form), so either pair determines the other.
    """

    bias_m: float = Field(0.0, description="systematic part: mean error (raster − truth) at check points")
    sigma_m: float = Field(0.0, ge=0.0, description="random part: standard deviation of the errors")
    source: str = Field("not given", description="where the figures come from (QA report, option, ...)")
    points: int | None = Field(None, description="check points behind the figures, if known")
    correlation_range_m: float | None = Field(
        None, gt=0.0, description="range of spatial correlation of the random part; None: uncorrelated"
    )

    @classmethod
    def from_rmse(
        cls,
        rmse_m: float,
        *,
        bias_m: float = 0.0,
        source: str,
        points: int | None = None,
        correlation_range_m: float | None = None,
    ) -> VerticalError:
        """The split of an RMSE with a known bias: σ = sqrt(RMSE² − bias²) (0 if |bias| > RMSE)."""
        sigma = math.sqrt(max(rmse_m**2 - bias_m**2, 0.0))
        return cls(
            bias_m=bias_m,
            sigma_m=sigma,
            source=source,
            points=points,
            correlation_range_m=correlation_range_m,
        )

    @property
    def known(self) -> bool:
        """True when some figure was given (a source other than "not given")."""
        return self.source != "not given"

    @property
    def rmse_m(self) -> float:
        """sqrt(bias² + σ²)."""
        return math.hypot(self.bias_m, self.sigma_m)


class VolumeConfig(Frozen):
    """Everything one volume run needs (the CLI and the later process stage build it)."""

    dsm: Path
    polygons: Path
    layer: str | None = Field(None, description="layer of a multi-layer polygon file")
    id_field: str | None = Field(None, description="polygon attribute kept as the id; None: guess or number")
    base: BaseMethod = BaseMethod.PLANE
    base_dem: Path | None = Field(None, description="base surface raster; required by base=surface")
    out_dir: Path | None = Field(None, description="where the outputs go; None: figures only")
    out_crs: str = Field("EPSG:25832", description="CRS of the GeoPackage")
    dsm_error: VerticalError = VerticalError()
    base_error: VerticalError = Field(VerticalError(), description="vertical error of the base raster")
    proj_grids: Path | None = Field(None, description="PROJ grid folder (DVR90 geoid) for datum conversion")
    min_coverage: float = Field(0.95, ge=0.0, le=1.0, description="below this DSM coverage: status partial")
    write_raster: bool = Field(True, description="write the cut/fill COG (needs out_dir)")
    cache_mb: int = Field(256, ge=16, description="GDAL block cache for reading and writing, MB")
    window_cells: int = Field(
        1 << 21, ge=1024, description="polygons with more cells are read in row strips of at most this many"
    )

    @model_validator(mode="after")
    def _base_and_raster_agree(self) -> VolumeConfig:
        if (self.base is BaseMethod.SURFACE) != (self.base_dem is not None):
            raise ValueError(
                f"base={self.base.value} with base_dem={self.base_dem}: a base raster goes with base=surface"
            )
        return self


class BaseFit(Frozen):
    """The base one polygon was measured against, and how well it fits the boundary."""

    method: BaseMethod
    boundary_cells: int = Field(description="valid DSM cells on the polygon boundary")
    cells_used: int = Field(description="boundary cells the base was fitted to (inliers)")
    height_m: float | None = Field(None, description="base height at the centroid of the measured cells")
    slope_deg: float | None = Field(None, description="plane base: inclination")
    aspect_deg: float | None = Field(
        None, description="plane base: downslope direction, clockwise from north"
    )
    residual_rmse_m: float | None = Field(
        None, description="RMS of boundary DSM − base (inliers for a plane)"
    )
    residual_max_m: float | None = Field(
        None, description="largest |boundary DSM − base| (inliers for a plane)"
    )
    source: str | None = Field(None, description="base raster path, for base=surface")

    @property
    def outliers(self) -> int:
        """Boundary cells the robust plane fit left out."""
        return self.boundary_cells - self.cells_used


class VolumeUncertainty(Frozen):
    """One standard deviation of a volume, by source (m³); see ``pipeline.volumes.uncertainty``."""

    bias_m3: float = Field(
        description="systematic: |b_dsm − b_base| × area (0 when the base is the DSM's own)"
    )
    random_m3: float = Field(description="random per-cell error: σ × cell area × sqrt(n) if uncorrelated")
    base_m3: float = Field(description="error of a base taken from the boundary (plane fit or level)")
    cell_m3: float = Field(description="boundary cells counted whole or not at all (pixel-centre rule)")
    total_m3: float = Field(description="root sum of squares of the four parts")
    total95_m3: float = Field(description="1.96 × total: the 95 % interval half-width")
    notes: tuple[str, ...] = ()


class PolygonVolume(Frozen):
    """Figures of one polygon. Heights are DSM − base: above the base is cut, below is fill."""

    id: str
    status: VolumeStatus
    problems: tuple[str, ...] = ()
    polygon_area_m2: float | None = Field(None, description="area of the polygon geometry")
    cells: int = Field(0, description="cells whose centre lies in the polygon")
    valid_cells: int = Field(0, description="of those, cells with a DSM (and base) height")
    coverage: float | None = Field(None, description="valid_cells / cells")
    area_2d_m2: float | None = Field(None, description="planimetric area of the valid cells")
    area_3d_m2: float | None = Field(None, description="sloped surface area of the DSM over the valid cells")
    cut_m3: float | None = Field(None, description="volume above the base")
    fill_m3: float | None = Field(None, description="volume below the base (positive)")
    net_m3: float | None = Field(None, description="cut − fill")
    max_height_m: float | None = Field(None, description="largest DSM − base (None: nothing above the base)")
    mean_height_m: float | None = Field(
        None, description="mean DSM − base over the cells > 1 mm above the base"
    )
    max_depth_m: float | None = Field(None, description="largest base − DSM (None: nothing below the base)")
    mean_depth_m: float | None = Field(
        None, description="mean base − DSM over the cells > 1 mm below the base"
    )
    base: BaseFit | None = None
    uncertainty: VolumeUncertainty | None = None


class VolumeRun(Frozen):
    """The result of one volume run: inputs, decisions, per-polygon figures and output paths."""

    created: datetime
    dsm: str
    polygons_file: str
    crs: str = Field(description="CRS the figures were computed in (the DSM's)")
    cell_size_m: tuple[float, float]
    height_datum: HeightDatum = Field(
        description="datum of the heights measured (DSM and base, after checks)"
    )
    base: BaseMethod
    base_dem: str | None = None
    dsm_error: VerticalError
    base_error: VerticalError
    uncertainty_model: str
    notes: tuple[str, ...] = ()
    polygons: tuple[PolygonVolume, ...]
    outputs: dict[str, str] = Field(default_factory=dict, description="kind → path of each written file")

    @property
    def failed(self) -> tuple[PolygonVolume, ...]:
        """Polygons that could not be measured."""
        return tuple(p for p in self.polygons if p.status is VolumeStatus.FAILED)
