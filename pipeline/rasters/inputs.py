"""Open any georeferenced raster input and check that its georeferencing is plausible.

Inputs: GeoTIFF in any CRS; JPEG/PNG/TIFF with a world file (``.jgw``, ``.pgw``,
``.tfw``, ``.wld``; GDAL reads them) plus an optional ``.prj`` (ESRI or OGC WKT) or an
explicit CRS; ODM's ``odm_orthophoto.tif`` and ``odm_dem/{dsm,dtm}.tif``; Pix4D and
DJI Terra mosaics.

Implausible georeferencing fails with :class:`GeoreferenceError` naming the file and
the value: no CRS, no geotransform, zero or NaN pixel size, degree-sized coordinates in
a projected CRS (or metres in a geographic one), swapped axes, and positions far
outside the area the CRS is defined for. A CRS given by the user replaces the file's
and skips the CRS plausibility checks (it is the user's word); the pixel size is
always checked.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import NamedTuple

import pyproj
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine

import flights.rasters
from core.errors import GeoreferenceError
from pipeline.models import ProductKind
from pipeline.rasters.area import crs_name, crs_string, near_area, outside_target_area, to_lonlat

log = logging.getLogger(__name__)


class RasterInfo(NamedTuple):
    """What a raster input is and where it lies."""

    path: Path
    crs: str
    """The CRS as an authority string (``EPSG:25832``) or WKT."""
    crs_from_user: bool
    transform: Affine
    width: int
    height: int
    band_count: int
    dtype: str
    nodata: float | None
    has_alpha: bool
    kind: ProductKind | None
    bounds: tuple[float, float, float, float]

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size (x, y) in CRS units, positive."""
        return abs(self.transform.a), abs(self.transform.e)


def read_prj(path: Path) -> str | None:
    """The CRS of the ``.prj`` beside ``path`` (ESRI/OGC WKT or an EPSG code), or None if there is none.

    Raises:
        GeoreferenceError: the ``.prj`` exists but cannot be parsed.
    """
    found = flights.rasters.read_prj(path)  # the one .prj reader (also EPSG code text)
    return crs_string(found) if found is not None else None


def detect_kind(path: Path, count: int, dtype: str, has_alpha: bool) -> ProductKind | None:
    """Guess orthophoto/DSM/DTM from band layout and name (ODM: odm_dem/dsm.tif, dtm.tif)."""
    name = path.name.lower()
    if count in (3, 4) and dtype in ("uint8", "uint16"):
        return ProductKind.ORTHOPHOTO
    if count == 1 and dtype.startswith("float"):
        if "dtm" in name or "terrain" in name:
            return ProductKind.DTM
        return ProductKind.DSM
    return None


