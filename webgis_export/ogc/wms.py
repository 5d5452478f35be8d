"""WMS 1.3.0: GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic.

BBOX follows the axis order of CRS (REFERENCE.md §7.2): ``EPSG:4326`` is
minLat,minLon,maxLat,maxLon; ``CRS:84`` lon/lat; ``EPSG:25832`` and ``EPSG:3857``
easting/northing. GetFeatureInfo reads the COG's raw value at the clicked pixel and
reports it with the layer's unit (°C for thermal layers), capture date and accuracy.
GetMap and GetFeatureInfo honour ``TIME`` against each layer's capture time
(:mod:`webgis_export.ogc.wms_time`). Published vector layers are WMS layers too: drawn with
their simple style (:mod:`webgis_export.vectors.render`), and GetFeatureInfo on them returns
the attributes of the features under the click.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from rasterio.crs import CRS

from core.errors import LayerNotFound
from core.i18n import Lang
from webgis_export.legend import layer_legend_png
from webgis_export.models import Layer
from webgis_export.ogc.capabilities import LAT_LON_CRS, MAX_SIZE, WMS_CRS, wms_capabilities
from webgis_export.ogc.exceptions import OgcError, OgcResponse, Params
from webgis_export.ogc.featureinfo import QueryPoint, feature_info
from webgis_export.ogc.wms_series import find_series, pick
from webgis_export.ogc.wms_time import check_time
from webgis_export.render import MIME_TYPES, Rendered, blank, composite, encode
from webgis_export.service import LayerStore, bounds_in
from webgis_export.vectors.legend import vector_legend_png
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.render import draw_layer, features_at, over

MapLayer = Layer | VectorLayer
#: WMS CRS names as pyproj reads them in x/y order (CRS:84 and EPSG:4326 both lon/lat then).
XY_NAMES = {"CRS:84": "EPSG:4326"}

CRS_OBJECTS = {
    "EPSG:25832": CRS.from_epsg(25832),
    "EPSG:4326": CRS.from_epsg(4326),
    "CRS:84": CRS.from_epsg(4326),
    "EPSG:3857": CRS.from_epsg(3857),
}


def handle(
    params: Params, store: LayerStore, *, internal: bool, base_url: str, token: str | None
) -> OgcResponse:
    """Dispatch one WMS request."""
    request = (params.get("REQUEST") or "").lower()
    service = params.get("SERVICE")
    if service is not None and service.upper() != "WMS":
        raise OgcError("InvalidParameterValue", f"SERVICE={service!r}, this endpoint serves WMS", "SERVICE")
    if request == "getcapabilities":
        body = wms_capabilities(store.visible(internal), base_url, token, store.vectors.visible(internal))
        return OgcResponse(body, "text/xml")
    if not request:
        raise OgcError("MissingParameterValue", "parameter REQUEST is required", "REQUEST")
    handlers: dict[str, Callable[[Params, LayerStore, bool], OgcResponse]] = {
        "getmap": get_map,
        "getfeatureinfo": get_feature_info,
        "getlegendgraphic": get_legend_graphic,
    }
    handler = handlers.get(request)
    if handler is None:
        raise OgcError(
            "OperationNotSupported", f"REQUEST={params.get('REQUEST')!r} is not supported", "REQUEST"
        )
    version = params.get("VERSION")
    if version is not None and version != "1.3.0" and request != "getlegendgraphic":
        raise OgcError(
            "InvalidParameterValue", f"VERSION={version!r}; this server speaks WMS 1.3.0", "VERSION"
        )
    if handler is get_feature_info:
        return get_feature_info(params, store, internal, base_url=base_url, token=token)
    if handler is get_map:
        try:
            return get_map(params, store, internal)
        except OgcError as exc:
            return exception_image(params, exc)
    return handler(params, store, internal)


def exception_image(params: Params, error: OgcError) -> OgcResponse:
    """GetMap errors as an image when EXCEPTIONS asks for BLANK or INIMAGE (else re-raise)."""
    mode = (params.get("EXCEPTIONS") or "XML").upper().rsplit("_", 1)[-1]
    if mode not in ("BLANK", "INIMAGE"):
        raise error
    try:
        width, height = _size(params)
        fmt = _format(params)
    except OgcError:
        width, height, fmt = 256, 256, "png"
    image = blank(width, height)
    if mode == "INIMAGE":
        rgb = np.full((height, width, 3), 255, np.uint8)
        message = f"{error.code}: {error.message}"[:80]
        cv2.putText(rgb, message, (4, 16), cv2.FONT_HERSHEY_PLAIN, 0.9, (200, 0, 0))
        image = Rendered(rgb, np.full((height, width), 255, np.uint8))
    transparent = (params.get("TRANSPARENT") or "FALSE").upper() == "TRUE"
    return OgcResponse(encode(image, fmt, transparent=transparent), f"image/{fmt}")  # type: ignore[arg-type]


def _layers(params: Params, store: LayerStore, internal: bool, name: str = "LAYERS") -> list[MapLayer]:
    names = [n for n in params.require(name).split(",") if n]
    if not names:
        raise OgcError("MissingParameterValue", f"parameter {name} is empty", name)
    return [_layer(store, n, internal, name, params.get("TIME")) for n in names]


def _layer(
    store: LayerStore, layer_id: str, internal: bool, locator: str, time: str | None = None
) -> MapLayer:
    """A raster or vector layer the caller may see (of a series: the flight ``time`` selects)."""
    vector = store.vectors.find(layer_id, internal)
    if vector is not None:
        return vector
    series = find_series(store.visible(internal), layer_id)
    if series is not None:
        return pick(series, time)
    try:
        return store.get(layer_id, internal)
    except LayerNotFound as exc:
        raise OgcError("LayerNotDefined", f"{exc}", locator) from None


def _styles(params: Params, layers: list[MapLayer]) -> None:
    styles = params.require("STYLES")
    names = styles.split(",") if styles else []
    if names and len(names) != len(layers) and not (len(names) == 1 and names[0] == ""):
        raise OgcError(
            "StyleNotDefined", f"STYLES has {len(names)} entries for {len(layers)} layers", "STYLES"
        )
    for style, layer in zip(names, layers, strict=False):
        if style not in ("", "default", layer.style.name):
            raise OgcError("StyleNotDefined", f"layer {layer.id} has no style {style!r}", "STYLES")


def _crs(params: Params) -> tuple[str, CRS]:
    name = params.require("CRS").upper()
    if name not in CRS_OBJECTS:
        raise OgcError("InvalidCRS", f"CRS {name!r} is not offered; use one of {', '.join(WMS_CRS)}", "CRS")
    return name, CRS_OBJECTS[name]


def _bbox(params: Params, crs_name: str) -> tuple[float, float, float, float]:
    """BBOX in x/y order (lon/lat or E/N), after undoing EPSG:4326's lat/lon order."""
    raw = params.require("BBOX")
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        raise OgcError("InvalidParameterValue", f"BBOX={raw!r} is not four numbers", "BBOX") from None
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise OgcError(
            "InvalidParameterValue", f"BBOX={raw!r} must be minx,miny,maxx,maxy with min < max", "BBOX"
        )
    if crs_name in LAT_LON_CRS:
        return values[1], values[0], values[3], values[2]
    return values[0], values[1], values[2], values[3]


