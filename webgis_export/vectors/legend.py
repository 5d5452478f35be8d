"""Legends and titles of vector layers for people: Danish first, from ``core/messages.toml``.

GetLegendGraphic of a vector layer draws its symbol (or one row per class of a class style:
the fill colour and outline the map uses, :mod:`webgis_export.vectors.render`) under the
kind's name (``kind.<kind>``). A class reads ``legend.class.<field>.<value>`` when the
catalogue has it (the heat classes A–E: ``A – mindst varmetab``), else its value. Text is
drawn with matplotlib, which renders æ, ø and å.
"""

from __future__ import annotations

import io

from core.i18n import Lang, has, text
from pipeline.models import Product
from webgis_export.layer_text import kind_key
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.render import colour

ROW_IN = 0.24
WIDTH_IN = 2.6
DPI = 100


def class_label(field: str, value: str, lang: Lang) -> str:
    """The label of one class of a class style (its value when the catalogue has none)."""
    key = f"legend.class.{field}.{value}"
    return text(key, lang) if has(key) else value


def legend_entries(layer: VectorLayer, lang: Lang) -> list[tuple[str, str]]:
    """(label, fill colour) rows: one per class, or the kind's name with the style's fill."""
    style = layer.style
    if style.class_field and style.classes:
        return [(class_label(style.class_field, v, lang), fill) for v, fill in style.classes.items()]
    return [(text(f"kind.{kind_key(layer.kind)}", lang), style.fill or "#00000000")]


def vector_legend_png(layer: VectorLayer, lang: Lang = "da") -> bytes:
    """The PNG legend of a vector layer in ``lang``: title, then its symbol rows."""
    from matplotlib.figure import Figure  # lazy: +0.7 s, only when a legend is drawn
    from matplotlib.patches import Circle, Rectangle

    style = layer.style
    entries = legend_entries(layer, lang)
    rows = len(entries) + 1
    fig = Figure(figsize=(WIDTH_IN, ROW_IN * rows + 0.1), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH_IN)
    ax.set_ylim(rows, 0)
    ax.axis("off")
    ax.text(0.08, 0.6, text(f"kind.{kind_key(layer.kind)}", lang), fontsize=8, weight="bold", va="center")
    stroke = tuple(c / 255 for c in colour(style.stroke))
    point = "Point" in layer.geometry_type
    for row, (label, fill) in enumerate(entries, start=1):
        face = tuple(c / 255 for c in colour(fill))
        centre = row + 0.5
        patch = (
            Circle((0.25, centre), 0.12, facecolor=face, edgecolor=stroke, linewidth=1)
            if point
            else Rectangle((0.08, centre - 0.3), 0.35, 0.6, facecolor=face, edgecolor=stroke, linewidth=1.5)
        )
        ax.add_patch(patch)
        ax.text(0.55, centre, label, fontsize=8, va="center")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def vector_title(product: Product) -> str:
    """The default title of a published vector product: the kind in Danish / English, and the flight."""
    key = f"kind.{kind_key(product.kind)}"
    return f"{text(key, 'da')} / {text(key, 'en')} — {product.flight}"
