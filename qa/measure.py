"""Measure check points on a product itself — never from the georeferencing fit.

x/y of a check point on a product come from the check-point file's pixel observation
*on that product* (an observation whose ``image`` names the product file), turned into
world coordinates with the product's own geotransform. z comes from the product's value
(DSM/DTM) at the point's surveyed world position.

Pixel convention of observations (ODM ``gcp_list.txt``, OpenSfM; :mod:`flights.pixels`):
``col``/``row`` are pixel indices, so (0, 0) is the *centre* of the upper-left pixel; the
upper-left corner is (−0.5, −0.5). The conversion to the geotransform's corner-based space
is ``flights.pixels.to_gdal``, the same one the GCP fit uses.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS, Transformer

from core.errors import QAError
from flights.models import ControlPoint, PixelObservation
from flights.pixels import from_gdal, to_gdal
from qa.precision import PointError

logger = logging.getLogger(__name__)

DEFAULT_MAX_SPREAD_PX = 3.0


class Measurement(NamedTuple):
    """A check point measured on a product: surveyed and measured position, in the product CRS."""

    name: str
    survey_x: float
    survey_y: float
    survey_z: float | None
    x: float
    y: float
    z: float | None
    observations: int
    rejected: int = 0

    @property
    def error(self) -> PointError:
        """Product − survey."""
        dz = None if self.z is None or self.survey_z is None else self.z - self.survey_z
        return PointError(self.name, self.x - self.survey_x, self.y - self.survey_y, dz)


def pixel_to_world(transform: Affine, col: float, row: float) -> tuple[float, float]:
    """World x/y of a pixel-index position (0, 0 = centre of the upper-left pixel)."""
    x, y = transform * to_gdal(float(col), float(row))
    return float(x), float(y)


def world_to_pixel(transform: Affine, x: float, y: float) -> tuple[float, float]:
    """Pixel-index position (0, 0 = centre of the upper-left pixel) of a world x/y."""
    col, row = ~transform * (x, y)
    return from_gdal(float(col), float(row))


def consistent(px: np.ndarray, max_spread_px: float = DEFAULT_MAX_SPREAD_PX) -> np.ndarray:
    """Boolean mask of the observations (N×2 pixel positions) within ``max_spread_px`` of their median.

    When none is that close (two observations far apart), all are kept.
    """
    median = np.median(px, axis=0)
    keep = np.hypot(*(px - median).T) <= max_spread_px
    return keep if keep.any() else np.ones(len(px), dtype=bool)


def observations_on(point: ControlPoint, names: Iterable[str]) -> list[PixelObservation]:
    """The point's observations whose image is one of ``names`` (case-insensitive)."""
    wanted = {n.lower() for n in names}
    return [o for o in point.observations if o.image.lower() in wanted]


def product_names(path: str | Path, product_id: str | None = None) -> set[str]:
    """Names an observation may use for a product: file name, stem and product id."""
    p = Path(path)
    names = {p.name, p.stem}
    if product_id:
        names.add(product_id)
    return names


def _to_product_crs(point: ControlPoint, crs: CRS) -> tuple[float, float]:
    src = CRS.from_user_input(point.crs)
    if src == crs:
        return point.x, point.y
    transformer = Transformer.from_crs(src, crs, always_xy=True)
    x, y = transformer.transform(point.x, point.y)
    return float(x), float(y)


def sample_value(path: Path, x: float, y: float, band: int = 1) -> float | None:
    """The raster's value at a world position (nearest pixel); None outside, on nodata or NaN."""
    with rasterio.open(path) as src:
        col, row = world_to_pixel(src.transform, x, y)
        c, r = int(math.floor(col + 0.5)), int(math.floor(row + 0.5))
        if not (0 <= c < src.width and 0 <= r < src.height):
            return None
        value = src.read(band, window=((r, r + 1), (c, c + 1)), masked=True)[0, 0]
    if value is np.ma.masked or not math.isfinite(float(value)):
        return None
    return float(value)


def measure_points(
    points: Sequence[ControlPoint],
    names: Iterable[str],
    transform: Affine,
    crs: str | CRS,
    *,
    height_raster: Path | None = None,
    max_spread_px: float = DEFAULT_MAX_SPREAD_PX,
) -> tuple[list[Measurement], list[str]]:
    """Measure every check point that has an observation on the product.

    Several observations of one point on the product are averaged after dropping those
    farther than ``max_spread_px`` from their median (a mislabelled observation).

    Args:
        points: Control points; only ``role == "check"`` ones are measured.
        names: Names the product goes by in observation files (see ``product_names``).
        transform: The product's geotransform (rasterio/GDAL convention).
        crs: The product's CRS; survey coordinates are transformed into it.
        height_raster: A DSM/DTM whose value at the surveyed position is the measured z.
        max_spread_px: Observations farther than this from the median are dropped.

    Returns:
        The measurements, and the names of check points without an observation on the product.
    """
    target = CRS.from_user_input(crs)
    names = list(names)
    measured: list[Measurement] = []
    missing: list[str] = []
    for point in points:
        if point.role != "check":
            continue
        obs = observations_on(point, names)
        if not obs:
            missing.append(point.name)
            continue
        measured.append(_measure_one(point, obs, transform, target, height_raster, max_spread_px))
    return measured, missing


def _measure_one(
    point: ControlPoint,
    obs: Sequence[PixelObservation],
    transform: Affine,
    target: CRS,
    height_raster: Path | None,
    max_spread_px: float,
) -> Measurement:
    """One check point: the mean of its consistent observations, and its surveyed position."""
    px = np.array([(o.col, o.row) for o in obs], dtype=np.float64)
    keep = consistent(px, max_spread_px)
    x, y = pixel_to_world(transform, *px[keep].mean(axis=0))
    sx, sy = _to_product_crs(point, target)
    z = sample_value(height_raster, sx, sy) if height_raster is not None else None
    rejected = int((~keep).sum())
    if rejected:
        logger.warning(
            "check point %s: %d of %d observations on the product disagree; dropped",
            point.name,
            rejected,
            len(obs),
        )
    return Measurement(point.name, sx, sy, point.z, x, y, z, int(keep.sum()), rejected)


def measure_product(
    points: Sequence[ControlPoint],
    raster: Path,
    *,
    product_id: str | None = None,
    crs: str | None = None,
    height_raster: Path | None = None,
    max_spread_px: float = DEFAULT_MAX_SPREAD_PX,
) -> tuple[list[Measurement], list[str]]:
    """``measure_points`` with the transform and CRS read from the product raster.

    Raises:
        QAError: when the raster has no CRS and none is given.
    """
    with rasterio.open(raster) as src:
        transform = src.transform
        raster_crs = src.crs
    use_crs = crs or (raster_crs.to_string() if raster_crs else None)
    if use_crs is None:
        raise QAError(f"product {raster} has no CRS; pass crs=")
    return measure_points(
        points,
        product_names(raster, product_id),
        transform,
        use_crs,
        height_raster=height_raster,
        max_spread_px=max_spread_px,
    )
