"""Areas for the ingest checks: an AOI or the municipality, from GeoJSON or GeoPackage in any CRS.

The area is returned as one shapely geometry in EPSG:4326 (x = longitude, y = latitude),
the frame of the EXIF positions it is tested against.

The municipality defaults to Skanderborg Kommune (KOMKODE 0746), shipped with the package
as :data:`DEFAULT_MUNICIPALITY` (DAGI kommuner, Geodatastyrelsen & Danske Kommuner – FOT
2014-02-13, 1:500 000, Danish free geodata terms; see ``flights/data/README.md``). Settings
override it (``DRONEGIS_MUNICIPALITY``, ``DRONEGIS_MUNICIPALITY_CODE``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from core.errors import AreaError
from flights.municipality import DEFAULT_MUNICIPALITY, SKANDERBORG_KOMKODE

logger = logging.getLogger(__name__)

__all__ = ["CODE_FIELDS", "DEFAULT_MUNICIPALITY", "SKANDERBORG_KOMKODE", "load_area", "load_municipality"]

CODE_FIELDS = ("KOMKODE", "komkode", "kommunekode", "KOMMUNEKODE", "code")


def load_area(path: Path, *, code: str | None = None, layer: str | None = None) -> BaseGeometry:
    """Read every polygon of ``path`` (or those whose code field equals ``code``) as one EPSG:4326 geometry.

    Args:
        path: GeoJSON, GeoPackage or any vector format GDAL reads, in any CRS
            (a file without CRS is taken as EPSG:4326, as GeoJSON prescribes).
        code: keep only features whose ``KOMKODE`` (or ``code``) field equals this,
            e.g. ``"0746"`` for Skanderborg.
        layer: layer name for multi-layer files (GeoPackage).

    Raises:
        AreaError: unreadable file, unknown code, or no polygon.
    """
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError and friends
        raise AreaError(f"area file {path} cannot be read: {exc}") from exc
    if code is not None:
        field = next((f for f in CODE_FIELDS if f in frame.columns), None)
        if field is None:
            raise AreaError(
                f"area file {path} has no code field ({', '.join(CODE_FIELDS)}) to select {code!r}"
            )
        frame = frame[frame[field].astype(str).str.zfill(len(code)) == code]
        if frame.empty:
            raise AreaError(f"area file {path} has no feature with {field} = {code!r}")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame.to_crs("EPSG:4326")
    polygons = [g for g in frame.geometry if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise AreaError(f"area file {path} holds no polygon")
    area = shapely.force_2d(shapely.union_all(polygons))
    shapely.prepare(area)
    logger.debug("area %s: bounds %s", path, area.bounds)
    return area


def load_municipality(path: Path | None = None, code: str = SKANDERBORG_KOMKODE) -> BaseGeometry:
    """The municipality polygon; files with several municipalities are filtered by ``code``.

    ``path`` None: the packaged Skanderborg boundary (:data:`DEFAULT_MUNICIPALITY`).
    """
    import pyogrio

    path = DEFAULT_MUNICIPALITY if path is None else Path(path)
    try:
        count = pyogrio.read_info(path)["features"]
    except Exception as exc:
        raise AreaError(f"municipality file {path} cannot be read: {exc}") from exc
    return load_area(path, code=code if count != 1 else None)