def open_raster(path: Path, *, crs: str | None = None) -> RasterInfo:
    """Describe the raster at ``path`` after checking its georeferencing.

    Args:
        path: a GeoTIFF, or an image with a world file.
        crs: the user's CRS (e.g. ``EPSG:32722``); replaces the file's and its ``.prj``.

    Raises:
        GeoreferenceError: the file cannot be read or its georeferencing is implausible.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = rasterio.open(path)
        with src:
            file_crs, transform = src.crs, src.transform
            width, height, count = src.width, src.height, src.count
            dtype, nodata = src.dtypes[0], src.nodata
            has_alpha = any(ci.name == "alpha" for ci in src.colorinterp)
            bounds = tuple(src.bounds)
            georeferenced = src.transform != Affine.identity()
    except rasterio.errors.RasterioError as exc:
        raise GeoreferenceError(f"{path}: cannot open as a raster: {exc}") from exc
    if not georeferenced:
        world = flights.rasters.world_file_for(path)
        if world is not None:
            raise GeoreferenceError(
                f"{path}: world file {world.name} was rejected (zero pixel size or unreadable numbers)"
            )
        raise GeoreferenceError(f"{path}: no geotransform (neither GeoTIFF tags nor a world file)")
    check_pixel_size(path, transform)
    if crs is not None:
        resolved, from_user = crs_string(crs), True
    else:
        found = crs_string(file_crs) if file_crs else read_prj(path)
        if found is None:
            raise GeoreferenceError(f"{path}: no CRS (no GeoTIFF CRS and no .prj); give one with --crs")
        resolved, from_user = found, False
        check_plausible(path, resolved, bounds)
    kind = detect_kind(path, count, dtype, has_alpha)
    return RasterInfo(
        path,
        resolved,
        from_user,
        transform,
        width,
        height,
        count,
        dtype,
        nodata,
        has_alpha,
        kind,
        bounds,
    )


def check_pixel_size(path: Path, transform: Affine) -> None:
    """Reject zero, NaN or infinite pixel sizes.

    Raises:
        GeoreferenceError: naming the pixel size.
    """
    values = (transform.a, transform.b, transform.d, transform.e, transform.c, transform.f)
    if not all(math.isfinite(v) for v in values):
        raise GeoreferenceError(f"{path}: geotransform has NaN/inf values {values}")
    if abs(transform.determinant) < 1e-24:
        raise GeoreferenceError(
            f"{path}: pixel size is zero (x {transform.a}, y {transform.e}); "
            "the world file or tags are broken"
        )


def check_plausible(path: Path, crs: str, bounds: tuple[float, float, float, float]) -> None:
    """Check that ``bounds`` make sense in ``crs`` (units, axis order, area of use).

    Raises:
        GeoreferenceError: degree-sized bounds in a projected CRS, metre-sized bounds in
            a geographic CRS, swapped axes, or far outside the CRS's area of use.
    """
    parsed = pyproj.CRS.from_user_input(crs)
    left, bottom, right, top = bounds
    cx, cy = (left + right) / 2, (bottom + top) / 2
    if parsed.is_geographic:
        _check_geographic(path, crs, cx, cy)
        lon, lat = cx, cy
    else:
        if max(abs(left), abs(right), abs(bottom), abs(top)) <= 360 and (right - left) < 1:
            raise GeoreferenceError(
                f"{path}: bounds {bounds} look like degrees but {crs_name(parsed)} is projected "
                "(in metres); give the right CRS with --crs"
            )
        lon, lat = to_lonlat(parsed, cx, cy)
    area = parsed.area_of_use
    if area is None or near_area(area, lon, lat):
        return
    swapped = to_lonlat(parsed, cy, cx) if not parsed.is_geographic else (cy, cx)
    if near_area(area, *swapped):
        raise GeoreferenceError(
            f"{path}: centre ({cx:.6g}, {cy:.6g}) is outside {crs_name(parsed)} but fits with x and y "
            "swapped: the axes are in the wrong order (lat/lon or northing/easting)"
        )
    raise GeoreferenceError(
        f"{path}: centre ({cx:.6g}, {cy:.6g}) = lon {lon:.4g}, lat {lat:.4g} lies far outside the area of "
        f"use of {crs_name(parsed)} ({area.name}); wrong CRS? give the right one with --crs"
    )


def check_target_area(info: RasterInfo, target_crs: str) -> None:
    """Check that the raster's whole footprint lies within (or near) the area of use of ``target_crs``.

    Raises:
        GeoreferenceError: a part of the footprint lies far outside the target CRS's area.
    """
    source = pyproj.CRS.from_user_input(info.crs)
    left, bottom, right, top = info.bounds
    xs = [left + (right - left) * i / 8 for i in range(9)]
    ys = [bottom + (top - bottom) * i / 8 for i in range(9)]
    edge = (
        [(x, bottom) for x in xs]
        + [(x, top) for x in xs]
        + [(left, y) for y in ys]
        + [(right, y) for y in ys]
    )
    points = edge if source.is_geographic else [to_lonlat(source, x, y) for x, y in edge]
    problem = outside_target_area(points, target_crs)
    if problem is not None:
        raise GeoreferenceError(f"{info.path}: {problem}")


def _check_geographic(path: Path, crs: str, cx: float, cy: float) -> None:
    if abs(cy) > 90 and abs(cx) <= 90 and abs(cy) <= 180:
        raise GeoreferenceError(
            f"{path}: latitude {cy:.6g} is beyond ±90 but longitude {cx:.6g} would be a valid latitude: "
            "lat/lon are swapped"
        )
    if abs(cx) > 360 or abs(cy) > 90:
        raise GeoreferenceError(
            f"{path}: centre ({cx:.6g}, {cy:.6g}) looks like metres but {crs} is geographic (degrees); "
            "give the right CRS with --crs"
        )
