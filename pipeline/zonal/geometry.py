"""Pure geometry checks for polygon layers: repair, keep the polygonal part, flag what was done."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from pipeline.zonal.models import AttributeValue, FeatureProblem, ProblemCode

POLYGONAL = ("Polygon", "MultiPolygon")


def polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    """The (multi)polygon inside ``geom`` (parts of a collection that are polygons), or None."""
    if geom.geom_type in POLYGONAL:
        return None if geom.is_empty else geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL and not g.is_empty]
        if parts:
            merged: BaseGeometry = shapely.union_all(parts)
            return merged
    return None


def clean_geometry(
    geom: BaseGeometry | None, where: str
) -> tuple[BaseGeometry | None, tuple[FeatureProblem, ...]]:
    """A valid 2-D (multi)polygon for ``geom`` and what had to be done to get it.

    Invalid polygons (self-intersections, bow-ties, bad rings) are repaired with
    ``shapely.make_valid(method="structure")`` and flagged ``repaired``; empty
    geometries and non-polygons give None and a flag. ``where`` names the feature
    in the messages (e.g. ``"buildings.gpkg feature 12 (id 'A')"``).
    """
    if geom is None or geom.is_empty:
        return None, (FeatureProblem(code=ProblemCode.EMPTY, message=f"{where}: empty geometry, skipped"),)
    flat = shapely.force_2d(geom)
    if flat.geom_type not in (*POLYGONAL, "GeometryCollection"):
        msg = f"{where}: geometry is a {flat.geom_type}, not a polygon; skipped"
        return None, (FeatureProblem(code=ProblemCode.NOT_POLYGON, message=msg),)
    if shapely.is_valid(flat):
        part = polygonal_part(flat)
        if part is None:
            msg = f"{where}: geometry holds no polygon ({flat.geom_type}); skipped"
            return None, (FeatureProblem(code=ProblemCode.NOT_POLYGON, message=msg),)
        return part, ()
    reason = shapely.is_valid_reason(flat)
    repaired = polygonal_part(shapely.make_valid(flat, method="structure", keep_collapsed=False))
    if repaired is None:
        msg = f"{where}: invalid polygon ({reason}) has no area after repair; skipped"
        return None, (FeatureProblem(code=ProblemCode.EMPTY, message=msg),)
    msg = f"{where}: invalid polygon ({reason}) repaired with make_valid, area now {repaired.area:.2f}"
    return repaired, (FeatureProblem(code=ProblemCode.REPAIRED, message=msg),)


def attribute_value(value: object) -> AttributeValue:
    """A plain JSON-able value for one attribute (numpy scalars unwrapped, dates as ISO text, NaN → None)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def id_text(value: AttributeValue) -> str | None:
    """An id value as text: whole floats without ``.0`` (GeoJSON FIDs), empty → None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def duplicate_ids(ids: Sequence[str]) -> set[str]:
    """Ids that occur more than once."""
    seen: set[str] = set()
    dupes: set[str] = set()
    for value in ids:
        (dupes if value in seen else seen).add(value)
    return dupes
