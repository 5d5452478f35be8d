"""Vector layers in WMS: drawn with a simple style, and the features under a click.

GetMap reads the features meeting the map (plus a margin for outlines and symbols) through
:func:`webgis_export.vectors.query.in_box`, reprojects their coordinates in one call, and
draws them with OpenCV (anti-aliased): polygons filled with the style's translucent fill (or
their class colour) and outlined, lines as strokes, points as filled circles. The result is
composited over the layers below with real alpha blending (:func:`over`), so a footprint
layer lets the orthophoto show through. GetFeatureInfo takes the features within a few
pixels of the click (inside a polygon counts as distance 0), nearest first.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import shapely

from webgis_export.render import Rendered
from webgis_export.vectors.crs import box_in, reproject
from webgis_export.vectors.models import VectorLayer, VectorStyle
from webgis_export.vectors.query import FeaturePage, in_box, near

SHIFT = 4  # OpenCV fixed-point bits: vertices placed to 1/16 pixel
POLYGONS = frozenset({"Polygon", "MultiPolygon"})
LINES = frozenset({"LineString", "MultiLineString", "LinearRing"})


def colour(text: str) -> tuple[int, int, int, int]:
    """``#rrggbb`` or ``#rrggbbaa`` as an RGBA tuple."""
    value = text.lstrip("#")
    rgba = [int(value[i : i + 2], 16) for i in range(0, len(value), 2)]
    return (rgba[0], rgba[1], rgba[2], rgba[3] if len(rgba) > 3 else 255)


def draw_layer(
    path: Path,
    layer: VectorLayer,
    bbox: tuple[float, float, float, float],
    crs: str,
    size: tuple[int, int],
) -> np.ndarray | None:
    """RGBA (h, w, 4) of the layer over ``bbox`` (x/y order in ``crs``), or ``None`` when nothing is there."""
    width, height = size
    margin = (layer.style.radius + layer.style.width + 2) * max(
        (bbox[2] - bbox[0]) / width, (bbox[3] - bbox[1]) / height
    )
    grown = (bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin)
    page = in_box(path, layer, box_in(grown, crs, layer.crs), layer.style.class_field)
    if not page.returned:
        return None
    geometries = reproject(page.geometries, layer.crs, crs)
    classes = page.columns[0].tolist() if page.columns else [None] * page.returned
    canvas = np.zeros((height, width, 4), np.uint8)
    scale = np.array([width / (bbox[2] - bbox[0]), -height / (bbox[3] - bbox[1])])
    origin = np.array([bbox[0], bbox[3]])
    for geometry, value in zip(geometries, classes, strict=True):
        if geometry is not None and not geometry.is_empty:
            _draw(canvas, geometry, layer.style, value, origin, scale)
    return canvas if canvas[..., 3].any() else None


def _pixels(coords: np.ndarray, origin: np.ndarray, scale: np.ndarray) -> np.ndarray:
    pixels: np.ndarray = np.round((coords[:, :2] - origin) * scale * (1 << SHIFT)).astype(np.int32)
    return pixels


def _draw(
    canvas: np.ndarray,
    geometry: shapely.Geometry,
    style: VectorStyle,
    value: object,
    origin: np.ndarray,
    scale: np.ndarray,
) -> None:
    stroke = colour(style.stroke)
    fill_text = style.classes.get(str(value), style.fill) if style.class_field else style.fill
    fill = colour(fill_text) if fill_text else None
    for part in shapely.get_parts(geometry):
        kind = part.geom_type
        if kind in POLYGONS:
            rings = [_pixels(shapely.get_coordinates(r), origin, scale) for r in shapely.get_rings(part)]
            if fill is not None:
                cv2.fillPoly(canvas, rings, fill, cv2.LINE_AA, SHIFT)
            cv2.polylines(canvas, rings, True, stroke, style.width, cv2.LINE_AA, SHIFT)
        elif kind in LINES:
            line = _pixels(shapely.get_coordinates(part), origin, scale)
            cv2.polylines(canvas, [line], False, stroke, style.width, cv2.LINE_AA, SHIFT)
        elif kind == "Point":
            centre = tuple(int(v) for v in _pixels(shapely.get_coordinates(part), origin, scale)[0])
            radius = style.radius << SHIFT
            cv2.circle(canvas, centre, radius, fill or stroke, -1, cv2.LINE_AA, SHIFT)
            cv2.circle(canvas, centre, radius, stroke, 1, cv2.LINE_AA, SHIFT)


def over(below: Rendered, rgba: np.ndarray) -> Rendered:
    """``rgba`` composited over ``below`` (the "over" operator, straight alpha)."""
    top_a = rgba[..., 3:4].astype(np.float32) / 255.0
    low_a = below.alpha[..., None].astype(np.float32) / 255.0
    alpha = top_a + low_a * (1.0 - top_a)
    weighted = rgba[..., :3] * top_a + below.rgb * low_a * (1.0 - top_a)
    rgb = np.divide(weighted, alpha, out=np.zeros_like(weighted), where=alpha > 0)
    return Rendered(
        np.clip(np.rint(rgb), 0, 255).astype(np.uint8),
        np.clip(np.rint(alpha[..., 0] * 255), 0, 255).astype(np.uint8),
    )


def features_at(
    path: Path, layer: VectorLayer, point: tuple[float, float], crs: str, pixel: float, count: int
) -> tuple[FeaturePage, np.ndarray]:
    """Features of ``layer`` under a click at ``point`` (x/y in ``crs``; ``pixel`` = map units per pixel).

    Returns:
        The features, nearest first, and their geometries reprojected to ``crs``.
    """
    x, y = point
    pixels = max(layer.style.radius, 3) + 1
    half = pixel * pixels
    square = box_in((x - half, y - half, x + half, y + half), crs, layer.crs)
    tolerance = max(square.bounds[2] - square.bounds[0], square.bounds[3] - square.bounds[1]) / 2
    (centre,) = reproject(np.array([shapely.Point(x, y)]), crs, layer.crs)
    page = near(path, layer, centre, tolerance, count)
    return page, reproject(page.geometries, layer.crs, crs)
