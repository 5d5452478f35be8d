"""WMS 1.3.0 and WMTS 1.0.0 capabilities documents for the visible layers.

Bounding boxes follow each CRS's axis order: in WMS 1.3.0 ``EPSG:4326`` is
lat/lon (minx = south latitude), ``CRS:84`` lon/lat, ``EPSG:25832`` and
``EPSG:3857`` easting/northing. ``EX_GeographicBoundingBox`` is always lon/lat.
URLs carry the caller's ``token`` query parameter when it came that way, so GIS
clients that cannot send headers keep access to internal layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.i18n import Lang, text
from webgis_export.layer_text import accuracy_line, accuracy_text, flown_text, purpose_label, qa_text
from webgis_export.models import Layer
from webgis_export.ogc.feature_texts import describe
from webgis_export.ogc.wms_series import Series, dimension_values, series_layer, series_of
from webgis_export.ogc.wms_time import dimension_default, dimension_extent
from webgis_export.ogc.xmltree import WMS_NS, XLINK, Element, document, href, num, serialise, sub
from webgis_export.service import bounds_in
from webgis_export.tms import get_tms, max_zoom, zoom_for_gsd
from webgis_export.vectors.models import VectorLayer

WMS_CRS = ("EPSG:25832", "EPSG:4326", "CRS:84", "EPSG:3857")
LAT_LON_CRS = frozenset({"EPSG:4326"})
MAP_FORMATS = ("image/png", "image/jpeg")
INFO_FORMATS = ("text/plain", "application/json", "text/html")
MAX_SIZE = 4096
EXTRA_ZOOM = 1
WELL_KNOWN = {"WebMercatorQuad": "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible"}

#: The services' title, Danish then English (as the WFS's).
SERVICE_TITLE = "dronegis – dronekort / drone layers (Skanderborg Kommune)"


def with_token(url: str, token: str | None) -> str:
    """``url`` with ``token=…`` appended when the caller authenticated by query parameter."""
    if not token:
        return url
    return f"{url}{'&' if '?' in url else '?'}token={token}"


def time_extent(layer: Layer) -> str | None:
    """ISO 8601 capture time, or ``start/end`` for a long flight (the time Dimension's extent)."""
    return dimension_extent(layer)


def wms_capabilities(
    layers: Sequence[Layer], base_url: str, token: str | None = None, vectors: Sequence[VectorLayer] = ()
) -> bytes:
    """The WMS 1.3.0 capabilities XML: raster layers, then vector layers (drawn with their simple style)."""
    q = f"{{{WMS_NS}}}"
    root = document(
        f"{q}WMS_Capabilities",
        WMS_NS,
        {"xlink": XLINK},
        "http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd",
        version="1.3.0",
    )
    service = sub(root, f"{q}Service")
    sub(service, f"{q}Name", "WMS")
    sub(service, f"{q}Title", SERVICE_TITLE)
    sub(service, f"{q}Abstract", both("capabilities.service_abstract"))
    href(service, f"{q}OnlineResource", with_token(f"{base_url}/wms", token))
    sub(service, f"{q}MaxWidth", str(MAX_SIZE))
    sub(service, f"{q}MaxHeight", str(MAX_SIZE))
    capability = sub(root, f"{q}Capability")
    request = sub(capability, f"{q}Request")
    endpoint = with_token(f"{base_url}/wms?", token)
    for name, formats in (
        ("GetCapabilities", ("text/xml",)),
        ("GetMap", MAP_FORMATS),
        ("GetFeatureInfo", INFO_FORMATS),
    ):
        op = sub(request, f"{q}{name}")
        for fmt in formats:
            sub(op, f"{q}Format", fmt)
        http = sub(sub(op, f"{q}DCPType"), f"{q}HTTP")
        href(sub(http, f"{q}Get"), f"{q}OnlineResource", endpoint)
    exception = sub(capability, f"{q}Exception")
    for fmt in ("XML", "INIMAGE", "BLANK"):
        sub(exception, f"{q}Format", fmt)
    top = sub(capability, f"{q}Layer")
    sub(top, f"{q}Title", "dronegis")
    for crs in WMS_CRS:
        sub(top, f"{q}CRS", crs)
    boxes = [layer.bounds_wgs84 for layer in layers] + [v.bounds_wgs84 for v in vectors if v.bounds_wgs84]
    if boxes:
        union = (
            min(box[0] for box in boxes),
            min(box[1] for box in boxes),
            max(box[2] for box in boxes),
            max(box[3] for box in boxes),
        )
        _geographic_box(top, q, union)
    for layer in layers:
        _wms_layer(top, q, layer, base_url, token)
    for series in series_of(layers):
        _wms_series_layer(top, q, series, base_url, token)
    for vector in vectors:
        _wms_vector_layer(top, q, vector, base_url, token)
    return serialise(root)


def _geographic_box(parent: Element, q: str, box: tuple[float, float, float, float]) -> None:
    geo = sub(parent, f"{q}EX_GeographicBoundingBox")
    for tag, value in zip(
        ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude"),
        (box[0], box[2], box[1], box[3]),
        strict=True,
    ):
        sub(geo, f"{q}{tag}", num(value))


def _wms_layer(parent: Element, q: str, layer: Layer, base_url: str, token: str | None) -> None:
    node = sub(parent, f"{q}Layer", queryable="1", opaque="0")
    sub(node, f"{q}Name", layer.id)
    sub(node, f"{q}Title", layer.title)
    sub(node, f"{q}Abstract", layer_abstract(layer))
    _extent(node, q, layer)
    style = sub(node, f"{q}Style")
    sub(style, f"{q}Name", layer.style.name)
    sub(style, f"{q}Title", layer.style.title)
    legend = sub(style, f"{q}LegendURL", width="160", height="320")
    sub(legend, f"{q}Format", "image/png")
    href(legend, f"{q}OnlineResource", with_token(f"{base_url}/legend/{layer.id}.png", token))


def _wms_series_layer(parent: Element, q: str, series: Series, base_url: str, token: str | None) -> None:
    """An index over the flights of one place: the members' capture times as the time Dimension's
    values (default the latest); its legend is GetLegendGraphic (:mod:`webgis_export.ogc.wms_series`)."""
    _wms_layer(parent, q, series_layer(series), base_url, token)
    node = parent[-1]
    dimension = node.find(f"{q}Dimension")
    if dimension is not None:
        dimension.text = dimension_values(series)
        dimension.set("default", str(dimension_default(series.latest)))
    url = f"{base_url}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png"
    for resource in node.iter(f"{q}OnlineResource"):
        resource.set(f"{{{XLINK}}}href", with_token(f"{url}&LAYER={series.id}", token))


def _wms_vector_layer(parent: Element, q: str, layer: VectorLayer, base_url: str, token: str | None) -> None:
    """A vector layer: queryable (GetFeatureInfo returns its features' attributes), drawn in one style."""
    if layer.bounds is None or layer.bounds_wgs84 is None:
        return  # a layer without features has no extent to draw
    node = sub(parent, f"{q}Layer", queryable="1", opaque="0")
    sub(node, f"{q}Name", layer.id)
    sub(node, f"{q}Title", layer.title)
    sub(node, f"{q}Abstract", describe(layer, "da") + " / " + describe(layer, "en"))
    _extent(node, q, layer)
    style = sub(node, f"{q}Style")
    sub(style, f"{q}Name", layer.style.name)
    sub(style, f"{q}Title", layer.style.title)
    legend = sub(style, f"{q}LegendURL", width="160", height="120")
    sub(legend, f"{q}Format", "image/png")
    url = f"{base_url}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png"
    url += f"&LAYER={layer.id}"
    href(legend, f"{q}OnlineResource", with_token(url, token))


def _extent(node: Element, q: str, layer: Layer | VectorLayer) -> None:
    """Geographic and per-CRS bounding boxes, and the time dimension (capture time)."""
    assert layer.bounds is not None and layer.bounds_wgs84 is not None
    _geographic_box(node, q, layer.bounds_wgs84)
    for crs in WMS_CRS:
        if crs == "CRS:84":
            box = layer.bounds_wgs84
        else:
            box = bounds_in(layer.crs, layer.bounds, crs)  # type: ignore[assignment]
        if crs in LAT_LON_CRS:
            box = (box[1], box[0], box[3], box[2])
        sub(
            node,
            f"{q}BoundingBox",
            CRS=crs,
            minx=num(box[0]),
            miny=num(box[1]),
            maxx=num(box[2]),
            maxy=num(box[3]),
        )
    extent, default = dimension_extent(layer), dimension_default(layer)
    if extent and default:
        sub(
            node,
            f"{q}Dimension",
            extent,
            name="time",
            units="ISO8601",
            default=default,
            multipleValues="0",
            nearestValue="0",
            current="0",
        )


def both(key: str) -> str:
    """A catalogue text in Danish, then English (``Ortofotos … / Orthophotos …``): OGC clients show one."""
    return f"{text(key, 'da')} / {text(key, 'en')}"


def layer_abstract(layer: Layer) -> str:
    """What a GIS client shows about a layer: what it is, when it was flown, how exact, its QA — in Danish,
    then English — and the figures (GSD, the accuracy statement, the unit of the values)."""
    people = " / ".join(_for_people(layer, lang) for lang in ("da", "en"))
    figures = [f"GSD {layer.gsd_m:.3f} m"]
    if layer.accuracy is not None:
        figures.append(accuracy_line(layer.accuracy.figures()))
    if layer.style.unit:
        figures.append(f"unit {layer.style.unit}")
    return f"{people} — {'; '.join(figures)}"


def _for_people(layer: Layer, lang: Lang) -> str:
    accuracy = accuracy_text(layer, lang)
    return text(
        "capabilities.layer",
        lang,
        kind=purpose_label(layer, lang),
        flown=flown_text(layer, lang),
        accuracy=accuracy.text,
        qa=qa_text(layer, accuracy, lang).label,
    )


def layer_depth(layer: Layer, tms_id: str) -> int:
    """Deepest level advertised for a layer: its GSD level plus one overzoom level."""
    lat = (layer.bounds_wgs84[1] + layer.bounds_wgs84[3]) / 2
    return min(zoom_for_gsd(tms_id, layer.gsd_m, latitude=lat) + EXTRA_ZOOM, max_zoom(tms_id))


def tile_limits(layer: Layer | VectorLayer, tms_id: str, z: int) -> tuple[int, int, int, int] | None:
    """(min row, max row, min col, max col) of the layer at level ``z``; None outside the set."""
    if layer.bounds is None:
        return None
    tms = get_tms(tms_id)
    crs = f"EPSG:{tms.crs.to_epsg()}"
    left, bottom, right, top = bounds_in(layer.crs, layer.bounds, crs)
    matrix = tms.matrix(z)
    x0, y0 = matrix.pointOfOrigin
    span = matrix.cellSize * matrix.tileWidth
    col0, col1 = (
        max(0, math.floor((left - x0) / span)),
        min(matrix.matrixWidth - 1, math.floor((right - x0) / span)),
    )
    row0, row1 = (
        max(0, math.floor((y0 - top) / span)),
        min(matrix.matrixHeight - 1, math.floor((y0 - bottom) / span)),
    )
    if col0 > col1 or row0 > row1:
        return None
    return row0, row1, col0, col1
