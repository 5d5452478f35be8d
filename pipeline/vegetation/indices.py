"""Vegetation indices: pure numpy over band arrays, one registry of definitions (REFERENCE.md §5.4).

Formulas follow WebODM's ``app/api/formulas.py``; the RGB excess-green index uses chromatic
coordinates r = R/(R+G+B), g = G/(R+G+B), b = B/(R+G+B) so that it does not depend on
exposure (ExG = 2g − r − b; range [−1, 2]). VARI, GLI and NGRDI are ratios, unchanged when
all bands are scaled together, so they are computed on the bands as they are.

Every function returns float32 with NaN where the index is undefined: a nodata pixel in any
band it uses, a zero (or, for VARI, near-zero) denominator. Values are never silently
clipped except VARI, whose definition here is clipped to [−1, 1] (WebODM's stated range)
because it explodes near its mask.

========  ===============================  ===========  ======================
index     formula                          value range  bands
========  ===============================  ===========  ======================
ExG       2g − r − b (chromatic)           [−1, 2]      red, green, blue
VARI      (G − R) / (G + R − B)            [−1, 1]      red, green, blue
GLI       (2G − R − B) / (2G + R + B)      [−1, 1]      red, green, blue
NGRDI     (G − R) / (G + R)                [−1, 1]      red, green
NDVI      (N − R) / (N + R)                [−1, 1]      nir, red
NDRE      (N − RE) / (N + RE)              [−1, 1]      nir, rededge
GNDVI     (N − G) / (N + G)                [−1, 1]      nir, green
SAVI      1.5 (N − R) / (N + R + 0.5)      [−1, 1]      nir, red (reflectance)
========  ===============================  ===========  ======================

The value ranges hold for non-negative inputs (SAVI: reflectances in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from core.errors import UsageError
from core.models import Frozen

Array = NDArray[np.float32]

#: VARI is undefined where |g + r − b| (chromatic, i.e. a share of R+G+B) is below this.
VARI_EPS = 0.05
#: Soil brightness correction factor L of SAVI (Huete 1988; WebODM uses 0.5).
SAVI_L = 0.5


class Band(StrEnum):
    """A spectral band an index needs (canonical names)."""

    BLUE = "blue"
    GREEN = "green"
    RED = "red"
    REDEDGE = "rededge"
    NIR = "nir"


class IndexSpec(Frozen):
    """The definition of one index: its bands, formula, documented range and display."""

    name: str
    title_da: str
    title_en: str
    formula: str
    bands: tuple[Band, ...]
    vmin: float = Field(description="lowest value the index can take (documented range)")
    vmax: float = Field(description="highest value the index can take (documented range)")
    display: tuple[float, float] = Field(description="legend range, symmetric around 0 (diverging)")
    needs_reflectance: bool = Field(
        False, description="meaningful only on reflectances (additive constant), not on raw DNs"
    )
    multispectral: bool = False

    @property
    def rgb(self) -> bool:
        """True when an RGB camera has every band the index needs."""
        return not self.multispectral


def _f32(a: NDArray[np.generic]) -> Array:
    out: Array = np.asarray(a, dtype=np.float32)
    return out


def _ratio(num: Array, den: Array, valid: NDArray[np.bool_]) -> Array:
    """num / den where ``valid``, NaN elsewhere (no division warnings)."""
    out = np.full(num.shape, np.nan, dtype=np.float32)
    np.divide(num, den, out=out, where=valid)
    return out


def chromatic(red: Array, green: Array, blue: Array) -> tuple[Array, Array, Array]:
    """Chromatic coordinates r, g, b (each band over R+G+B); NaN where R+G+B <= 0."""
    total = red + green + blue
    valid = total > 0
    return _ratio(red, total, valid), _ratio(green, total, valid), _ratio(blue, total, valid)


def exg(red: Array, green: Array, blue: Array) -> Array:
    """Excess green on chromatic coordinates: 2g − r − b, in [−1, 2]."""
    r, g, b = chromatic(red, green, blue)
    return _f32(2 * g - r - b)


def vari(red: Array, green: Array, blue: Array) -> Array:
    """VARI (G − R)/(G + R − B), NaN where |g + r − b| < ``VARI_EPS``, clipped to [−1, 1]."""
    total = red + green + blue
    den = green + red - blue
    valid = (total > 0) & (np.abs(den) >= VARI_EPS * total)
    out = _ratio(green - red, den, valid)
    np.clip(out, -1.0, 1.0, out=out)
    return out


def gli(red: Array, green: Array, blue: Array) -> Array:
    """Green leaf index (2G − R − B)/(2G + R + B), in [−1, 1]."""
    den = 2 * green + red + blue
    return _ratio(2 * green - red - blue, den, den > 0)


def normalized_difference(a: Array, b: Array) -> Array:
    """(a − b)/(a + b) where a + b > 0, NaN elsewhere."""
    den = a + b
    return _ratio(a - b, den, den > 0)


def savi(nir: Array, red: Array) -> Array:
    """Soil-adjusted vegetation index 1.5 (N − R)/(N + R + 0.5) on reflectances."""
    den = nir + red + np.float32(SAVI_L)
    return _ratio(np.float32(1 + SAVI_L) * (nir - red), den, den > 0)


def _spec(name: str, da: str, en: str, formula: str, bands: tuple[Band, ...], **kw: object) -> IndexSpec:
    return IndexSpec(name=name, title_da=da, title_en=en, formula=formula, bands=bands, **kw)


_RGB = (Band.RED, Band.GREEN, Band.BLUE)
_SPECS = (
    _spec("ExG", "Overskudsgrønt", "Excess green", "2g − r − b (chromatic coordinates)", _RGB,
          vmin=-1.0, vmax=2.0, display=(-0.5, 0.5)),
    _spec("VARI", "Synligt atmosfærisk resistent indeks", "Visible atmospherically resistant index",
          "(G − R)/(G + R − B)", _RGB, vmin=-1.0, vmax=1.0, display=(-0.5, 0.5)),
    _spec("GLI", "Grønt bladindeks", "Green leaf index", "(2G − R − B)/(2G + R + B)", _RGB,
          vmin=-1.0, vmax=1.0, display=(-0.5, 0.5)),
    _spec("NGRDI", "Normaliseret grøn-rød differensindeks", "Normalised green-red difference index",
          "(G − R)/(G + R)", (Band.RED, Band.GREEN), vmin=-1.0, vmax=1.0, display=(-0.5, 0.5)),
    _spec("NDVI", "Normaliseret differens-vegetationsindeks", "Normalised difference vegetation index",
          "(NIR − R)/(NIR + R)", (Band.NIR, Band.RED), vmin=-1.0, vmax=1.0, display=(-1.0, 1.0),
          multispectral=True),
    _spec("NDRE", "Normaliseret differens rødkant-indeks", "Normalised difference red-edge index",
          "(NIR − RE)/(NIR + RE)", (Band.NIR, Band.REDEDGE), vmin=-1.0, vmax=1.0, display=(-1.0, 1.0),
          multispectral=True),
    _spec("GNDVI", "Grøn NDVI", "Green NDVI", "(NIR − G)/(NIR + G)", (Band.NIR, Band.GREEN),
          vmin=-1.0, vmax=1.0, display=(-1.0, 1.0), multispectral=True),
    _spec("SAVI", "Jordjusteret vegetationsindeks", "Soil-adjusted vegetation index",
          "1.5 (NIR − R)/(NIR + R + 0.5)", (Band.NIR, Band.RED), vmin=-1.0, vmax=1.0,
          display=(-1.0, 1.0), needs_reflectance=True, multispectral=True),
)  # fmt: skip

INDICES: Mapping[str, IndexSpec] = MappingProxyType({s.name.upper(): s for s in _SPECS})
"""Every index by upper-case name (immutable)."""

_FORMULAS: Mapping[str, Callable[[Mapping[Band, Array]], Array]] = MappingProxyType(
    {
        "EXG": lambda b: exg(b[Band.RED], b[Band.GREEN], b[Band.BLUE]),
        "VARI": lambda b: vari(b[Band.RED], b[Band.GREEN], b[Band.BLUE]),
        "GLI": lambda b: gli(b[Band.RED], b[Band.GREEN], b[Band.BLUE]),
        "NGRDI": lambda b: normalized_difference(b[Band.GREEN], b[Band.RED]),
        "NDVI": lambda b: normalized_difference(b[Band.NIR], b[Band.RED]),
        "NDRE": lambda b: normalized_difference(b[Band.NIR], b[Band.REDEDGE]),
        "GNDVI": lambda b: normalized_difference(b[Band.NIR], b[Band.GREEN]),
        "SAVI": lambda b: savi(b[Band.NIR], b[Band.RED]),
    }
)


def index_spec(name: str) -> IndexSpec:
    """The definition of index ``name`` (any case).

    Raises:
        UsageError: no index has that name.
    """
    try:
        return INDICES[name.upper()]
    except KeyError:
        known = ", ".join(s.name for s in _SPECS)
        raise UsageError(f"unknown vegetation index {name!r}; known: {known}") from None


def compute_index(name: str, bands: Mapping[Band, NDArray[np.generic]]) -> Array:
    """Index ``name`` of float band arrays (same shape); NaN marks nodata in any input band.

    Raises:
        UsageError: unknown index, or a band it needs is missing.
    """
    spec = index_spec(name)
    missing = [b.value for b in spec.bands if b not in bands]
    if missing:
        raise UsageError(f"index {spec.name} needs band(s) {', '.join(missing)}; have {sorted(bands)}")
    arrays = {b: _f32(bands[b]) for b in spec.bands}
    return _FORMULAS[spec.name.upper()](arrays)
