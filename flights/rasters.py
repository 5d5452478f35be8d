"""Header checks for delivered rasters: GeoTIFF, or image + world file (+ optional .prj).

Only headers are read (no pixels). GDAL reads a world file beside a PNG/JPEG but not
its ``.prj``; :func:`read_prj` reads it (ESRI or OGC WKT, PROJ JSON, or an authority
code such as ``EPSG:32722`` or ``32722``) and is the one ``.prj`` reader of the project
(``pipeline.rasters`` calls it). A raster is refused (``RasterError``) when it has no
georeference, a world file with a zero, NaN or infinite pixel size, or dimensions no
drone product can have; the caller quarantines it. A file whose name is not UTF-8 (which GDAL
cannot be given as a str) is opened through a Python opener under its escaped name
(:func:`gdal_name`), so every name the file system holds is read.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path, PurePosixPath

import pyproj
import rasterio
from pyproj.exceptions import CRSError
from rasterio.errors import RasterioError

from core.errors import GeoreferenceError, RasterError
from core.names import printable
from flights.models import DeliveredFile, FileKind, Problem, Severity
from flights.raster_time import raster_time

logger = logging.getLogger(__name__)

MAX_PIXELS = 100_000 * 100_000
_ESCAPED = re.compile(rb"\\x([0-9a-f]{2})")
Opener = Callable[[str, str], object]


def gdal_name(path: Path) -> tuple[str, Opener | None]:
    """The name to give GDAL for ``path``, and the opener to give rasterio (None: not needed).

    A path that is not UTF-8 is named by its escaped text (``\\xNN``); the opener turns that
    name, and the sidecar names GDAL derives from it (``.aux.xml``, ``.tfw``), back into the
    file system's bytes.
    """
    text = os.fspath(path)
    shown = printable(text)
    return (text, None) if shown == text else (shown, _bytes_opener)


def _bytes_opener(name: str, mode: str = "rb") -> object:
    raw = _ESCAPED.sub(lambda m: bytes([int(m.group(1), 16)]), name.encode("utf-8"))
    return open(raw if os.path.lexists(raw) else name, mode)  # noqa: SIM115 - rasterio closes it
WORLD_FILE_SUFFIXES = {
    ".tif": (".tfw", ".tifw", ".wld"),
    ".tiff": (".tfw", ".tiffw", ".wld"),
    ".png": (".pgw", ".pngw", ".wld"),
    ".jpg": (".jgw", ".jpgw", ".wld"),
    ".jpeg": (".jgw", ".jpegw", ".wld"),
}


def world_file_for(path: Path) -> Path | None:
    """The world file beside an image (``x.pgw``, ``x.pngw`` or ``x.wld``), if any."""
    for suffix in WORLD_FILE_SUFFIXES.get(path.suffix.lower(), ()):
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def prj_for(path: Path) -> Path | None:
    """The ``.prj`` beside an image (``x.prj`` or ``x.png.prj``, any case), if any."""
    for candidate in (path.with_suffix(".prj"), path.with_suffix(".PRJ"), Path(f"{path}.prj")):
        if candidate.is_file():
            return candidate
    return None


def read_prj(path: Path) -> pyproj.CRS | None:
    """The CRS of the ``.prj`` beside ``path``, or None when there is no ``.prj``.

    The file may hold ESRI WKT (what ArcGIS and QGIS write), OGC WKT 1/2, PROJ JSON or
    an authority code (``EPSG:32722``; a bare ``32722`` is read as an EPSG code).

    Raises:
        GeoreferenceError: the ``.prj`` exists but is unreadable or holds no CRS.
    """
    prj = prj_for(path)
    if prj is None:
        return None
    try:
        text = prj.read_text(encoding="utf-8-sig", errors="strict").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise GeoreferenceError(f"{prj}: cannot read the .prj: {exc}") from exc
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        shown = text[:60] + ("…" if len(text) > 60 else "")
        raise GeoreferenceError(f"{prj}: cannot parse the CRS: {shown!r} ({exc})") from exc


def crs_text(crs: pyproj.CRS) -> str:
    """``EPSG:nnnn`` when the CRS has an EPSG code, else its WKT."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_wkt()


