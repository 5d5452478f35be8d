"""Sub-stage ``gcp`` of :mod:`pipeline.process`: frames with surveyed GCPs, warped by a fit.

For every frame observed by at least three GCPs of the flight's control files, the GCP
coordinates go to the target CRS, a polynomial is fitted (order 1; order 2 from twelve GCPs
on, twice its minimum, so that its residuals mean something; check points never take part) and
the frame is warped with it into a COG. Fits with two GCPs on one pixel but apart on the ground
(a mislabelled observation, as in COPR's gcp_list.txt) are refused, not warped. The fit's
residuals, RMSE, leave-one-out RMSE and the check-point residuals go into the product's
properties. This georeferences frames that carry no GPS at all (kite, balloon, pole).

Thermal frames are warped from the thermal stage's °C raster (pixel coordinates scaled when
its size differs from the delivered image's) into a float32 °C COG that records the
measurement parameters like the directly georeferenced thermal frames.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import rasterio

from flights.errors import DroneGisError, GeoreferenceError, ThermalError
from flights.models import Capture, ControlPoint, FileKind
from pipeline.cog import write_cog
from pipeline.gcp import MIN_POINTS, GcpPair, check_residuals, fit_gcps, pairs_for_image
from pipeline.gcp_warp import warp_with_fit
from pipeline.models import Product, ProductKind

if TYPE_CHECKING:
    from pipeline.process import _Run

logger = logging.getLogger(__name__)


def _control_points(run: _Run) -> list[ControlPoint]:
    return [p for cf in run.flight.control for p in cf.points if p.observations]


def _frames_by_name(run: _Run) -> dict[str, Capture]:
    out: dict[str, Capture] = {}
    for capture in run.flight.captures:
        out.setdefault(Path(capture.path).name.lower(), capture)
    return out


def gcp_stage(run: _Run) -> None:
    """Warp every frame with enough GCP observations (see the module docstring)."""
    points = _control_points(run)
    if not points:
        return
    frames = _frames_by_name(run)
    images = sorted({o.image for p in points for o in p.observations if o.image.lower() in frames})
    for image in images:
        capture = frames[image.lower()]
        pairs = pairs_for_image(points, image, target_crs=run.target_crs)
        if sum(p.role != "check" for p in pairs) < MIN_POINTS[1]:
            logger.info("%s: fewer than 3 GCPs, no GCP fit", image)
            continue
        product_id = (
            f"{run.flight.id}-gcpframe-{Path(capture.path).with_suffix('').as_posix().replace('/', '-')}"
        )
        thermal = capture.kind == FileKind.THERMAL_FRAME
        raster = run.thermal.signatures.get(capture.path) if thermal and run.thermal else None
        if thermal and raster is None:
            logger.info("%s: no °C raster (see the thermal stage), no GCP fit", image)
            continue
        signature = run.signature(capture.sha256, [tuple(p) for p in pairs], *([raster] if thermal else []))
        old = run.reusable(product_id, signature, "gcp")
        if old is not None:
            run.products[product_id] = old
            continue
        try:
            run.products[product_id] = _warp_frame(run, capture, pairs, product_id, signature)
        except (DroneGisError, OSError) as exc:
            logger.error("%s: GCP fit failed: %s", image, exc)
            run.skipped.append({"file": capture.path, "reason": f"GCP fit: {exc}"})


def _thermal_source(run: _Run, capture: Capture, pairs: list[GcpPair]) -> tuple[Path, list[GcpPair]]:
    """The °C raster and the pairs in its pixels (scaled from the delivered image's size)."""
    from pipeline.thermal_tiff import quiet_rasterio

    src = run.workspace.thermal_frame(run.flight.id, capture.path)
    if not src.exists():
        raise ThermalError(f"{capture.path}: the thermal stage wrote no °C raster ({src})")
    with quiet_rasterio(), rasterio.open(src) as ds:
        width, height = ds.width, ds.height
    sx = width / capture.camera.width if capture.camera.width else 1.0
    sy = height / capture.camera.height if capture.camera.height else 1.0
    if (sx, sy) == (1.0, 1.0):
        return src, pairs
    logger.info("%s: GCP pixels scaled by %.4g x %.4g to the °C raster", capture.path, sx, sy)
    return src, [p._replace(col=p.col * sx, row=p.row * sy) for p in pairs]


def _warp_frame(
    run: _Run, capture: Capture, pairs: list[GcpPair], product_id: str, signature: str
) -> Product:
    from pipeline.process_frames import thermal_frame_properties

    thermal = capture.kind == FileKind.THERMAL_FRAME
    src = run.workspace.archived_file(run.flight.id, capture.path)
    if thermal:
        src, pairs = _thermal_source(run, capture, pairs)
    gcps = [p for p in pairs if p.role != "check"]
    order = 2 if len(gcps) >= 2 * MIN_POINTS[2] else 1  # order 2 only with redundancy (REFERENCE §3.2)
    fit = fit_gcps(pairs, order=order, crs=run.target_crs)
    mislabelled = [w for w in fit.warnings if "px apart but" in w]
    if mislabelled:
        raise GeoreferenceError(f"{capture.path}: {'; '.join(mislabelled)} (mislabelled observation?)")
    checks = check_residuals(fit, pairs)
    dst = run.workspace.frame_cog(run.flight.id, f"{Path(capture.path).with_suffix('')}_gcp.tif")
    scratch = dst.with_name(f".{dst.stem}.scratch.dronegis-tmp")
    try:
        warped = warp_with_fit(src, scratch, fit)
        profile = "thermal_f32" if thermal else "ortho_jpeg"
        write_cog(scratch, dst, profile, tags={"DRONEGIS_GCP_FIT": f"polynomial order {order}"})
    finally:
        scratch.unlink(missing_ok=True)
    for note in fit.warnings:
        logger.warning("%s: %s", capture.path, note)
    return Product(
        id=product_id,
        flight=run.flight.id,
        kind=ProductKind.THERMAL_FRAME if thermal else ProductKind.RGB_FRAME,
        path=run.rel(dst),
        crs=run.target_crs,
        bounds=warped.bounds,
        gsd_m=warped.resolution,
        time_start=capture.time_utc,
        time_end=capture.time_utc,
        source_files=(capture.path,),
        transformation=f"GCP polynomial order {order} (GCP coordinates transformed with PROJ)",
        units="°C" if thermal else None,
        properties={
            "signature": signature,
            "georeference": "gcp",
            "fit": fit.model_dump(mode="json"),
            "check_points": [c.model_dump(mode="json") for c in checks],
            **(thermal_frame_properties(run, capture) if thermal else {}),
        },
    )
