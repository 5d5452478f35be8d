"""Words people read in the feature services, Danish first and English (``?lang=en``).

Kind names, page labels and the descriptions of collections. (To move into the project's
message catalogue once it lands; the keys are already dotted the same way.)
"""

from __future__ import annotations

from typing import Literal

from core.localtime import local_text
from webgis_export.vectors.models import VectorLayer

Lang = Literal["da", "en"]

KINDS: dict[str, tuple[str, str]] = {
    "footprints": ("Billedfodspor", "Footprints"),
    "photo_points": ("Fotopunkter", "Photo points"),
    "buildings": ("Bygninger (varmetab)", "Buildings (heat loss)"),
    "hot_spots": ("Varmepletter", "Hot spots"),
    "change_areas": ("Ændringsområder", "Change areas"),
    "volumes": ("Volumener", "Volumes"),
    "roof_planes": ("Tagflader", "Roof planes"),
    "check_points": ("Kontrolpunkter", "Check points"),
}
LABELS: dict[str, tuple[str, str]] = {
    "service": ("dronegis – vektordata fra droneflyvninger", "dronegis – vector data from drone flights"),
    "service_intro": (
        "Fodspor, fotopunkter og analyseresultater fra Skanderborg Kommunes droneflyvninger "
        "(OGC API – Features og WFS 2.0).",
        "Footprints, photo points and analysis results of Skanderborg Kommune's drone flights "
        "(OGC API – Features and WFS 2.0).",
    ),
    "collections": ("Datasæt", "Collections"),
    "conformance": ("Overensstemmelse", "Conformance"),
    "api": ("API-beskrivelse (OpenAPI)", "API definition (OpenAPI)"),
    "docs": ("API-dokumentation", "API documentation"),
    "wfs": ("WFS 2.0-tjeneste", "WFS 2.0 service"),
    "items": ("Objekter", "Items"),
    "item": ("Objekt", "Item"),
    "title": ("Titel", "Title"),
    "kind": ("Type", "Kind"),
    "flight": ("Flyvning", "Flight"),
    "flown": ("Fløjet", "Flown"),
    "unknown": ("ukendt", "unknown"),
    "qa": ("QA-status", "QA status"),
    "not_run": ("ikke kørt", "not run"),
    "count": ("Antal objekter", "Feature count"),
    "access": ("Adgang", "Access"),
    "public": ("offentlig", "public"),
    "internal": ("intern (kræver token)", "internal (token needed)"),
    "crs": ("Koordinatsystemer", "Coordinate systems"),
    "extent": ("Udstrækning (WGS84)", "Extent (WGS84)"),
    "showing": ("Viser {first}–{last} af {matched}", "Showing {first}–{last} of {matched}"),
    "none": ("Ingen objekter", "No features"),
    "next": ("Næste", "Next"),
    "prev": ("Forrige", "Previous"),
    "json": ("Som GeoJSON", "As GeoJSON"),
    "attributes": ("Egenskaber", "Properties"),
    "back": ("Tilbage til datasættet", "Back to the collection"),
    "home": ("Forside", "Home"),
    "queryables": ("Filtrerbare egenskaber", "Queryables"),
    "filter_hint": (
        "Filtrér med ?egenskab=værdi, bbox=V,S,Ø,N og datetime=…; crs=EPSG:25832 giver UTM-koordinater.",
        "Filter with ?property=value, bbox=W,S,E,N and datetime=…; crs=EPSG:25832 gives UTM coordinates.",
    ),
    "error": ("Fejl", "Error"),
    "other_lang": ("English", "Dansk"),
}


def label(key: str, lang: Lang, **params: object) -> str:
    """The label ``key`` in ``lang`` (its ``{fields}`` filled)."""
    da, en = LABELS[key]
    return (da if lang == "da" else en).format(**params)


def kind_name(kind: str, lang: Lang) -> str:
    """A product kind as people say it."""
    da, en = KINDS.get(kind, (kind.replace("_", " "), kind.replace("_", " ")))
    return da if lang == "da" else en


def flown(layer: VectorLayer, lang: Lang) -> str:
    """When the layer was flown, in Copenhagen time, or 'unknown'."""
    when = layer.capture_time
    return local_text(when) if when else label("unknown", lang)


def describe(layer: VectorLayer, lang: Lang) -> str:
    """One line about a collection: kind, flight, when flown, feature count, QA."""
    qa = layer.qa_status or label("not_run", lang)
    if lang == "da":
        return (
            f"{kind_name(layer.kind.value, lang)} fra flyvning {layer.flight}, fløjet {flown(layer, lang)}; "
            f"{layer.feature_count} objekter; QA {qa}."
        )
    return (
        f"{kind_name(layer.kind.value, lang)} of flight {layer.flight}, flown {flown(layer, lang)}; "
        f"{layer.feature_count} features; QA {qa}."
    )
