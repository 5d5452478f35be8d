"""The ``frames`` sub-stage of ``process``: every usable frame georeferenced by its pose.

It fans its frames out on the run's executor, one task per frame
(:func:`pipeline.frames.tasks.georeference_frame`); this process decides what to redo and
collects the products in capture order. It also gives the thermal stage each thermal frame's
object distance above a DEM (:func:`thermal_distances`) and the gcp stage a frame's °C record
(:func:`thermal_frame_info`).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from pyproj import Transformer

from core.errors import DroneGisError, ThermalError
from flights.models import Capture, FileKind
from pipeline.executors import map_progress
from pipeline.frames import render
from pipeline.frames.dem import DemSampler
from pipeline.frames.locate import is_thermal
from pipeline.frames.tasks import (
    FrameResult,
    FrameTask,
    dem_sampler,
    frame_transformer,
    georeference_frame,
    rtk_height,
)
from pipeline.georef.pose import GroundHeights, frame_pose
from pipeline.models import (
    Product,
    ProductKind,
    ProductThermal,
    Skipped,
)
from pipeline.products import product_id as make_product_id
from pipeline.rasters.area import outside_target_area
from pipeline.run import ProcessRun, StageOutput
from pipeline.thermal.convert import distance_from_capture
from pipeline.thermal.parameters import product_thermal

logger = logging.getLogger(__name__)
DEM_MARGIN_M = 1000.0


def frame_inputs(run: ProcessRun) -> list[Capture]:
    """Usable frames with a position, in capture order."""
    kinds = (FileKind.RGB_FRAME, FileKind.THERMAL_FRAME)
    return [c for c in run.flight.captures if c.kind in kinds and c.usable and c.position is not None]


def frame_operation(run: ProcessRun) -> tuple[Transformer, str]:
    """WGS 84 -> target CRS for camera positions, and its label.

    ``--transformation`` names an operation from the *rasters'* CRS, so frames always use
    PROJ's best operation from EPSG:4326 (recorded with every frame product).
    """
    return frame_transformer(run.target_crs)


def _dem_bounds(run: ProcessRun, captures: list[Capture], transformer: Any) -> tuple[float, ...] | None:
    """The area of the DEM a run samples: every frame's camera position plus a margin."""
    if run.dem is None or not captures:
        return None
    pts = [transformer.transform(c.position.lon, c.position.lat) for c in captures if c.position]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) - DEM_MARGIN_M, min(ys) - DEM_MARGIN_M, max(xs) + DEM_MARGIN_M, max(ys) + DEM_MARGIN_M)


def _dem_for(run: ProcessRun, captures: list[Capture], transformer: Any) -> DemSampler | None:
    bounds = _dem_bounds(run, captures, transformer)
    if run.dem is None or bounds is None:
        return None
    return dem_sampler(str(run.dem), run.target_crs, (bounds[0], bounds[1], bounds[2], bounds[3]))


def _takeoff(dem: DemSampler | None, captures: list[Capture], transformer: Any) -> float | None:
    """DEM height under the first frame: the take-off point is not recorded, the first frame is near it."""
    first = min(captures, key=lambda c: (c.time_utc is None, c.time_utc or 0))
    if dem is None or first.position is None:
        return None
    e, n = transformer.transform(first.position.lon, first.position.lat)
    z = float(dem(np.array([e]), np.array([n]))[0])
    return z if math.isfinite(z) else None


def thermal_distances(run: ProcessRun) -> dict[str, float | None]:
    """With a DEM: each thermal frame's object distance from its height above the DEM.

    The height follows the frames' height rule (relative altitude plus the DEM difference
    between take-off and nadir, or RTK), the distance the pitch rule of
    :func:`~pipeline.thermal.convert.distance_from_capture` (slant distance; None for shallow
    views). Without a DEM (or a pose) the thermal stage uses the relative altitude.
    """
    captures = frame_inputs(run)
    if run.dem is None or not any(is_thermal(c) for c in captures):
        return {}
    transformer, _ = frame_operation(run)
    dem = _dem_for(run, captures, transformer)
    takeoff = _takeoff(dem, captures, transformer)
    out: dict[str, float | None] = {}
    for capture in captures:
        if dem is None or capture.position is None or not is_thermal(capture):
            continue
        e, n = transformer.transform(capture.position.lon, capture.position.lat)
        nadir = float(dem(np.array([e]), np.array([n]))[0])
        rtk = rtk_height(capture, run.target_crs, run.grids, transformer)
        ground = GroundHeights(takeoff, nadir if math.isfinite(nadir) else None, rtk)
        try:
            pose = frame_pose(capture, run.target_crs, ground=ground, transformer=transformer)
        except DroneGisError as exc:
            logger.info("%s: distance from the relative altitude (%s)", capture.path, exc)
            continue
        moved = capture.position.model_copy(update={"relative_altitude_m": pose.height_above_ground})
        out[capture.path] = distance_from_capture(capture.model_copy(update={"position": moved}))
    return out


