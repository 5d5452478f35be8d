"""The map of a print: the request, a stated scale, the extent at that scale, the image from WMS GetMap.

A print is always drawn in EPSG:25832 (ETRS89 / UTM 32N, metres: a stated scale holds
everywhere on the sheet); a box asked for in EPSG:3857 is carried over first. The scale is
the first *round* scale (1:500, 1:1 000, 1:2 500 …) at which the asked box fits the map
frame, and the extent is widened around the box's centre to exactly that scale, so a ruler
on the paper measures the ground. The image is rendered by the service's own WMS GetMap
(:func:`webgis_export.ogc.wms.get_map`) at the print resolution (150 dpi by default).
"""

from __future__ import annotations

import math
import re
from typing import Literal

from rasterio.warp import transform_bounds

from core.errors import UserInputError
from core.i18n import Lang, lang_of, text
from core.models import Frozen
from webgis_export.models import Layer
from webgis_export.ogc.exceptions import Params
from webgis_export.ogc.wms import get_map
from webgis_export.service import LayerStore

ROUND_SCALES = (100, 200, 250, 500, 1000, 1250, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000)
MAX_SCALE = 100000
PRINT_CRS = ("EPSG:25832", "EPSG:3857")
MAX_TITLE = 120
DPI = 150
Orientation = Literal["portrait", "landscape"]
Box = tuple[float, float, float, float]


class PrintRequest(Frozen):
    """What ``/print.pdf`` was asked: layer, box in EPSG:25832, title, language, orientation."""

    layer: str
    bbox: Box
    title: str | None = None
    lang: Lang = "da"
    orientation: Orientation = "portrait"
    dpi: int = DPI


class MapSheet(Frozen):
    """The map on the sheet: scale, ground extent (EPSG:25832) and image size in pixels."""

    scale: int
    extent: Box
    width_px: int
    height_px: int


def _refuse(key: str, **params: object) -> UserInputError:
    return UserInputError(text(key, "en", **params), key=key, params=params)


def parse_request(
    layer: str, bbox: str, crs: str, title: str | None, lang: str | None, orientation: str | None
) -> PrintRequest:
    """Check the query parameters of ``/print.pdf``.

    Raises:
        UserInputError: a box that is not four increasing numbers, a CRS other than
            EPSG:25832/EPSG:3857, an unknown orientation, a title longer than 120 characters.
    """
    code = crs.strip().upper()
    if code not in PRINT_CRS:
        raise _refuse("print.bad_crs", value=crs)
    try:
        values = [float(v) for v in re.split(r"\s*,\s*", bbox.strip())]
    except ValueError:
        raise _refuse("print.bad_bbox", value=bbox) from None
    finite = all(math.isfinite(v) for v in values)
    if len(values) != 4 or not finite or values[0] >= values[2] or values[1] >= values[3]:
        raise _refuse("print.bad_bbox", value=bbox)
    box: Box = (values[0], values[1], values[2], values[3])
    if code != "EPSG:25832":
        box = tuple(transform_bounds(code, "EPSG:25832", *box, densify_pts=21))
    shape = (orientation or "portrait").strip().lower()
    if shape not in ("portrait", "landscape"):
        raise _refuse("print.bad_orientation", value=orientation)
    clean = (title or "").strip() or None
    if clean is not None and len(clean) > MAX_TITLE:
        raise _refuse("print.bad_title", n=len(clean), max=MAX_TITLE)
    return PrintRequest(layer=layer, bbox=box, title=clean, lang=lang_of(lang), orientation=shape)


def round_scale(box: Box, frame_mm: tuple[float, float]) -> int:
    """The first round scale at which ``box`` (metres) fits a frame of ``frame_mm`` (width, height).

    Raises:
        UserInputError: the box needs a scale beyond 1:100 000 (not a drone-data print).
    """
    width_m, height_m = box[2] - box[0], box[3] - box[1]
    needed = max(width_m / (frame_mm[0] / 1000.0), height_m / (frame_mm[1] / 1000.0))
    for scale in ROUND_SCALES:
        if scale >= needed:
            return scale
    raise _refuse(
        "print.too_large",
        scale=f"{round(needed):,}".replace(",", " "),
        max=f"{MAX_SCALE:,}".replace(",", " "),
    )


def sheet(box: Box, frame_mm: tuple[float, float], dpi: int = DPI) -> MapSheet:
    """The map at a round scale: the ground extent around the box's centre and the pixels to render."""
    scale = round_scale(box, frame_mm)
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    half_w = frame_mm[0] / 1000.0 * scale / 2.0
    half_h = frame_mm[1] / 1000.0 * scale / 2.0
    return MapSheet(
        scale=scale,
        extent=(cx - half_w, cy - half_h, cx + half_w, cy + half_h),
        width_px=round(frame_mm[0] / 25.4 * dpi),
        height_px=round(frame_mm[1] / 25.4 * dpi),
    )


def scale_bar_m(ground_width_m: float) -> float:
    """A round length (1, 2 or 5 × 10ⁿ m) of at most a quarter of the map's ground width."""
    target = ground_width_m / 4.0
    power = 10 ** math.floor(math.log10(target))
    return float(max(step * power for step in (1, 2, 5) if step * power <= target))


def map_png(store: LayerStore, layer: Layer, map_sheet: MapSheet, *, internal: bool) -> bytes:
    """The layer over the sheet's extent, drawn by the service's own WMS GetMap (transparent PNG)."""
    params = Params(
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": layer.id,
            "STYLES": "",
            "CRS": "EPSG:25832",
            "BBOX": ",".join(f"{v:.3f}" for v in map_sheet.extent),
            "WIDTH": str(map_sheet.width_px),
            "HEIGHT": str(map_sheet.height_px),
            "FORMAT": "image/png",
            "TRANSPARENT": "TRUE",
        },
        "WMS",
    )
    return get_map(params, store, internal).body
