"""Frozen models of the change room: the common grid, the co-registration, the settings and the results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from affine import Affine
from pydantic import Field
from rasterio.windows import Window

from core.models import Frozen

DEFAULT_TARGET_CRS = "EPSG:25832"


class ChangeKind(StrEnum):
    """What the two rasters hold; decides the compared value, its unit and the default threshold."""

    ORTHOPHOTO = "orthophoto"
    INDEX = "index"
    DSM = "dsm"


#: Default change threshold per kind (value units), documented in :mod:`pipeline.change.detect`.
DEFAULT_THRESHOLDS = {ChangeKind.ORTHOPHOTO: 0.08, ChangeKind.INDEX: 0.10, ChangeKind.DSM: 0.30}
UNITS = {ChangeKind.ORTHOPHOTO: "index", ChangeKind.INDEX: "index", ChangeKind.DSM: "m"}


class Grid(Frozen):
    """A north-up raster grid: CRS, affine (a, b, c, d, e, f) and size."""

    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int

    @property
    def affine(self) -> Affine:
        """The grid's affine transform."""
        return Affine(*self.transform)

    @property
    def resolution(self) -> float:
        """Pixel size in CRS units (square pixels)."""
        return abs(self.transform[0])

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in CRS units²."""
        return abs(self.transform[0] * self.transform[4])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top)."""
        a, _, c, _, e, f = self.transform
        return c, f + e * self.height, c + a * self.width, f

    def window_transform(self, window: Window) -> Affine:
        """The affine of a window of the grid."""
        return self.affine * Affine.translation(window.col_off, window.row_off)

    def scaled(self, factor: int) -> Grid:
        """The same extent with pixels ``factor`` times larger (a coarse level)."""
        a, b, c, d, e, f = self.transform
        return Grid(
            crs=self.crs,
            transform=(a * factor, b, c, d, e * factor, f),
            width=max(1, -(-self.width // factor)),
            height=max(1, -(-self.height // factor)),
        )


class AlignSettings(Frozen):
    """How the two rasters are co-registered."""

    enabled: bool = True
    max_shift_m: float = Field(
        10.0, description="larger shifts are refused, not corrected (consumer GNSS: 2–6 m)"
    )
    min_peak: float = Field(
        0.05, description="phase-correlation response below which the rasters do not match"
    )
    min_ecc: float = Field(0.3, description="ECC correlation below which a patch is not used")
    coarse_size: int = Field(1024, description="side (pixels) of the coarse level")
    patch: int = Field(512, description="side of the full-resolution patches")
    patches: int = Field(3, description="patches per side (patches² candidates, the most textured kept)")
    affine_tolerance_px: float = Field(
        0.3, description="spread of patch shifts above which an affine is fitted"
    )


class Alignment(Frozen):
    """The co-registration of AFTER onto BEFORE, in grid pixels and metres."""

    dx_px: float = Field(description="AFTER content east of BEFORE's, in grid columns (at the grid centre)")
    dy_px: float = Field(description="AFTER content south of BEFORE's, in grid rows (at the grid centre)")
    dx_m: float = Field(description="east component in metres (CRS units)")
    dy_m: float = Field(description="north component in metres (CRS units)")
    shift_m: float
    matrix: tuple[float, float, float, float, float, float] = Field(
        description="motion M: after(M p) ≈ before(p)"
    )
    model: str = Field(description="translation, affine, or none (disabled)")
    peak: float = Field(description="phase-correlation response of the coarse level (0–1)")
    ecc: float | None = Field(None, description="median ECC correlation of the patches used")
    patches: int = 0
    residual_px: float = 0.0
    corrected: bool
    resolution_m: float
    max_shift_m: float = Field(0.0, description="largest displacement over the grid (centre and corners)")
    scale: float = Field(1.0, description="area scale of the motion (affine only)")
    rotation_deg: float = Field(0.0, description="rotation of the motion (affine only)")


class ChangeConfig(Frozen):
    """Settings of one change detection (``dronegis change`` and the later process stage)."""

    out_dir: Path
    kind: ChangeKind | None = Field(None, description="None: from the rasters' tags, bands and names")
    index: str = Field("ExG", description="index compared between two orthophotos")
    threshold: float | None = Field(None, description="|change| at least this (value units); None: per kind")
    min_area_m2: float = Field(2.0, description="smaller change areas are not reported")
    smooth_m: float = Field(
        0.3, description="Gaussian sigma (m) applied to the difference before thresholding"
    )
    remove_bias: bool = Field(True, description="subtract the median difference over the overlap first")
    target_crs: str | None = Field(DEFAULT_TARGET_CRS, description="CRS of the outputs; None: BEFORE's CRS")
    before_crs: str | None = Field(None, description="CRS of BEFORE when the file has none (world file)")
    after_crs: str | None = None
    align: AlignSettings = AlignSettings()
    polygons: Path | None = Field(None, description="area polygons for statistics (any format, any CRS)")
    polygon_id: str | None = None
    window: int = 1024
    workers: int = Field(2, description="blocks computed at once (threads)")
    cache_mb: int = 256
    name: str = Field("change", description="stem of the output files")


class ChangeArea(Frozen):
    """One connected change polygon above the threshold and minimum area."""

    id: int
    sign: int = Field(description="+1 gain (value went up), -1 loss")
    area_m2: float
    pixels: int
    mean_change: float
    max_abs_change: float
    volume_m3: float | None = Field(None, description="DSMs: Σ Δh × pixel area (positive fill, negative cut)")


class InputSummary(Frozen):
    """One of the two rasters as the change detection saw it."""

    path: Path
    crs: str
    resolution: float
    kind: ChangeKind
    time_start: datetime | None = None
    resampling: str = Field(description="how it was brought onto the common grid")


class AreaStats(Frozen):
    """The figures of one area polygon for one BEFORE/AFTER pair (None: no cell with data)."""

    id: str
    area_m2: float
    before_mean: float | None
    before_median: float | None
    after_mean: float | None
    after_median: float | None
    diff_mean: float | None = Field(description="after_mean − before_mean")
    diff_median: float | None = Field(description="after_median − before_median")
    change_mean: float | None = Field(description="mean of the change map (bias removed) in the polygon")
    gained_m2: float
    lost_m2: float
    changed_share: float = Field(description="(gained + lost) / polygon area")
    coverage_before: float
    coverage_after: float
    problems: tuple[str, ...] = ()


class SeriesPoint(Frozen):
    """One polygon on one date."""

    id: str
    date: datetime
    raster: str
    mean: float | None
    median: float | None
    coverage: float


class ChangeResult(Frozen):
    """What :func:`pipeline.change.detect_change` wrote and found."""

    before: InputSummary
    after: InputSummary
    grid: Grid
    kind: ChangeKind
    value: str = Field(description="what was compared (e.g. ExG (chromatic), height)")
    unit: str
    alignment: Alignment
    bias: float = Field(description="median AFTER − BEFORE over the overlap, removed when remove_bias")
    threshold: float
    min_area_m2: float
    smooth_m: float
    overlap_m2: float = Field(description="area where both rasters have data")
    changed_m2: float = Field(description="area of the reported change polygons")
    gain_m2: float
    loss_m2: float
    volume_gain_m3: float | None = None
    volume_loss_m3: float | None = None
    areas: tuple[ChangeArea, ...]
    change_map: Path
    change_polygons: Path
    summary_json: Path
    report_html: Path
    area_stats: tuple[AreaStats, ...] = ()
    warnings: tuple[str, ...] = ()
