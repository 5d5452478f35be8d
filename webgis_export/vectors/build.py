"""Publish one vector product: its GeoPackage layer copied into the layer folder, described.

A vector product is any :class:`pipeline.models.Product` whose file is a GeoPackage: the
footprints and photo points ``process`` writes today, and the analyses' outputs (buildings, hot
spots, change areas, volumes, roof planes, check points). Its layer is
``Product.vector.layer``, or the GeoPackage's only layer. Nothing else is needed for an
analysis to be published: write the GeoPackage, list the Product.

The published copy (``publish/layers/<id>/features.gpkg``) is in the product's CRS — the
flight's target CRS, EPSG:25832 unless a flight was processed in another (a frame far from
Denmark cannot be projected to UTM 32N) — reprojected from the file's CRS when they differ. It
keeps the product's features in their order (feature ids 1…n) and attributes, with an R-tree
spatial index, and stores per-feature times (a text column
``time`` holding ISO times, as the footprints have) as UTC datetimes. The services read only
this copy, so a reprocessed flight changes nothing until it is published again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from core.errors import ExportError
from pipeline.models import Accuracy, Product, ProductKind
from webgis_export.models import Access, QAFinding
from webgis_export.vectors.columns import TIME_NAMES, field_infos, typed, utc_naive
from webgis_export.vectors.crs import box_in, reproject, reprojected_bounds
from webgis_export.vectors.models import FieldInfo, VectorLayer, VectorStyle

log = logging.getLogger(__name__)

FEATURES_NAME = "features.gpkg"
STORAGE_CRS = "EPSG:25832"  # the storage CRS of a product whose own CRS has no EPSG code
GEOPACKAGE_SUFFIXES = frozenset({".gpkg"})
CHANGE_CLASSES = {"gain": "#1a9850aa", "loss": "#d73027aa"}
BALANCE_CLASSES = {"cut": "#b2182baa", "fill": "#2166acaa", "balanced": "#f7f7f7aa"}
ROOF_SLOPE_CLASSES = {"flat": "#ffffccaa", "low": "#fed976aa", "pitched": "#fd8d3caa", "steep": "#bd0026aa"}
HEAT_CLASSES = {"A": "#1a9850cc", "B": "#91cf60cc", "C": "#fee08bcc", "D": "#fc8d59cc", "E": "#d73027cc"}
STYLES: dict[ProductKind, VectorStyle] = {
    ProductKind.FOOTPRINTS: VectorStyle(title="Footprints", stroke="#1f5fbf", fill="#1f5fbf26"),
    ProductKind.PHOTO_POINTS: VectorStyle(title="Photo points", stroke="#ffffff", fill="#e6550dff", width=1),
    ProductKind.BUILDINGS: VectorStyle(
        title="Heat class", stroke="#333333", fill="#99999966", class_field="heat_class", classes=HEAT_CLASSES
    ),
    ProductKind.HOT_SPOTS: VectorStyle(title="Hot spots", stroke="#b10026", fill="#fd8d3c99"),
    # change areas by direction (field ``change``: gain/loss), volumes by balance (``balance``: cut/fill);
    # the colours of the change and cut/fill rasters (webgis_export.analysis_style)
    ProductKind.CHANGE_AREAS: VectorStyle(
        title="Change", stroke="#4d4d4d", fill="#c2a5cf66", class_field="change", classes=CHANGE_CLASSES
    ),
    ProductKind.VOLUMES: VectorStyle(
        title="Volumes", stroke="#4d4d4d", fill="#dfc27d66", class_field="balance", classes=BALANCE_CLASSES
    ),
    # roof planes by slope class (``slope_class``, pipeline.roofs.outputs.SLOPE_CLASSES): light = flat
    ProductKind.ROOF_PLANES: VectorStyle(
        title="Roof planes",
        stroke="#01665e",
        fill="#80cdc166",
        class_field="slope_class",
        classes=ROOF_SLOPE_CLASSES,
    ),
    ProductKind.CHECK_POINTS: VectorStyle(title="Check points", stroke="#000000", fill="#ffff33ff", width=1),
}


def is_vector(product: Product) -> bool:
    """True when the product's file is a GeoPackage (published as a feature collection)."""
    return Path(product.path).suffix.lower() in GEOPACKAGE_SUFFIXES


