"""What a raster to compare is (orthophoto, index raster, DSM), which bands to read, what value to compare.

- **orthophoto** (3+ bands of 8/16-bit colour): the compared value is a vegetation index of
  :mod:`pipeline.vegetation` (default ExG on chromatic coordinates: independent of exposure);
  the texture for matching is the luminance 0.299 R + 0.587 G + 0.114 B.
- **index** (one band, a ``DRONEGIS_INDEX`` tag or an index name such as ``ndvi`` in the file
  name): the band itself.
- **DSM** (one floating-point band otherwise): heights in metres; texture is the relief itself.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.errors import NotGeoreferencedWarning

from core.errors import ChangeError
from pipeline.change.models import ChangeKind
from pipeline.rasters.inputs import RasterInfo
from pipeline.vegetation import Band, compute_index, identify_bands

_INDEX_NAME = re.compile(
    r"(^|[^a-z])(ndvi|ndre|gndvi|savi|exg|vari|gli|ngrdi|index)([^a-z]|$)", re.IGNORECASE
)
_COLOUR = (Band.RED, Band.GREEN, Band.BLUE)
#: Orthophoto pixels with R+G+B below this share of 3 × full scale are not compared (5 %: 38 of 765).
DARK_SHARE = 0.05


def detect_kind(info: RasterInfo) -> ChangeKind:
    """The kind of a raster from its tags, bands and name.

    Raises:
        ChangeError: neither colour imagery nor a single band (e.g. a 2-band raster).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(info.path) as src:
            tags = src.tags()
    colour = info.band_count - (1 if info.has_alpha else 0)
    if colour >= 3 and info.dtype in ("uint8", "uint16"):
        return ChangeKind.ORTHOPHOTO
    if colour == 1:
        if "DRONEGIS_INDEX" in tags or _INDEX_NAME.search(info.path.stem):
            return ChangeKind.INDEX
        return ChangeKind.DSM
    raise ChangeError(
        f"{info.path}: hverken ortofoto, indeksraster eller overflademodel; angiv --kind / "
        f"{info.band_count} band(s) of {info.dtype}: neither an orthophoto (RGB), "
        "an index raster nor a DSM (one band); say which with --kind"
    )


def bands_to_read(info: RasterInfo, kind: ChangeKind) -> list[int]:
    """The 1-based bands to read: red, green, blue of an orthophoto, else band 1.

    Raises:
        ChangeError: an orthophoto whose colour bands cannot be identified.
    """
    if kind is not ChangeKind.ORTHOPHOTO:
        return [1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(info.path) as src:
            found = identify_bands(
                list(src.descriptions), [c.name for c in src.colorinterp], [None] * src.count, info.dtype
            )
    if not found.has(_COLOUR):
        raise ChangeError(
            f"{info.path}: rød, grøn og blå kanal kan ikke findes / red, green and blue bands not identified "
            f"({found.source})"
        )
    return [found.bands[b] for b in _COLOUR]


def full_scale(info: RasterInfo) -> float:
    """The largest value of the raster's data type (255 for 8-bit colour), 1 for floats."""
    dtype = np.dtype(info.dtype)
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def value(
    kind: ChangeKind, data: NDArray[np.float32], index: str, scale: float = 255.0
) -> NDArray[np.float32]:
    """The compared value of a block read with :func:`bands_to_read` (NaN where no data).

    For orthophotos, pixels darker than :data:`DARK_SHARE` of full scale (R+G+B) are not compared:
    chromatic coordinates of near-black pixels (deep shadow, black map symbols) are noise.
    """
    if kind is ChangeKind.ORTHOPHOTO:
        out = compute_index(index, {Band.RED: data[0], Band.GREEN: data[1], Band.BLUE: data[2]})
        with np.errstate(invalid="ignore"):
            out[data[0] + data[1] + data[2] < np.float32(3 * DARK_SHARE * scale)] = np.nan
        return out
    band: NDArray[np.float32] = data[0]
    return band


def gray(kind: ChangeKind, data: NDArray[np.float32]) -> NDArray[np.float32]:
    """The image matched for co-registration (luminance of colour, else the band)."""
    if kind is ChangeKind.ORTHOPHOTO:
        luminance: NDArray[np.float32] = (0.299 * data[0] + 0.587 * data[1] + 0.114 * data[2]).astype(
            np.float32
        )
        return luminance
    band: NDArray[np.float32] = data[0]
    return band


def describe(kind: ChangeKind, index: str) -> str:
    """What is compared, for reports."""
    if kind is ChangeKind.ORTHOPHOTO:
        return f"{index} (chromatic)" if index.upper() == "EXG" else index
    return "height (m)" if kind is ChangeKind.DSM else "index value"
