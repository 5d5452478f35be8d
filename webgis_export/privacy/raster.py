"""Masking a staged COG: pixels inside the privacy zones carry nothing of the original.

The mask rule is GDAL's rasterize with ``all_touched=True``: every pixel a zone touches is
masked (a privacy mask errs on the side of more). What a masked pixel becomes:

- imagery (three or more ``uint8`` bands: orthophotos, RGB frames) is filled with one flat
  colour, :data:`FILL_RGB` (neutral grey), where the pixel held data — no blur: a flat fill
  keeps no high-frequency energy and no correlation with the original at any scale;
- every other raster (°C, heights, indices, classes) becomes nodata: the values are gone
  (nodata value, NaN for float rasters without one, or 0 under the internal mask).

A masked COG is rewritten losslessly (imagery: DEFLATE with the horizontal predictor instead of
JPEG), so the pixels outside the zones stay bit-identical to the product's at full resolution;
its overviews are rebuilt from the masked pixels. A COG no zone touches is left as it is.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
import shapely
from rasterio.enums import MaskFlags
from rasterio.features import geometry_mask
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from core.atomic import TMP_SUFFIX
from pipeline.rasters.cog import COG_PROFILES, CogProfile, write_cog
from webgis_export.privacy.models import PrivacyStamp
from webgis_export.privacy.zones import PrivacyZones

log = logging.getLogger(__name__)

FILL_RGB = (128, 128, 128)
STRIP_ROWS = 1024
#: Masked imagery: lossless, so what lies outside the zones keeps every bit of the product.
MASKED_IMAGERY = COG_PROFILES.get("ortho_jpeg").model_copy(
    update={
        "name": "privacy_rgb",
        "description": "masked RGB(A) imagery: DEFLATE + horizontal predictor (lossless), internal mask",
        "creation_options": {
            "BLOCKSIZE": "512",
            "BIGTIFF": "IF_SAFER",
            "COMPRESS": "DEFLATE",
            "PREDICTOR": "YES",
        },
    }
)


class Encoding(NamedTuple):
    """How a raster says 'no data', and so how masked pixels are written."""

    imagery: bool
    alpha: bool
    internal_mask: bool
    nodata: float | None


def encoding_of(src: rasterio.io.DatasetReader) -> Encoding:
    """Imagery or values, and the raster's nodata mechanism (alpha band, internal mask, nodata value)."""
    flags = src.mask_flag_enums[0]
    imagery = src.count >= 3 and src.dtypes[0] == "uint8"
    alpha = MaskFlags.alpha in flags
    floating = np.issubdtype(np.dtype(src.dtypes[0]), np.floating)
    nodata = src.nodata
    internal = MaskFlags.per_dataset in flags and not alpha
    if not imagery and nodata is None and not internal:
        if floating:
            nodata = float("nan")
        else:
            internal = True  # integers without nodata: the mask is the only way to say it
    return Encoding(imagery, alpha, internal, nodata)


def zones_over(cog: Path, zones: PrivacyZones) -> BaseGeometry:
    """The part of the zones over the COG's extent, in the COG's CRS (empty when none touches it)."""
    with rasterio.open(cog) as src:
        box = shapely.box(*src.bounds)
        crs = src.crs.to_string()
    return zones.geometry_in(crs).intersection(box)


def stamp_for(zones: PrivacyZones | None, method: str = "none", share: float = 0.0) -> PrivacyStamp:
    """The stamp of a layer published under ``zones`` (None: no zones configured)."""
    if zones is None:
        return PrivacyStamp()
    return PrivacyStamp(
        zones=zones.fingerprint, zones_file=str(zones.source), method=method, masked_share=round(share, 6)
    )


def mask_cog(cog: Path, zones: PrivacyZones | None, profile: str | CogProfile) -> PrivacyStamp:
    """Mask the zones out of the staged COG ``cog`` in place (rewritten only when a zone touches it).

    Args:
        cog: a staged COG (never the product or archive file).
        zones: the privacy zones, or None when none are configured.
        profile: the COG profile of the product kind; imagery is rewritten with :data:`MASKED_IMAGERY`.

    Returns:
        What was done, for the layer's ``privacy.json`` and STAC.
    """
    if zones is None:
        return stamp_for(None)
    inside = zones_over(cog, zones)
    if inside.is_empty:
        return stamp_for(zones)
    scratch = cog.with_name(f".{cog.name}.privacy{TMP_SUFFIX}")
    try:
        encoding, share = _write_masked(cog, scratch, inside)
        write_cog(scratch, cog, MASKED_IMAGERY if encoding.imagery else profile)
    finally:
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()
    method = "fill" if encoding.imagery else "nodata"
    log.info("privacy: %s masked (%s, %.4f of its data pixels)", cog, method, share)
    return stamp_for(zones, method, share)


def _write_masked(cog: Path, scratch: Path, inside: BaseGeometry) -> tuple[Encoding, float]:
    """Copy ``cog`` to the GTiff ``scratch`` with the zone pixels masked; (encoding, masked share)."""
    masked = valid_total = 0
    with rasterio.open(cog) as src:
        encoding = encoding_of(src)
        meta = {
            "driver": "GTiff", "width": src.width, "height": src.height, "count": src.count,
            "dtype": src.dtypes[0], "crs": src.crs, "transform": src.transform, "nodata": encoding.nodata,
            "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "ZSTD", "zstd_level": 1,
            "BIGTIFF": "IF_SAFER",
        }  # fmt: skip
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(scratch, "w", **meta) as dst:
            dst.colorinterp = src.colorinterp
            for row in range(0, src.height, STRIP_ROWS):
                window = Window(0, row, src.width, min(STRIP_ROWS, src.height - row))
                zone = geometry_mask(
                    [inside],
                    out_shape=(int(window.height), int(window.width)),
                    transform=src.window_transform(window),
                    all_touched=True,
                    invert=True,
                )
                data, valid = src.read(window=window), src.dataset_mask(window=window)
                masked += int(np.count_nonzero(zone & (valid > 0)))
                valid_total += int(np.count_nonzero(valid))
                data, valid = mask_block(data, valid, zone, encoding)
                dst.write(data, window=window)
                if encoding.internal_mask:
                    dst.write_mask(valid, window=window)
    return encoding, masked / valid_total if valid_total else 0.0


def mask_block(
    data: np.ndarray, valid: np.ndarray, zone: np.ndarray, encoding: Encoding
) -> tuple[np.ndarray, np.ndarray]:
    """One block with the ``zone`` pixels masked: flat fill (imagery) or nodata (values). Pure.

    Args:
        data: (bands, rows, cols) pixel values.
        valid: (rows, cols) dataset mask, 255 where a pixel holds data.
        zone: (rows, cols) True inside a privacy zone.
        encoding: imagery or values, and how the raster says 'no data'.
    """
    out, mask = data.copy(), valid.copy()
    if encoding.imagery:
        for band, value in enumerate(FILL_RGB):
            out[band][zone] = value
        return out, mask
    fill = encoding.nodata if encoding.nodata is not None else 0
    out[:, zone] = fill
    mask[zone] = 0
    return out, mask
