"""One GCP-warped frame as one task: fit the frame's GCPs, warp it with the fit, write the COG.

:func:`warp_gcp_frame` is a top-level, picklable function of a :class:`GcpTask` (workspace
root, flight id, the frame's path and capture, its GCP pairs in the target CRS and the
parameters the parent decided). It runs wherever the executor puts it — inline, in a local
process pool or on a Dask worker — writes only the frame's own ``_gcp`` COG and returns a
:class:`GcpResult` with the product (or why there is none) and the fit's warnings; the parent
decides which frames qualify, collects the results in its own order and is the only writer of
``products.json``. The same inputs give the same bytes whichever process runs the task.
"""

from __future__ import annotations

import logging
from pathlib import Path

import rasterio

from core.atomic import scratch_path
from core.errors import GeoreferenceError, ThermalError
from core.models import Frozen
from core.workspace import Workspace
from flights.models import Capture, FileKind
from pipeline.executors import UNIT_FAILURES
from pipeline.frames.locate import frame_view
from pipeline.gcp.fit import MIN_POINTS, GcpPair, check_residuals, fit_gcps
from pipeline.gcp.warp import warp_with_fit
from pipeline.models import Accuracy, GcpGeoref, Product, ProductKind, ProductThermal
from pipeline.rasters.cog import write_cog
from pipeline.thermal.tiff import quiet_rasterio

log = logging.getLogger(__name__)


class GcpTask(Frozen):
    """Everything one frame's GCP fit and warp needs (picklable; paths every worker can read).

    Attributes:
        root: workspace root.
        flight: flight id.
        relpath: the frame's path in the flight folder.
        capture: the frame's capture record (from the flight manifest).
        pairs: the frame's GCP and check-point observations, map coordinates in ``target_crs``.
        product_id: id of the product.
        signature: what the product was made from (kept in ``Product.signature``).
        target_crs: CRS of the product.
        thermal: how the °C values were made (thermal frames).
    """

    root: str
    flight: str
    relpath: str
    capture: Capture
    pairs: tuple[GcpPair, ...]
    product_id: str
    signature: str
    target_crs: str
    thermal: ProductThermal | None = None


class GcpResult(Frozen):
    """What one GCP task produced: its product or why there is none, and the fit's warnings."""

    relpath: str
    product: Product | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def warp_gcp_frame(task: GcpTask) -> GcpResult:
    """Fit, warp and write one frame; failures come back as the result's error."""
    try:
        product, notes = _warp(task)
    except UNIT_FAILURES as exc:  # one frame: reported with its reason, the rest of the flight goes on
        return GcpResult(relpath=task.relpath, error=str(exc))
    return GcpResult(relpath=task.relpath, product=product, warnings=notes)


def _thermal_source(ws: Workspace, task: GcpTask) -> tuple[Path, list[GcpPair]]:
    """The °C raster and the pairs in its pixels (scaled from the delivered image's size).

    Pairs are in GDAL's corner-based pixel space, so scaling them is a plain product.
    """
    capture, pairs = task.capture, list(task.pairs)
    src = ws.thermal_frame(task.flight, task.relpath)
    if not src.exists():
        raise ThermalError(f"{task.relpath}: the thermal stage wrote no °C raster ({src})")
    with quiet_rasterio(), rasterio.open(src) as ds:
        width, height = ds.width, ds.height
    sx = width / capture.camera.width if capture.camera.width else 1.0
    sy = height / capture.camera.height if capture.camera.height else 1.0
    if (sx, sy) == (1.0, 1.0):
        return src, pairs
    log.info("%s: GCP pixels scaled by %.4g x %.4g to the °C raster", task.relpath, sx, sy)
    return src, [p._replace(col=p.col * sx, row=p.row * sy) for p in pairs]


def _warp(task: GcpTask) -> tuple[Product, tuple[str, ...]]:
    ws = Workspace.at(task.root)
    capture = task.capture
    thermal = capture.kind == FileKind.THERMAL_FRAME
    src, pairs = ws.archived_file(task.flight, task.relpath), list(task.pairs)
    if thermal:
        src, pairs = _thermal_source(ws, task)
    gcps = [p for p in pairs if p.role != "check"]
    order = 2 if len(gcps) >= 2 * MIN_POINTS[2] else 1  # order 2 only with redundancy (REFERENCE §3.2)
    fit = fit_gcps(pairs, order=order, crs=task.target_crs)
    mislabelled = [w for w in fit.warnings if "px apart but" in w]
    if mislabelled:
        raise GeoreferenceError(f"{task.relpath}: {'; '.join(mislabelled)} (mislabelled observation?)")
    checks = check_residuals(fit, pairs)
    dst = ws.frame_cog(task.flight, f"{Path(task.relpath).with_suffix('')}_gcp.tif")
    with scratch_path(dst, suffix=".tif") as scratch:
        warped = warp_with_fit(src, scratch, fit)
        profile = "thermal_f32" if thermal else "ortho_jpeg"
        write_cog(scratch, dst, profile, tags={"DRONEGIS_GCP_FIT": f"polynomial order {order}"})
    product = Product(
        id=task.product_id,
        flight=task.flight,
        kind=ProductKind.THERMAL_FRAME if thermal else ProductKind.RGB_FRAME,
        path=dst.resolve().relative_to(ws.root).as_posix(),
        crs=task.target_crs,
        bounds=warped.bounds,
        gsd_m=warped.resolution,
        time_start=capture.time_utc,
        time_end=capture.time_utc,
        source_files=(task.relpath,),
        transformation=f"GCP polynomial order {order} (GCP coordinates transformed with PROJ)",
        units="°C" if thermal else None,
        signature=task.signature,
        georef=GcpGeoref(fit=fit, check_points=checks),
        accuracy=Accuracy.from_fit(fit.gcp_count, MIN_POINTS[order], fit.loo_rmse_r),
        thermal=task.thermal,
        view=frame_view(capture),
    )
    return product, tuple(fit.warnings)
