"""STAC for published layers: a Catalog, a Collection per product kind, an Item per layer.

Items carry what REFERENCE.md §7.6 lists: ``datetime`` (or ``start_datetime`` /
``end_datetime`` for long flights), ``gsd``, projection v2 (``proj:code``,
``proj:shape``, ``proj:transform``, ``proj:bbox``), view (``view:off_nadir``,
``view:azimuth``) for single frames, ``platform`` / ``instruments``, and custom
``dronegis:*`` properties for accuracy, height datum, thermography parameters, QA
status and freshness. ``proj:code`` is the COG's CRS: the compound EPSG:7416 (ETRS89 /
UTM 32N + DVR90 height) for DVR90 heights; ``dronegis:vertical_datum`` says how the
datum was decided and the geoid height N at the centre.

Validation (:func:`validate_tree`) is offline: the STAC 1.1.0 core JSON schemas
that ship with pystac are applied to every object. The official extension schemas
(projection v2, view v1) would need the network; instead the fields we write are
checked against :data:`EXTENSION_RULES`, our own JSON Schema of the constraints the
extensions' READMEs state (types, array lengths, value ranges).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pystac
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.view import ViewExtension

from core.errors import ExportError
from core.localtime import DISPLAY_ZONE, local_date
from webgis_export.models import Layer
from webgis_export.vectors.models import Captured

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
LONG_FLIGHT = timedelta(hours=1)
CATALOG_ID = "dronegis"
#: ``start_datetime`` of a layer whose capture date is unknown: no lower bound is known.
UNKNOWN_START = datetime(1970, 1, 1, tzinfo=UTC)

_NUMBER = {"type": "number"}
EXTENSION_RULES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "gsd": {"type": "number", "exclusiveMinimum": 0},
        "proj:code": {"type": ["string", "null"], "pattern": "^[A-Z]+:[0-9A-Za-z.]+$"},
        "proj:shape": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "minItems": 2,
            "maxItems": 2,
        },
        "proj:transform": {"type": "array", "items": _NUMBER, "minItems": 6, "maxItems": 9},
        "proj:bbox": {"type": "array", "items": _NUMBER, "minItems": 4, "maxItems": 6},
        "proj:centroid": {
            "type": "object",
            "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}, "lon": _NUMBER},
            "required": ["lat", "lon"],
        },
        "view:off_nadir": {"type": "number", "minimum": 0, "maximum": 90},
        "view:incidence_angle": {"type": "number", "minimum": 0, "maximum": 90},
        "view:azimuth": {"type": "number", "minimum": 0, "maximum": 360},
        "view:sun_azimuth": {"type": "number", "minimum": 0, "maximum": 360},
        "view:sun_elevation": {"type": "number", "minimum": -90, "maximum": 90},
    },
}


def item_for(layer: Layer, *, cog_href: str, transform: tuple[float, ...]) -> pystac.Item:
    """The STAC Item of a layer; ``cog_href`` is the asset href relative to the item file."""
    west, south, east, north = layer.bounds_wgs84
    geometry = {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }
    when, start, end = capture_times(layer)
    item = pystac.Item(
        id=layer.id,
        geometry=geometry,
        bbox=[west, south, east, north],
        datetime=when,
        start_datetime=start,
        end_datetime=end,
        properties={"title": layer.title},
        collection=layer.kind.value,
    )
    item.common_metadata.gsd = layer.gsd_m
    item.common_metadata.created = _utc(layer.published_at)
    item.properties.update(_custom_properties(layer))
    _set_platform(item, layer)
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.code = layer.crs
    proj.shape = [layer.height, layer.width]
    proj.transform = list(transform[:6])
    proj.bbox = list(layer.bounds)
    _set_view(item, layer)
    item.add_asset(
        "data",
        pystac.Asset(href=cog_href, media_type=COG_MEDIA_TYPE, roles=["data"], title=f"{layer.title} (COG)"),
    )
    return item


def capture_times(layer: Captured) -> tuple[datetime | None, datetime | None, datetime | None]:
    """STAC ``datetime``, ``start_datetime``, ``end_datetime`` of a layer: when it was flown, never published.

    - one instant or a flight up to :data:`LONG_FLIGHT`: ``datetime`` = its start;
    - a longer span: ``datetime`` null, start and end;
    - a declared day (``dronegis ingest --captured 2025-06-12``): the local day as start/end and
      its middle (noon in Copenhagen) as the nominal ``datetime``;
    - unknown (published with ``--allow-undated``): ``datetime`` null, start :data:`UNKNOWN_START`
      (no lower bound known), end the ingest time (it cannot have been flown later).
    """
    start, end = layer.time_start, layer.time_end or layer.time_start
    if start is None or end is None:
        return None, UNKNOWN_START, _utc(layer.captured_before or layer.published_at)
    if end - start <= LONG_FLIGHT:
        return _utc(start), None, None
    declared = (layer.capture_time_source or "").startswith("declared")
    noon = datetime.combine(local_date(start), time(12), DISPLAY_ZONE)  # of the declared day, in Copenhagen
    return (_utc(noon) if declared else None), _utc(start), _utc(end)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _custom_properties(layer: Layer) -> dict[str, Any]:
    props: dict[str, Any] = {
        "dronegis:flight": layer.flight,
        "dronegis:product": layer.product_id,
        "dronegis:kind": layer.kind.value,
        "dronegis:access": layer.access,
        "dronegis:height_datum": layer.height_datum.value,
        "dronegis:qa_status": layer.qa_status,
        "dronegis:freshness": layer.freshness,
    }
    if layer.qa_override:
        props["dronegis:qa_override"] = layer.qa_override
    props["dronegis:capture_time_source"] = layer.capture_time_source or (
        "unknown" if layer.capture_time is None else "product"
    )
    if layer.capture_time is None:
        props["dronegis:capture_date"] = "unknown"
    if layer.overrides:
        props["dronegis:overrides"] = dict(layer.overrides)
    if layer.accuracy is not None:
        props["dronegis:accuracy"] = layer.accuracy.figures()
    if layer.thermal:
        props["dronegis:thermal"] = dict(layer.thermal)
    if layer.style.unit:
        props["dronegis:unit"] = layer.style.unit
    if layer.privacy is not None:
        props["dronegis:privacy"] = layer.privacy.model_dump(mode="json", exclude={"zones_file"})
    if layer.datum is not None:
        props["dronegis:vertical_datum"] = layer.datum.model_dump(
            mode="json", include={"datum", "source", "vertical_crs", "geoid_n_m", "warnings"}
        )
    return props


def _set_platform(item: pystac.Item, layer: Layer) -> None:
    if layer.platform:
        item.common_metadata.platform = layer.platform
    if layer.instruments:
        item.common_metadata.instruments = list(layer.instruments)


def _set_view(item: pystac.Item, layer: Layer) -> None:
    if layer.off_nadir_deg is None and layer.azimuth_deg is None:
        return
    view = ViewExtension.ext(item, add_if_missing=True)
    if layer.off_nadir_deg is not None:
        view.off_nadir = float(layer.off_nadir_deg)
    if layer.azimuth_deg is not None:
        view.azimuth = float(layer.azimuth_deg) % 360.0


def build_catalog(items: Iterable[pystac.Item], title: str = "dronegis published layers") -> pystac.Catalog:
    """A catalog with one Collection per product kind holding the given items."""
    catalog = pystac.Catalog(id=CATALOG_ID, description=title, title=title)
    by_kind: dict[str, list[pystac.Item]] = {}
    for item in items:
        by_kind.setdefault(item.collection_id or "other", []).append(item)
    for kind, members in sorted(by_kind.items()):
        extent = pystac.Extent(
            pystac.SpatialExtent([_union([m.bbox for m in members if m.bbox])]),
            pystac.TemporalExtent([_interval(members)]),
        )
        collection = pystac.Collection(
            id=kind, description=f"Drone {kind.replace('_', ' ')} layers", extent=extent, license="other"
        )
        for item in members:
            collection.add_item(item)
        catalog.add_child(collection)
    return catalog


def _union(boxes: list[list[float]]) -> list[float]:
    if not boxes:  # only layers without features (e.g. no hot spot found): no extent is known
        return [-180.0, -90.0, 180.0, 90.0]
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def _interval(items: list[pystac.Item]) -> list[datetime | None]:
    times: list[datetime] = []
    for item in items:
        for key in ("datetime", "start_datetime", "end_datetime"):
            value = item.properties.get(key)
            if value:
                times.append(pystac.utils.str_to_datetime(value))
    return [min(times), max(times)] if times else [None, None]


def write_catalog(catalog: pystac.Catalog, folder: Path) -> Path:
    """Write a self-contained catalog under ``folder``; returns the catalog.json path."""
    catalog.normalize_hrefs(str(folder))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog.json"


def validate_tree(catalog_json: Path) -> int:
    """Validate every catalog, collection and item below ``catalog_json`` (core schemas, offline).

    Returns:
        The number of objects validated.

    Raises:
        ExportError: naming the first invalid file and the schema message.
    """
    from jsonschema import Draft7Validator
    from pystac.validation.local_validator import get_local_schema_cache
    from referencing import Registry, Resource

    cache = get_local_schema_cache()
    registry = Registry().with_resources([(uri, Resource.from_contents(doc)) for uri, doc in cache.items()])
    base = "https://schemas.stacspec.org/v1.1.0/"
    schema_uris = {
        "Catalog": base + "catalog-spec/json-schema/catalog.json",
        "Collection": base + "collection-spec/json-schema/collection.json",
        "Feature": base + "item-spec/json-schema/item.json",
    }
    count = 0
    for path in sorted(catalog_json.parent.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        kind = doc.get("type")
        if kind not in schema_uris:
            continue
        validator = Draft7Validator(cache[schema_uris[kind]], registry=registry)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if kind == "Feature":
            rules = Draft7Validator(EXTENSION_RULES)
            errors += sorted(rules.iter_errors(doc.get("properties", {})), key=lambda e: list(e.path))
        if errors:
            raise ExportError(f"STAC {kind} {path} is invalid: {errors[0].message} at {list(errors[0].path)}")
        count += 1
    return count
