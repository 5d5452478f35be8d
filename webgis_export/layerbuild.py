"""Build one layer folder from one product: COG, style, legend, pyramids, Layer model.

Used by :mod:`webgis_export.publish`, which calls it inside a staging folder and
renames the result into place only after everything validated.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import rasterio
from pydantic import ConfigDict, Field

from core.errors import ExportError
from core.models import Frozen
from flights.rasters import wgs84_bounds
from pipeline.models import Accuracy, Product, ProductKind, ProductThermal
from pipeline.rasters.cog import profile_for, validate_cog, write_cog
from webgis_export.analysis_style import ANALYSIS_KINDS, analysis_style, analysis_title
from webgis_export.legend import layer_legend_png
from webgis_export.models import Access, Approval, Layer, QAFinding, Style
from webgis_export.places import locality_of
from webgis_export.privacy.apply import PrivacyRun, apply_to_cog, write_stamp
from webgis_export.pyramid import build_pyramid, default_zooms
from webgis_export.tms import supported_tms

log = logging.getLogger(__name__)

COG_NAME = "cog.tif"
LEGEND_NAME = "legend.png"
RASTER_KINDS = frozenset(
    k for k in ProductKind if k not in (ProductKind.FOOTPRINTS, ProductKind.PHOTO_POINTS)
)
COLORMAPS = {
    ProductKind.THERMAL_FRAME: ("inferno", "°C"),
    ProductKind.THERMAL_MOSAIC: ("inferno", "°C"),
    ProductKind.DSM: ("terrain", "m"),
    ProductKind.DTM: ("terrain", "m"),
}


def validate_cog_file(path: Path) -> None:
    """Raise :class:`ExportError` unless rio-cogeo accepts ``path`` as a COG."""
    result = validate_cog(path)
    if not result.valid:
        raise ExportError(f"{path} is not a valid COG: {'; '.join(result.errors)}")


def stage_cog(source: Path, target: Path, kind: ProductKind) -> None:
    """Copy ``source`` to ``target`` if it is a valid COG, else write one with the kind's COG profile."""
    if validate_cog(source).valid:
        shutil.copyfile(source, target)
        return
    profile = profile_for(kind)
    log.info("converting %s to a COG (profile %s)", source, profile)
    write_cog(source, target, profile)


