"""What QA reads from the workspace: the flight, its products, footprints, areas, thermal values."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Transformer
from shapely import ops
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry

from core.errors import DroneGisError, FlightFileError, QAError
from core.workspace import Workspace
from flights.checks import valid_position
from flights.ingest import load_flight as read_flight
from flights.models import FileKind, Flight
from pipeline.models import Product, ProductKind
from pipeline.thermal.convert import convert_frame

logger = logging.getLogger(__name__)

RASTER_KINDS = {
    ProductKind.ORTHOPHOTO,
    ProductKind.DSM,
    ProductKind.DTM,
    ProductKind.THERMAL_FRAME,
    ProductKind.THERMAL_MOSAIC,
    ProductKind.RGB_FRAME,
}
THERMAL_KINDS = {ProductKind.THERMAL_FRAME, ProductKind.THERMAL_MOSAIC}
FRAME_KINDS = {ProductKind.RGB_FRAME, ProductKind.THERMAL_FRAME}
MAX_THERMAL_PIXELS = 1_000_000
MAX_THERMAL_FRAMES = 20


def load_flight(workspace: Workspace, flight_id: str) -> Flight:
    """The Flight written by ingest.

    Raises:
        QAError: when the flight was not ingested into this workspace.
    """
    try:
        return read_flight(workspace.flight_json(flight_id))
    except FlightFileError as exc:
        raise QAError(f"flight {flight_id!r}: {exc}") from exc


def json_items(path: Path, key: str) -> list[object]:
    """The items of a JSON list file, or of the list under ``key`` of a JSON object file.

    Raises:
        OSError: ``path`` cannot be read.
        ValueError: ``path`` is not JSON.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get(key, []) if isinstance(data, dict) else data)


def to_crs(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject a shapely geometry (x/y order on both sides)."""
    transformer = Transformer.from_crs(src, dst, always_xy=True)
    return ops.transform(transformer.transform, geom)


def footprints(workspace: Workspace, products: list[Product]) -> tuple[dict[str, BaseGeometry], str | None]:
    """Frame footprints (name -> polygon) and their CRS.

    From a FOOTPRINTS product (GeoPackage/GeoJSON) when there is one, otherwise from the
    bounds of the single-frame products.
    """
    for product in products:
        if product.kind != ProductKind.FOOTPRINTS:
            continue
        import geopandas as gpd

        frame = gpd.read_file(workspace.root / product.path)
        column = next((c for c in ("path", "name", "file", "image", "frame") if c in frame.columns), None)
        names = [str(v) for v in frame[column]] if column else [str(i) for i in frame.index]
        crs = frame.crs.to_string() if frame.crs is not None else product.crs
        return {n: g for n, g in zip(names, frame.geometry, strict=True) if g is not None}, crs
    frames = [p for p in products if p.kind in FRAME_KINDS]
    if frames:
        return {p.id: box(*p.bounds) for p in frames}, frames[0].crs
    return {}, None


def positions(flight: Flight) -> dict[str, BaseGeometry]:
    """Camera positions (EPSG:4326 points) of the frames with a valid position, by path."""
    return {
        c.path: Point(c.position.lon, c.position.lat)
        for c in flight.captures
        if c.position is not None and valid_position(c)
    }


def product_footprints(products: list[Product]) -> dict[str, BaseGeometry]:
    """Footprints (EPSG:4326) of the orthophotos, elevation models and mosaics, from their bounds."""
    kinds = RASTER_KINDS - FRAME_KINDS
    return {
        p.id: to_crs(box(*p.bounds).segmentize(max(p.bounds[2] - p.bounds[0], 1.0) / 8), p.crs, "EPSG:4326")
        for p in products
        if p.kind in kinds
    }


def aoi_geometry(flight: Flight, crs: str) -> BaseGeometry | None:
    """The flight's AOI (GeoJSON, EPSG:4326) in ``crs``."""
    if flight.aoi is None:
        return None
    return to_crs(shape(flight.aoi), "EPSG:4326", crs)


def thermal_values(workspace: Workspace, products: list[Product]) -> dict[str, np.ndarray]:
    """Band 1 of every thermal mosaic and of the first frames, as float (nodata -> NaN), ≤ 1 MP each."""
    values: dict[str, np.ndarray] = {}
    mosaics = [p for p in products if p.kind == ProductKind.THERMAL_MOSAIC]
    frames = [p for p in products if p.kind == ProductKind.THERMAL_FRAME][:MAX_THERMAL_FRAMES]
    for product in mosaics + frames:
        with rasterio.open(workspace.root / product.path) as src:
            step = max(1, int(np.ceil(np.sqrt(src.width * src.height / MAX_THERMAL_PIXELS))))
            shape_ = (max(1, src.height // step), max(1, src.width // step))
            band = src.read(1, out_shape=shape_, masked=True).astype(np.float64)
        values[product.id] = band.filled(np.nan)
    return values


def flight_centre(flight: Flight) -> tuple[float | None, float | None]:
    """Mean latitude and longitude of the captures with a position."""
    pos = [c.position for c in flight.captures if c.position is not None]
    if not pos:
        return None, None
    return float(np.mean([p.lat for p in pos])), float(np.mean([p.lon for p in pos]))


def thermal_frame_values(
    workspace: Workspace, flight: Flight, limit: int = MAX_THERMAL_FRAMES
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """°C arrays of (up to ``limit``) archived thermal frames, and the frames that failed to decode.

    Used before processing, when no thermal product exists yet.
    """
    values: dict[str, np.ndarray] = {}
    failed: dict[str, str] = {}
    for capture in flight.frames(FileKind.THERMAL_FRAME)[:limit]:
        path = workspace.archived_file(flight.id, capture.path)
        if not capture.usable or not path.exists():
            continue
        height = capture.position.relative_altitude_m if capture.position else None
        try:
            values[capture.path] = convert_frame(path, frame_distance_m=height).celsius
        except DroneGisError as exc:
            failed[capture.path] = str(exc)
    return values, failed
