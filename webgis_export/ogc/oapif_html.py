"""HTML pages of the OGC API – Features for people: Danish first, English with ``?lang=en``.

Each page is rendered from the same document the JSON answer carries (landing page,
collections, one collection, a page of items, one item), so both say the same. The items
and item pages show the features on a map drawn by the service's own WMS (the collection is a
WMS layer; OpenLayers from ``/static/ol``, nothing from the network) and their properties in a
table, with paging links.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jinja2

from webgis_export.ogc.feature_texts import Lang, flown, kind_name, labels
from webgis_export.vectors.models import VectorLayer

MAX_COLUMNS = 12

_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_BASE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="stylesheet" href="{{ base }}/static/ol/ol.css">
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}
nav a{margin-right:12px} .muted{color:#666} #map{width:100%;height:420px;border:1px solid #ccc}
.internal{background:#8e24aa;color:#fff;padding:1px 6px;border-radius:3px}
</style></head><body>
<nav><a href="{{ home }}">{{ t.home }}</a><a href="{{ switch }}">{{ t.other_lang }}</a>
{% for l in json_links %}<a href="{{ l.href }}">{{ t.json }}</a>{% endfor %}</nav>
<h1>{{ title }}</h1>
{% block body %}{% endblock %}
{% if wms %}
<script src="{{ base }}/static/ol/ol.js"></script>
<script>
(function () {
  const ol = window.dronegisOl, cfg = {{ wms | tojson }};
  const extent = ol.transformExtent(cfg.bbox, 'EPSG:4326', 'EPSG:3857');
  const params = {LAYERS: cfg.layer, FORMAT: 'image/png', TRANSPARENT: true, VERSION: '1.3.0'};
  if (cfg.token) params.token = cfg.token;
  const map = new ol.Map({target: 'map', layers: [new ol.ImageLayer({source: new ol.ImageWMS({
    url: cfg.url, params: params, ratio: 1})})], view: new ol.View({projection: 'EPSG:3857'})});
  map.getView().fit(extent, {padding: [20, 20, 20, 20], maxZoom: 21});
})();
</script>
{% endif %}
</body></html>
"""
_PAGES = {
    "landing": """{% extends "base" %}{% block body %}
<p>{{ doc.description }}</p>
<ul>{% for l in doc.links if l.rel in ("data", "conformance", "service-desc", "service-doc") %}
<li><a href="{{ l.href }}">{{ l.title }}</a></li>{% endfor %}
<li><a href="{{ wfs }}">{{ t.wfs }}</a></li></ul>
{% endblock %}""",
    "conformance": """{% extends "base" %}{% block body %}
<ul>{% for c in doc.conformsTo %}<li>{{ c }}</li>{% endfor %}</ul>{% endblock %}""",
    "collections": """{% extends "base" %}{% block body %}
<table><tr><th>{{ t.title }}</th><th>{{ t.kind }}</th><th>{{ t.flight }}</th><th>{{ t.flown }}</th>
<th>{{ t.count }}</th><th>{{ t.qa }}</th><th>{{ t.access }}</th></tr>
{% for c in rows %}<tr><td><a href="{{ c.href }}">{{ c.title }}</a></td><td>{{ c.kind }}</td>
<td>{{ c.flight }}</td><td>{{ c.flown }}</td><td>{{ c.count }}</td><td>{{ c.qa }}</td>
<td>{% if c.internal %}<span class="internal">{{ t.internal }}</span>
{% else %}{{ t.public }}{% endif %}</td></tr>
{% endfor %}</table>{% endblock %}""",
    "collection": """{% extends "base" %}{% block body %}
<p>{{ doc.description }}</p>
<table>{% for k, v in facts %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<ul>{% for l in doc.links if l.rel in ("items", "describedby", "related")
   or l.rel.endswith("queryables") %}
<li><a href="{{ l.href }}">{{ l.title }}</a> ({{ l.type }})</li>{% endfor %}</ul>
<p class="muted">{{ t.filter_hint }}</p>{% endblock %}""",
    "items": """{% extends "base" %}{% block body %}
<div id="map"></div>
<p>{{ showing }}{% for l in paging %} · <a href="{{ l.href }}">{{ l.title }}</a>{% endfor %}</p>
<table><tr><th>id</th>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for f in features %}<tr><td><a href="{{ f.href }}">{{ f.id }}</a></td>
{% for v in f.cells %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
<p class="muted">{{ t.filter_hint }}</p>{% endblock %}""",
    "item": """{% extends "base" %}{% block body %}
<div id="map"></div>
<h2>{{ t.attributes }}</h2>
<table>{% for k, v in rows %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<p><a href="{{ back }}">{{ t.back }}</a></p>{% endblock %}""",
}
_ENV.loader = jinja2.DictLoader({"base": _BASE, **_PAGES})


def page(name: str, lang: Lang, context: dict[str, Any]) -> bytes:
    """Render page ``name`` with ``context`` (which holds ``title``, ``base``, ``home``, ``switch``)."""
    return _ENV.get_template(name).render(lang=lang, t=labels(lang), **context).encode()


def collection_rows(docs: Sequence[dict[str, Any]], lang: Lang) -> list[dict[str, Any]]:
    """Table rows of ``/collections``."""
    rows = []
    for doc in docs:
        html = next(link["href"] for link in doc["links"] if link["rel"] == "alternate")
        rows.append(
            {
                "href": html,
                "title": doc["title"],
                "kind": doc["dronegis:kind_title"],
                "flight": doc["dronegis:flight"],
                "flown": (doc["extent"]["temporal"]["interval"][0][0] or "–").replace("T", " "),
                "count": doc["dronegis:feature_count"],
                "qa": doc["dronegis:qa_status"] or labels(lang)["not_run"],
                "internal": doc["dronegis:access"] == "internal",
            }
        )
    return rows


def collection_facts(layer: VectorLayer, doc: dict[str, Any], lang: Lang) -> list[tuple[str, str]]:
    """The facts table of one collection."""
    t = labels(lang)
    extent = doc["extent"].get("spatial", {}).get("bbox", [["–"]])[0]
    return [
        (t["kind"], kind_name(layer.kind.value, lang)),
        (t["flight"], layer.flight),
        (t["flown"], flown(layer, lang)),
        (t["count"], str(layer.feature_count)),
        (t["qa"], layer.qa_status or t["not_run"]),
        (t["access"], t[layer.access]),
        (t["crs"], ", ".join(doc["crs"])),
        (t["extent"], ", ".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in extent)),
    ]


def feature_table(features: Sequence[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows of an items page (the first :data:`MAX_COLUMNS` properties)."""
    header: list[str] = list(features[0]["properties"])[:MAX_COLUMNS] if features else []
    rows = [
        {"id": f["id"], "href": f["html"], "cells": [_cell(f["properties"].get(h)) for h in header]}
        for f in features
    ]
    return header, rows


def property_rows(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """Name/value rows of one feature."""
    return [(name, _cell(value)) for name, value in properties.items()]


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
