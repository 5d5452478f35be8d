"""Coordinate search: what a person types, read as EPSG:25832 east/north or WGS 84 latitude/longitude.

Accepted (Danish decimal commas too)::

    557900 6212000          E N (EPSG:25832; also "Ø 557900 N 6212000", "557900E 6212000N")
    6212000 557900          N E — recognised by the ranges and turned around
    56,0497 9,9297          latitude longitude in degrees (Danish: the decimal comma)
    56.0497, 9.9297         the same with a decimal point and a comma between
    9.9297E 56.0497N        letters say which is which; "56°02'59"N 9°55'47"E" (degrees, minutes, seconds)

Ranges decide what two numbers are: E 100 000–1 000 000 with N 5 900 000–6 500 000
(the View1 grid, REFERENCE.md §7.4) is EPSG:25832; two numbers in degrees are latitude and
longitude (swapped when the first cannot be a latitude). A point outside Denmark — the
View1 grid — is refused, naming it. Every refusal is a :class:`UserInputError` whose
catalogue message reaches the person in Danish or English.
"""

from __future__ import annotations

import re
from typing import Literal

from pyproj import Transformer

from core.errors import UserInputError
from core.i18n import Lang, number, text
from core.models import Frozen

DENMARK_25832 = (120000.0, 5900000.0, 1000000.0, 6500000.0)  # View1 extent (REFERENCE.md §7.4)
EAST_RANGE = (100000.0, 1000000.0)
NORTH_RANGE = (5900000.0, 6500000.0)
_DMS = re.compile(
    r"(?P<deg>\d+(?:[.,]\d+)?)\s*°\s*(?:(?P<min>\d+(?:[.,]\d+)?)\s*['′]\s*)?"
    r"(?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:\"|″|'')\s*)?(?P<hemi>[NSEWØV])?",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"^(?P<pre>[NSEWØV])?(?P<num>[-+]?\d+(?:[.,]\d+)?)(?P<post>[NSEWØV])?$", re.IGNORECASE)
Axis = Literal["x", "y"] | None


class Coordinate(Frozen):
    """A searched point: EPSG:25832 and WGS 84, with what the person typed and how it was read."""

    query: str
    read_as: Literal["EPSG:25832", "EPSG:4326"]
    east: float
    north: float
    lat: float
    lon: float

    def label(self, lang: Lang) -> str:
        """``Ø 557.900 N 6.212.000 (EPSG:25832) · 56,04968° N, 9,92916° Ø (WGS 84)``."""
        utm = text("search.utm", lang, e=number(self.east, lang, 0), n=number(self.north, lang, 0))
        geo = text("search.latlon", lang, lat=number(self.lat, lang, 5), lon=number(self.lon, lang, 5))
        return f"{utm} · {geo}"


def looks_like_coordinate(query: str) -> bool:
    """True when the text is made of numbers, separators, degree signs and axis letters only."""
    stripped = re.sub(r"[\s,;°'′″\"NSEWØVnsewøv.+-]", "", query)
    return bool(query.strip()) and stripped.isdigit()


def parse_coordinate(query: str) -> Coordinate:
    """Read ``query`` as a point in Denmark.

    Raises:
        UserInputError: not two numbers, in no known range, or outside Denmark (View1).
    """
    values = _dms_pair(query) or _number_pair(query)
    if values is None:
        raise _refuse("search.not_numbers", q=query.strip())
    (a, axis_a), (b, axis_b) = values
    if axis_a == "y" or axis_b == "x":
        (a, axis_a), (b, axis_b) = (b, axis_b), (a, axis_a)
    candidates = _candidates(query, a, b, axis_a, axis_b)
    if not candidates:
        raise _refuse("search.out_of_range", q=query.strip())
    inside = [c for c in candidates if _in_denmark(c)]
    if not inside:
        first = candidates[0]
        where = f"{number(first.lat, 'en', 5)}, {number(first.lon, 'en', 5)}"
        raise _refuse("search.outside_denmark", where=where)
    return inside[0]


