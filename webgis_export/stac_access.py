"""What of the published STAC catalog a caller may read, so that every link a caller gets resolves.

Items of internal layers are hidden from callers without a token, as the layers are; a
collection whose items are all hidden is hidden too. The links of the documents a caller
may read are served without the links to hidden documents. Relative hrefs (the catalog is
self-contained) are resolved against the document's own path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def link_target(document: Path, href: str) -> Path | None:
    """The file a relative ``href`` of ``document`` points to; None for absolute URLs."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/"):
        return None
    return (document.parent / parts.path).resolve()


def hidden_documents(stac_root: Path, hidden_layers: Iterable[str]) -> frozenset[Path]:
    """Resolved paths of the items of ``hidden_layers`` and of the collections left without items.

    The catalog lays items out as ``<kind>/<layer id>/<layer id>.json`` beside
    ``<kind>/collection.json`` (see :func:`webgis_export.stac.write_catalog`).
    """
    names = set(hidden_layers)
    if not names:
        return frozenset()
    items = {path.resolve() for path in stac_root.glob("*/*/*.json") if path.stem in names}
    hidden = set(items)
    for collection in stac_root.glob("*/collection.json"):
        doc = json.loads(collection.read_text(encoding="utf-8"))
        members = {
            link_target(collection, link["href"])
            for link in doc.get("links", [])
            if link.get("rel") == "item"
        }
        if members and members <= items:
            hidden.add(collection.resolve())
    return frozenset(hidden)


def without_hidden_links(document: Path, doc: dict[str, Any], hidden: frozenset[Path]) -> dict[str, Any]:
    """``doc`` (read from ``document``) without its links to ``hidden`` documents."""
    links = [
        link for link in doc.get("links", []) if link_target(document, link.get("href", "")) not in hidden
    ]
    return {**doc, "links": links}
