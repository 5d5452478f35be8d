"""OGC API – Features query parameters, checked: ``limit``, ``offset``, ``bbox``, ``bbox-crs``,
``crs``, ``datetime`` and property filters (``?heat_class=E``).

Every problem is an :class:`OgcError` with code ``InvalidParameterValue`` (HTTP 400), as Part 1
asks: a parameter the API does not define (a property filter on a property the collection does
not have), a ``bbox`` of 3 numbers, ``limit=-1``, a ``crs`` the collection does not offer. A
``limit`` above :data:`LIMIT_MAX` is served as :data:`LIMIT_MAX` (Part 1 lets the server cap it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from webgis_export.ogc.exceptions import OgcError
from webgis_export.vectors.crs import CRS84, canonical, epsg_uri, short
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.query import FeatureQuery, Value

LIMIT_DEFAULT = 10
LIMIT_MAX = 10_000
#: Parameters every feature route understands besides property filters.
COMMON = frozenset({"f", "lang", "token"})
ITEMS = COMMON | {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime"}
FILTERABLE = frozenset({"string", "integer", "number", "boolean"})


class ItemsRequest(NamedTuple):
    """A checked items request: the query and the output CRS (OGC URI)."""

    query: FeatureQuery
    crs: str


def bad(message: str, locator: str) -> OgcError:
    """An OGC API 400 (InvalidParameterValue)."""
    return OgcError("InvalidParameterValue", message, locator, "OAPIF")


def offered_crs(layer: VectorLayer) -> list[str]:
    """The CRS a collection's features can be served in: CRS84 first, then the storage CRS."""
    storage = epsg_uri(layer.crs)
    return [CRS84] if storage == CRS84 else [CRS84, storage]


def parse_crs(value: str | None, layer: VectorLayer, name: str) -> str:
    """The OGC URI of ``crs``/``bbox-crs`` (default CRS84); 400 when the collection does not offer it."""
    if value is None:
        return CRS84
    uri = canonical(value)
    offered = offered_crs(layer)
    if uri not in offered:
        raise bad(f"{name}={value!r} is not offered by collection {layer.id}; use one of {offered}", name)
    return uri


def check_names(params: Mapping[str, str], allowed: frozenset[str], layer: VectorLayer | None = None) -> None:
    """400 for a parameter the route does not define (property names count when ``layer`` is given)."""
    for name in params:
        if name in allowed:
            continue
        info = layer.field(name) if layer is not None else None
        if info is None or info.type not in FILTERABLE:
            where = f" of collection {layer.id}" if layer is not None else ""
            raise bad(
                f"unknown parameter {name!r}: no such query parameter or filterable property{where}", name
            )


def parse_items(params: Mapping[str, str], layer: VectorLayer) -> ItemsRequest:
    """The query of ``/collections/{id}/items`` from its parameters."""
    check_names(params, ITEMS, layer)
    limit = min(_integer(params, "limit", LIMIT_DEFAULT, 1), LIMIT_MAX)
    offset = _integer(params, "offset", 0, 0)
    bbox_crs = parse_crs(params.get("bbox-crs"), layer, "bbox-crs")
    if "bbox-crs" in params and "bbox" not in params:
        raise bad("bbox-crs is given without bbox", "bbox-crs")
    query = FeatureQuery(
        bbox=parse_bbox(params["bbox"]) if "bbox" in params else None,
        bbox_crs=short(bbox_crs),
        interval=parse_datetime(params["datetime"]) if "datetime" in params else None,
        equals=tuple(
            (name, parse_value(layer, name, value)) for name, value in params.items() if name not in ITEMS
        ),
        limit=limit,
        offset=offset,
    )
    return ItemsRequest(query, parse_crs(params.get("crs"), layer, "crs"))


def _integer(params: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad(f"{name}={text!r} is not an integer", name) from None
    if value < minimum:
        raise bad(f"{name}={value} must be at least {minimum}", name)
    return value


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or the 6 numbers of a 3D box, heights ignored) in x/y order."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise bad(f"bbox={text!r} is not a list of numbers", "bbox") from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise bad(f"bbox={text!r} must be 4 numbers (or 6 for a 3D box)", "bbox")
    if values[0] > values[2] or values[1] > values[3]:
        raise bad(f"bbox={text!r}: the lower corner must come first (minx,miny,maxx,maxy)", "bbox")
    return values[0], values[1], values[2], values[3]


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """An instant or ``start/end`` interval (``..`` or empty for an open end) as a closed UTC interval.

    A date without time (``2026-02-10``) is that whole day, UTC.
    """
    parts = text.split("/")
    if len(parts) > 2:
        raise bad(f"datetime={text!r} is neither an instant nor a start/end interval", "datetime")
    if len(parts) == 1:
        start, end = _instant(parts[0], text)
        if start is None:
            raise bad(f"datetime={text!r}: '..' is only allowed as one end of an interval", "datetime")
        return start, end
    start = _instant(parts[0], text)[0]
    end = _instant(parts[1], text)[1]
    if start is not None and end is not None and start > end:
        raise bad(f"datetime={text!r}: the interval ends before it starts", "datetime")
    return start, end


def _instant(value: str, text: str) -> tuple[datetime | None, datetime | None]:
    """(first, last) moment a value names; (None, None) for an open end."""
    if value in ("", ".."):
        return None, None
    try:
        if "T" not in value and "t" not in value:
            day = date.fromisoformat(value)
            first = datetime.combine(day, time(), UTC)
            return first, first + timedelta(days=1) - timedelta(milliseconds=1)
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise bad(f"datetime={text!r}: {value!r} is not an RFC 3339 date-time", "datetime") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment, moment


def parse_value(layer: VectorLayer, name: str, text: str) -> Value:
    """A property filter's value, typed by the property's type."""
    info = layer.field(name)
    kind = info.type if info is not None else "string"
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
    except ValueError:
        raise bad(f"{name}={text!r}: property {name} of collection {layer.id} holds {kind}s", name) from None
    if kind == "boolean":
        if text.lower() not in ("true", "false", "1", "0"):
            raise bad(f"{name}={text!r}: property {name} of collection {layer.id} is true or false", name)
        return text.lower() in ("true", "1")
    return text
