"""One pass over the thermal raster: per-building statistics, histogram, hot spots and reliability."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS, Transformer
from rasterio.io import DatasetReader
from shapely.geometry.base import BaseGeometry

from pipeline.buildings.hotspots import find_hot_spots
from pipeline.buildings.materials import MATERIAL_FIELDS, material_of
from pipeline.buildings.models import Building, BuildingsConfig, HotSpot
from pipeline.buildings.score import histogram_of, reliability_of
from pipeline.zonal import PolygonFeature, PolygonLayer, PolygonPixels, iter_polygon_pixels, pixel_stats
from pipeline.zonal.zonal import stats_of

logger = logging.getLogger(__name__)

USE_FIELDS = (
    "BYG_ANVEND",
    "byg021BygningensAnvendelse",
    "BYG_ANVEND_KODE",
    "anvendelseskode",
    "anvendelse",
    "use_code",
)
"""Footprint fields tried, in order and ignoring case, for the BBR use code."""

Reproject = Callable[[BaseGeometry], BaseGeometry]


def find_field(layer: PolygonLayer, candidates: tuple[str, ...]) -> str | None:
    """The first candidate field (any case) that the layer's features carry."""
    names = {k.lower(): k for f in layer.features[:1] for k in f.attributes}
    return next((names[c.lower()] for c in candidates if c.lower() in names), None)


def reprojector(source: CRS, target: CRS) -> Reproject:
    """A geometry transform from the raster's CRS to the output CRS (identity when equal)."""
    if source == target:
        return lambda geom: geom
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return lambda geom: shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def code_text(value: object) -> str | None:
    """A use code as text (``120``, not ``120.0``); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def building_from(
    feature: PolygonFeature,
    pixels: PolygonPixels | None,
    config: BuildingsConfig,
    fields: tuple[str | None, str | None],
    to_output: Reproject,
) -> Building:
    """The figures of one footprint (score, rank and class come later, from all buildings)."""
    use_field, material_field = fields
    material = material_of(feature.attributes.get(material_field)) if material_field else None
    stats = pixel_stats(pixels) if pixels is not None else stats_of(feature.index, np.zeros(0), 0)
    values = pixels.valid_values().astype(np.float64) if pixels is not None else np.zeros(0)
    spots: list[HotSpot] = []
    if pixels is not None and stats.median is not None:
        found = find_hot_spots(
            pixels.values.astype(np.float64), pixels.valid, stats.median, pixels.transform, config.hot_spots
        )
        spots = [
            HotSpot(
                number=n,
                area_m2=s.area_m2,
                pixel_count=s.pixel_count,
                peak_c=s.peak_c,
                mean_excess_k=s.mean_excess_k,
                geometry=to_output(s.geometry),
            )
            for n, s in enumerate(found, start=1)
        ]
    level, reasons = reliability_of(
        stats,
        config.flight.view_angle_deg,
        bool(material and material.reflective),
        config.flight.gate_passed,
        config.reliability,
    )
    if any(p.code == "repaired" for p in feature.problems):
        reasons = (*reasons, "repaired_footprint")
    return Building(
        index=feature.index,
        id=feature.id,
        key=feature.key,
        use_code=code_text(feature.attributes.get(use_field)) if use_field else None,
        material=material.name if material else None,
        emissivity=material.emissivity if material else None,
        stats=stats,
        hot_spots=tuple(spots),
        reliability=level,
        reasons=reasons,
        problems=feature.problems,
        geometry=to_output(feature.geometry) if feature.geometry is not None else None,
        histogram=histogram_of(values, config.score.histogram_bin_k),
        thermal=config.thermal,
        view_angle_deg=config.flight.view_angle_deg,
    )


def analyse(dataset: DatasetReader, layer: PolygonLayer, config: BuildingsConfig) -> list[Building]:
    """Every building of ``layer`` (in the raster's CRS) over the open °C raster, in file order."""
    fields = (find_field(layer, USE_FIELDS), find_field(layer, MATERIAL_FIELDS))
    to_output = reprojector(dataset.crs, CRS.from_user_input(config.output_crs))
    geometries = [f.geometry for f in layer.features]
    found: dict[int, Building] = {}
    for pixels in iter_polygon_pixels(dataset, geometries):
        feature = layer.features[pixels.index]
        found[pixels.index] = building_from(feature, pixels, config, fields, to_output)
    for feature in layer.features:
        if feature.index not in found:
            found[feature.index] = building_from(feature, None, config, fields, to_output)
    logger.info("buildings: %d footprints analysed over %s", len(found), config.thermal)
    return [found[i] for i in sorted(found)]