def source_table(product: Product, path: Path) -> str:
    """The product's layer: ``Product.vector.layer``, else the GeoPackage's only layer.

    Raises:
        ExportError: the file cannot be read, has no such layer, or several layers and none named.
    """
    try:
        tables = [str(name) for name, _ in pyogrio.list_layers(path)]
    except (DataSourceError, OSError) as exc:
        raise ExportError(f"vector product {product.id}: cannot read {path}: {exc}") from None
    named = product.vector.layer if product.vector is not None else None
    if named is not None:
        if named not in tables:
            raise ExportError(f"vector product {product.id}: {path} has no layer {named!r} (it has {tables})")
        return named
    if len(tables) != 1:
        raise ExportError(
            f"vector product {product.id}: {path} has layers {tables}; name one in the product's vector.layer"
        )
    return tables[0]


def vector_footprint(path: Path, table: str) -> shapely.Geometry | None:
    """The layer's bounding box in EPSG:4326 (densified; its corners when it is a point or a line),
    or ``None`` when it holds no feature."""
    info = pyogrio.read_info(path, layer=table)
    if not info["features"] or info["crs"] is None:
        return None
    crs = _crs_name(path, table, info["crs"])
    return box_in(_box(np.asarray(info["total_bounds"])), crs, "EPSG:4326")


class Copied(NamedTuple):
    """What :func:`copy_layer` wrote: the table, its geometry type, schema, count and extent."""

    table: str
    geometry_type: str
    fields: tuple[FieldInfo, ...]
    feature_count: int
    bounds: tuple[float, float, float, float] | None


def copy_layer(product: Product, source: Path, folder: Path) -> Copied:
    """The product's layer copied to ``folder/features.gpkg`` in :func:`storage_crs`, times as datetimes.

    Raises:
        ExportError: unreadable file, unknown layer, no CRS, a time column that is not ISO times.
    """
    table = source_table(product, source)
    try:
        meta, _, wkb, columns = pyogrio.raw.read(source, layer=table)
    except (DataSourceError, DataLayerError) as exc:
        raise ExportError(
            f"vector product {product.id}: cannot read layer {table!r} of {source}: {exc}"
        ) from None
    if meta["crs"] is None:
        raise ExportError(f"vector product {product.id}: layer {table!r} of {source} has no CRS")
    storage = storage_crs(product)
    geometries = reproject(shapely.from_wkb(wkb), _crs_name(source, table, meta["crs"]), storage)
    infos, columns = _with_times(product, source, field_infos(meta), list(columns))
    pairs = [typed(info, column) for info, column in zip(infos, columns, strict=True)]
    folder.mkdir(parents=True, exist_ok=True)
    pyogrio.raw.write(
        folder / FEATURES_NAME,
        shapely.to_wkb(geometries),
        [values for values, _ in pairs],
        np.array([i.name for i in infos], dtype=object),
        field_mask=[mask for _, mask in pairs],
        layer=table,
        driver="GPKG",
        geometry_type=meta["geometry_type"],
        crs=storage,
        encoding="UTF-8",
    )
    count = len(geometries)
    log.info("vector layer %s: %d features of %s layer %r", folder.name, count, source, table)
    bounds = _box(shapely.total_bounds(geometries)) if count else None
    return Copied(table, str(meta["geometry_type"]), infos, count, bounds)


