"""Sub-stage ``gcp`` of :mod:`pipeline.process`: frames with surveyed GCPs, warped by a fit.

The flight's control files are merged first (``flights.control_sets``): a target listed in
several files counts once, and a target that is a check point in any of them is never fitted.
For every frame observed by at least three GCPs of the flight's control files, the GCP
coordinates go to the target CRS, a polynomial is fitted (order 1; order 2 from twelve GCPs
on, twice its minimum, so that its residuals mean something; check points never take part) and
the frame is warped with it into a COG. Fits with two GCPs on one pixel but apart on the ground
(a mislabelled observation, as in COPR's gcp_list.txt) are refused, not warped. The fit's
residuals, RMSE, leave-one-out RMSE and the check-point residuals go into the product's
``georef``, and what the fit states of its accuracy into ``accuracy``. This georeferences frames
that carry no GPS at all (kite, balloon, pole).

Thermal frames are warped from the thermal stage's °C raster (pixel coordinates scaled when
its size differs from the delivered image's) into a float32 °C COG that records the
measurement parameters like the directly georeferenced thermal frames.

Where the work runs: this process decides which frames qualify and which products are
reusable; every frame to (re)warp becomes a :class:`~pipeline.gcp.tasks.GcpTask` run by
:func:`~pipeline.gcp.tasks.warp_gcp_frame` on ``run.executor`` (one task per frame). The
results are collected in the order the frames were planned, so the products do not depend on
the executor; this process alone writes ``products.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pyproj import Transformer

from flights.control_sets import delivered_sources, merge_sources
from flights.models import Capture, ControlPoint, FileKind
from pipeline.frames.stage import thermal_frame_info
from pipeline.gcp.fit import MIN_POINTS, pairs_for_image
from pipeline.gcp.tasks import GcpResult, GcpTask, warp_gcp_frame
from pipeline.models import Product, Skipped
from pipeline.products import product_id as make_product_id
from pipeline.rasters.area import outside_target_area
from pipeline.run import ProcessRun, StageOutput

logger = logging.getLogger(__name__)


def _control_points(run: ProcessRun) -> list[ControlPoint]:
    """The flight's targets with observations, one per target across all control files."""
    merged = merge_sources(delivered_sources(run.flight.control))
    for conflict in merged.conflicts:
        logger.warning("%s", conflict.message)
    for name, files in merged.gcp_in.items():
        logger.warning("%s is a GCP in %s but a check point elsewhere: not fitted", name, ", ".join(files))
    return [p for p in merged.points if p.observations]


def _frames_by_name(run: ProcessRun) -> dict[str, Capture]:
    out: dict[str, Capture] = {}
    for capture in run.flight.captures:
        out.setdefault(Path(capture.path).name.lower(), capture)
    return out


def gcp_stage(run: ProcessRun) -> StageOutput:
    """Warp every frame with enough GCP observations (see the module docstring)."""
    points = _control_points(run)
    if not points:
        return StageOutput()
    frames = _frames_by_name(run)
    images = sorted({o.image for p in points for o in p.observations if o.image.lower() in frames})
    planned: list[Product | GcpTask] = []
    skipped: list[Skipped] = []
    for image in images:
        outcome = _plan_frame(run, points, image, frames[image.lower()])
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif outcome is not None:
            planned.append(outcome)
    tasks = [o for o in planned if isinstance(o, GcpTask)]
    results = iter(run.executor.map(warp_gcp_frame, tasks))
    products: list[Product] = []
    for outcome in planned:
        if isinstance(outcome, GcpTask):
            collected = _collect(outcome, next(results))
            if isinstance(collected, Skipped):
                skipped.append(collected)
            else:
                products.append(collected)
        else:
            products.append(outcome)
    return StageOutput(tuple(products), tuple(skipped))


def _plan_frame(
    run: ProcessRun, points: list[ControlPoint], image: str, capture: Capture
) -> Product | GcpTask | Skipped | None:
    """What to do with one observed frame: nothing (None), skip it, keep its product, or a task."""
    pairs = pairs_for_image(points, image, target_crs=run.target_crs)
    if sum(p.role != "check" for p in pairs) < MIN_POINTS[1]:
        logger.info("%s: fewer than 3 GCPs, no GCP fit", image)
        return None
    to_lonlat = Transformer.from_crs(run.target_crs, "EPSG:4326", always_xy=True)
    far = outside_target_area([to_lonlat.transform(p.x, p.y) for p in pairs], run.target_crs)
    if far is not None:
        logger.error("%s: no GCP fit: its control points %s", image, far)
        return Skipped(file=capture.path, reason=f"GCP fit: control points {far}")
    product_id = make_product_id(run.flight.id, "gcpframe", capture.path)
    thermal = capture.kind == FileKind.THERMAL_FRAME
    raster = run.thermal.signatures.get(capture.path) if thermal and run.thermal else None
    if thermal and raster is None:
        logger.info("%s: no °C raster (see the thermal stage), no GCP fit", image)
        return None
    signature = run.signature(capture.sha256, [tuple(p) for p in pairs], *([raster] if thermal else []))
    old = run.reusable(product_id, signature, "gcp")
    if old is not None:
        return old
    return GcpTask(
        root=str(run.workspace.root),
        flight=run.flight.id,
        relpath=capture.path,
        capture=capture,
        pairs=tuple(pairs),
        product_id=product_id,
        signature=signature,
        target_crs=run.target_crs,
        thermal=thermal_frame_info(run, capture) if thermal else None,
    )


def _collect(task: GcpTask, result: GcpResult) -> Product | Skipped:
    """One task's product (its fit warnings logged), or the reason it has none."""
    if result.product is None:
        reason = result.error or "no product"
        logger.error("%s: GCP fit failed: %s", Path(task.relpath).name, reason)
        return Skipped(file=task.relpath, reason=f"GCP fit: {reason}")
    for note in result.warnings:
        logger.warning("%s: %s", task.relpath, note)
    return result.product
