"""Which PROJ coordinate operation takes a raster to the target CRS, and how far it moves it.

The operation is chosen once with pyproj (same PROJ database as rasterio's GDAL) and
handed to GDAL as the ``COORDINATE_OPERATION`` transformer option, so the operation
recorded with a product is exactly the one the warp used.

PROJ's default from WGS 84 / UTM 32N (EPSG:32632) to EPSG:25832 is EPSG:1149 "ETRS89
to WGS 84 (1)", a null transformation with 1 m accuracy (REFERENCE.md §2.6); Danish
network-RTK positions are ETRS89 already. A user may choose another operation by EPSG
code (``EPSG:nnnn`` - it must be a step of one of PROJ's candidate operations between
the two CRSs) or as a PROJ pipeline string. GDAL applies an operation in the CRSs'
authority axis order (as ``gdalwarp -ct``), so a pipeline string must use that order:
easting/northing for the UTM CRSs, latitude/longitude for EPSG:4326/4258.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pyproj
from pyproj.transformer import Transformer, TransformerGroup

from core.errors import UsageError

if TYPE_CHECKING:
    from pipeline.rasters.inputs import RasterInfo

log = logging.getLogger(__name__)


class Operation(NamedTuple):
    """A coordinate operation from a source to a target CRS."""

    description: str
    definition: str
    """The PROJ string (pipeline) of the operation."""
    accuracy: float | None
    """Accuracy in metres as PROJ reports it; None when unknown."""
    transformer: Transformer
    """The operation with x/y (easting/longitude first) axis order, for computations here."""
    user_chosen: bool
    gdal_definition: str
    """The same operation in the CRSs' authority axis order, as GDAL's COORDINATE_OPERATION expects."""

    @property
    def label(self) -> str:
        """``description [definition]`` (± accuracy) as recorded with products."""
        acc = f" (accuracy {self.accuracy:g} m)" if self.accuracy is not None else " (accuracy unknown)"
        return f"{self.description}{acc} [{self.gdal_definition}]"

    @property
    def gdal_options(self) -> dict[str, str]:
        """GDAL transformer options that make GDAL use exactly this operation."""
        return {"COORDINATE_OPERATION": self.gdal_definition}


def choose_operation(src_crs: str, dst_crs: str, transformation: str | None = None) -> Operation:
    """The operation from ``src_crs`` to ``dst_crs``: PROJ's best, or the user's choice.

    Raises:
        UsageError: the user's operation code is not a candidate, or the pipeline is invalid.
    """
    if transformation is None:
        transformer = Transformer.from_crs(src_crs, dst_crs, always_xy=True)
        authority = Transformer.from_crs(src_crs, dst_crs)
        return _operation(transformer, authority.definition, user_chosen=False)
    text = transformation.strip()
    if text.upper().startswith(("EPSG:", "URN:OGC:DEF:COORDINATEOPERATION")):
        return _by_code(src_crs, dst_crs, text)
    try:
        transformer = Transformer.from_pipeline(text)
    except pyproj.exceptions.ProjError as exc:
        raise UsageError(f"transformation {text!r} is not a valid PROJ pipeline: {exc}") from exc
    return _operation(transformer, transformer.definition, user_chosen=True)


def _by_code(src_crs: str, dst_crs: str, code: str) -> Operation:
    wanted = code.upper().split(":")[-1]
    group = TransformerGroup(src_crs, dst_crs, always_xy=True, allow_ballpark=False)
    authority = TransformerGroup(src_crs, dst_crs, allow_ballpark=False)
    for transformer, native in zip(group.transformers, authority.transformers, strict=False):
        for step in transformer.operations or ():
            ident = step.to_json_dict().get("id", {})
            if ident.get("authority") in ("EPSG", "INVERSE(EPSG)") and str(ident.get("code")) == wanted:
                return _operation(transformer, native.definition, user_chosen=True)
    known = "; ".join(t.description for t in group.transformers) or "none"
    raise UsageError(
        f"operation {code} is not among PROJ's operations from {src_crs} to {dst_crs} (candidates: {known})"
    )


def _operation(transformer: Transformer, gdal_definition: str, *, user_chosen: bool) -> Operation:
    accuracy = (
        transformer.accuracy if transformer.accuracy is not None and transformer.accuracy >= 0 else None
    )
    return Operation(
        transformer.description, transformer.definition, accuracy, transformer, user_chosen, gdal_definition
    )


def max_shift_px(operation: Operation, info: RasterInfo, samples: int = 11) -> float:
    """Largest move (in source pixels) of the raster's pixel corners under ``operation``.

    Samples a ``samples`` x ``samples`` grid of pixel-corner positions over the raster.
    Returns inf when the source and target units differ or a point cannot be transformed.
    """
    cols = np.linspace(0, info.width, samples)
    rows = np.linspace(0, info.height, samples)
    cc, rr = np.meshgrid(cols, rows)
    t = info.transform
    xs = t.a * cc.ravel() + t.b * rr.ravel() + t.c
    ys = t.d * cc.ravel() + t.e * rr.ravel() + t.f
    tx, ty = operation.transformer.transform(xs, ys, errcheck=False)
    shift = np.hypot(np.asarray(tx) - xs, np.asarray(ty) - ys)
    if not np.all(np.isfinite(shift)):
        return float("inf")
    pixel = min(abs(info.transform.a), abs(info.transform.e)) or float("nan")
    return float(shift.max() / pixel)
