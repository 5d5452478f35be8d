"""Header checks for delivered rasters: GeoTIFF, or image + world file (+ optional .prj).

Only headers are read (no pixels). A raster is refused (``RasterError``) when it has no
georeference, a world file with a zero, NaN or infinite pixel size, or dimensions no
drone product can have; the caller quarantines it.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path, PurePosixPath

from flights.errors import MetadataError
from flights.models import DeliveredFile, FileKind, Problem, Severity

logger = logging.getLogger(__name__)

MAX_PIXELS = 100_000 * 100_000
WORLD_FILE_SUFFIXES = {
    ".tif": (".tfw", ".tifw", ".wld"),
    ".tiff": (".tfw", ".tiffw", ".wld"),
    ".png": (".pgw", ".pngw", ".wld"),
    ".jpg": (".jgw", ".jpgw", ".wld"),
    ".jpeg": (".jgw", ".jpegw", ".wld"),
}


class RasterError(MetadataError):
    """A delivered raster has no usable georeference or impossible dimensions."""


def world_file_for(path: Path) -> Path | None:
    """The world file beside an image (``x.pgw``, ``x.pngw`` or ``x.wld``), if any."""
    for suffix in WORLD_FILE_SUFFIXES.get(path.suffix.lower(), ()):
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


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


def read_raster(path: Path, relpath: str, *, sha256: str, size: int, kind: FileKind) -> DeliveredFile:
    """Check the header of a delivered orthophoto/DSM/DTM and return it as a ``DeliveredFile``.

    Raises:
        RasterError: no CRS/georeference, a bad world file or absurd dimensions.
    """
    import rasterio
    from rasterio.errors import RasterioError

    world = world_file_for(path)
    if world is not None:
        read_world_file(world, str(PurePosixPath(relpath).with_name(world.name)))
    try:
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path) as ds:
            width, height, crs = ds.width, ds.height, ds.crs
            georeferenced = not ds.transform.is_identity or bool(ds.gcps[0])
    except RasterioError as exc:
        raise RasterError(f"raster {relpath} cannot be opened: {exc}") from exc
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise RasterError(f"raster {relpath} announces absurd dimensions {width}x{height}")
    if not georeferenced:
        raise RasterError(f"raster {relpath} has no geotransform (no GeoTIFF tags, no world file)")
    if crs is None and world is None:
        raise RasterError(f"raster {relpath} has no CRS (no GeoTIFF CRS keys)")
    if crs is None:
        message = (
            f"raster {relpath} has a world file ({world.name if world else ''}) but no .prj: "
            "its CRS must be given when it is georeferenced (--crs)"
        )
        problem = Problem(code="raster_no_crs", severity=Severity.WARNING, file=relpath, message=message)
        return DeliveredFile(path=relpath, sha256=sha256, size=size, kind=kind, problems=(problem,))
    code = crs.to_epsg()
    text = f"EPSG:{code}" if code else crs.to_wkt()
    return DeliveredFile(path=relpath, sha256=sha256, size=size, kind=kind, crs=text)
