"""Cards published with a vector layer: the buildings analysis' card per building, served beside it.

A vector product whose layer has a ``card`` attribute (the buildings layer: ``cards/<key>.html``,
relative to its GeoPackage) is published with the ``cards/`` folder beside its GeoPackage,
copied into ``publish/layers/<id>/cards/``. The service answers them at
``/layers/<id>/cards/<file>`` under the layer's access rule (:func:`card_file`), and WMS
GetFeatureInfo gives each feature its ``card_url``. Like the features, the published copy
changes only when the flight is published again.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

from core.errors import LayerNotFound
from webgis_export.vectors.models import FieldInfo, VectorLayer

CARD_FIELD = "card"
CARDS_DIR = "cards"
CARD_NAME = re.compile(r"^[A-Za-z0-9._~-]+\.(html|png)$")
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".png": "image/png"}
IMAGE_SRC = re.compile(r"src='([A-Za-z0-9._~-]+\.png)'")


def has_cards(fields: tuple[FieldInfo, ...]) -> bool:
    """True when a layer's features name a card (a ``card`` attribute)."""
    return any(f.name == CARD_FIELD for f in fields)


def copy_cards(source: Path, folder: Path, fields: tuple[FieldInfo, ...]) -> int:
    """The ``cards/`` beside ``source`` (the product's GeoPackage) copied into ``folder``; files copied."""
    cards = source.parent / CARDS_DIR
    if not has_cards(fields) or not cards.is_dir():
        return 0
    shutil.copytree(cards, folder / CARDS_DIR, dirs_exist_ok=True)
    return sum(1 for _ in (folder / CARDS_DIR).iterdir())


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
