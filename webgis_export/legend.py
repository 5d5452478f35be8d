"""PNG legends drawn from the same lookup table and value range as the tiles.

The colour bar is built from :func:`webgis_export.render.colormap_lut` (the exact
256 colours the tiles use), not from a second colormap object, so a legend can never
disagree with the map.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np

from core.i18n import Lang, text
from webgis_export.models import Layer, Style
from webgis_export.render import colormap_lut

LEGEND_SIZE_IN = (1.6, 3.2)
LEGEND_DPI = 100


def style_defaults(kind_is_thermal: bool, unit: str | None) -> str:
    """The axis label of a legend: quantity and unit."""
    if kind_is_thermal:
        return "Temperature (°C)"
    return f"Value ({unit})" if unit else "Value"


def legend_png(style: Style, title: str, label: str | None = None) -> bytes:
    """A PNG legend for ``style``: a vertical colour bar, or an RGB note for imagery."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.figure import Figure

    fig = Figure(figsize=LEGEND_SIZE_IN, dpi=LEGEND_DPI)
    if style.is_rgb:
        ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{title}\nRGB imagery", ha="center", va="center", wrap=True, fontsize=9)
    else:
        lut = colormap_lut(style.colormap or "viridis").astype(float) / 255.0
        cmap = ListedColormap(lut, name=style.colormap or "viridis")
        vmin = 0.0 if style.vmin is None else style.vmin
        vmax = 1.0 if style.vmax is None else style.vmax
        ax = fig.add_axes((0.15, 0.05, 0.25, 0.85))
        gradient = np.linspace(vmax, vmin, 256).reshape(-1, 1)
        ax.imshow(
            gradient,
            aspect="auto",
            cmap=cmap,
            norm=Normalize(vmin, vmax),
            extent=(0, 1, vmin, vmax),
            interpolation="nearest",
        )
        ax.set_xticks([])
        ax.yaxis.tick_right()
        ax.yaxis.set_label_position("right")
        ax.set_ylabel(label or (f"Value ({style.unit})" if style.unit else "Value"), fontsize=8)
        ax.tick_params(labelsize=8)
        if title:
            ax.set_title(textwrap.fill(title, 22), fontsize=8, loc="left")
    buffer = io.BytesIO()
    # "tight" grows the image to hold every label: a long title or value never gets cut off
    fig.savefig(buffer, format="png", transparent=False, bbox_inches="tight", pad_inches=0.05)
    return buffer.getvalue()


def layer_legend_png(layer: Layer) -> bytes:
    """The legend of a published layer (°C for thermal, metres for heights; analyses labelled in Danish)."""
    analysis = layer.kind.value in ("vegetation_index", "change_map", "cut_fill")
    label = legend_label(layer, "da") if analysis else style_defaults(layer.is_thermal, layer.style.unit)
    return legend_png(layer.style, layer.title, label)


def legend_label(layer: Layer, lang: Lang) -> str:
    """The colour bar's axis label for people: ``Temperatur (°C)``, ``Højde (m)``, ``Værdi``."""
    unit = layer.style.unit
    if layer.is_thermal:
        return text("legend.temperature", lang)
    if layer.kind.value in ("dsm", "dtm") and unit:
        return text("legend.height", lang, unit=unit)
    if layer.kind.value == "vegetation_index":
        return text("legend.index", lang)
    if layer.kind.value == "change_map":
        return text("legend.height_change", lang, unit=unit) if unit else text("legend.index_change", lang)
    if layer.kind.value == "cut_fill":
        return text("legend.cut_fill", lang, unit=unit or "m")
    return text("legend.value", lang, unit=unit) if unit else text("legend.value_plain", lang)


def people_legend_png(layer: Layer, lang: Lang) -> bytes | None:
    """The colour bar in ``lang`` without a title (the page prints the title); ``None`` for imagery."""
    if layer.style.is_rgb:
        return None
    return legend_png(layer.style, "", legend_label(layer, lang))