def _check_thermal_source(run: ProcessRun, capture: Capture) -> None:
    """The frame's °C raster must have been written by the thermal stage (with the flight's parameters)."""
    dst = run.workspace.thermal_frame(run.flight.id, capture.path)
    if run.thermal is None or capture.path not in run.thermal.written or not dst.exists():
        raise ThermalError(f"{capture.path}: the thermal stage wrote no °C raster ({dst})")


def thermal_frame_info(run: ProcessRun, capture: Capture) -> ProductThermal | None:
    """How the frame's °C values were made (:func:`pipeline.thermal.parameters.product_thermal`)."""
    if run.thermal is None or capture.path not in run.thermal.measurements:
        return None
    raster = run.rel(run.workspace.thermal_frame(run.flight.id, capture.path))
    return product_thermal([run.thermal.measurements[capture.path]], run.thermal.overrides, raster=raster)


def _frame_signature(run: ProcessRun, capture: Capture, kind: ProductKind) -> str | None:
    """The frame product's signature; for thermal frames it includes the °C raster's.

    ``None``: a thermal frame whose conversion failed (already reported by the thermal stage).
    """
    if kind != ProductKind.THERMAL_FRAME:
        return run.signature(capture.sha256, kind.value)
    thermal = run.thermal
    if thermal is not None and capture.path in thermal.failed:
        return None
    raster = thermal.signatures.get(capture.path) if thermal is not None else None
    return run.signature(capture.sha256, kind.value, raster)


def frames_stage(run: ProcessRun) -> StageOutput:
    """Footprint, COG and thumbnail of every usable frame: one task per frame to redo, on ``run.executor``.

    Frames whose signature is unchanged are kept; each other one becomes a
    :class:`~pipeline.frames.tasks.FrameTask`. The results come back in capture order, so the
    products and the skipped list do not depend on the executor.
    """
    captures = frame_inputs(run)
    if not captures:
        return StageOutput()
    transformer, _ = frame_operation(run)
    bounds = _dem_bounds(run, captures, transformer)
    takeoff = _takeoff(_dem_for(run, captures, transformer), captures, transformer)
    outcomes = [_plan_frame(run, capture, bounds, takeoff) for capture in captures]
    tasks = [o for o in outcomes if isinstance(o, FrameTask)]
    done_before = len(captures) - len(tasks)
    if run.progress is not None and done_before:
        run.progress(done_before, len(captures))

    def progress(done: int, _total: int) -> None:
        if run.progress is not None:
            run.progress(done_before + done, len(captures))

    results = iter(map_progress(run.executor, georeference_frame, tasks, progress))
    products: list[Product] = []
    skipped: list[Skipped] = []
    for capture, outcome in zip(captures, outcomes, strict=True):
        if isinstance(outcome, FrameTask):
            outcome = _collect(next(results))
        if isinstance(outcome, Product):
            products.append(outcome)
        elif isinstance(outcome, str):
            logger.error("%s: not georeferenced: %s", capture.path, outcome)
            skipped.append(Skipped(file=capture.path, reason=outcome))
    return StageOutput(tuple(products), tuple(skipped))


def _collect(result: FrameResult) -> Product | str:
    if result.product is not None:
        return result.product
    return result.error or f"{result.relpath}: no product"


def _plan_frame(
    run: ProcessRun, capture: Capture, bounds: tuple[float, ...] | None, takeoff: float | None
) -> Product | str | FrameTask | None:
    """What to do with one frame: keep its product, skip it (None, or an error), or a task."""
    kind = ProductKind.THERMAL_FRAME if is_thermal(capture) else ProductKind.RGB_FRAME
    if capture.position is not None:
        far = outside_target_area([(capture.position.lon, capture.position.lat)], run.target_crs)
        if far is not None:
            return f"{capture.path}: camera position {far}"
    product_id = make_product_id(run.flight.id, "frame", capture.path)
    signature = _frame_signature(run, capture, kind)
    if signature is None:
        logger.info("%s: no °C raster, not georeferenced", capture.path)
        return None
    old = run.reusable(product_id, signature, "frames")
    if old is not None:
        return old
    if kind == ProductKind.THERMAL_FRAME:
        try:
            _check_thermal_source(run, capture)
        except ThermalError as exc:
            return str(exc)
    thermal = thermal_frame_info(run, capture) if kind == ProductKind.THERMAL_FRAME else None
    return FrameTask(
        root=str(run.workspace.root),
        flight=run.flight.id,
        relpath=capture.path,
        capture=capture,
        kind=kind,
        product_id=product_id,
        signature=signature,
        target_crs=run.target_crs,
        grids=str(run.grids) if run.grids else None,
        dem=str(run.dem) if run.dem else None,
        dem_bounds=(bounds[0], bounds[1], bounds[2], bounds[3]) if bounds else None,
        takeoff_z=takeoff,
        max_range=run.max_range,
        max_px=render.MAX_FRAME_PX,  # read at call time: tests make it small
        thermal=thermal,
    )
