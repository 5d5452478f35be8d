"""Sub-stages ``frames``, ``mosaic`` and ``layers`` of :mod:`pipeline.process`."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flights.errors import DroneGisError, ThermalError
from flights.models import Capture
from pipeline.frames import (
    DemSampler,
    frame_grid,
    frame_record,
    is_thermal,
    locate_frame,
    read_image,
    render_frame,
    write_frame_cog,
    write_layers,
    write_thumbnail,
)
from pipeline.models import HeightDatum, Product, ProductKind

if TYPE_CHECKING:
    from pipeline.process import _Run

logger = logging.getLogger(__name__)
DEM_MARGIN_M = 1000.0


def _product_id(run: _Run, kind: str, relpath: str) -> str:
    return f"{run.flight.id}-{kind}-{Path(relpath).with_suffix('').as_posix().replace('/', '-')}"


def _dem_for(run: _Run, captures: list[Capture], transformer: Any) -> DemSampler | None:
    if run.dem is None or not captures:
        return None
    pts = [transformer.transform(c.position.lon, c.position.lat) for c in captures if c.position]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    bounds = (min(xs) - DEM_MARGIN_M, min(ys) - DEM_MARGIN_M, max(xs) + DEM_MARGIN_M, max(ys) + DEM_MARGIN_M)
    return DemSampler(run.dem, run.target_crs, bounds)


def _takeoff(dem: DemSampler | None, captures: list[Capture], transformer: Any) -> float | None:
    """DEM height under the first frame: the take-off point is not recorded, the first frame is near it."""
    first = min(captures, key=lambda c: (c.time_utc is None, c.time_utc or 0))
    if dem is None or first.position is None:
        return None
    e, n = transformer.transform(first.position.lon, first.position.lat)
    z = float(dem(np.array([e]), np.array([n]))[0])
    return z if math.isfinite(z) else None


def _rtk_height(run: _Run, capture: Capture, transformer: Any) -> float | None:
    """An RTK-fixed AbsoluteAltitude in DVR90 (the DEM's datum), when the grid is available."""
    pos = capture.position
    if not (capture.rtk.fixed and pos and pos.absolute_altitude_m is not None and run.grids):
        return None
    from pipeline.datum import dvr90_transformer, geoid_offsets

    vertical = dvr90_transformer(run.target_crs, run.grids)
    if vertical is None:
        return None
    e, n = transformer.transform(pos.lon, pos.lat)
    return float(pos.absolute_altitude_m + geoid_offsets(vertical, np.array([e]), np.array([n]))[0])


def thermal_distances(run: _Run) -> dict[str, float | None]:
    """With a DEM: each thermal frame's object distance from its height above the DEM.

    The height follows the frames' height rule (relative altitude plus the DEM difference
    between take-off and nadir, or RTK), the distance the pitch rule of
    :func:`~pipeline.thermal_raster.distance_from_capture` (slant distance; None for shallow
    views). Without a DEM (or a pose) the thermal stage uses the relative altitude.
    """
    from pipeline.georef.pose import GroundHeights, frame_pose
    from pipeline.process import frame_inputs, frame_operation
    from pipeline.thermal_raster import distance_from_capture

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
        ground = GroundHeights(
            takeoff, nadir if math.isfinite(nadir) else None, _rtk_height(run, capture, transformer)
        )
        try:
            pose = frame_pose(capture, run.target_crs, ground=ground, transformer=transformer)
        except DroneGisError as exc:
            logger.info("%s: distance from the relative altitude (%s)", capture.path, exc)
            continue
        moved = capture.position.model_copy(update={"relative_altitude_m": pose.height_above_ground})
        out[capture.path] = distance_from_capture(capture.model_copy(update={"position": moved}))
    return out


def _thermal_source(run: _Run, capture: Capture) -> Path:
    """The frame's °C raster written by the thermal stage (with the flight's parameters)."""
    dst = run.workspace.thermal_frame(run.flight.id, capture.path)
    if run.thermal is None or capture.path not in run.thermal.written or not dst.exists():
        raise ThermalError(f"{capture.path}: the thermal stage wrote no °C raster ({dst})")
    return dst


def thermal_frame_properties(run: _Run, capture: Capture) -> dict[str, Any]:
    """How the frame's °C values were made (pipeline.thermal_stage.thermal_properties)."""
    from pipeline.thermal_stage import thermal_properties

    if run.thermal is None or capture.path not in run.thermal.measurements:
        return {}
    raster = run.rel(run.workspace.thermal_frame(run.flight.id, capture.path))
    return thermal_properties([run.thermal.measurements[capture.path]], run.thermal.overrides, raster=raster)


def _frame_signature(run: _Run, capture: Capture, kind: ProductKind) -> str | None:
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


def frames_stage(run: _Run) -> None:
    """Footprint, COG and thumbnail of every usable frame."""
    from pipeline.process import frame_inputs, frame_operation

    captures = frame_inputs(run)
    transformer, label = frame_operation(run)
    dem = _dem_for(run, captures, transformer)
    takeoff = _takeoff(dem, captures, transformer) if captures else None
    for i, capture in enumerate(captures, start=1):
        thermal = is_thermal(capture)
        kind = ProductKind.THERMAL_FRAME if thermal else ProductKind.RGB_FRAME
        product_id = _product_id(run, "frame", capture.path)
        signature = _frame_signature(run, capture, kind)
        old = run.reusable(product_id, signature, "frames") if signature is not None else None
        if signature is None:
            logger.info("%s: no °C raster, not georeferenced", capture.path)
        elif old is not None:
            run.products[product_id] = old
        else:
            try:
                run.products[product_id] = _one_frame(
                    run, capture, kind, product_id, signature, transformer, label, dem, takeoff
                )
            except (DroneGisError, OSError) as exc:
                logger.error("%s: not georeferenced: %s", capture.path, exc)
                run.skipped.append({"file": capture.path, "reason": str(exc)})
        if run.progress is not None:
            run.progress(i, len(captures))


def _one_frame(
    run: _Run,
    capture: Capture,
    kind: ProductKind,
    product_id: str,
    signature: str,
    transformer: Any,
    label: str,
    dem: DemSampler | None,
    takeoff: float | None,
) -> Product:
    thermal = kind == ProductKind.THERMAL_FRAME
    camera, pose, fp = locate_frame(
        capture,
        run.target_crs,
        transformer=transformer,
        dem=dem,
        takeoff_z=takeoff,
        camera_absolute_z=_rtk_height(run, capture, transformer),
        max_range=run.max_range,
    )
    archived = run.workspace.archived_file(run.flight.id, capture.path)
    source = _thermal_source(run, capture) if thermal else archived
    grid = frame_grid(fp)
    on_dem = dem is not None and pose.height_rule != "relative-altitude-over-takeoff-plane"
    bands, valid = render_frame(read_image(source), camera, pose, grid, elevation=dem if on_dem else None)
    record = frame_record(capture, camera, pose, fp)._asdict()
    tags = {
        "DRONEGIS_HEIGHT_RULE": pose.height_rule,
        "DRONEGIS_YAW_SOURCE": pose.attitude.yaw_source,
        "DRONEGIS_CAMERA_MODEL": camera.source,
        "DRONEGIS_TRANSFORMATION": label,
    }
    dst = run.workspace.frame_cog(run.flight.id, capture.path)
    write_frame_cog(bands, valid, grid, dst, crs=run.target_crs, thermal=thermal, tags=tags)
    thumb = write_thumbnail(
        archived if not thermal else source, run.workspace.thumbnail(run.flight.id, capture.path)
    )
    transform, width, height = grid
    bounds = (transform.c, transform.f + height * transform.e, transform.c + width * transform.a, transform.f)
    record["thumbnail"] = run.rel(thumb)
    record["cog"] = run.rel(dst)
    record["time"] = capture.time_utc.isoformat() if capture.time_utc else None
    return Product(
        id=product_id,
        flight=run.flight.id,
        kind=kind,
        path=run.rel(dst),
        crs=run.target_crs,
        bounds=bounds,
        gsd_m=record["gsd_m"],
        time_start=capture.time_utc,
        time_end=capture.time_utc,
        source_files=(capture.path,),
        transformation=label,
        units="°C" if thermal else None,
        height_datum=HeightDatum.NOT_APPLICABLE,
        properties={
            "signature": signature,
            "record": record,
            "ground": "dem" if on_dem else "plane",
            "footprint_clipped": fp.clipped,
            **(thermal_frame_properties(run, capture) if thermal else {}),
        },
    )


def mosaic_stage(run: _Run) -> None:
    """The °C mosaic of the georeferenced thermal frames (nearest-to-nadir, pipeline.thermal_raster)."""
    frames = _mosaic_frames(run)
    if not frames:
        return
    from pipeline.process import bounds_of

    product_id = f"{run.flight.id}-thermal-mosaic"
    signature = run.signature(*[p.properties.get("signature") for p in frames])
    old = run.reusable(product_id, signature, "mosaic")
    if old is not None:
        run.products[product_id] = old
        return
    from pipeline.thermal_raster import thermal_mosaic

    dst = thermal_mosaic(
        [run.workspace.root / p.path for p in frames],
        run.workspace.thermal_mosaic(run.flight.id),
        target_crs=run.target_crs,
    )
    times = [p.time_start for p in frames if p.time_start is not None]
    run.products[product_id] = Product(
        id=product_id,
        flight=run.flight.id,
        kind=ProductKind.THERMAL_MOSAIC,
        path=run.rel(dst),
        crs=run.target_crs,
        bounds=bounds_of(frames) or (0.0, 0.0, 0.0, 0.0),
        gsd_m=min((p.gsd_m for p in frames if p.gsd_m), default=None),
        time_start=min(times, default=None),
        time_end=max(times, default=None),
        source_files=tuple(f for p in frames for f in p.source_files),
        units="°C",
        transformation=frames[0].transformation,
        properties={"signature": signature, "blend": "nearest-to-nadir", **_mosaic_props(run, frames)},
    )


def _mosaic_frames(run: _Run) -> list[Product]:
    """One georeferenced °C product per thermal frame: the GCP-warped one when there is one."""
    best: dict[tuple[str, ...], Product] = {}
    for p in sorted(run.products.values(), key=lambda p: p.id):
        if p.kind != ProductKind.THERMAL_FRAME:
            continue
        if p.source_files not in best or p.properties.get("georeference") == "gcp":
            best[p.source_files] = p
    return sorted(best.values(), key=lambda p: p.id)


def _mosaic_props(run: _Run, frames: list[Product]) -> dict[str, Any]:
    """The measurement parameters of the mosaic's frames (each value, or its range)."""
    from pipeline.thermal_stage import load_overrides, thermal_properties

    thermal = run.thermal
    overrides = thermal.overrides if thermal else load_overrides(run.workspace, run.flight.id)
    used: list[dict[str, Any]] = []
    for product in frames:
        info = product.properties.get("thermal")
        if isinstance(info, dict) and isinstance(info.get("measurement"), dict):
            used.append(info["measurement"])
    return thermal_properties(used, overrides) if used else {}


def layers_stage(run: _Run) -> None:
    """Footprints and photo-points GeoPackages from the frame products."""
    from pipeline.process import bounds_of

    frames = sorted(
        (
            p
            for p in run.products.values()
            if p.kind in (ProductKind.RGB_FRAME, ProductKind.THERMAL_FRAME) and "record" in p.properties
        ),
        key=lambda p: p.id,
    )
    if not frames:
        return
    records = [dict(p.properties["record"]) for p in frames]  # type: ignore[call-overload]
    footprints = run.workspace.footprints_gpkg(run.flight.id)
    points = run.workspace.photo_points_gpkg(run.flight.id)
    write_layers(records, footprints, points, run.target_crs)
    times = [p.time_start for p in frames if p.time_start is not None]
    common = {
        "flight": run.flight.id,
        "crs": run.target_crs,
        "time_start": min(times, default=None),
        "time_end": max(times, default=None),
        "source_files": tuple(f for p in frames for f in p.source_files),
        "transformation": frames[0].transformation,
    }
    extras = {"count": len(records), "skipped": list(run.skipped)}
    box = bounds_of(frames) or (0.0, 0.0, 0.0, 0.0)
    run.products[f"{run.flight.id}-footprints"] = Product(
        id=f"{run.flight.id}-footprints",
        kind=ProductKind.FOOTPRINTS,
        path=run.rel(footprints),
        bounds=box,
        properties={**extras, "layer": "footprints"},
        **common,
    )
    xs = [r["camera_east"] for r in records]
    ys = [r["camera_north"] for r in records]
    run.products[f"{run.flight.id}-photo-points"] = Product(
        id=f"{run.flight.id}-photo-points",
        kind=ProductKind.PHOTO_POINTS,
        path=run.rel(points),
        bounds=(min(xs), min(ys), max(xs), max(ys)),
        properties={**extras, "layer": "photo_points"},
        **common,
    )
