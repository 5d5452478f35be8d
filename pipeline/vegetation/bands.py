"""Which band of a raster is red, green, blue, red edge or near-infrared (pure, no file I/O).

Evidence, strongest first:

1. the user's word: a camera-filter string as in WebODM (``RGB``, ``NRG``, ``NGB``, ``RGN``,
   ``RGBN``, ``BGRReN`` …; one letter per band, ``Re`` for red edge) or explicit pairs
   ``red=3,nir=4``;
2. band descriptions naming the band (``Red``, ``NIR``, ``RedEdge``, ``Near infrared`` … as ODM,
   MicaSense, DJI and Sequoia name them) or a central wavelength in nm
   (``CentralWavelength`` / ``wavelength`` band metadata, as the cameras' XMP carries it);
3. the colour interpretation GDAL reports (red/green/blue);
4. a 3- or 4-band 8/16-bit raster with no other evidence is RGB(A) in that order.

A NIR-converted consumer camera looks like plain RGB to every file format, so its filter
must be given (rule 1): the index would otherwise be computed on the wrong light.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.errors import UsageError
from core.models import Frozen
from pipeline.vegetation.indices import Band

#: Band-name words (lower case, spaces/underscores/dashes removed) -> band.
NAME_WORDS: Mapping[str, Band] = {
    "blue": Band.BLUE, "b": Band.BLUE, "blå": Band.BLUE,
    "green": Band.GREEN, "g": Band.GREEN, "grøn": Band.GREEN,
    "red": Band.RED, "r": Band.RED, "rød": Band.RED,
    "rededge": Band.REDEDGE, "re": Band.REDEDGE, "rødkant": Band.REDEDGE,
    "nir": Band.NIR, "n": Band.NIR, "nearinfrared": Band.NIR, "nearir": Band.NIR, "infrared": Band.NIR,
}  # fmt: skip

#: Central-wavelength intervals (nm, half-open) of each band, wide enough for every camera we know:
#: MicaSense 475/560/668/717/842, DJI P4M 450/560/650/730/840, Mavic 3M 560/650/730/860,
#: Sequoia 550/660/735/790.
WAVELENGTHS: tuple[tuple[float, float, Band], ...] = (
    (400.0, 510.0, Band.BLUE),
    (510.0, 600.0, Band.GREEN),
    (600.0, 700.0, Band.RED),
    (700.0, 760.0, Band.REDEDGE),
    (760.0, 1000.0, Band.NIR),
)

_FILTER_TOKEN = re.compile(r"Re|[RGBN]")
_GDAL_INTERP = {"red": Band.RED, "green": Band.GREEN, "blue": Band.BLUE}


class BandMap(Frozen):
    """1-based band numbers of a raster by spectral band, and where that knowledge came from."""

    bands: dict[Band, int]
    source: str
    """``user``, ``description``, ``wavelength``, ``colorinterp`` or ``assumed RGB``."""

    def has(self, needed: Sequence[Band]) -> bool:
        """True when every band in ``needed`` is mapped."""
        return all(b in self.bands for b in needed)


def band_from_name(text: str) -> Band | None:
    """The band a description names (``NIR``, ``Red edge``, ``near-infrared`` …), or None."""
    key = re.sub(r"[\s_\-]+", "", text.strip()).lower()
    return NAME_WORDS.get(key) or NAME_WORDS.get(re.sub(r"(band|\d+)$", "", key))


def band_from_wavelength(nm: float) -> Band | None:
    """The band whose interval holds central wavelength ``nm``, or None."""
    return next((band for low, high, band in WAVELENGTHS if low <= nm < high), None)


def parse_band_spec(spec: str, count: int) -> BandMap:
    """A band map from the user's filter string (``NRG``) or pairs (``red=3,nir=4``).

    Raises:
        UsageError: unknown band word, a band number outside 1..count, a band given twice,
            or a filter string with more letters than the raster has bands.
    """
    text = spec.strip()
    bands: dict[Band, int] = {}
    if "=" in text:
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, digits = part.partition("=")
            band = band_from_name(name)
            if band is None or not digits.strip().isdigit():
                raise UsageError(f"band spec {spec!r}: cannot read {part!r} (use e.g. red=3,nir=4)")
            _put(bands, band, int(digits), spec, count)
    else:
        tokens = _FILTER_TOKEN.findall(text)
        if "".join(tokens) != text or not tokens:
            raise UsageError(
                f"band spec {spec!r}: a camera filter uses the letters R, G, B, N and Re (e.g. NRG)"
            )
        if len(tokens) > count:
            raise UsageError(f"band spec {spec!r} names {len(tokens)} bands; the raster has {count}")
        letters = {"R": Band.RED, "G": Band.GREEN, "B": Band.BLUE, "N": Band.NIR, "Re": Band.REDEDGE}
        for number, token in enumerate(tokens, start=1):
            _put(bands, letters[token], number, spec, count)
    return BandMap(bands=bands, source="user")


def _put(bands: dict[Band, int], band: Band, number: int, spec: str, count: int) -> None:
    if not 1 <= number <= count:
        raise UsageError(f"band spec {spec!r}: band {number} does not exist (the raster has {count})")
    if band in bands:
        raise UsageError(f"band spec {spec!r}: {band.value} is given twice")
    bands[band] = number


def identify_bands(
    descriptions: Sequence[str | None],
    colorinterp: Sequence[str],
    wavelengths: Sequence[float | None],
    dtype: str,
) -> BandMap:
    """The band map from a raster's own metadata (rules 2–4 of the module docstring).

    Args:
        descriptions: band descriptions, one per band (None when unset).
        colorinterp: GDAL colour interpretation names, one per band (``red``, ``alpha`` …).
        wavelengths: central wavelength in nm per band, None when unknown.
        dtype: the raster's data type.

    Returns:
        The map, possibly empty (source ``none``) when nothing identifies any band.
    """
    for source, found in (
        ("description", [band_from_name(d) if d else None for d in descriptions]),
        ("wavelength", [band_from_wavelength(w) if w else None for w in wavelengths]),
        ("colorinterp", [_GDAL_INTERP.get(c.lower()) for c in colorinterp]),
    ):
        mapped = {band: i + 1 for i, band in reversed(list(enumerate(found))) if band is not None}
        if mapped:
            return BandMap(bands=mapped, source=source)
    colour = [c.lower() for c in colorinterp if c.lower() != "alpha"]
    if len(colour) == 3 and dtype in ("uint8", "uint16"):
        return BandMap(bands={Band.RED: 1, Band.GREEN: 2, Band.BLUE: 3}, source="assumed RGB")
    return BandMap(bands={}, source="none")