def _size(params: Params) -> tuple[int, int]:
    width, height = params.integer("WIDTH"), params.integer("HEIGHT")
    if not (0 < width <= MAX_SIZE and 0 < height <= MAX_SIZE):
        raise OgcError(
            "InvalidParameterValue", f"WIDTH/HEIGHT {width}x{height} outside 1..{MAX_SIZE}", "WIDTH"
        )
    return width, height


def _format(params: Params, name: str = "FORMAT") -> str:
    value = params.require(name)
    fmt = MIME_TYPES.get(value.lower().split(";")[0].strip())
    if fmt is None:
        raise OgcError("InvalidFormat", f"{name}={value!r}; offered: image/png, image/jpeg", name)
    return fmt


def _bgcolor(params: Params) -> tuple[int, int, int]:
    value = params.get("BGCOLOR") or "0xFFFFFF"
    try:
        rgb = int(value.lower().replace("0x", "").replace("#", ""), 16)
    except ValueError:
        raise OgcError("InvalidParameterValue", f"BGCOLOR={value!r} is not 0xRRGGBB", "BGCOLOR") from None
    return (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255


def get_map(params: Params, store: LayerStore, internal: bool) -> OgcResponse:
    """A map image of the requested layers, drawn in request order."""
    layers = _layers(params, store, internal)
    _styles(params, layers)
    crs_name, crs = _crs(params)
    bbox = _bbox(params, crs_name)
    width, height = _size(params)
    fmt = _format(params)
    transparent = (params.get("TRANSPARENT") or "FALSE").upper() == "TRUE"
    for layer in layers:
        check_time(layer, params.get("TIME"))
    image: Rendered = blank(width, height)
    for layer in layers:
        if not _overlaps(layer, bbox, crs_name):
            continue
        if isinstance(layer, VectorLayer):
            path = store.vectors.path(layer)
            drawn = draw_layer(path, layer, bbox, XY_NAMES.get(crs_name, crs_name), (width, height))
            image = over(image, drawn) if drawn is not None else image
            continue
        rendered = store.render(layer, bbox, crs, width, height)
        if rendered is not None:
            image = composite(image, rendered)
    body = encode(image, fmt, transparent=transparent, bgcolor=_bgcolor(params))  # type: ignore[arg-type]
    return OgcResponse(body, f"image/{fmt}")


def _overlaps(layer: MapLayer, bbox: tuple[float, float, float, float], crs_name: str) -> bool:
    if layer.bounds is None:
        return False
    code = "EPSG:4326" if crs_name == "CRS:84" else crs_name
    left, bottom, right, top = bounds_in(layer.crs, layer.bounds, code)
    return not (bbox[2] <= left or bbox[0] >= right or bbox[3] <= bottom or bbox[1] >= top)


def get_feature_info(
    params: Params, store: LayerStore, internal: bool, *, base_url: str = "", token: str | None = None
) -> OgcResponse:
    """Values under pixel (I, J) of the map described by the GetMap parameters.

    A feature naming a card (a building) answers its ``card_url`` under ``base_url`` (with the
    caller's query ``token``, which internal layers need).
    """
    _layers(params, store, internal)
    queried = _layers(params, store, internal, "QUERY_LAYERS")
    for layer in queried:
        check_time(layer, params.get("TIME"))
    crs_name, crs = _crs(params)
    left, bottom, right, top = _bbox(params, crs_name)
    width, height = _size(params)
    i, j = params.integer("I", "InvalidPoint"), params.integer("J", "InvalidPoint")
    if not (0 <= i < width and 0 <= j < height):
        raise OgcError("InvalidPoint", f"I={i}, J={j} outside the {width}x{height} map", "I")
    x = left + (i + 0.5) * (right - left) / width
    y = top - (j + 0.5) * (top - bottom) / height
    info_format = params.get("INFO_FORMAT") or "text/plain"
    count = params.integer("FEATURE_COUNT") if params.get("FEATURE_COUNT") else 1
    pixel = max((right - left) / width, (top - bottom) / height)
    xy_crs = XY_NAMES.get(crs_name, crs_name)
    hits = [
        (layer, *features_at(store.vectors.path(layer), layer, (x, y), xy_crs, pixel, count))
        for layer in queried
        if isinstance(layer, VectorLayer) and layer.bounds is not None
    ]
    rasters = [layer for layer in queried if isinstance(layer, Layer)]
    point = QueryPoint(x, y, crs, crs_name)
    links = (base_url, token)
    return feature_info(store, rasters, point, info_format, service="WMS", vectors=hits, links=links)


def get_legend_graphic(params: Params, store: LayerStore, internal: bool) -> OgcResponse:
    """The legend PNG of LAYER (SLD GetLegendGraphic, as WMS clients call it)."""
    name = params.get("LAYER") or params.require("LAYERS").split(",")[0]
    layer = _layer(store, name, internal, "LAYER")
    fmt = params.get("FORMAT") or "image/png"
    if MIME_TYPES.get(fmt.lower()) != "png":
        raise OgcError("InvalidFormat", f"FORMAT={fmt!r}; legends are image/png", "FORMAT")
    if isinstance(layer, VectorLayer):
        lang: Lang = "en" if (params.get("LANGUAGE") or "").lower() in ("en", "eng") else "da"
        return OgcResponse(vector_legend_png(layer, lang), "image/png")
    legend = store.workspace.publish / layer.legend if layer.legend else None
    body = legend.read_bytes() if legend is not None and legend.exists() else layer_legend_png(layer)
    return OgcResponse(body, "image/png")
