"""Polygon layers and zonal statistics, shared by every per-polygon analysis.

Reading: :func:`read_polygons` reads any vector file (GeoPackage, GeoJSON, Shapefile;
GeoDanmark BYGNING and BBR exports) in any CRS into a frozen :class:`PolygonLayer`,
reprojected to the raster's CRS (default EPSG:25832), ids kept, bad features flagged
(:class:`ProblemCode`).

Pixel-inclusion rule
--------------------
A raster cell belongs to a polygon when the cell's **centre lies inside** the polygon
(GDAL rasterize with ``all_touched=False``; a centre exactly on the boundary follows
GDAL's scanline rule). Every included cell weighs 1. A cell *has data* when it is not
the band's nodata, not masked by a mask or alpha band, and finite. Per polygon:

- ``pixel_count``: cells of the raster's grid, extended past its edges, inside the polygon;
- ``valid_count``: of those, cells inside the raster with data; ``coverage`` = valid / pixel;
- ``mean``, ``median``, ``p10``, ``p90`` (numpy type-7 quantiles), ``min``, ``max``,
  ``std`` (population, ddof = 0) of the valid values, computed in float64.

Agreement with exactextract
---------------------------
exactextract weights each cell by the share of it the polygon covers. The two agree
exactly in two checked cases (tests/pipeline/zonal/test_exactextract.py):

(a) polygons whose edges follow cell edges: every coverage is 0 or 1, and exactextract's
    ``count``, ``mean``, ``min``, ``max``, ``stdev``, ``median`` and ``quantile`` equal ours;
(b) any polygon: exactextract's per-cell output (``cell_id``, ``center_x``, ``center_y``,
    ``values``) filtered by ``shapely.contains_xy(polygon, center_x, center_y)`` gives the
    same cells as :meth:`PolygonPixels.cell_ids` and the same figures. A centre lying exactly on
    an edge is the one tie (``contains_xy`` leaves it out, GDAL's scanline rule may keep it); it
    happens only when vertices and cell centres share a rounding (cm vertices on a 5 cm-offset
    grid), and the real-footprint test offsets its grid by a few mm to avoid it.

Reading is windowed: polygons are grouped into chunks (default 2048² cells) read once
each; the whole raster is never in memory (:mod:`pipeline.zonal.pixels`).
"""

from pipeline.zonal.models import (
    FeatureProblem,
    PolygonFeature,
    PolygonLayer,
    ProblemCode,
    ZonalStats,
)
from pipeline.zonal.pixels import PolygonPixels, ZonalSettings, iter_polygon_pixels, polygon_pixels
from pipeline.zonal.polygons import DEFAULT_CRS, ID_FIELD_CANDIDATES, read_polygons
from pipeline.zonal.stats import ValueSummary, summarize
from pipeline.zonal.zonal import pixel_stats, zonal_stats, zonal_stats_dataset

__all__ = [
    "DEFAULT_CRS",
    "ID_FIELD_CANDIDATES",
    "FeatureProblem",
    "PolygonFeature",
    "PolygonLayer",
    "PolygonPixels",
    "ProblemCode",
    "ValueSummary",
    "ZonalSettings",
    "ZonalStats",
    "iter_polygon_pixels",
    "pixel_stats",
    "polygon_pixels",
    "read_polygons",
    "summarize",
    "zonal_stats",
    "zonal_stats_dataset",
]
