"""Reading a polygon layer (any OGR vector format, any CRS) into a frozen :class:`PolygonLayer`.

GeoPackage, GeoJSON, Shapefile, FlatGeobuf … — whatever pyogrio reads. GeoDanmark
BYGNING and BBR exports work as they are; their id field is found by name
(:data:`ID_FIELD_CANDIDATES`) unless one is given.

Bad input is handled per feature where it can be: invalid polygons are repaired and
flagged, empty and non-polygon geometries flagged and skipped, duplicate and empty ids
flagged. What makes the whole layer unusable raises :class:`PolygonLayerError` naming the
file: unreadable, no CRS (or a GeoJSON whose coordinates are not longitude/latitude while
it states no CRS), no such layer or id field.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from core.errors import PolygonLayerError
from pipeline.zonal.geometry import attribute_value, clean_geometry, duplicate_ids, id_text
from pipeline.zonal.models import AttributeValue, FeatureProblem, PolygonFeature, PolygonLayer, ProblemCode

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

DEFAULT_CRS = "EPSG:25832"
ID_FIELD_CANDIDATES = (
    "id_lokalId",  # GeoDanmark 6 / BBR (Datafordeler) object id
    "id.lokalId",
    "lokalId",
    "bygning_id",
    "BYGNING_ID",
    "objectid",
    "FID",
    "fid",
    "id",
    "gml_id",
)
"""Fields tried, in order and ignoring case, when no ``id_field`` is given."""


def crs_text(crs: CRS) -> str:
    """``authority:code`` when the CRS has one (EPSG:25832, OGC:CRS84), else its WKT."""
    authority = crs.to_authority(min_confidence=90)
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


def choose_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: ``layer`` if given, the only layer, or the only polygon layer of the file."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise PolygonLayerError(f"polygon file {path} cannot be read: {exc}") from exc
    names = [str(row[0]) for row in layers]
    if layer is not None:
        if layer not in names:
            raise PolygonLayerError(
                f"polygon file {path} has no layer {layer!r} (layers: {', '.join(names)})"
            )
        return layer
    if len(names) <= 1:
        return names[0] if names else None
    polygonal = [str(row[0]) for row in layers if row[1] and "polygon" in str(row[1]).lower()]
    if len(polygonal) == 1:
        return polygonal[0]
    raise PolygonLayerError(f"polygon file {path} has several layers ({', '.join(names)}); name one")


def find_id_field(path: Path, columns: list[str], id_field: str | None) -> str | None:
    """The id column: ``id_field`` (any case) if given, else the first known candidate present, else None."""
    by_lower = {c.lower(): c for c in columns}
    if id_field is not None:
        found = by_lower.get(id_field.lower())
        if found is None:
            raise PolygonLayerError(
                f"polygon file {path} has no id field {id_field!r} (fields: {', '.join(columns) or 'none'})"
            )
        return found
    return next((by_lower[c.lower()] for c in ID_FIELD_CANDIDATES if c.lower() in by_lower), None)


def read_frame(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """The file as a GeoDataFrame with its CRS checked."""
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio") if layer else gpd.read_file(path)
    except Exception as exc:
        raise PolygonLayerError(f"polygon file {path} cannot be read: {exc}") from exc
    if frame.crs is None:
        raise PolygonLayerError(
            f"polygon file {path} has no CRS; add one (e.g. a .prj beside the Shapefile, or "
            "ogr2ogr -a_srs EPSG:25832) — coordinates cannot be placed without it"
        )
    valid = frame.geometry[~frame.geometry.isna() & ~frame.geometry.is_empty]
    if frame.crs.is_geographic and len(valid):
        minx, miny, maxx, maxy = valid.total_bounds
        if min(minx, miny) < -180 or maxx > 360 or maxy > 90:
            raise PolygonLayerError(
                f"polygon file {path} is read as {crs_text(frame.crs)} (longitude/latitude) but its "
                f"coordinates reach ({maxx:.0f}, {maxy:.0f}); the file states no CRS — add one"
            )
    return frame


Draft = tuple[str, dict[str, AttributeValue], BaseGeometry | None, tuple[FeatureProblem, ...]]


def prepare_feature(
    path: Path, index: int, geom: BaseGeometry | None, row: dict[Any, object], field: str | None
) -> Draft:
    """Id, attributes, cleaned geometry (file CRS) and problems of one feature."""
    attrs = {str(k): attribute_value(v) for k, v in row.items()}
    raw_id = id_text(attrs[field]) if field else f"#{index}"
    fid = raw_id or f"#{index}"
    problems: tuple[FeatureProblem, ...] = ()
    if raw_id is None:
        msg = f"{path} feature {index}: id field {field!r} is empty; id {fid!r} used"
        problems = (FeatureProblem(code=ProblemCode.MISSING_ID, message=msg),)
    polygon, geom_problems = clean_geometry(geom, f"{path} feature {index} (id {fid!r})")
    return fid, attrs, polygon, problems + geom_problems


def read_polygons(
    path: str | Path, *, id_field: str | None = None, crs: str | CRS = DEFAULT_CRS, layer: str | None = None
) -> PolygonLayer:
    """Read the polygons of ``path``, repair or flag bad features, and reproject them to ``crs``.

    Args:
        path: any vector file pyogrio reads (GeoPackage, GeoJSON, Shapefile …), any CRS.
        id_field: attribute holding the feature ids (case-insensitive); default the first of
            :data:`ID_FIELD_CANDIDATES` present, else the feature positions ``#0``, ``#1`` ….
        crs: CRS of the returned geometries, normally the raster's; default EPSG:25832.
        layer: layer name, for files with several layers.

    Returns:
        Every feature in file order, each with its problems; unusable ones have no geometry.

    Raises:
        PolygonLayerError: unreadable file, no CRS, unknown layer or id field.
    """
    import geopandas as gpd

    path = Path(path)
    chosen = choose_layer(path, layer)
    frame = read_frame(path, chosen)
    field = find_id_field(path, [str(c) for c in frame.columns if c != frame.geometry.name], id_field)
    attributes = frame.drop(columns=[frame.geometry.name])
    # a layer without attribute fields: pandas gives no records at all for a frame without columns
    rows = attributes.to_dict("records") if len(attributes.columns) else [{} for _ in range(len(frame))]
    drafts = [
        prepare_feature(path, i, geom, row, field)
        for i, (geom, row) in enumerate(zip(frame.geometry, rows, strict=True))
    ]
    target = CRS.from_user_input(crs)
    projected = gpd.GeoSeries([d[2] for d in drafts], crs=frame.crs).to_crs(target)
    dupes = duplicate_ids([d[0] for d in drafts])
    result = []
    for index, ((fid, attrs, _, problems), geom) in enumerate(zip(drafts, projected, strict=True)):
        if fid in dupes:
            msg = f"{path} feature {index}: id {fid!r} occurs more than once"
            problems = (*problems, FeatureProblem(code=ProblemCode.DUPLICATE_ID, message=msg))
        usable = geom if geom is not None and not geom.is_empty else None
        result.append(
            PolygonFeature(index=index, id=fid, attributes=attrs, geometry=usable, problems=problems)
        )
        for problem in problems:
            logger.warning("%s", problem.message)
    return PolygonLayer(
        source=path,
        layer=chosen,
        id_field=field,
        source_crs=crs_text(frame.crs),
        crs=crs_text(target),
        features=tuple(result),
    )


SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def polygon_file_digest(path: Path) -> str:
    """SHA-256 of a polygon file as the analyses read it (a Shapefile with its .shx/.dbf/.prj/.cpg)."""
    digest = hashlib.sha256()
    parts = [path.with_suffix(s) for s in SHAPEFILE_PARTS] if path.suffix.lower() == ".shp" else [path]
    for part in parts:
        if part.exists():
            digest.update(part.name.encode())
            with open(part, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()
