"""Cards published with a vector layer: the buildings analysis' card per building, served beside it.

A vector product whose layer has a ``card`` attribute (the buildings layer: ``cards/<key>.html``,
relative to its GeoPackage) is published with the ``cards/`` folder beside its GeoPackage,
copied into ``publish/layers/<id>/cards/`` (the cards of the published features only, none whose
pictures would show a privacy zone). The service answers them at
``/layers/<id>/cards/<file>`` under the layer's access rule (:func:`card_file`), and WMS
GetFeatureInfo gives each feature its ``card_url``. Like the features, the published copy
changes only when the flight is published again.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pyogrio
from shapely.geometry.base import BaseGeometry

from core.errors import LayerNotFound
from webgis_export.vectors.build import FEATURES_NAME
from webgis_export.vectors.models import FieldInfo, VectorLayer

CARD_FIELD = "card"
CARDS_DIR = "cards"
CARD_NAME = re.compile(r"^[A-Za-z0-9._~-]+\.(html|png)$")
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".png": "image/png"}
CARD_IMAGES = ("rgb", "thermal", "histogram")
"""The pictures of a card: ``<key>_<picture>.png`` (:mod:`pipeline.buildings.cards`)."""
CARD_MARGIN_M = 4.0
"""Ground around a footprint that its card's crops show (``pipeline.buildings.cards.MARGIN_M``)."""
IMAGE_SRC = re.compile(r"src='([A-Za-z0-9._~-]+\.png)'")


def has_cards(fields: tuple[FieldInfo, ...]) -> bool:
    """True when a layer's features name a card (a ``card`` attribute)."""
    return any(f.name == CARD_FIELD for f in fields)


def copy_cards(source: Path, folder: Path, layer: VectorLayer, zones: BaseGeometry | None = None) -> int:
    """The cards of the layer's published features copied from beside ``source`` into ``folder``.

    Only the features left in the published copy (``folder/features.gpkg``, after privacy
    masking) keep a card, and a card whose crops (the footprint and :data:`CARD_MARGIN_M`
    around it) meet a privacy zone (``zones``, in the layer's CRS) is withheld: its pictures
    would show the zone. The card index (every building) is not published.

    Returns:
        The number of cards copied.
    """
    cards = source.parent / CARDS_DIR
    if not has_cards(layer.fields) or not cards.is_dir() or layer.feature_count == 0:
        return 0
    frame = pyogrio.read_dataframe(folder / FEATURES_NAME, layer=layer.table, columns=[CARD_FIELD])
    keep = frame[CARD_FIELD].notna().to_numpy()
    if zones is not None and not zones.is_empty:
        keep &= ~frame.geometry.buffer(CARD_MARGIN_M).intersects(zones).to_numpy()
    names = [str(c).removeprefix(f"{CARDS_DIR}/") for c in frame[CARD_FIELD][keep]]
    (folder / CARDS_DIR).mkdir(parents=True, exist_ok=True)
    copied = 0
    for name in names:
        if not CARD_NAME.match(name) or not (cards / name).is_file():
            continue
        stem = name.removesuffix(".html")
        for part in [name, *(f"{stem}_{kind}.png" for kind in CARD_IMAGES)]:
            if (cards / part).is_file():
                shutil.copy2(cards / part, folder / CARDS_DIR / part)
        copied += 1
    return copied


def card_url(layer: VectorLayer, card: object, base_url: str, token: str | None) -> str | None:
    """Where the service answers a feature's card (``card``: its ``cards/<file>`` attribute), or None."""
    if not isinstance(card, str) or not card.startswith(f"{CARDS_DIR}/"):
        return None
    name = card.removeprefix(f"{CARDS_DIR}/")
    if not CARD_NAME.match(name):
        return None
    return f"{base_url}/layers/{layer.id}/{CARDS_DIR}/{name}" + (f"?token={quote(token)}" if token else "")


def card_file(publish_root: Path, layer: VectorLayer, name: str) -> tuple[Path, str]:
    """The published card file ``name`` of ``layer`` and its media type.

    Raises:
        LayerNotFound: a name that is not a card file, or no such card.
    """
    folder = publish_root / "layers" / layer.id / CARDS_DIR
    path = folder / name
    if not CARD_NAME.match(name) or not path.is_file():
        raise LayerNotFound(f"layer {layer.id!r} has no card {name!r}")
    return path, MEDIA_TYPES[path.suffix]


def with_token(page: str, token: str | None) -> str:
    """A card page whose images carry the caller's query token (internal layers' images need it)."""
    if not token:
        return page
    return IMAGE_SRC.sub(lambda m: f"src='{m.group(1)}?token={quote(token)}'", page)
