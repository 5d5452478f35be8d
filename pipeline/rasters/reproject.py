"""Orthophotos, DSMs and DTMs to COGs in the municipality's CRS (default EPSG:25832).

:func:`reproject_to_cog` reads any georeferenced raster (see :mod:`pipeline.rasters.inputs`),
reprojects it strip by strip (:mod:`pipeline.rasters.warp`: bounded memory whatever the size),
decides the vertical datum of DSM/DTM heights and converts known ellipsoidal heights to DVR90 when the grid is
available (:mod:`pipeline.geodesy`), and writes a COG with the kind's profile
(:mod:`pipeline.rasters.cog`); a DVR90 product's COG carries the compound CRS (EPSG:7416 for
EPSG:25832). Every product records the PROJ operation used.

Identity shortcut: when the chosen operation moves no pixel by more than
``identity_tolerance_px`` (default 0.01 px) anywhere on the raster, the pixel grid in
the target CRS *is* the source grid, so a warp would only resample the pixels onto
themselves. The raster is then relabelled with the target CRS and copied, without
resampling. This is the case for PROJ's default EPSG:32632 -> EPSG:25832 operation
("Inverse of ETRS89 to WGS 84 (1)", a null datum shift with 1 m accuracy: the two UTM
grids coincide to about 0.1 mm). The measured maximum shift is recorded in the
product's ``georef.max_shift_px``. A user-chosen ``transformation`` that really
moves pixels (e.g. a Helmert ITRF step) is warped like any other.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import rasterio
from pydantic import Field
from rasterio.enums import Resampling

from core.atomic import scratch_path
from core.errors import UsageError
from core.models import Frozen
from pipeline.geodesy.decision import HeightPlan, datum_tags, plan_heights
from pipeline.models import DeliveredGeoref, HeightDatum, Product, ProductKind
from pipeline.products import product_id as default_id
from pipeline.rasters.cog import CogProfile, profile_for, resolve_profile, write_cog
from pipeline.rasters.inputs import RasterInfo, check_target_area, open_raster
from pipeline.rasters.operations import choose_operation, max_shift_px
from pipeline.rasters.warp import WarpPlan, materialise

log = logging.getLogger(__name__)

HEIGHT_KINDS = (ProductKind.DSM, ProductKind.DTM)


class ReprojectConfig(Frozen):
    """How one delivered raster becomes a COG product.

    Attributes:
        kind: orthophoto, dsm, dtm or thermal; selects the profile and resampling.
        target_crs: the output CRS.
        src_crs: the user's CRS for the source (overrides the file's; needed when it has none).
        transformation: a PROJ pipeline string or an EPSG operation code (``EPSG:1149``) from the
            source CRS to ``target_crs``; default: PROJ's best available operation.
        resampling: rasterio resampling name for the warp; default: the profile's.
        grids: folder holding the DVR90 PROJ grids (DSM/DTM heights -> DVR90).
        flight: flight id recorded in the product.
        product_id: product id; default ``<flight>-<kind>``.
        profile: a COG profile (name or object); default by ``kind``.
        declared_datum: the delivery's declaration of the heights' datum (DSM/DTM only;
            :func:`pipeline.geodesy.decision.plan_heights` decides, the file's CRS first).
        identity_tolerance_px: largest pixel shift treated as "no warp needed".
        workspace_root: when given, ``Product.path`` is relative to it.
        cache_mb: GDAL block cache (MB) of the COG copy; it streams rows of 512 px blocks, so a small cache
            bounds memory without slowing it (64 MB: the 8k² warp peaks below 512 MiB).
    """

    kind: ProductKind
    target_crs: str = "EPSG:25832"
    src_crs: str | None = None
    transformation: str | None = None
    resampling: str | None = None
    grids: Path | None = None
    flight: str = ""
    product_id: str | None = None
    profile: str | CogProfile | None = None
    declared_datum: HeightDatum | None = None
    identity_tolerance_px: float = Field(0.01, ge=0)
    workspace_root: Path | None = None
    cache_mb: int = Field(64, gt=0)


def reproject_to_cog(src: Path, dst: Path, config: ReprojectConfig) -> Product:
    """Reproject a georeferenced raster to a COG in the target CRS and describe it.

    Args:
        src: GeoTIFF, image + world file, ODM orthophoto or DEM.
        dst: the COG to write (atomically).
        config: the kind, target CRS, operation, profile and product fields (:class:`ReprojectConfig`).

    Returns:
        The product, with ``transformation`` and (DSM/DTM) ``datum`` filled in.

    Raises:
        GeoreferenceError: the input has no CRS or implausible georeferencing.
        UsageError: unknown profile, resampling or transformation.
    """
    plan, shift = _plan(src, config)
    tags = _tags(plan, shift)
    heights = plan.heights
    out_crs = heights.datum.crs if heights is not None and heights.datum.crs else config.target_crs
    if plan.identity and not _needs_pixels(plan.info, plan.profile, heights):
        write_cog(plan.info.path, dst, plan.profile, crs=out_crs, tags=tags, cache_mb=config.cache_mb)
    else:
        with scratch_path(dst, suffix=".tif") as scratch:
            materialise(plan, scratch)
            with rasterio.open(scratch) as done:
                alpha = done.count if plan.profile.mask else None
            write_cog(
                scratch, dst, plan.profile, crs=out_crs, tags=tags, alpha_band=alpha, cache_mb=config.cache_mb
            )
    return _product(dst, plan, shift, config)


def _plan(src: Path, config: ReprojectConfig) -> tuple[WarpPlan, float]:
    """Open and check the source, choose profile, resampling, operation and heights; the pixel shift.

    Raises:
        GeoreferenceError: the input has no CRS or implausible georeferencing.
        UsageError: an 8-bit profile for other imagery, an unknown resampling or transformation.
    """
    info = open_raster(src, crs=config.src_crs)
    check_target_area(info, config.target_crs)
    prof = resolve_profile(config.profile or profile_for(config.kind))
    if prof.dtype == "uint8" and info.dtype != "uint8":
        raise UsageError(
            f"{src}: {info.dtype} imagery does not fit the 8-bit profile {prof.name}; "
            "choose a lossless profile (e.g. 'classes') or convert it to 8 bit first"
        )
    try:
        resampling = Resampling[config.resampling or prof.warp_resampling]
    except KeyError:
        raise UsageError(
            f"unknown resampling {config.resampling!r}; use a rasterio Resampling name"
        ) from None
    operation = choose_operation(info.crs, config.target_crs, config.transformation)
    shift = max_shift_px(operation, info)
    heights = (
        plan_heights(
            info.path,
            info.crs,
            target_crs=config.target_crs,
            declared=config.declared_datum,
            grids=config.grids,
        )
        if config.kind in HEIGHT_KINDS
        else None
    )
    identity = shift <= config.identity_tolerance_px
    return WarpPlan(info, config.target_crs, operation, resampling, prof, heights, identity), shift


def _needs_pixels(info: RasterInfo, prof: CogProfile, heights: HeightPlan | None) -> bool:
    """Whether pixel values must change even without a warp."""
    if heights is not None and heights.transformer is not None:
        return True
    if prof.dtype is not None and prof.dtype != info.dtype:
        return True
    if prof.mask and info.nodata is not None and not info.has_alpha:
        return True  # nodata in lossy imagery must become a mask
    return False


def _tags(plan: WarpPlan, shift: float) -> dict[str, str]:
    tags = {
        "DRONEGIS_TRANSFORMATION": plan.operation.label,
        "DRONEGIS_WARP": "identity (relabel, no resampling)" if plan.identity else "warped",
        "DRONEGIS_MAX_SHIFT_PX": f"{shift:.3g}",
        "DRONEGIS_COG_PROFILE": plan.profile.name,
    }
    return tags | (datum_tags(plan.heights.datum) if plan.heights is not None else {})


def _product(dst: Path, plan: WarpPlan, shift: float, config: ReprojectConfig) -> Product:
    with rasterio.open(dst) as out:
        bounds = tuple(out.bounds)
        gsd = float(abs(out.transform.a))
    root = config.workspace_root
    path = str(dst.resolve().relative_to(root.resolve())) if root else str(dst)
    heights, info = plan.heights, plan.info
    return Product(
        id=config.product_id or default_id(config.flight or dst.stem, config.kind.value),
        flight=config.flight,
        kind=config.kind,
        path=path,
        crs=config.target_crs,
        bounds=bounds,
        gsd_m=gsd,
        source_files=(str(info.path),),
        height_datum=heights.datum.datum if heights is not None else HeightDatum.NOT_APPLICABLE,
        datum=heights.datum if heights is not None else None,
        transformation=plan.operation.label,
        units=plan.profile.units,
        georef=DeliveredGeoref(
            cog_profile=plan.profile.name,
            source_crs=info.crs,
            warp="identity (relabel, no resampling)" if plan.identity else "warped",
            max_shift_px=shift if math.isfinite(shift) else None,
            resampling="none" if plan.identity else plan.resampling.name,
            operation_accuracy_m=plan.operation.accuracy,
        ),
    )
