"""The change stage: two rasters of one area → co-registration, change map, change areas, statistics.

:func:`detect_change` takes BEFORE, AFTER and a frozen :class:`ChangeConfig` and writes into
``config.out_dir``:

- ``<name>_map.tif`` — COG of Δ = AFTER − BEFORE − bias on the common grid (float32, nodata
  −9999; unsmoothed; index units or metres), where both rasters have data;
- ``<name>_areas.gpkg`` — layer ``change_areas``: the change polygons above the threshold and the
  minimum area (:mod:`pipeline.change.detect`), in the target CRS (default EPSG:25832), with area,
  mean and largest change, and for DSMs the volume;
- ``<name>.json`` — the :class:`ChangeResult`: both inputs, the grid, the co-registration (pixels
  and metres), bias, threshold, areas, and, with ``config.polygons``, statistics per area polygon.

The same function serves ``dronegis change`` and, later, a stage of ``dronegis process``.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path
from typing import NamedTuple

import rasterio
from rasterio.errors import NotGeoreferencedWarning

from core.errors import ChangeError, RasterInputError
from pipeline.change.align import Coarse, coarse_bias, coregister, identity, read_coarse
from pipeline.change.detect import merge
from pipeline.change.grid import GridReader, common_grid, native_resolution, resampling_for
from pipeline.change.inputs import bands_to_read, describe, detect_kind
from pipeline.change.models import (
    DEFAULT_THRESHOLDS,
    UNITS,
    Alignment,
    AreaStats,
    ChangeArea,
    ChangeConfig,
    ChangeKind,
    ChangeResult,
    Grid,
    InputSummary,
)
from pipeline.change.outputs import change_areas, write_polygons, write_summary
from pipeline.change.report import write_report
from pipeline.change.scan import ScanSettings, scan
from pipeline.change.stats import area_statistics, pair_series
from pipeline.rasters.area import crs_string
from pipeline.rasters.inputs import RasterInfo, check_target_area, open_raster
from pipeline.vegetation.raster import capture_time, finish_cog, float_scratch, time_tags

log = logging.getLogger(__name__)


def _kind(before: RasterInfo, after: RasterInfo, given: ChangeKind | None) -> ChangeKind:
    if given is not None:
        return given
    kb, ka = detect_kind(before), detect_kind(after)
    if kb is not ka:
        raise ChangeError(
            f"{before.path.name} og {after.path.name} er ikke samme slags data / "
            f"cannot compare {before.path.name} ({kb.value}) with {after.path.name} ({ka.value}); "
            "give two rasters of the same kind (or say which with --kind)"
        )
    return kb


def _check_data(before: RasterInfo, after: RasterInfo, coarse: Coarse) -> None:
    for info, values in ((before, coarse.value_before), (after, coarse.value_after)):
        if not (values == values).any():  # all NaN
            raise RasterInputError(
                f"{info.path}: ingen pixel med data i det fælles område / "
                "no pixel with data in the overlap (all nodata); nothing to compare"
            )


def _summary(info: RasterInfo, kind: ChangeKind, grid: Grid) -> InputSummary:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        src = rasterio.open(info.path)
    with src:
        start, _, _ = capture_time(src, info.path)
    same = math.isclose(native_resolution(info, grid.crs), grid.resolution, rel_tol=1e-6)
    reprojected = crs_string(info.crs) != grid.crs
    how = "read as it is" if same and not reprojected else f"{resampling_for(info, grid).name} resampling"
    if reprojected:
        how = f"reprojected from {info.crs}, {how}"
    return InputSummary(
        path=info.path,
        crs=info.crs,
        resolution=info.resolution[0],
        kind=kind,
        time_start=start,
        resampling=how,
    )


def detect_change(before: Path, after: Path, config: ChangeConfig) -> ChangeResult:
    """Compare two rasters of one area and write the change products (see the module docstring).

    GDAL's block cache is held to ``config.cache_mb`` for the whole run (its default, 5 % of the
    machine's memory, would be filled by the first full read).

    Raises:
        GeoreferenceError: an input has no usable georeferencing, or lies outside the target CRS's area.
        ChangeError: kinds differ; :class:`~core.errors.NoOverlapError` no common area;
            :class:`~core.errors.CoregistrationError` no match or shift beyond tolerance.
        RasterInputError: an input has no data at all.
    """
    with rasterio.Env(GDAL_CACHEMAX=config.cache_mb << 20):  # bytes: rasterio passes it to GDALSetCacheMax64
        return _detect(Path(before), Path(after), config)


def _detect(before: Path, after: Path, config: ChangeConfig) -> ChangeResult:
    """The body of :func:`detect_change`."""
    b_info, a_info = (
        open_raster(Path(before), crs=config.before_crs),
        open_raster(Path(after), crs=config.after_crs),
    )
    kind = _kind(b_info, a_info, config.kind)
    crs = crs_string(config.target_crs) if config.target_crs else b_info.crs
    for info in (b_info, a_info):
        check_target_area(info, crs)
    grid = common_grid(b_info, a_info, crs)
    bands = (bands_to_read(b_info, kind), bands_to_read(a_info, kind))
    coarse = read_coarse(b_info, a_info, grid, kind, bands, config.align.coarse_size, config.index)
    _check_data(b_info, a_info, coarse)
    alignment = (
        coregister(b_info, a_info, grid, kind, bands, config.align, coarse)
        if config.align.enabled
        else identity(grid)
    )
    bias, _ = coarse_bias(coarse, alignment.matrix)
    bias = bias if config.remove_bias else 0.0
    threshold = config.threshold if config.threshold is not None else DEFAULT_THRESHOLDS[kind]
    settings = ScanSettings(
        kind, config.index, bias, config.smooth_m / grid.resolution, threshold, config.window
    )
    return _run(_Plan(b_info, a_info, grid, kind, bands, alignment, settings), config)


class _Plan(NamedTuple):
    """Everything decided before the full-resolution pass."""

    before: RasterInfo
    after: RasterInfo
    grid: Grid
    kind: ChangeKind
    bands: tuple[list[int], list[int]]
    alignment: Alignment
    settings: ScanSettings


class Outputs(NamedTuple):
    """The files a change detection writes into its folder."""

    change_map: Path
    polygons: Path
    summary: Path
    report: Path

    @classmethod
    def of(cls, config: ChangeConfig) -> Outputs:
        """``<name>_map.tif``, ``<name>_areas.gpkg``, ``<name>.json``, ``<name>.html`` in ``out_dir``."""
        out, name = config.out_dir, config.name
        return cls(
            out / f"{name}_map.tif", out / f"{name}_areas.gpkg", out / f"{name}.json", out / f"{name}.html"
        )


def _run(plan: _Plan, config: ChangeConfig) -> ChangeResult:
    b_info, a_info, grid, kind, bands, alignment, settings = plan
    files = Outputs.of(config)
    motion = alignment.matrix if alignment.corrected else None

    def pair() -> tuple[GridReader, GridReader]:
        return GridReader(b_info, grid, bands[0]), GridReader(a_info, grid, bands[1], motion=motion)

    with float_scratch(
        files.change_map, width=grid.width, height=grid.height, transform=grid.affine, crs=grid.crs
    ) as sink:
        found = scan(pair, grid, settings, sink, config.workers)
        sink.close()
        if found.overlap_px == 0:
            raise RasterInputError(
                f"{b_info.path.name} og {a_info.path.name} har ingen pixel med data samme sted / "
                f"{b_info.path.name} and {a_info.path.name} have no pixel with data in common"
            )
        inputs = _summary(b_info, kind, grid), _summary(a_info, kind, grid)
        finish_cog(sink.name, files.change_map, _tags(kind, settings, alignment, *inputs), config.cache_mb)
    log.info(
        "change pass done: %d regions in %d blocks", len(found.parts), -((-grid.width // config.window) ** 2)
    )
    areas = [a for a in merge(found.parts) if a.pixels * grid.pixel_area >= config.min_area_m2]
    log.info("%d change areas of at least %g m²", len(areas), config.min_area_m2)
    reported = change_areas(areas, grid, kind)
    write_polygons(files.polygons, areas, reported, grid)
    stats = area_statistics(config, b_info, a_info, grid, kind, alignment, files.change_map, files.polygons)
    result = _result(plan, config, inputs, found.overlap_px, reported, stats, files)
    write_summary(files.summary, result)
    write_report(files.report, result, pair_series(result))
    log.info("wrote %s", files.report)
    return result


def _result(
    plan: _Plan,
    config: ChangeConfig,
    inputs: tuple[InputSummary, InputSummary],
    overlap_px: int,
    reported: list[ChangeArea],
    stats: tuple[AreaStats, ...],
    files: Outputs,
) -> ChangeResult:
    grid, kind, s = plan.grid, plan.kind, plan.settings
    gains, losses = [r for r in reported if r.sign > 0], [r for r in reported if r.sign < 0]
    dsm = kind is ChangeKind.DSM
    return ChangeResult(
        before=inputs[0], after=inputs[1], grid=grid, kind=kind, value=describe(kind, config.index),
        unit=UNITS[kind], alignment=plan.alignment, bias=s.bias, threshold=s.threshold,
        min_area_m2=config.min_area_m2, smooth_m=config.smooth_m, overlap_m2=overlap_px * grid.pixel_area,
        changed_m2=sum(r.area_m2 for r in reported), gain_m2=sum(r.area_m2 for r in gains),
        loss_m2=sum(r.area_m2 for r in losses),
        volume_gain_m3=sum(r.volume_m3 or 0.0 for r in gains) if dsm else None,
        volume_loss_m3=sum(r.volume_m3 or 0.0 for r in losses) if dsm else None,
        areas=tuple(reported), change_map=files.change_map, change_polygons=files.polygons,
        summary_json=files.summary, report_html=files.report, area_stats=stats,
    )  # fmt: skip


def _tags(
    kind: ChangeKind, s: ScanSettings, alignment: Alignment, before: InputSummary, after: InputSummary
) -> dict[str, str]:
    tags = {
        "DRONEGIS_CHANGE_KIND": kind.value, "DRONEGIS_UNITS": UNITS[kind],
        "DRONEGIS_CHANGE_VALUE": describe(kind, s.index_name), "DRONEGIS_CHANGE_BIAS": f"{s.bias:.6g}",
        "DRONEGIS_CHANGE_THRESHOLD": f"{s.threshold:g}", "DRONEGIS_BEFORE": before.path.name,
        "DRONEGIS_AFTER": after.path.name, "DRONEGIS_ALIGNMENT": alignment.model_dump_json(),
    }  # fmt: skip
    if before.time_start is not None:
        tags["DRONEGIS_BEFORE_TIME"] = before.time_start.isoformat()
    tags.update(time_tags(after.time_start, None))  # the map shows the state at AFTER's capture
    return tags


def read_result(path: Path) -> ChangeResult:
    """Load a ``change.json`` written by :func:`detect_change`.

    Raises:
        ChangeError: missing or not a change result.
    """
    try:
        return ChangeResult.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ChangeError(f"change result {path}: {exc}") from exc
