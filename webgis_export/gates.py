"""Publication gates besides the QA report: a known capture date, and the municipality.

- **Capture date.** A product without a capture time (``Product.time_start``/``time_end``,
  set by the process stage) is refused, naming the product, until a date is declared
  (``dronegis ingest --captured DATE`` then ``dronegis process``) — or a person publishes it
  with a recorded reason (``allow_undated``). The layer then says so: STAC
  ``datetime: null``, ``start_datetime`` 1970-01-01 (no lower bound known), ``end_datetime``
  the ingest time (it cannot have been flown later), ``dronegis:capture_date: "unknown"`` and
  the reason under ``dronegis:overrides``. The publication time is never the capture time.
- **Place.** When an area is given (the CLI and the service always give the municipality,
  Skanderborg by default), a product whose COG footprint (a vector product: the extent of its
  features) lies partly or wholly outside it is
  refused, unless a person publishes it with a recorded reason (``allow_outside``). The
  service's GIS approval is such a reason: the job waited for it because QA flagged the flight.
"""

from __future__ import annotations

import logging
from pathlib import Path

import rasterio
from pydantic import Field
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from core.errors import ExportError, PublicationRefused
from core.models import Frozen
from flights.aoi import SKANDERBORG_KOMKODE, load_municipality
from flights.rasters import wgs84_bounds
from pipeline.models import Product
from webgis_export.layerbuild import sample_range
from webgis_export.vectors.build import is_vector, source_table, vector_footprint

log = logging.getLogger(__name__)


class PublishGates(Frozen):
    """What publication checks besides QA, and the recorded reasons that let a product through."""

    area: Path | None = Field(
        None, description="boundary (GeoJSON/GPKG) products must lie in; None: no area check"
    )
    area_code: str = Field(SKANDERBORG_KOMKODE, description="KOMKODE selecting one area of a national file")
    allow_undated: str | None = Field(None, description="recorded reason for publishing without capture date")
    allow_outside: str | None = Field(None, description="recorded reason for publishing outside the area")


def footprint(cog: Path) -> BaseGeometry:
    """The raster's footprint in EPSG:4326 (its bounds, densified)."""
    with rasterio.open(cog) as src:
        wgs84 = wgs84_bounds(src.crs.to_wkt(), tuple(src.bounds))
    if wgs84 is None:
        raise ExportError(f"{cog}: its extent has no WGS84 bounds")
    return box(*wgs84)


def check_products(products: list[Product], root: Path, gates: PublishGates) -> dict[str, dict[str, str]]:
    """Refuse the products a gate holds; return, per product, the overrides that let it through.

    Raises:
        PublicationRefused: naming every held product and what to do.
    """
    area = load_municipality(gates.area, gates.area_code) if gates.area is not None else None
    used: dict[str, dict[str, str]] = {}
    held: list[str] = []
    for product in products:
        used[product.id] = {}
        if product.time_start is None and product.time_end is None:
            if gates.allow_undated:
                used[product.id]["undated"] = gates.allow_undated
            else:
                held.append(undated_message(product))
        where = _outside(area, _shape(product, root)) if area is not None else None
        if where is not None:
            if gates.allow_outside:
                used[product.id]["outside_area"] = gates.allow_outside
            else:
                held.append(
                    f"{product.id}: ligger uden for kommunen / lies {where} outside the municipality "
                    f"({gates.area_code}); publish it with --allow-outside-area REASON if that is intended"
                )
    if held:
        raise PublicationRefused("offentliggørelse afvist / publication refused:\n  " + "\n  ".join(held))
    return used


def drop_empty(products: list[Product], root: Path) -> list[Product]:
    """The products with a valid pixel; a raster without one (an all-NaN DSM) is skipped, not the flight.

    Raises:
        ExportError: every product is empty (naming each).
    """
    kept, empty = [], []
    for product in products:
        try:
            if not is_vector(product):
                sample_range(root / product.path)
            kept.append(product)
        except ExportError as exc:
            log.error("%s: not published (the rest of the flight is): %s", product.id, exc)
            empty.append(f"{product.id}: {exc}")
    if empty and not kept:
        raise ExportError("nothing to publish: " + "; ".join(empty))
    return kept


def undated_message(product: Product) -> str:
    """Why an undated product is held, and the two ways on."""
    return (
        f"{product.id}: optagelsesdato ukendt / capture date unknown (none in the file, no dated frames, "
        f"no --captured); declare it (dronegis ingest --captured YYYY-MM-DD, then dronegis process "
        f"{product.flight}) or publish with --allow-undated REASON"
    )


def _shape(product: Product, root: Path) -> BaseGeometry | None:
    """Where a product lies (EPSG:4326): its COG's footprint, or a vector layer's extent (None if empty)."""
    path = root / product.path
    if is_vector(product):
        return vector_footprint(path, source_table(product, path))
    return footprint(path)


def _outside(area: BaseGeometry, shape: BaseGeometry | None) -> str | None:
    """``entirely``/``partly`` when ``shape`` leaves ``area``, else None (also for no shape)."""
    if shape is None or area.contains(shape):
        return None
    return "partly" if area.intersects(shape) else "entirely"
