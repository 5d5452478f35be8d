"""The ``gcp`` room: frames placed by their ground control points.

- :mod:`pipeline.gcp.fit` — pure math: polynomial, affine and homography fits from pixel to map
  coordinates as GDAL makes them, residuals, leave-one-out, the pixel convention of the pairs.
- :mod:`pipeline.gcp.warp` — an image warped with a fit (the ``gdalwarp -order n`` equivalent).
- :mod:`pipeline.gcp.tasks` — one frame's fit, warp and COG as a picklable task.
- :mod:`pipeline.gcp.stage` — the ``gcp`` sub-stage of ``process``: which frames qualify, the tasks,
  the products.
"""

from pipeline.gcp.fit import (
    HOMOGRAPHY_MIN,
    MIN_POINTS,
    GcpPair,
    check_residuals,
    fit_gcps,
    minimum_points,
    pairs_for_image,
    residuals_of,
)
from pipeline.gcp.stage import gcp_stage
from pipeline.gcp.tasks import GcpResult, GcpTask, warp_gcp_frame
from pipeline.gcp.warp import WarpResult, suggested_grid, warp_with_fit
from pipeline.models import GcpFit, PointResidual

__all__ = [
    "HOMOGRAPHY_MIN",
    "MIN_POINTS",
    "GcpFit",
    "GcpPair",
    "GcpResult",
    "GcpTask",
    "PointResidual",
    "WarpResult",
    "check_residuals",
    "fit_gcps",
    "gcp_stage",
    "minimum_points",
    "pairs_for_image",
    "residuals_of",
    "suggested_grid",
    "warp_gcp_frame",
    "warp_with_fit",
]
