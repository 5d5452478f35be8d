"""One frame as one task: locate, render and write the georeferenced COG of a single frame.

:func:`georeference_frame` is a top-level, picklable function of a :class:`FrameTask`
(workspace root, flight id, the frame's path and capture, and the parameters the parent
decided: target CRS, DEM and its sampled area, take-off height, ...). It runs wherever the
executor puts it — inline, in a local process pool or on a Dask worker — writes only the
frame's own files (its COG and thumbnail) and returns a :class:`FrameResult` with the
product; the parent collects the results and writes ``products.json`` and the layers (one
writer). The same inputs give the same bytes whichever process runs the task.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

from core.models import Frozen
from core.workspace import Workspace
from flights.models import Capture
from pipeline.executors import UNIT_FAILURES
from pipeline.frames.dem import DemSampler
from pipeline.frames.locate import frame_record, frame_view, locate_frame
from pipeline.frames.render import frame_grid, read_image, render_frame
from pipeline.frames.write import write_frame_cog, write_thumbnail
from pipeline.geodesy.dvr90 import dvr90_transformer, geoid_offsets
from pipeline.models import HeightDatum, PoseGeoref, Product, ProductKind, ProductThermal
from pipeline.rasters.operations import choose_operation

log = logging.getLogger(__name__)
PLANE_RULE = "relative-altitude-over-takeoff-plane"


class FrameTask(Frozen):
    """Everything one frame's georeferencing needs (picklable; paths every worker can read).

    Attributes:
        root: workspace root.
        flight: flight id.
        relpath: the frame's path in the flight folder.
        capture: the frame's capture record (from the flight manifest).
        kind: ``rgb_frame`` or ``thermal_frame``.
        product_id: id of the product.
        signature: what the product was made from (kept in ``Product.signature``).
        target_crs: CRS of the product.
        grids: folder with the DVR90 PROJ grids (RTK heights).
        dem: ground model, or None for the take-off plane.
        dem_bounds: the area of the DEM the parent sampled (same for every frame of a run).
        takeoff_z: DEM height of the take-off point.
        max_range: horizontal metres at which rays are clipped.
        max_px: largest output side (the parent's ``pipeline.frames.render.MAX_FRAME_PX``).
        thermal: how the °C values were made (thermal frames).
    """

    root: str
    flight: str
    relpath: str
    capture: Capture
    kind: ProductKind
    product_id: str
    signature: str
    target_crs: str
    grids: str | None = None
    dem: str | None = None
    dem_bounds: tuple[float, float, float, float] | None = None
    takeoff_z: float | None = None
    max_range: float
    max_px: int | None = None
    thermal: ProductThermal | None = None


class FrameResult(Frozen):
    """What one frame task produced: its product, or why there is none."""

    relpath: str
    product: Product | None = None
    error: str | None = None


@functools.lru_cache(maxsize=4)
def frame_transformer(target_crs: str) -> tuple[Transformer, str]:
    """WGS 84 -> ``target_crs`` for camera positions (PROJ's best operation), and its label."""
    op = choose_operation("EPSG:4326", target_crs)
    return op.transformer, op.label


def dem_sampler(path: str, target_crs: str, bounds: tuple[float, float, float, float]) -> DemSampler:
    """The DEM over a run's area, read once per process (every frame task of a run asks the same).

    The cache is keyed by the file's size and modification time too: a replaced DEM is read again.
    """
    stat = Path(path).stat()
    return _dem_sampler(path, (stat.st_size, stat.st_mtime_ns), target_crs, bounds)


@functools.lru_cache(maxsize=1)
def _dem_sampler(
    path: str, _version: tuple[int, int], target_crs: str, bounds: tuple[float, float, float, float]
) -> DemSampler:
    return DemSampler(Path(path), target_crs, bounds)


def rtk_height(capture: Capture, target_crs: str, grids: Path | None, transformer: Any) -> float | None:
    """An RTK-fixed AbsoluteAltitude in DVR90 (the DEM's datum), when the grid is available."""
    pos = capture.position
    if not (capture.rtk.fixed and pos and pos.absolute_altitude_m is not None and grids):
        return None
    vertical = dvr90_transformer(target_crs, grids)
    if vertical is None:
        return None
    e, n = transformer.transform(pos.lon, pos.lat)
    return float(pos.absolute_altitude_m + geoid_offsets(vertical, np.array([e]), np.array([n]))[0])


def georeference_frame(task: FrameTask) -> FrameResult:
    """Locate, render and write one frame (COG + thumbnail); failures come back as the result's error."""
    try:
        product = _georeference(task)
    except UNIT_FAILURES as exc:  # one frame: reported with its reason, the rest of the flight goes on
        return FrameResult(relpath=task.relpath, error=str(exc))
    return FrameResult(relpath=task.relpath, product=product)


def _georeference(task: FrameTask) -> Product:
    ws = Workspace.at(task.root)
    capture, thermal = task.capture, task.kind == ProductKind.THERMAL_FRAME
    transformer, label = frame_transformer(task.target_crs)
    dem = None
    if task.dem is not None and task.dem_bounds is not None:
        dem = dem_sampler(task.dem, task.target_crs, task.dem_bounds)
    grids = Path(task.grids) if task.grids else None
    camera, pose, fp = locate_frame(
        capture,
        task.target_crs,
        transformer=transformer,
        dem=dem,
        takeoff_z=task.takeoff_z,
        camera_absolute_z=rtk_height(capture, task.target_crs, grids, transformer),
        max_range=task.max_range,
    )
    archived = ws.archived_file(task.flight, task.relpath)
    source = ws.thermal_frame(task.flight, task.relpath) if thermal else archived
    grid = frame_grid(fp, task.max_px)
    on_dem = dem is not None and pose.height_rule != PLANE_RULE
    bands, valid = render_frame(read_image(source), camera, pose, grid, elevation=dem if on_dem else None)
    tags = {
        "DRONEGIS_HEIGHT_RULE": pose.height_rule,
        "DRONEGIS_YAW_SOURCE": pose.attitude.yaw_source,
        "DRONEGIS_CAMERA_MODEL": camera.source,
        "DRONEGIS_TRANSFORMATION": label,
    }
    dst = ws.frame_cog(task.flight, task.relpath)
    write_frame_cog(bands, valid, grid, dst, crs=task.target_crs, thermal=thermal, tags=tags)
    thumb = write_thumbnail(source if thermal else archived, ws.thumbnail(task.flight, task.relpath))
    transform, width, height = grid
    bounds = (transform.c, transform.f + height * transform.e, transform.c + width * transform.a, transform.f)
    record = frame_record(capture, camera, pose, fp, thumbnail=_rel(ws, thumb), cog=_rel(ws, dst))
    return Product(
        id=task.product_id,
        flight=task.flight,
        kind=task.kind,
        path=_rel(ws, dst),
        crs=task.target_crs,
        bounds=bounds,
        gsd_m=record.gsd_m,
        time_start=capture.time_utc,
        time_end=capture.time_utc,
        source_files=(task.relpath,),
        transformation=label,
        units="°C" if thermal else None,
        height_datum=HeightDatum.NOT_APPLICABLE,
        signature=task.signature,
        georef=PoseGeoref(ground="dem" if on_dem else "plane", footprint_clipped=fp.clipped, record=record),
        thermal=task.thermal,
        view=frame_view(capture),
    )


def _rel(ws: Workspace, path: Path) -> str:
    return path.resolve().relative_to(ws.root).as_posix()