def vector_layer_build(
    product: Product,
    source: Path,
    folder: Path,
    *,
    access: Access,
    title: str | None,
    qa: dict[str, object],
    published_at: datetime,
) -> VectorLayer:
    """Copy the product's layer into ``folder`` (= ``publish/layers/<id>`` in staging); the VectorLayer.

    ``qa`` carries ``status``, ``findings``, ``freshness``, ``accuracy``, ``evidence``, ``override``
    and ``overrides`` as for raster layers (:func:`webgis_export.publish.qa_summary`).

    Raises:
        ExportError: unreadable file, unknown layer, no CRS, a time column that is not ISO times.
    """
    copied = copy_layer(product, source, folder)
    layer_id, infos, bounds = folder.name, copied.fields, copied.bounds
    return VectorLayer(
        id=layer_id,
        title=title or f"{product.kind.value.replace('_', ' ')} {product.flight}",
        kind=product.kind,
        access=access,
        flight=product.flight,
        product_id=product.id,
        gpkg=f"layers/{layer_id}/{FEATURES_NAME}",
        table=copied.table,
        crs=storage_crs(product),
        geometry_type=copied.geometry_type,
        feature_count=copied.feature_count,
        fields=infos,
        time_field=next((i.name for i in infos if i.type == "datetime" and i.name in TIME_NAMES), None),
        bounds=bounds,
        bounds_wgs84=reprojected_bounds(bounds, storage_crs(product), "EPSG:4326") if bounds else None,
        time_start=product.time_start,
        time_end=product.time_end,
        capture_time_source=product.capture_time_source,
        captured_before=product.captured_before,
        style=_style(product.kind, infos),
        stac_item=f"stac/{product.kind.value}/{layer_id}/{layer_id}.json",
        published_at=published_at,
        **_qa_fields(qa),
    )


def storage_crs(product: Product) -> str:
    """The CRS a vector product is published in: its own (``EPSG:n``), else :data:`STORAGE_CRS`."""
    try:
        authority = CRS.from_user_input(product.crs).to_authority()
    except CRSError:
        return STORAGE_CRS
    return f"{authority[0]}:{authority[1]}" if authority else STORAGE_CRS


def _box(values: np.ndarray) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = (float(v) for v in values)
    return minx, miny, maxx, maxy


def _crs_name(path: Path, table: str, crs: str) -> str:
    """``EPSG:n`` (or ``OGC:CRS84``) of a layer's CRS; pyogrio gives ``EPSG:n`` or WKT."""
    authority = CRS.from_user_input(crs).to_authority()
    if authority is None:
        raise ExportError(f"layer {table!r} of {path}: CRS {crs[:80]!r} has no EPSG code")
    return f"{authority[0]}:{authority[1]}"


def _with_times(
    product: Product, path: Path, infos: tuple[FieldInfo, ...], columns: list[np.ndarray]
) -> tuple[tuple[FieldInfo, ...], list[np.ndarray]]:
    """Text columns named like a time (``time`` …) holding ISO times, as datetime columns."""
    out = list(infos)
    for index, info in enumerate(infos):
        if info.type != "string" or info.name.lower() not in TIME_NAMES:
            continue
        try:
            columns[index] = utc_naive(columns[index])
        except (ValueError, TypeError) as exc:
            raise ExportError(
                f"vector product {product.id}: column {info.name!r} of {path} is not ISO times: {exc}"
            ) from None
        out[index] = FieldInfo(name=info.name, type="datetime")
    return tuple(out), columns


def _style(kind: ProductKind, infos: tuple[FieldInfo, ...]) -> VectorStyle:
    """The kind's style; a class style only when the layer has the class field."""
    style = STYLES.get(kind, VectorStyle())
    if style.class_field and not any(i.name == style.class_field for i in infos):
        return style.model_copy(update={"class_field": None, "classes": {}})
    return style


def _qa_fields(qa: dict[str, object]) -> dict[str, Any]:
    """The QA facts of a layer from :func:`webgis_export.publish.qa_summary`'s dict."""
    accuracy = qa.get("accuracy")
    overrides = qa.get("overrides")
    return {
        "qa_status": _text(qa.get("status")),
        "qa_findings": tuple(f for f in _items(qa.get("findings")) if isinstance(f, QAFinding)),
        "accuracy_evidence": _text(qa.get("evidence")),
        "freshness": _text(qa.get("freshness")),
        "qa_override": _text(qa.get("override")),
        "accuracy": accuracy if isinstance(accuracy, Accuracy) else None,
        "overrides": {str(k): str(v) for k, v in overrides.items()} if isinstance(overrides, dict) else {},
    }


def _items(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, list | tuple) else ()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
