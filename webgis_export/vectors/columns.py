"""Attribute columns as pyogrio reads them, typed once for every output (GeoJSON, GML, GeoPackage).

pyogrio returns an integer or boolean column holding a null as float64 with NaN, and the same
column without nulls as int64/bool: the type of a page would depend on its rows. Here the
type comes from the layer's schema (OGR field types), so the GeoJSON values, the GML elements
and the WFS schema of a layer always agree: integers stay integers and a null is a null.
Times are UTC: a published copy stores them naive in UTC, and they are written with ``Z``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring as encode_string  # the C encoder when available
from typing import Any

import numpy as np
import pandas as pd

from webgis_export.vectors.models import FieldInfo, FieldType

OGR_TYPES: dict[str, FieldType] = {
    "OFTInteger": "integer",
    "OFTInteger64": "integer",
    "OFTReal": "number",
    "OFTString": "string",
    "OFTDate": "date",
    "OFTDateTime": "datetime",
}
#: Text columns under these names that hold ISO times become datetime columns when published.
TIME_NAMES = ("time", "datetime", "captured", "capture_time", "timestamp")


def field_infos(meta: dict[str, Any]) -> tuple[FieldInfo, ...]:
    """The schema of a layer from pyogrio's metadata (``ogr_types``, ``ogr_subtypes``)."""
    infos = []
    for name, ogr_type, subtype in zip(meta["fields"], meta["ogr_types"], meta["ogr_subtypes"], strict=True):
        kind: FieldType = OGR_TYPES.get(str(ogr_type), "string")
        if kind == "integer" and subtype == "OFSTBoolean":
            kind = "boolean"
        infos.append(FieldInfo(name=str(name), type=kind))
    return tuple(infos)


def null_mask(column: np.ndarray) -> np.ndarray:
    """True where ``column`` holds a null (None, NaN or NaT); infinities count as nulls (JSON has none)."""
    if column.dtype.kind == "f":
        return ~np.isfinite(column)
    if column.dtype.kind == "M":
        return np.isnat(column)
    if column.dtype.kind == "O":
        return np.asarray(pd.isna(column), dtype=bool)
    return np.zeros(len(column), bool)


def typed(info: FieldInfo, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``column`` in the dtype of its field type, and its null mask (GeoPackage and GML writers)."""
    nulls = null_mask(column)
    if info.type == "integer":
        return np.where(nulls, 0, np.nan_to_num(column.astype("float64"))).astype("int64"), nulls
    if info.type == "boolean":
        return np.where(nulls, False, column.astype("float64") != 0), nulls
    if info.type == "number":
        return column.astype("float64"), nulls
    if info.type == "datetime":
        return utc_naive(column), nulls
    return column, nulls


def utc_naive(column: np.ndarray) -> np.ndarray:
    """Times (datetime64, or ISO text with or without offset) as naive UTC datetime64[ms]."""
    if column.dtype.kind == "M":
        return column.astype("datetime64[ms]")
    parsed = pd.to_datetime(pd.Series(column, dtype=object), utc=True, errors="raise", format="ISO8601")
    return np.asarray(parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ms]"))


def json_values(info: FieldInfo, column: np.ndarray) -> list[Any]:
    """The values of one column as JSON-ready Python objects (None for nulls)."""
    values, nulls = typed(info, column)
    if info.type == "datetime":
        items: list[Any] = [f"{v}Z" for v in values.astype("datetime64[ms]").astype(str)]
    elif info.type == "date":
        items = [str(v)[:10] for v in values.tolist()]
    elif info.type == "string":
        items = [v if isinstance(v, str) or v is None else str(v) for v in values.tolist()]
    else:
        items = values.tolist()
    if nulls.any():
        items = [None if null else item for item, null in zip(items, nulls.tolist(), strict=True)]
    return items


def encoded(info: FieldInfo, column: np.ndarray) -> list[str]:
    """Each value of a column as JSON text (``null`` for nulls), column by column: no dict per feature.

    Numbers and booleans are encoded by one ``json.dumps`` of the whole column and split at the
    separators (their text never holds one); strings one by one with the C string encoder.
    """
    values = json_values(info, column)
    if not values:
        return []
    if info.type in ("integer", "number", "boolean"):
        return json.dumps(values, allow_nan=False).removeprefix("[").removesuffix("]").split(", ")
    return ["null" if v is None else encode_string(v) for v in values]


def rows(infos: Sequence[FieldInfo], columns: Sequence[np.ndarray], count: int) -> list[dict[str, Any]]:
    """One properties dict per feature (``count`` features)."""
    names = [info.name for info in infos]
    values = [json_values(info, column) for info, column in zip(infos, columns, strict=True)]
    if not values:
        return [{} for _ in range(count)]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
