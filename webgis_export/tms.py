"""Tile matrix sets: Dataforsyningen's "View1" (EPSG:25832) and WebMercatorQuad.

View1 follows REFERENCE.md §7.4: top-left corner (120000, 6500000), 1638.4 m/px at
level 0, halving per level, 256 px tiles, extent [120000, 5900000, 1000000, 6500000].
Level 0 is a 3×2 matrix (419 430.4 m tiles). Drone products need far deeper levels
than Dataforsyningen's L00–L13, so the set is extended with the same origin down to
``VIEW1_MAX_ZOOM`` (0.0125 m/px); :func:`zoom_for_gsd` picks the deepest level a
product needs.

Matrix identifiers are ``"0"``, ``"1"``, … (Datafordeler/Dataforsyningen spelling,
and what morecantile requires). Requests spelled the Kortforsyningen way (``L07``)
or zero-padded (``07``) are accepted by :func:`parse_matrix_id`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import morecantile
from morecantile import TileMatrixSet

from core.errors import UsageError

VIEW1_ID = "View1"
WEBMERCATOR_ID = "WebMercatorQuad"
VIEW1_ORIGIN = (120000.0, 6500000.0)
VIEW1_EXTENT = (120000.0, 5900000.0, 1000000.0, 6500000.0)
VIEW1_RES0 = 1638.4
VIEW1_MATRIX0 = (3, 2)
VIEW1_MAX_ZOOM = 17
WEBMERCATOR_MAX_ZOOM = 24
STANDARD_PIXEL_M = 0.00028
TILE_SIZE = 256


@lru_cache(maxsize=1)
def view1() -> TileMatrixSet:
    """The View1 tile matrix set (EPSG:25832), levels 0..VIEW1_MAX_ZOOM.

    Built from OGC TileMatrixSet 2.0 fields rather than ``TileMatrixSet.custom``:
    ``custom`` derives the level-0 cell size from an extent, which leaves float
    noise (1638.4000000000003); here every cellSize is exactly 1638.4 / 2**z and
    scaleDenominator = cellSize / 0.00028 (REFERENCE.md §7.3).
    """
    cols, rows = VIEW1_MATRIX0
    matrices = [
        {
            "id": str(zoom),
            "scaleDenominator": VIEW1_RES0 / 2**zoom / STANDARD_PIXEL_M,
            "cellSize": VIEW1_RES0 / 2**zoom,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": list(VIEW1_ORIGIN),
            "tileWidth": TILE_SIZE,
            "tileHeight": TILE_SIZE,
            "matrixWidth": cols * 2**zoom,
            "matrixHeight": rows * 2**zoom,
        }
        for zoom in range(VIEW1_MAX_ZOOM + 1)
    ]
    return TileMatrixSet.model_validate(
        {
            "id": VIEW1_ID,
            "title": "Dataforsyningen View1 (ETRS89 / UTM 32N), extended for drone GSD",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/25832",
            "orderedAxes": ["E", "N"],
            "boundingBox": {
                "lowerLeft": list(VIEW1_EXTENT[:2]),
                "upperRight": list(VIEW1_EXTENT[2:]),
                "crs": "http://www.opengis.net/def/crs/EPSG/0/25832",
            },
            "tileMatrices": matrices,
        }
    )


@lru_cache(maxsize=1)
def webmercator() -> TileMatrixSet:
    """morecantile's WebMercatorQuad (EPSG:3857)."""
    return morecantile.tms.get(WEBMERCATOR_ID)


def get_tms(tms_id: str) -> TileMatrixSet:
    """The tile matrix set called ``tms_id`` (View1 or WebMercatorQuad).

    Raises:
        UsageError: for any other id.
    """
    if tms_id == VIEW1_ID:
        return view1()
    if tms_id == WEBMERCATOR_ID:
        return webmercator()
    raise UsageError(f"unknown tile matrix set {tms_id!r}; known: {VIEW1_ID}, {WEBMERCATOR_ID}")


def supported_tms() -> tuple[str, ...]:
    """Ids of the tile matrix sets every layer is published in."""
    return (VIEW1_ID, WEBMERCATOR_ID)


def max_zoom(tms_id: str) -> int:
    """Deepest level the service offers in a tile matrix set."""
    return VIEW1_MAX_ZOOM if tms_id == VIEW1_ID else WEBMERCATOR_MAX_ZOOM


def parse_matrix_id(value: str) -> int:
    """Zoom level of a TileMatrix identifier: ``"7"``, ``"07"`` or ``"L07"``.

    Raises:
        UsageError: if ``value`` is not such an identifier.
    """
    text = value[1:] if value[:1] in ("L", "l") else value
    if not text.isdigit():
        raise UsageError(f"TileMatrix {value!r} is not a level number such as 7, 07 or L07")
    return int(text)


def cell_size_m(tms: TileMatrixSet, zoom: int) -> float:
    """Ground size of one pixel at ``zoom`` in metres (at the TMS's true scale)."""
    return float(tms.matrix(zoom).cellSize)


def zoom_for_gsd(tms_id: str, gsd_m: float, latitude: float = 56.0) -> int:
    """Shallowest level whose pixels are no larger than ``gsd_m`` (capped at the set's depth).

    For WebMercatorQuad the cell size is divided by ``1/cos(latitude)`` (Mercator's
    scale factor), so a 5 cm product at 56°N maps to the level that shows it 1:1.
    """
    res0 = VIEW1_RES0 if tms_id == VIEW1_ID else 2 * math.pi * 6378137.0 / TILE_SIZE
    if tms_id == WEBMERCATOR_ID:
        res0 *= math.cos(math.radians(latitude))
    zoom = math.ceil(math.log2(res0 / max(gsd_m, 1e-6)) - 1e-9)
    return max(0, min(zoom, max_zoom(tms_id)))
