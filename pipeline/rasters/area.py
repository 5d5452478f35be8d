"""Whether positions can be mapped in a CRS: its area of use (pyproj), widened for Danish practice.

:func:`outside_target_area` refuses positions far outside the target CRS's area of use (a transverse
Mercator grid is distorted beyond use there) and names a UTM CRS for the place; the messages carry
:data:`OUTSIDE_AREA` so a run can tell these refusals apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyproj
from pyproj._crs import AreaOfUse
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyproj.transformer import Transformer
from rasterio.crs import CRS

from core.errors import UsageError

#: How far outside the CRS's area of use (degrees) a raster centre may lie.
AREA_MARGIN_DEG = 5.0
#: Marks the refusals of :func:`outside_target_area` in messages.
OUTSIDE_AREA = "far outside the area of use of the target"


def crs_string(crs: CRS | pyproj.CRS | str) -> str:
    """``EPSG:nnnn`` when the CRS has an EPSG code, else its WKT.

    Raises:
        UsageError: the CRS cannot be parsed.
    """
    try:
        parsed = pyproj.CRS.from_user_input(crs.to_wkt() if isinstance(crs, CRS) else crs)
    except pyproj.exceptions.CRSError as exc:
        raise UsageError(f"unknown CRS {crs!r}: {exc}") from exc
    code = parsed.to_epsg()
    return f"EPSG:{code}" if code else parsed.to_wkt()


def outside_target_area(lonlat: Sequence[tuple[float, float]], target_crs: str) -> str | None:
    """Why positions (longitude, latitude) cannot be mapped in ``target_crs``, or None when they can.

    Every position must lie within the CRS's area of use (pyproj ``area_of_use``) widened by
    :data:`AREA_MARGIN_DEG` (Danish practice maps Bornholm, 15° E, in EPSG:25832 although its
    area of use ends at 12° E). Far outside, a transverse Mercator grid is distorted beyond use:
    a flight at Duluth, USA (92° W) lands at E −4.7e6, N 11.1e6 in EPSG:25832.

    Raises:
        UsageError: ``target_crs`` cannot be parsed.
    """
    target = pyproj.CRS.from_user_input(crs_string(target_crs))
    area = target.area_of_use
    far = [(lon, lat) for lon, lat in lonlat if area is not None and not near_area(area, lon, lat)]
    if area is None or not far:
        return None
    lon, lat = far[0]
    code = target.to_epsg()
    return (
        f"ligger uden for anvendelsesområdet for {f'EPSG:{code}' if code else target.name} / lies at lon "
        f"{lon:.4g}, lat {lat:.4g}, {OUTSIDE_AREA} {crs_name(target)} (lon "
        f"{area.west:g}…{area.east:g}, lat {area.south:g}…{area.north:g}, ±{AREA_MARGIN_DEG:g}°): refused; "
        f"choose a target CRS for that place{_utm_hint(lon, lat)}"
    )


def _utm_hint(lon: float, lat: float) -> str:
    """`` (e.g. EPSG:32615, WGS 84 / UTM zone 15N)``: the UTM CRS of a position, for messages."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return ""
    found = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat))
    return f" (e.g. {found[0].auth_name}:{found[0].code}, {found[0].name})" if found else ""


def crs_name(crs: pyproj.CRS) -> str:
    """``name (EPSG:nnnn)`` for messages."""
    code = crs.to_epsg()
    return f"{crs.name} (EPSG:{code})" if code else crs.name


def to_lonlat(crs: pyproj.CRS, x: float, y: float) -> tuple[float, float]:
    """A position in ``crs`` as longitude and latitude on the CRS's own datum."""
    to_geo = Transformer.from_crs(crs, crs.geodetic_crs or "EPSG:4326", always_xy=True)
    lon, lat = to_geo.transform(x, y, errcheck=False)
    return float(lon), float(lat)


def near_area(area: AreaOfUse, lon: float, lat: float) -> bool:
    """Whether a position lies within a CRS's area of use widened by :data:`AREA_MARGIN_DEG`."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return False
    west, east = area.west, area.east
    if east < west:  # crosses the antimeridian
        east += 360
        lon = lon + 360 if lon < west else lon
    m = AREA_MARGIN_DEG
    return west - m <= lon <= east + m and area.south - m <= lat <= area.north + m
