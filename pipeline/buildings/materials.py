"""Roof material → emissivity and whether thermal figures on it can be trusted (pure).

Emissivities are REFERENCE.md §5.2 (LWIR, typical). Metal and glass mostly reflect their
surroundings (sky, neighbours), so warm or cold areas on them are not heat loss: such roofs
are flagged unreliable. Materials come as BBR ``byg033Tagdækningsmateriale`` codes (BBR code
list: 1 built-up, 2 roofing felt, 3 and 10 fibre cement, 4 concrete tiles, 5 clay tiles,
6 metal, 7 thatch, 11 PVC, 12 glass, 20 green roof, 80 none, 90 other) or as free text.
"""

from __future__ import annotations

from typing import NamedTuple

MATERIAL_FIELDS = (
    "byg033Tagdækningsmateriale",
    "byg033Tagdaekningsmateriale",
    "TAG_KODE",
    "TAGDAEKNING",
    "tagmateriale",
    "roof_material",
    "material",
)
"""Footprint fields tried, in order and ignoring case, for the roof material."""


class Material(NamedTuple):
    """A roof material: name, typical LWIR emissivity (None = unknown) and whether it reflects."""

    name: str
    emissivity: float | None
    reflective: bool


FELT = Material("roofing felt", 0.93, False)
CONCRETE = Material("concrete / fibre cement", 0.92, False)
CLAY = Material("clay tile", 0.93, False)
METAL = Material("metal", None, True)
GLASS = Material("glass", 0.94, True)
THATCH = Material("thatch", 0.90, False)
PVC = Material("PVC", 0.92, False)

BBR_CODES: dict[int, Material] = {
    1: FELT,
    2: FELT,
    3: CONCRETE,
    4: CONCRETE,
    5: CLAY,
    6: METAL,
    7: THATCH,
    10: CONCRETE,
    11: PVC,
    12: GLASS,
}
KEYWORDS: tuple[tuple[tuple[str, ...], Material], ...] = (
    (("metal", "stål", "staal", "steel", "zink", "zinc", "kobber", "copper", "alu", "blik"), METAL),
    (("glas", "glass", "ovenlys"), GLASS),
    (("tegl", "clay", "brick"), CLAY),
    (("tagpap", "felt", "asfalt", "asphalt", "built-up", "bitumen"), FELT),
    (("beton", "concrete", "cement", "eternit", "fiber", "fibre"), CONCRETE),
    (("strå", "straa", "thatch", "træ", "wood"), THATCH),
    (("pvc",), PVC),
)


def material_of(value: object) -> Material | None:
    """The material a footprint attribute names (BBR code or text), None when unknown."""
    if value is None or value == "":
        return None
    try:
        code = int(float(str(value)))
    except ValueError:
        text = str(value).lower()
        return next((m for words, m in KEYWORDS if any(w in text for w in words)), None)
    return BBR_CODES.get(code)
