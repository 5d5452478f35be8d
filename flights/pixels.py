"""The one pixel convention of control files, and its conversion to GDAL's.

Pixel coordinates in every control file (ODM ``gcp_list.txt``, check-point files, the
``PixelObservation`` of a ``ControlPoint``) name **pixel centres**, as OpenSfM and ODM read
them: ``(0, 0)`` is the centre of the upper-left pixel, ``(width − 1, height − 1)`` the centre
of the lower-right one, column to the right and row down. The image spans
``[−0.5, width − 0.5] × [−0.5, height − 0.5]``. (OpenSfM normalises an observation as
``(x + 0.5 − width / 2) / max(width, height)``: its image centre is at ``(width − 1) / 2``.)

GDAL and rasterio put ``(0, 0)`` on the upper-left *corner*: a geotransform maps the centre of
the first pixel from ``(0.5, 0.5)``, and GDAL's GCP fits and ``gdalwarp -order n`` use the
same corner-based pixel space. Every consumer of control-file pixels — the GCP fit and warp
(``pipeline.gcp``), QA's measurement on products (``qa.measure``), feature matching
(``qa.onproduct``) — converts with :func:`to_gdal` / :func:`from_gdal` here and nowhere else.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

CENTRE_TO_CORNER = 0.5
"""What GDAL's corner-based pixel space adds to a control-file (centre-based) coordinate."""

MAX_PIXEL_COORDINATE = 1_000_000.0
"""No camera or orthophoto the pipeline reads has a side this long: larger values are garbage."""


def to_gdal[P: (float, NDArray[np.float64])](col: P, row: P) -> tuple[P, P]:
    """GDAL pixel space (corner of the first pixel = 0, 0) of a control-file position.

    >>> to_gdal(0.0, 0.0)
    (0.5, 0.5)
    """
    return col + CENTRE_TO_CORNER, row + CENTRE_TO_CORNER


def from_gdal[P: (float, NDArray[np.float64])](col: P, row: P) -> tuple[P, P]:
    """Control-file position (centre of the first pixel = 0, 0) of a GDAL pixel-space position.

    >>> from_gdal(0.5, 0.5)
    (0.0, 0.0)
    """
    return col - CENTRE_TO_CORNER, row - CENTRE_TO_CORNER


def rescale[P: (float, NDArray[np.float64])](col: P, row: P, sx: float, sy: float) -> tuple[P, P]:
    """A control-file position in the same image resampled by ``sx`` × ``sy`` (e.g. a decimated copy).

    Scaling happens about the image's corner, so the image edges map onto the new edges.

    >>> rescale(0.0, 0.0, 2.0, 2.0)
    (0.5, 0.5)
    """
    gc, gr = to_gdal(col, row)
    return from_gdal(gc * sx, gr * sy)


def inside(col: float, row: float, width: int, height: int) -> bool:
    """True when a control-file position lies on an image of ``width`` × ``height`` pixels.

    >>> inside(-0.5, 0.0, 10, 10), inside(9.6, 0.0, 10, 10)
    (True, False)
    """
    return -CENTRE_TO_CORNER <= col <= width - CENTRE_TO_CORNER and (
        -CENTRE_TO_CORNER <= row <= height - CENTRE_TO_CORNER
    )
