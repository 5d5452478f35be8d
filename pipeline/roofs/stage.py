"""The roof stage: building footprints over a DSM → roof faces, areas, slopes, heights.

:func:`run_roofs` takes a frozen :class:`~pipeline.roofs.models.RoofConfig` (the CLI
builds it now, ``dronegis process`` later). Footprints are read with the zonal room's
reader (any format and CRS, ids kept, bad features flagged) and measured window by
window on its read plan; a DTM, if given, is brought onto the DSM's grid (reprojected
and resampled on the fly) for the height above terrain. Every footprint ends in the
result, measured or with the reason it could not be.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

import rasterio
import shapely
from pyproj import CRS
from rasterio.features import shapes
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from pipeline.roofs.measure import BuildingGrid, MeasuredBuilding, measure_building
from pipeline.roofs.models import Building, RoofConfig, RoofPlane, RoofRun, RoofStatus
from pipeline.roofs.outputs import write_outputs
from pipeline.roofs.segment import METHOD
from pipeline.surface.heights import HeightCheck, check_heights
from pipeline.surface.windows import (
    HeightWindow,
    aligned,
    check_height_raster,
    iter_height_windows,
    plan_windows,
    read_heights,
)
from pipeline.zonal import PolygonFeature, ZonalSettings, read_polygons
from pipeline.zonal.pixels import clip_box
from pipeline.zonal.polygons import crs_text
from pipeline.zonal.zonal import box_cells

log = logging.getLogger(__name__)

ZONAL = ZonalSettings(max_window_pixels=1 << 23)
"""A footprint box of more than 2²³ cells (290 m × 290 m at 10 cm) is not measured: its faces are
searched in memory (about 100 bytes a cell)."""


class _Found(NamedTuple):
    building: Building
    planes: tuple[RoofPlane, ...]
    outlines: dict[int, BaseGeometry]
    """Face index → its outline (cells dissolved), in the DSM's CRS."""


def face_outlines(measured: MeasuredBuilding, window: HeightWindow) -> dict[int, BaseGeometry]:
    """The cells of each face dissolved into (multi)polygons, in the raster's CRS."""
    labels = measured.labels
    parts: dict[int, list[BaseGeometry]] = {}
    for geometry, value in shapes(labels, mask=labels > 0, transform=window.transform, connectivity=4):
        parts.setdefault(int(value), []).append(shape(geometry))
    return {k: shapely.union_all(v) for k, v in parts.items()}


def _failed(feature: PolygonFeature, problem: str) -> Building:
    area = feature.geometry.area if feature.geometry is not None else None
    return Building(id=feature.key, status=RoofStatus.FAILED, problems=(problem,), footprint_area_m2=area)


def _measure(
    dsm: DatasetReader,
    dtm: DatasetReader | WarpedVRT | None,
    heights: HeightCheck,
    features: tuple[PolygonFeature, ...],
    config: RoofConfig,
) -> dict[int, _Found]:
    plan = plan_windows(dsm, [f.geometry for f in features], ZONAL)
    reads = plan.reads
    large = frozenset(
        i for i in reads.single if box_cells(clip_box(reads.boxes[i], dsm)) > ZONAL.max_window_pixels
    )
    found: dict[int, _Found] = {}
    for window in iter_height_windows(dsm, plan, ZONAL, skip=large):
        feature = features[window.position]
        assert feature.geometry is not None
        terrain = read_heights(dtm, window.window) if dtm is not None else None
        surface, terrain = heights.apply(window.heights, terrain, window.transform)
        grid = BuildingGrid(
            feature.key, surface, window.inside, window.transform, feature.geometry.area, terrain
        )
        measured = measure_building(grid, config.settings)
        found[window.position] = _Found(measured.building, measured.planes, face_outlines(measured, window))
    for index in large:
        limit = ZONAL.max_window_pixels
        problem = (
            f"building {features[index].key}: omridset dækker mere end {limit} celler / "
            f"its footprint box holds more than {limit} cells"
        )
        found[index] = _Found(_failed(features[index], problem), (), {})
    for index in reads.outside:
        bounds = ", ".join(f"{v:.1f}" for v in dsm.bounds)
        problem = (
            f"building {features[index].key} ligger uden for DSM'en / building {features[index].key} lies "
            f"outside the DSM (DSM bounds {bounds})"
        )
        found[index] = _Found(_failed(features[index], problem), (), {})
    return found


@contextlib.contextmanager
def _terrain(config: RoofConfig, dsm: DatasetReader) -> Iterator[DatasetReader | WarpedVRT | None]:
    if config.dtm is None:
        yield None
        return
    with aligned(config.dtm, dsm) as dtm:
        yield dtm


def run_roofs(config: RoofConfig, *, now: datetime | None = None) -> RoofRun:
    """Measure the roof of every footprint of ``config.footprints`` on ``config.dsm``; write the outputs.

    Raises:
        RasterInputError: the DSM or DTM is unusable (no CRS, degrees, rotated).
        PolygonLayerError: the footprint file is unusable (unreadable, no CRS, unknown id field).
        HeightDatumError: the DSM and DTM are in different vertical datums that cannot be converted.
    """
    created = now or datetime.now(UTC)
    with (
        rasterio.Env(GDAL_CACHEMAX=config.cache_mb << 20),
        rasterio.open(config.dsm, NUM_THREADS=ZONAL.read_threads) as dsm,
    ):
        cell = check_height_raster(dsm, str(config.dsm))
        crs = crs_text(CRS.from_user_input(dsm.crs))
        layer = read_polygons(config.footprints, id_field=config.id_field, crs=crs, layer=config.layer)
        heights = check_heights(config.dsm, dsm, config.dtm, config.proj_grids, name=("DTM'en", "DTM"))
        with _terrain(config, dsm) as dtm:
            found = _measure(dsm, dtm, heights, layer.features, config)
    buildings: list[Building] = []
    planes: list[RoofPlane] = []
    outlines: list[BaseGeometry | None] = []
    for feature in layer.features:
        item = found.get(feature.index) or _Found(
            _failed(feature, f"building {feature.key}: ingen brugbar geometri / no usable geometry"), (), {}
        )
        notes = tuple(p.message for p in feature.problems)
        attributes = {k: v for k, v in feature.attributes.items() if k != layer.id_field}
        buildings.append(
            item.building.model_copy(
                update={"problems": notes + item.building.problems, "attributes": attributes}
            )
        )
        planes.extend(item.planes)
        outlines.extend(item.outlines.get(p.index) for p in item.planes)
    run = RoofRun(
        created=created, dsm=str(config.dsm), footprints_file=str(config.footprints),
        dtm=str(config.dtm) if config.dtm else None, crs=crs, cell_size_m=(abs(cell[0]), abs(cell[1])),
        settings=config.settings, method=METHOD, height_datum=heights.label, notes=heights.notes,
        buildings=tuple(buildings), planes=tuple(planes),
    )  # fmt: skip
    if config.out_dir is None:
        return run
    outputs = write_outputs(config, run, layer, outlines)
    log.info("roofs: %d buildings, %d faces", len(run.buildings), len(run.planes))
    return run.model_copy(update={"outputs": outputs})
