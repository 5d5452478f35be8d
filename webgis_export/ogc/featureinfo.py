"""GetFeatureInfo answers (WMS and WMTS): the raw COG value at a point, with context.

Thermal layers report ``temperature_c``; other single-band layers report ``value``
with their unit (metres for DSM/DTM); imagery reports its band values. Every answer
carries the capture time, accuracy figures, QA status and height datum, which is
what a case handler clicking a roof needs. On a vector layer the answer is the features under
the click (nearest first, ``FEATURE_COUNT`` per layer) with all their attributes, their id
(the OGC API/WFS feature id) and, in JSON, their geometry in the request's CRS.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import shapely
from rasterio.crs import CRS

from core.localtime import local_text
from webgis_export.layer_text import accuracy_line
from webgis_export.models import Layer
from webgis_export.ogc.capabilities import INFO_FORMATS
from webgis_export.ogc.exceptions import OgcError, OgcResponse, Service
from webgis_export.service import LayerStore
from webgis_export.vectors.cards import CARD_FIELD, card_url, has_cards
from webgis_export.vectors.columns import rows as property_rows
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.query import FeaturePage

VectorHits = Sequence[tuple[VectorLayer, FeaturePage, np.ndarray]]
Links = tuple[str, str | None]


class QueryPoint(NamedTuple):
    """Where a FeatureInfo request asks: x/y in ``crs`` (named ``crs_name`` as the request named it)."""

    x: float
    y: float
    crs: CRS
    crs_name: str
"""The service's base URL and the caller's query token (links in the answer)."""


def layer_info(layer: Layer, values: list[float | None]) -> dict[str, object]:
    """The properties reported for one layer at one point."""
    props: dict[str, object] = {"layer": layer.id, "title": layer.title, "kind": layer.kind.value}
    if layer.style.is_rgb:
        props["values"] = values
    elif layer.is_thermal:
        props["temperature_c"] = _round(values[0])
        props["unit"] = "°C"
    else:
        props["value"] = _round(values[0])
        props["unit"] = layer.style.unit
    when = layer.capture_time
    props["captured"] = when.isoformat() if when else None
    props["captured_local"] = local_text(when) if when else None  # what people read: Copenhagen time
    props["accuracy"] = layer.accuracy.figures() if layer.accuracy is not None else {}
    props["qa_status"] = layer.qa_status
    props["height_datum"] = layer.height_datum.value
    if layer.thermal:
        props["thermal"] = dict(layer.thermal)
    return props


def vector_info(layer: VectorLayer, page: FeaturePage, links: Links = ("", None)) -> list[dict[str, object]]:
    """The properties reported for each feature of a vector layer under the click.

    A feature naming a card (``card``: the buildings) also gets ``card_url``, where the service
    answers it (``links``: the service's base URL and the caller's query token).
    """
    when = layer.capture_time
    context: dict[str, object] = {
        "layer": layer.id,
        "title": layer.title,
        "kind": layer.kind.value,
        "captured": when.isoformat() if when else None,
        "captured_local": local_text(when) if when else None,
        "qa_status": layer.qa_status,
        "accuracy": layer.accuracy.figures() if layer.accuracy is not None else {},
    }
    attributes = property_rows(layer.fields, page.columns, page.returned)
    found: list[dict[str, object]] = []
    for fid, values in zip(page.fids.tolist(), attributes, strict=True):
        props = {**context, "feature_id": fid, "attributes": values}
        url = card_url(layer, values.get(CARD_FIELD), *links) if has_cards(layer.fields) else None
        found.append({**props, "card_url": url} if url else props)
    return found


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def feature_info(
    store: LayerStore,
    layers: Sequence[Layer],
    point: QueryPoint,
    info_format: str,
    *,
    service: Service,
    vectors: VectorHits = (),
    links: Links = ("", None),
) -> OgcResponse:
    """Values of ``layers`` at ``point`` and the ``vectors``' features there
    (``links``: base URL and query token for the features' card URLs)."""
    x, y, crs, crs_name = point
    fmt = info_format.lower().split(";")[0].strip()
    if fmt not in INFO_FORMATS:
        locator = "INFO_FORMAT" if service == "WMS" else "InfoFormat"
        raise OgcError(
            "InvalidFormat",
            f"{locator}={info_format!r}; offered: {', '.join(INFO_FORMATS)}",
            locator,
            service,
        )
    features = [layer_info(layer, store.point(layer, x, y, crs)) for layer in layers]
    found = [
        (props, geometry)
        for layer, page, geometries in vectors
        for props, geometry in zip(vector_info(layer, page, links), geometries, strict=True)
    ]
    features += [props for props, _ in found]
    if fmt == "application/json":
        clicked = {"type": "Point", "coordinates": [x, y]}
        doc = {
            "type": "FeatureCollection",
            "crs": crs_name,
            "features": [
                {"type": "Feature", "geometry": clicked, "properties": props}
                for props in features[: len(layers)]
            ]
            + [
                {
                    "type": "Feature",
                    "id": f"{props['layer']}.{props['feature_id']}",
                    "geometry": json.loads(shapely.to_geojson(geometry)) if geometry is not None else None,
                    "properties": props,
                }
                for props, geometry in found
            ],
        }
        return OgcResponse(json.dumps(doc, ensure_ascii=False).encode(), "application/json")
    if fmt == "text/html":
        return OgcResponse(_html(features).encode(), "text/html; charset=utf-8")
    return OgcResponse(_plain(features, x, y, crs_name).encode(), "text/plain; charset=utf-8")


def _describe(props: dict[str, object]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if "attributes" in props:
        rows.append(("feature", str(props["feature_id"])))
        attributes: dict[str, object] = props["attributes"]  # type: ignore[assignment]
        rows.extend((name, "–" if value is None else str(value)) for name, value in attributes.items())
        rows.append(("captured", str(props.get("captured_local") or "unknown")))
        rows.append(("QA", str(props.get("qa_status") or "not run")))
        if props.get("card_url"):
            rows.append(("card", str(props["card_url"])))
        return rows
    if "temperature_c" in props:
        temp = props["temperature_c"]
        rows.append(("temperature", "no data" if temp is None else f"{temp:.2f} °C"))
    elif "value" in props:
        value, unit = props["value"], props.get("unit") or ""
        rows.append(("value", "no data" if value is None else f"{value:g} {unit}".strip()))
    else:
        rows.append(("values", ", ".join("no data" if v is None else f"{v:g}" for v in props["values"])))  # type: ignore[attr-defined]
    rows.append(("captured", str(props.get("captured_local") or "unknown")))
    accuracy = props.get("accuracy")
    rows.append(
        ("accuracy", accuracy_line(accuracy) if isinstance(accuracy, dict) and accuracy else "not measured")
    )
    rows.append(("QA", str(props.get("qa_status") or "not run")))
    rows.append(("height datum", str(props.get("height_datum"))))
    return rows


def _plain(features: list[dict[str, object]], x: float, y: float, crs_name: str) -> str:
    lines = [f"GetFeatureInfo at {x:.6f}, {y:.6f} ({crs_name})"]
    for props in features:
        lines.append(f"Layer '{props['layer']}' ({props['title']})")
        lines.extend(f"  {name}: {text}" for name, text in _describe(props))
    return "\n".join(lines) + "\n"


def _html(features: list[dict[str, object]]) -> str:
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Feature info</title></head><body>"]
    for props in features:
        parts.append(f"<h3>{html.escape(str(props['title']))}</h3><table>")
        for name, text in _describe(props):
            parts.append(f"<tr><th>{html.escape(name)}</th><td>{html.escape(text)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
