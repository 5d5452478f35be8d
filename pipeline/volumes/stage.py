"""The volume stage: polygons over a DSM → cut/fill figures, raster, tables and report.

:func:`run_volumes` takes a frozen :class:`~pipeline.volumes.models.VolumeConfig` (the
CLI builds it now, ``dronegis process`` later) and returns a
:class:`~pipeline.volumes.models.VolumeRun`. The DSM is read window by window on the
zonal room's read plan (chunks of 2048² cells, polygons larger than 2²⁵ cells in row
strips), so memory does not grow with the raster; a base raster is read on the same
windows through a WarpedVRT when its grid or CRS differs. Every polygon ends in the
result, measured or with the reason it could not be (outside the DSM, on nodata, too
few boundary cells, an unusable geometry), each message naming the polygon.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import rasterio
from pyproj import CRS
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from core.errors import SurfaceFitError
from pipeline.surface.heights import HeightCheck, check_heights
from pipeline.surface.windows import (
    HeightWindow,
    WindowPlan,
    aligned,
    check_height_raster,
    iter_height_windows,
    plan_windows,
    read_heights,
    ring_cells,
    strip_windows,
)
from pipeline.volumes.cutfill import CutFillWriter
from pipeline.volumes.measure import (
    BaseModel,
    BoundaryPoints,
    Measured,
    MeasureSettings,
    Outline,
    PolygonGrid,
    boundary_points,
    failed,
    finish,
    fit_base,
    measure_polygon,
    measure_strip,
)
from pipeline.volumes.models import BaseMethod, PolygonVolume, VolumeConfig, VolumeRun
from pipeline.volumes.outputs import write_outputs
from pipeline.volumes.uncertainty import MODEL_EN
from pipeline.zonal import PolygonFeature, PolygonLayer, ZonalSettings, read_polygons
from pipeline.zonal.pixels import clip_box
from pipeline.zonal.polygons import crs_text
from pipeline.zonal.zonal import box_cells

log = logging.getLogger(__name__)

READ_THREADS = ZonalSettings().read_threads


class _Context(NamedTuple):
    zonal: ZonalSettings
    dsm: DatasetReader
    base: DatasetReader | WarpedVRT | None
    heights: HeightCheck
    settings: MeasureSettings
    writer: CutFillWriter | None


def _grid(ctx: _Context, feature: PolygonFeature, window: HeightWindow) -> PolygonGrid:
    assert feature.geometry is not None  # only usable features are planned
    shape = window.heights.shape
    base = read_heights(ctx.base, window.window) if ctx.base is not None else None
    dsm, base = ctx.heights.apply(window.heights, base, window.transform)
    boundary = ring_cells(feature.geometry, (shape[0], shape[1]), window.transform)
    return PolygonGrid(feature.key, dsm, window.inside, boundary, window.transform, base)


def _outline(ctx: _Context, feature: PolygonFeature, cells: int) -> Outline:
    area = feature.geometry.area if feature.geometry is not None else 0.0
    return Outline(feature.key, cells, float(area), abs(ctx.dsm.transform.a * ctx.dsm.transform.e))


def _measure_large(ctx: _Context, plan: WindowPlan, feature: PolygonFeature) -> Measured:
    """A polygon too large for one window: the base from every strip's boundary, then the sums."""
    cells, points = 0, []
    for window in strip_windows(ctx.dsm, plan, feature.index, ctx.zonal):  # pass 1: the boundary
        cells += window.pixel_count
        points.append(boundary_points(_grid(ctx, feature, window)))
    outline = _outline(ctx, feature, cells)
    nothing = np.zeros((0, 0), np.float32)
    try:
        base: BaseModel = fit_base(outline.id, ctx.settings.method, BoundaryPoints.join(points))
    except SurfaceFitError as exc:
        return Measured(failed(outline, str(exc)), nothing, 0.0)
    partials = []
    for window in strip_windows(ctx.dsm, plan, feature.index, ctx.zonal):  # pass 2: the sums
        partial, difference = measure_strip(_grid(ctx, feature, window), base)
        partials.append(partial)
        if ctx.writer is not None:
            ctx.writer.write(window.window, difference)
    return Measured(finish(outline, base, partials, ctx.settings), nothing, max(p.abs_p98 for p in partials))


def _with_feature_problems(volume: PolygonVolume, feature: PolygonFeature) -> PolygonVolume:
    if not feature.problems:
        return volume
    notes = tuple(p.message for p in feature.problems)
    return volume.model_copy(update={"problems": notes + volume.problems})


