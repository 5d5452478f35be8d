"""Coordinate reference systems of the feature services: names, axis order, reprojection.

The services offer CRS84 (longitude/latitude, the GeoJSON and OGC API default) and
EPSG:25832 (ETRS89 / UTM 32N, easting/northing, the municipality's CRS and the storage CRS of
published vector layers). Clients name them in several spellings: OGC API uses URIs
(``http://www.opengis.net/def/crs/EPSG/0/25832``), WFS 2.0 URNs
(``urn:ogc:def:crs:EPSG::25832``), people ``EPSG:25832``. :func:`canonical` maps every
spelling to the OGC URI. The URN and URI forms of EPSG:4326 mean latitude first (EPSG's axis
order, honoured in a WFS BBOX); ``EPSG:4326`` written short is read as longitude/latitude, the
legacy convention of GIS clients, i.e. CRS84.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
WGS84_LATLON = EPSG_URI.format(code=4326)
_EPSG = re.compile(
    r"^(?:\[?EPSG:(?P<a>\d+)\]?"
    r"|urn:ogc:def:crs:EPSG:[\d.]*:(?P<b>\d+)"
    r"|https?://www\.opengis\.net/def/crs/EPSG/[\d.]+/(?P<c>\d+)"
    r"|https?://www\.opengis\.net/gml/srs/epsg\.xml#(?P<d>\d+))$",
    re.IGNORECASE,
)
_CRS84 = re.compile(
    r"^(?:\[?OGC:CRS84\]?|CRS84|CRS:84|urn:ogc:def:crs:OGC:[\d.]*:CRS84"
    r"|https?://www\.opengis\.net/def/crs/OGC/[\d.]+/CRS84)$",
    re.IGNORECASE,
)


def epsg_uri(crs: str) -> str:
    """The OGC URI of an ``EPSG:n`` code (the storage CRS of a layer)."""
    uri = canonical(crs)
    if uri is None:
        raise ValueError(f"CRS {crs!r} is not an EPSG code or CRS84")
    return uri


def canonical(name: str) -> str | None:
    """The OGC URI of any spelling of an EPSG code or CRS84; ``None`` when it is neither."""
    text = name.strip()
    if _CRS84.match(text):
        return CRS84
    match = _EPSG.match(text)
    if match is None:
        return None
    code = next(group for group in match.groups() if group)
    return CRS84 if code == "4326" and text.upper().startswith("EPSG:") else EPSG_URI.format(code=int(code))


def short(uri: str) -> str:
    """``EPSG:25832`` or ``OGC:CRS84`` for a canonical URI (what pyproj and people read)."""
    if uri == CRS84:
        return "OGC:CRS84"
    return "EPSG:" + uri.rsplit("/", 1)[-1]


def urn(uri: str) -> str:
    """The WFS 2.0 URN of a canonical URI: ``urn:ogc:def:crs:EPSG::25832``."""
    if uri == CRS84:
        return "urn:ogc:def:crs:OGC:1.3:CRS84"
    return "urn:ogc:def:crs:EPSG::" + uri.rsplit("/", 1)[-1]


def lat_first(uri: str) -> bool:
    """True when coordinates in ``uri`` are given latitude first (EPSG:4326 and kin)."""
    if uri == CRS84:
        return False
    return bool(CRS.from_user_input(short(uri)).axis_info[0].direction.lower() == "north")


@lru_cache(maxsize=32)
def transformer(source: str, target: str) -> Transformer:
    """x/y-order transformer between two CRS (any spelling pyproj reads), cached."""
    return Transformer.from_crs(source, target, always_xy=True)


def reproject(geometries: np.ndarray, source: str, target: str) -> np.ndarray:
    """Shapely geometries from ``source`` to ``target`` (both ``EPSG:n``/``OGC:CRS84``), x/y order."""
    if source == target or len(geometries) == 0:
        return geometries
    move = transformer(source, target)

    def points(xyz: np.ndarray) -> np.ndarray:
        x, y = move.transform(xyz[:, 0], xyz[:, 1])
        return np.column_stack((x, y, *xyz[:, 2:].T))  # heights (z) pass through

    return np.asarray(shapely.transform(geometries, points, include_z=None))


def box_in(bounds: tuple[float, float, float, float], source: str, target: str) -> shapely.Geometry:
    """The rectangle ``bounds`` (x/y order in ``source``) as a densified polygon in ``target``.

    A degenerate rectangle (one point, or points on one line: a layer of a single photo point) is
    its two corners, as a multipoint, in ``target``.
    """
    if bounds[0] == bounds[2] or bounds[1] == bounds[3]:
        corners = shapely.multipoints([(bounds[0], bounds[1]), (bounds[2], bounds[3])])
        return corners if source == target else reproject(np.array([corners]), source, target)[0]
    rectangle = shapely.box(*bounds)
    if source == target:
        return rectangle
    step = max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / 64 or 1.0
    return reproject(np.array([shapely.segmentize(rectangle, step)]), source, target)[0]


def reprojected_bounds(
    bounds: tuple[float, float, float, float], source: str, target: str
) -> tuple[float, float, float, float]:
    """The bounding box of ``bounds`` reprojected from ``source`` to ``target`` (x/y order)."""
    west, south, east, north = (float(v) for v in box_in(bounds, source, target).bounds)
    return west, south, east, north
