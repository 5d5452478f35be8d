"""How the analyses' float rasters are drawn: diverging colour maps around zero, fixed documented ranges.

- ``vegetation_index``: ``RdYlGn`` (red bare soil/water, green vegetation) over the index's
  documented display range (``DRONEGIS_DISPLAY_RANGE``: ±0.5 for the RGB indices ExG, VARI, GLI,
  NGRDI; ±1 for NDVI, NDRE, GNDVI, SAVI; :mod:`pipeline.vegetation.indices`), the same for every
  flight, so two flights of one place read alike. The style's title is the index name.
- ``change_map``: AFTER − BEFORE, symmetric around 0 at the larger of twice the detection
  threshold and the 2nd/98th percentile of |change|: ``RdYlGn`` for an index (loss red, gain
  green), ``BrBG`` for heights (lower brown, higher blue-green), in the map's unit.
- ``cut_fill``: DSM − base, ``RdBu_r`` (cut red, fill blue) symmetric at the range the volume
  stage wrote (``DRONEGIS_VMIN``/``DRONEGIS_VMAX``: the polygons' 98th percentile of |height|).
"""

from __future__ import annotations

import math
from pathlib import Path

import rasterio

from core.errors import ExportError
from core.i18n import text
from pipeline.models import Product, ProductKind
from webgis_export.models import Style

ANALYSIS_KINDS = frozenset({ProductKind.VEGETATION_INDEX, ProductKind.CHANGE_MAP, ProductKind.CUT_FILL})
INDEX_COLORMAP = "RdYlGn"
HEIGHT_CHANGE_COLORMAP = "BrBG"
CUT_FILL_COLORMAP = "RdBu_r"


def _float_tag(tags: dict[str, str], name: str, cog: Path) -> float:
    try:
        return float(tags[name])
    except (KeyError, ValueError):
        raise ExportError(f"{cog}: tag {name} is {tags.get(name)!r}, expected a number") from None


def _nice(value: float) -> float:
    """``value`` rounded up to 1, 2 or 5 × a power of ten (a legend's end)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 5.0, 10.0) if step * power >= value * (1 - 1e-9))


def analysis_style(product: Product, cog: Path, sampled: tuple[float, float]) -> Style:
    """The style of an analysis raster (``sampled``: its 2nd and 98th percentile of valid values).

    Raises:
        ExportError: a tag the style needs is missing or not a number.
    """
    with rasterio.open(cog) as src:
        tags = src.tags()
    if product.kind is ProductKind.VEGETATION_INDEX:
        low, high = (float(v) for v in tags.get("DRONEGIS_DISPLAY_RANGE", "-1 1").split())
        return Style(title=tags.get("DRONEGIS_INDEX", "index"), colormap=INDEX_COLORMAP, vmin=low, vmax=high)
    if product.kind is ProductKind.CHANGE_MAP:
        threshold = _float_tag(tags, "DRONEGIS_CHANGE_THRESHOLD", cog)
        end = _nice(max(2.0 * threshold, abs(sampled[0]), abs(sampled[1])))
        heights = tags.get("DRONEGIS_CHANGE_KIND") == "dsm"
        unit = tags.get("DRONEGIS_UNITS") or product.units
        return Style(
            title=tags.get("DRONEGIS_CHANGE_VALUE", "change"),
            colormap=HEIGHT_CHANGE_COLORMAP if heights else INDEX_COLORMAP,
            vmin=-end,
            vmax=end,
            unit=unit if unit == "m" else None,
        )
    end = _float_tag(tags, "DRONEGIS_VMAX", cog)
    colormap = tags.get("DRONEGIS_COLORMAP", CUT_FILL_COLORMAP)
    return Style(title="cut/fill", colormap=colormap, vmin=-end, vmax=end, unit="m")


def analysis_title(product: Product, style: Style) -> str | None:
    """Danish / English default title of an analysis layer (``Vegetationsindeks ExG / Vegetation index
    ExG — <flight>``); None for other kinds."""
    if product.kind not in ANALYSIS_KINDS:
        return None
    what = f" {style.title}" if product.kind is ProductKind.VEGETATION_INDEX else ""
    names = [f"{text(f'kind.{product.kind.value}', lang)}{what}" for lang in ("da", "en")]
    return f"{names[0]} / {names[1]} — {product.flight}"