def _candidates(query: str, a: float, b: float, axis_a: Axis, axis_b: Axis) -> list[Coordinate]:
    """The readings of two numbers, most likely first: E/N (either order), then lat/lon (then lon/lat)."""
    found = _as_utm(a, b) or _as_utm(b, a)
    if found is not None:
        east, north = found
        lon, lat = _to_wgs84.transform(east, north)
        return [Coordinate(query=query, read_as="EPSG:25832", east=east, north=north, lat=lat, lon=lon)]
    out = []
    readings = [(a, b, axis_a, axis_b)]
    if axis_a is None and axis_b is None:
        readings.append((b, a, None, None))
    for first, second, ax1, ax2 in readings:
        latlon = _as_degrees(first, second, ax1, ax2)
        if latlon is not None:
            lat, lon = latlon
            east, north = _to_utm.transform(lon, lat)
            out.append(Coordinate(query=query, read_as="EPSG:4326", east=east, north=north, lat=lat, lon=lon))
    return out


def _in_denmark(point: Coordinate) -> bool:
    minx, miny, maxx, maxy = DENMARK_25832
    return minx <= point.east <= maxx and miny <= point.north <= maxy


_to_wgs84 = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
_to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def _refuse(key: str, **params: object) -> UserInputError:
    return UserInputError(text(key, "en", **params), key=key, params=params)


def _float(value: str) -> float:
    return float(value.replace(",", "."))


def _axis(letter: str | None) -> Axis:
    if not letter:
        return None
    return "y" if letter.upper() in ("N", "S") else "x"


def _sign(letter: str | None) -> float:
    return -1.0 if letter and letter.upper() in ("S", "W", "V") else 1.0


def _dms_pair(query: str) -> tuple[tuple[float, Axis], tuple[float, Axis]] | None:
    """Two degree values written with ° (and ′ ″), with their hemisphere letters."""
    if "°" not in query:
        return None
    found = [m for m in _DMS.finditer(query) if m.group("deg")]
    if len(found) != 2:
        return None
    out = []
    for match in found:
        value = _float(match["deg"]) + _float(match["min"] or "0") / 60 + _float(match["sec"] or "0") / 3600
        out.append((value * _sign(match["hemi"]), _axis(match["hemi"])))
    return out[0], out[1]


def _tokens(query: str) -> list[str]:
    """Split on whitespace and ';'; a comma separates when followed by a space or between two numbers."""
    text_ = re.sub(r"\b([NSEWØV])\s+(?=[-+\d])", r"\1", query.strip(), flags=re.IGNORECASE)
    parts = [p for p in re.split(r"[\s;]+|,\s+", text_) if p]
    if len(parts) == 1 and parts[0].count(",") == 1 and "." in parts[0]:
        parts = parts[0].split(",")
    if len(parts) == 1 and parts[0].count(",") == 1 and "." not in parts[0]:
        parts = parts[0].split(",")  # "557900,6212000": a comma between two integers
    return parts


def _number_pair(query: str) -> tuple[tuple[float, Axis], tuple[float, Axis]] | None:
    parts = _tokens(query)
    if len(parts) != 2:
        return None
    out = []
    for part in parts:
        match = _TOKEN.match(part)
        if match is None:
            return None
        letter = match["pre"] or match["post"]
        out.append((_float(match["num"]) * _sign(letter), _axis(letter)))
    return out[0], out[1]


def _as_utm(east: float, north: float) -> tuple[float, float] | None:
    if EAST_RANGE[0] <= east <= EAST_RANGE[1] and NORTH_RANGE[0] <= north <= NORTH_RANGE[1]:
        return east, north
    return None


def _as_degrees(a: float, b: float, axis_a: Axis, axis_b: Axis) -> tuple[float, float] | None:
    """(lat, lon): letters decide; else latitude first, unless only the swap is a valid latitude."""
    if axis_a == "x" or axis_b == "y":
        a, b = b, a
    elif axis_a is None and axis_b is None and abs(a) > 90 >= abs(b):
        a, b = b, a
    if abs(a) <= 90 and abs(b) <= 180:
        return a, b
    return None
