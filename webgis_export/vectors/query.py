"""Reading features of a published vector layer: GDAL (through pyogrio) does the selecting.

Every read is one ``pyogrio.raw.read`` of the published GeoPackage, with GDAL's own filters:
``bbox``/``mask`` (the GeoPackage's R-tree, then an exact intersection test), ``where``
(SQLite, for property equality) and ``skip_features``/``max_features`` (paging). A query
without filters pages the layer directly (feature count from the layer's metadata); a
filtered query first reads the matching feature ids only (no attributes), then the page's
features by id — so ``numberMatched`` is exact and a page costs the same at any offset. Pages
are in feature id order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyogrio
import shapely

from core.models import Frozen
from webgis_export.vectors.crs import box_in
from webgis_export.vectors.models import VectorLayer

Value = str | int | float | bool


class FeatureQuery(Frozen):
    """What a client asked for; every value already checked against the layer's schema."""

    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str = "OGC:CRS84"
    interval: tuple[datetime | None, datetime | None] | None = None
    equals: tuple[tuple[str, Value], ...] = ()
    limit: int = 10
    offset: int = 0


@dataclass(frozen=True)
class FeaturePage:
    """Features of one page: ids, geometries (storage CRS) and columns in the layer's field order."""

    matched: int
    fids: np.ndarray
    geometries: np.ndarray
    columns: list[np.ndarray]

    @property
    def returned(self) -> int:
        """How many features the page holds."""
        return len(self.fids)


def select(path: Path, layer: VectorLayer, query: FeatureQuery) -> FeaturePage:
    """The page of features of ``layer`` (its GeoPackage at ``path``) that ``query`` asks for."""
    if query.interval is not None and layer.time_field is None and not _span_meets(layer, query.interval):
        return empty_page(layer, 0)
    filtered = query.bbox is not None or query.equals or (query.interval is not None and layer.time_field)
    if not filtered:
        if query.offset >= layer.feature_count:
            return empty_page(layer, layer.feature_count)
        return _read(path, layer, layer.feature_count, skip_features=query.offset, max_features=query.limit)
    fids = matching_ids(path, layer, query)
    page = fids[query.offset : query.offset + query.limit]
    if not len(page):
        return empty_page(layer, len(fids))
    return _read(path, layer, len(fids), fids=page)


def matching_ids(path: Path, layer: VectorLayer, query: FeatureQuery) -> np.ndarray:
    """Sorted ids of every feature meeting the query's filters (GDAL reads no attribute for it)."""
    spatial = {} if query.bbox is None else _spatial(layer, query.bbox, query.bbox_crs)
    timed = query.interval is not None and layer.time_field is not None
    _, fids, _, columns = pyogrio.raw.read(
        path,
        layer=layer.table,
        columns=[layer.time_field] if timed else [],
        read_geometry=False,
        return_fids=True,
        where=where_clause(query.equals),
        **spatial,
    )
    if timed and query.interval is not None:
        fids = fids[_inside(columns[0], query.interval)]
    return np.sort(np.asarray(fids, dtype="int64"))


def by_id(path: Path, layer: VectorLayer, fid: int) -> FeaturePage | None:
    """The feature with id ``fid``, or ``None``."""
    if not 1 <= fid <= np.iinfo(np.int64).max:
        return None
    try:
        return _read(path, layer, 1, fids=np.array([fid], dtype="int64"))
    except pyogrio.errors.FeatureError:
        return None


def near(path: Path, layer: VectorLayer, point: shapely.Point, tolerance: float, count: int) -> FeaturePage:
    """Up to ``count`` features within ``tolerance`` of ``point`` (storage CRS), nearest first."""
    x, y = point.x, point.y
    box = (x - tolerance, y - tolerance, x + tolerance, y + tolerance)
    page = _read(path, layer, 0, bbox=box)
    distance = shapely.distance(page.geometries, point)
    order = [i for i in np.argsort(distance, kind="stable") if distance[i] <= tolerance][:count]
    keep = np.asarray(order, dtype="int64")
    return FeaturePage(
        len(keep), page.fids[keep], page.geometries[keep], [column[keep] for column in page.columns]
    )


def in_box(path: Path, layer: VectorLayer, box: shapely.Geometry, field: str | None) -> FeaturePage:
    """Geometries (and the one column ``field``, if given) of the features meeting ``box``."""
    names = [field] if field else []
    meta, fids, wkb, columns = pyogrio.raw.read(
        path, layer=layer.table, columns=names, return_fids=True, mask=box
    )
    return FeaturePage(len(fids), fids, shapely.from_wkb(wkb), list(columns))


def empty_page(layer: VectorLayer, matched: int) -> FeaturePage:
    """A page without features (typed columns of length 0)."""
    columns = [np.array([], dtype=object) for _ in layer.fields]
    return FeaturePage(matched, np.array([], dtype="int64"), np.array([], dtype=object), columns)


def where_clause(equals: tuple[tuple[str, Value], ...]) -> str | None:
    """An SQL ``WHERE`` for property equality: identifiers and strings quoted, values typed."""
    if not equals:
        return None
    return " AND ".join(f"{_identifier(name)} = {_literal(value)}" for name, value in equals)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def _spatial(layer: VectorLayer, bbox: tuple[float, float, float, float], crs: str) -> dict[str, object]:
    """pyogrio's ``bbox`` (same CRS) or ``mask`` (the box reprojected) in the storage CRS."""
    if crs == layer.crs:
        return {"bbox": bbox}
    return {"mask": box_in(bbox, crs, layer.crs)}


def _read(path: Path, layer: VectorLayer, matched: int, **selection: object) -> FeaturePage:
    names = [field.name for field in layer.fields]
    meta, fids, wkb, columns = pyogrio.raw.read(
        path, layer=layer.table, columns=names, return_fids=True, **selection
    )
    by_name = dict(zip(meta["fields"], columns, strict=True))
    return FeaturePage(
        matched,
        np.asarray(fids, dtype="int64"),
        shapely.from_wkb(wkb),
        [by_name[name] for name in names],
    )


def _utc(value: datetime) -> np.datetime64:
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return np.datetime64(naive, "ms")


def _inside(times: np.ndarray, interval: tuple[datetime | None, datetime | None]) -> np.ndarray:
    """True where a time lies in the closed interval (open ends allowed); nulls never do."""
    values = times.astype("datetime64[ms]")
    keep = ~np.isnat(values)
    start, end = interval
    if start is not None:
        keep &= values >= _utc(start)
    if end is not None:
        keep &= values <= _utc(end)
    return keep


def _span_meets(layer: VectorLayer, interval: tuple[datetime | None, datetime | None]) -> bool:
    """Whether the layer's capture span meets the interval (layers without per-feature times)."""
    first, last = layer.time_start or layer.time_end, layer.time_end or layer.time_start
    if first is None or last is None:
        return False
    start, end = interval
    return (end is None or _utc(first) <= _utc(end)) and (start is None or _utc(last) >= _utc(start))
