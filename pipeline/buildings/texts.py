"""Words a person reads on the cards, Danish first, then English."""

from __future__ import annotations

from typing import Literal

Lang = Literal["da", "en"]

REASONS: dict[str, dict[Lang, str]] = {
    "no_data": {"da": "ingen termiske data over taget", "en": "no thermal data over the roof"},
    "low_coverage": {
        "da": "under halvdelen af taget er dækket",
        "en": "less than half of the roof is covered",
    },
    "partial_coverage": {"da": "taget er kun delvist dækket", "en": "the roof is only partly covered"},
    "too_few_pixels": {"da": "for få pixels på taget", "en": "too few pixels on the roof"},
    "few_pixels": {"da": "få pixels på taget", "en": "few pixels on the roof"},
    "oblique_view": {"da": "skråt kig (stor vinkel fra lodret)", "en": "oblique view (far from nadir)"},
    "reflective_roof": {
        "da": "metal- eller glastag: spejler omgivelserne, ikke varmetab",
        "en": "metal or glass roof: reflects its surroundings, not heat loss",
    },
    "conditions_gate_failed": {
        "da": "flyvningens forhold opfyldte ikke kravene til termografi",
        "en": "the flight's conditions did not meet the thermography requirements",
    },
    "repaired_footprint": {
        "da": "omridset var ugyldigt og er repareret",
        "en": "the footprint was invalid and repaired",
    },
}

RELIABILITY: dict[str, dict[Lang, str]] = {
    "good": {"da": "god", "en": "good"},
    "limited": {"da": "begrænset", "en": "limited"},
    "unreliable": {"da": "upålidelig", "en": "unreliable"},
}

CLASS_MEANING: dict[str, dict[Lang, str]] = {
    "A": {"da": "intet tegn på varmetab", "en": "no sign of heat loss"},
    "B": {"da": "lidt varmere end sammenlignelige tage", "en": "slightly warmer than comparable roofs"},
    "C": {"da": "tydeligt varmere; se nærmere", "en": "clearly warmer; take a closer look"},
    "D": {"da": "meget varmere; sandsynligt varmetab", "en": "much warmer; likely heat loss"},
    "E": {"da": "størst varmetab; undersøg først", "en": "most heat loss; inspect first"},
}

LABELS: dict[str, dict[Lang, str]] = {
    "title": {"da": "Bygning", "en": "Building"},
    "rank": {"da": "Placering", "en": "Rank"},
    "class": {"da": "Klasse", "en": "Class"},
    "score": {"da": "Varmetabs-score", "en": "Heat-loss score"},
    "reliability": {"da": "Pålidelighed", "en": "Reliability"},
    "figures": {"da": "Tal", "en": "Figures"},
    "mean": {"da": "Middel", "en": "Mean"},
    "median": {"da": "Median", "en": "Median"},
    "p10": {"da": "10 %-fraktil", "en": "10th percentile"},
    "p90": {"da": "90 %-fraktil", "en": "90th percentile"},
    "max": {"da": "Maksimum", "en": "Maximum"},
    "std": {"da": "Spredning", "en": "Standard deviation"},
    "coverage": {"da": "Dækning", "en": "Coverage"},
    "pixels": {"da": "Pixels (med data / i omridset)", "en": "Pixels (with data / in footprint)"},
    "excess_air": {"da": "Over lufttemperatur", "en": "Above air temperature"},
    "excess_peers": {"da": "Over sammenlignelige tage", "en": "Above comparable roofs"},
    "peers": {"da": "Sammenlignet med", "en": "Compared with"},
    "hot_spots": {"da": "Varme områder", "en": "Hot spots"},
    "area": {"da": "Areal", "en": "Area"},
    "peak": {"da": "Højeste", "en": "Peak"},
    "mean_excess": {"da": "Middel over tagets median", "en": "Mean above the roof's median"},
    "conditions": {"da": "Forhold", "en": "Conditions"},
    "date": {"da": "Flyvedato", "en": "Date flown"},
    "air": {"da": "Lufttemperatur", "en": "Air temperature"},
    "wind": {"da": "Vind", "en": "Wind"},
    "material": {"da": "Tagmateriale (ε)", "en": "Roof material (ε)"},
    "use": {"da": "BBR-anvendelse", "en": "BBR use code"},
    "parameters": {"da": "Parametre", "en": "Parameters"},
    "unknown": {"da": "ukendt", "en": "unknown"},
    "none": {"da": "ingen", "en": "none"},
    "thermal": {
        "da": "Termisk billede (°C), varme områder markeret",
        "en": "Thermal image (°C), hot spots outlined",
    },
    "rgb": {"da": "Luftfoto", "en": "Aerial photo"},
    "histogram": {"da": "Fordeling af tagets temperaturer", "en": "Distribution of the roof's temperatures"},
    "how": {"da": "Sådan læses kortet", "en": "How to read this card"},
    "problems": {"da": "Bemærkninger", "en": "Remarks"},
}

HOW_TO_READ: dict[Lang, str] = {
    "da": (
        "Temperaturerne er tagets overfladetemperatur målt fra luften (°C), ikke indetemperaturen. "
        "Varmetabs-scoren er den gennemsnitlige overtemperatur i kelvin over medianen af "
        "sammenlignelige tage (samme BBR-anvendelse, når mindst {min_peers} tage deler den); "
        "kun de varmere dele tæller. "
        "Klasse A (mindst) til E (mest) følger scoren med grænserne {limits} K. "
        "Et varmt område er mindst {excess} K over tagets egen median og mindst {area} m². "
        "Metal- og glastage spejler himlen og omgivelserne og er derfor markeret som upålidelige; "
        "upålidelige bygninger placeres altid efter de pålidelige. Sol, regn, vind og dug kan give "
        "falske varme eller kolde områder — tjek forholdene og se bygningen før der handles."
    ),
    "en": (
        "Temperatures are the roof's surface temperature seen from the air (°C), not the indoor temperature. "
        "The heat-loss score is the mean excess in kelvin over the median of comparable roofs (same BBR use "
        "code when at least {min_peers} roofs share it); only the warmer parts count. "
        "Class A (least) to E (most) follows the score with limits {limits} K. "
        "A hot spot is at least {excess} K above the roof's own median and at least {area} m². "
        "Metal and glass roofs reflect the sky and their surroundings and are flagged unreliable; "
        "unreliable buildings always rank after reliable ones. Sun, rain, wind and dew can cause false warm "
        "or cold areas — check the conditions and look at the building before acting."
    ),
}


def reason_text(code: str, lang: Lang) -> str:
    """A reason code in words (the code itself when unknown)."""
    return REASONS.get(code, {}).get(lang, code)