def read_world_file(path: Path, relpath: str) -> tuple[float, float, float, float, float, float]:
    """Parse the six lines of a world file (A, D, B, E, C, F).

    Raises:
        RasterError: when it does not hold six finite numbers or a pixel size is zero.
    """
    try:
        values = [float(line) for line in path.read_text(encoding="utf-8", errors="strict").split()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RasterError(f"world file {relpath} is not six numbers: {exc}") from exc
    if len(values) != 6:
        raise RasterError(f"world file {relpath} has {len(values)} values, expected 6")
    if not all(math.isfinite(v) for v in values):
        raise RasterError(f"world file {relpath} holds a NaN or infinite value: {values}")
    a, d, b, e, _c, _f = values
    if a * e - b * d == 0:
        raise RasterError(f"world file {relpath} has a zero pixel size (A={a}, E={e}, B={b}, D={d})")
    return a, d, b, e, values[4], values[5]


def read_raster(
    path: Path, relpath: str, *, sha256: str, size: int, kind: FileKind, zone: tzinfo = UTC
) -> DeliveredFile:
    """Check the header of a delivered orthophoto/DSM/DTM and return it as a ``DeliveredFile``.

    The capture time its metadata gives (TIFF DateTime, XMP, GDAL IMAGERY) is read too
    (:func:`flights.raster_time.raster_time`; ``zone`` for values without an offset).

    Raises:
        RasterError: no CRS/georeference, a bad world file or absurd dimensions.
    """
    world = world_file_for(path)
    if world is not None:
        read_world_file(world, str(PurePosixPath(relpath).with_name(world.name)))
    try:
        name, opener = gdal_name(path)
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(name, opener=opener) as ds:
            width, height, crs = ds.width, ds.height, ds.crs
            georeferenced = not ds.transform.is_identity or bool(ds.gcps[0])
            bounds = tuple(ds.bounds)
            when, source = raster_time(
                ds.tags(), ds.tags(ns="IMAGERY"), ds.tags(ns="xml:XMP").get("xml:XMP"), path, zone
            )
    except RasterioError as exc:
        raise RasterError(f"raster {relpath} cannot be opened: {exc}") from exc
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise RasterError(f"raster {relpath} announces absurd dimensions {width}x{height}")
    if not georeferenced:
        raise RasterError(f"raster {relpath} has no geotransform (no GeoTIFF tags, no world file)")
    if crs is None and world is None:
        raise RasterError(f"raster {relpath} has no CRS (no GeoTIFF CRS keys)")
    base = DeliveredFile(path=relpath, sha256=sha256, size=size, kind=kind, time_utc=when, time_source=source)
    if crs is None:
        found = _crs_from_prj(path, relpath, world, base)
    else:
        code = crs.to_epsg()
        found = base.model_copy(update={"crs": f"EPSG:{code}" if code else crs.to_wkt()})
    return found.model_copy(update={"bounds_wgs84": wgs84_bounds(found.crs, bounds)})


def wgs84_bounds(crs: str | None, bounds: tuple[float, ...]) -> tuple[float, float, float, float] | None:
    """``bounds`` (left, bottom, right, top in ``crs``) as west, south, east, north degrees, or None.

    The one answer to "where on earth is it" for rasters (ingest, the publication gates, layers):
    pyproj, densified edges. (GDAL's ``transform_bounds`` returned infinities for NAD83 / UTM 18N
    after some sequences of work in one long process, where pyproj's answer stayed right.)
    """
    if crs is None:
        return None
    try:
        to_wgs84 = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(crs), 4326, always_xy=True)
        left, bottom, right, top = bounds[:4]
        west, south, east, north = to_wgs84.transform_bounds(left, bottom, right, top, densify_pts=21)
    except (CRSError, pyproj.exceptions.ProjError, ValueError) as exc:
        logger.info("footprint in %s not computable: %s", crs[:40], exc)
        return None
    box = (float(west), float(south), float(east), float(north))
    return box if all(math.isfinite(v) for v in box) else None


def _crs_from_prj(path: Path, relpath: str, world: Path | None, base: DeliveredFile) -> DeliveredFile:
    """A raster georeferenced by a world file: its CRS from the ``.prj``, else a warning."""
    try:
        prj_crs = read_prj(path)
    except GeoreferenceError as exc:
        message = f"raster {relpath}: its .prj cannot be used ({exc}); give the CRS with --crs"
    else:
        if prj_crs is not None:
            return base.model_copy(update={"crs": crs_text(prj_crs)})
        message = (
            f"raster {relpath} has a world file ({world.name if world else ''}) but no .prj: "
            "its CRS must be given when it is georeferenced (--crs)"
        )
    problem = Problem(code="raster_no_crs", severity=Severity.WARNING, file=relpath, message=message)
    return base.model_copy(update={"problems": (problem,)})