def _measure_layer(ctx: _Context, layer: PolygonLayer) -> tuple[list[PolygonVolume], list[float]]:
    """Every feature's record, in file order, and the legend percentiles of the measured ones."""
    features = layer.features
    plan = plan_windows(ctx.dsm, [f.geometry for f in features], ctx.zonal)
    reads = plan.reads
    limit = ctx.zonal.max_window_pixels
    large = frozenset(i for i, box in reads.boxes.items() if box_cells(clip_box(box, ctx.dsm)) > limit)
    found: dict[int, PolygonVolume] = {}
    p98s: list[float] = []
    for window in iter_height_windows(ctx.dsm, plan, ctx.zonal, skip=large):
        feature = features[window.position]
        measured = measure_polygon(
            _grid(ctx, feature, window), _outline(ctx, feature, window.pixel_count), ctx.settings
        )
        if ctx.writer is not None:
            ctx.writer.write(window.window, measured.difference)
        found[window.position] = measured.volume
        p98s.append(measured.abs_p98)
    for index in sorted(large):
        measured = _measure_large(ctx, plan, features[index])
        found[index] = measured.volume
        p98s.append(measured.abs_p98)
    for index in reads.outside:
        outline = _outline(ctx, features[index], 0)
        bounds = ", ".join(f"{v:.1f}" for v in ctx.dsm.bounds)
        found[index] = failed(
            outline,
            f"polygon {outline.id} ligger uden for DSM'en / polygon {outline.id} lies outside the DSM "
            f"(DSM bounds {bounds})",
        )
    records = []
    for feature in features:
        volume = found.get(feature.index)
        if volume is None:  # no usable geometry: the reader said why
            volume = failed(
                _outline(ctx, feature, 0),
                f"polygon {feature.key}: ingen brugbar geometri / no usable geometry",
            )
        records.append(_with_feature_problems(volume, feature))
    return records, p98s


def _raster_window(dsm: DatasetReader, layer: PolygonLayer) -> Window | None:
    """The window of the DSM covering every usable polygon (None when none is on the DSM)."""
    plan = plan_windows(dsm, [f.geometry for f in layer.features], ZonalSettings())
    boxes = [clip_box(b, dsm) for b in plan.reads.boxes.values()]
    boxes = [b for b in boxes if box_cells(b) > 0]
    if not boxes:
        return None
    r0, r1 = min(b[0] for b in boxes), max(b[1] for b in boxes)
    c0, c1 = min(b[2] for b in boxes), max(b[3] for b in boxes)
    return Window(c0, r0, c1 - c0, r1 - r0)


@contextlib.contextmanager
def _opened(config: VolumeConfig, dsm: DatasetReader, layer: PolygonLayer) -> Iterator[_Context]:
    other = config.base_dem if config.base is BaseMethod.SURFACE else None
    heights = check_heights(config.dsm, dsm, other, config.proj_grids)
    settings = MeasureSettings(
        config.base, config.dsm_error, config.base_error, config.min_coverage, heights.unstated
    )
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(aligned(config.base_dem, dsm)) if config.base_dem is not None else None
        writer = None
        window = _raster_window(dsm, layer)
        if config.out_dir is not None and config.write_raster and window is not None:
            writer = stack.enter_context(CutFillWriter(config.out_dir / "cutfill.tif", dsm, window))
        zonal = ZonalSettings(max_window_pixels=config.window_cells)
        yield _Context(zonal, dsm, base, heights, settings, writer)


def run_volumes(config: VolumeConfig, *, now: datetime | None = None) -> VolumeRun:
    """Measure every polygon of ``config.polygons`` on ``config.dsm`` and write the outputs.

    Raises:
        RasterInputError: the DSM or base raster is unusable (no CRS, degrees, rotated).
        PolygonLayerError: the polygon file is unusable (unreadable, no CRS, unknown id field).
        HeightDatumError: the DSM and base raster are in different vertical datums that cannot be converted.
    """
    created = now or datetime.now(UTC)
    with (
        rasterio.Env(GDAL_CACHEMAX=config.cache_mb << 20),
        rasterio.open(config.dsm, NUM_THREADS=READ_THREADS) as dsm,
    ):
        cell = check_height_raster(dsm, str(config.dsm))
        crs = crs_text(CRS.from_user_input(dsm.crs))
        layer = read_polygons(config.polygons, id_field=config.id_field, crs=crs, layer=config.layer)
        with _opened(config, dsm, layer) as ctx:
            records, p98s = _measure_layer(ctx, layer)
            run = VolumeRun(
                created=created,
                dsm=str(config.dsm),
                polygons_file=str(config.polygons),
                crs=crs,
                cell_size_m=(abs(cell[0]), abs(cell[1])),
                height_datum=ctx.heights.label,
                base=config.base,
                base_dem=str(config.base_dem) if config.base_dem else None,
                dsm_error=config.dsm_error,
                base_error=config.base_error,
                uncertainty_model=MODEL_EN,
                notes=ctx.heights.notes,
                polygons=tuple(records),
            )
            if config.out_dir is None:
                return run
            outputs = write_outputs(config, run, layer, ctx.writer, p98s)
    log.info("volumes: %d polygons, %d failed", len(run.polygons), len(run.failed))
    return run.model_copy(update={"outputs": outputs})