def sample_range(cog: Path) -> tuple[float, float]:
    """2nd and 98th percentile of band 1's valid values, read from a small overview."""
    with rasterio.open(cog) as src:
        scale = max(1, max(src.width, src.height) // 512)
        data = src.read(1, out_shape=(max(1, src.height // scale), max(1, src.width // scale)), masked=True)
    values = np.asarray(data.compressed(), dtype="float64")
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ExportError(f"{cog} has no valid pixel to style")
    low, high = np.percentile(values, [2, 98])
    return float(low), float(high if high > low else low + 1.0)


def default_style(product: Product, cog: Path) -> Style:
    """RGB pass-through for imagery; analysis rasters diverging around 0; else a colormap over 2–98 %."""
    with rasterio.open(cog) as src:
        imagery = src.count >= 3 and src.dtypes[0] == "uint8"
    if imagery and product.kind not in COLORMAPS:
        return Style(title="RGB")
    if product.kind in ANALYSIS_KINDS:
        return analysis_style(product, cog, sample_range(cog))
    cmap, unit = COLORMAPS.get(product.kind, ("viridis", product.units or ""))
    vmin, vmax = sample_range(cog)
    return Style(colormap=cmap, vmin=round(vmin, 2), vmax=round(vmax, 2), unit=product.units or unit or None)


class LayerOptions(Frozen):
    """How one raster layer is published (chosen by :func:`webgis_export.publish.publish`).

    ``qa`` carries ``status``, ``freshness``, ``accuracy``, ``evidence`` and ``findings``
    already extracted from the QA report and the freshness rules, plus the publication's
    ``override``/``overrides`` reasons, ``site`` name and ``approval``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    access: Access = "internal"
    title: str | None = None
    qa: dict[str, object] = Field(default_factory=dict)
    published_at: datetime
    pyramids: bool = True
    pyramid_processes: int | None = None
    privacy: PrivacyRun = Field(default_factory=PrivacyRun)


class CogFacts(NamedTuple):
    """What the layer record takes from its staged COG."""

    bounds: tuple[float, float, float, float]
    wgs84: tuple[float, float, float, float]
    gsd_m: float
    meta: dict[str, Any]


def layer_folder_build(product: Product, source: Path, folder: Path, options: LayerOptions) -> Layer:
    """Fill ``folder`` (= ``publish/layers/<id>`` in staging) and return the Layer.

    The COG is staged and masked by the privacy zones before its style, legend and pyramids are made.
    """
    folder.mkdir(parents=True, exist_ok=True)
    cog = folder / COG_NAME
    stage_cog(source, cog, product.kind)
    stamp = apply_to_cog(cog, product.kind, options.privacy)  # before style, legend and pyramids
    write_stamp(folder, stamp)
    validate_cog_file(cog)
    style = default_style(product, cog)
    layer = _layer_record(product, folder.name, style, cog_facts(product, cog), options)
    layer = layer.model_copy(update={"privacy": stamp})
    (folder / LEGEND_NAME).write_bytes(layer_legend_png(layer))
    if options.pyramids:
        depths: dict[str, tuple[int, int]] = {}
        for tms_id in supported_tms():
            zooms = default_zooms(cog, tms_id, layer.gsd_m)
            target, processes = folder / style.name / tms_id, options.pyramid_processes
            build_pyramid(cog, target, style, tms_id, fmt=layer.tile_format, zooms=zooms, processes=processes)
            depths[tms_id] = zooms
        layer = layer.model_copy(update={"pyramids": depths})
    return layer


def cog_facts(product: Product, cog: Path) -> CogFacts:
    """Bounds, WGS84 bounds, GSD and the raster's metadata, read once from the staged COG.

    Raises:
        ExportError: the COG's extent cannot be brought to WGS84.
    """
    with rasterio.open(cog) as src:
        bounds = (src.bounds.left, src.bounds.bottom, src.bounds.right, src.bounds.top)
        wgs84 = wgs84_bounds(src.crs.to_wkt(), bounds)
        if wgs84 is None:
            raise ExportError(f"{product.id}: the extent of {cog} in {src.crs} has no WGS84 bounds")
        meta = {
            "crs": src.crs.to_string(),
            "width": src.width,
            "height": src.height,
            "band_count": src.count,
            "dtype": src.dtypes[0],
            "nodata": src.nodata,
        }
        return CogFacts(bounds, wgs84, float(product.gsd_m or abs(src.transform.a)), meta)


def _layer_record(
    product: Product, layer_id: str, style: Style, facts: CogFacts, options: LayerOptions
) -> Layer:
    """The Layer of ``product`` (everything but its privacy stamp and pyramid depths)."""
    qa, view = options.qa, product.view
    return Layer(
        id=layer_id,
        title=options.title
        or analysis_title(product, style)
        or f"{product.kind.value.replace('_', ' ')} {product.flight}",
        kind=product.kind,
        access=options.access,
        flight=product.flight,
        product_id=product.id,
        style=style,
        cog=f"layers/{layer_id}/{COG_NAME}",
        bounds=facts.bounds,
        bounds_wgs84=facts.wgs84,
        gsd_m=facts.gsd_m,
        time_start=product.time_start,
        time_end=product.time_end,
        capture_time_source=product.capture_time_source,
        captured_before=product.captured_before,
        overrides=_reasons(qa.get("overrides")),
        qa_status=_text(qa.get("status")),
        freshness=_text(qa.get("freshness")),
        qa_override=_text(qa.get("override")),
        accuracy=accuracy if isinstance(accuracy := qa.get("accuracy"), Accuracy) else None,
        accuracy_evidence=_text(qa.get("evidence")),
        qa_findings=tuple(f for f in _items(qa.get("findings")) if isinstance(f, QAFinding)),
        approval=qa.get("approval") if isinstance(qa.get("approval"), Approval) else None,
        site=_text(qa.get("site")) or None,
        locality=locality_of(facts.wgs84),
        height_datum=product.height_datum,
        datum=product.datum,
        thermal=thermal_summary(product.thermal),
        platform=view.platform if view else None,
        instruments=view.instruments if view else (),
        off_nadir_deg=view.off_nadir_deg if view else None,
        azimuth_deg=view.azimuth_deg if view else None,
        stac_item=f"stac/{product.kind.value}/{layer_id}/{layer_id}.json",
        legend=f"layers/{layer_id}/{LEGEND_NAME}",
        tile_format="jpeg" if style.is_rgb else "png",
        published_at=options.published_at,
        **facts.meta,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _items(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, list | tuple) else ()


def thermal_summary(thermal: ProductThermal | None) -> dict[str, float | str]:
    """The measurement parameters a layer shows: each value (or ``a–b`` across frames), the decoders."""
    if thermal is None:
        return {}
    shown: dict[str, float | str] = {
        name: value.min if value.value is not None else value.text for name, value in thermal.values().items()
    }
    if thermal.formats:
        shown["radiometric_source"] = ", ".join(thermal.formats)
    return shown


def _reasons(value: object) -> dict[str, str]:
    """Gate -> recorded override reason."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
