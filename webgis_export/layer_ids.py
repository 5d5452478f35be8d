"""Layer ids: URL-safe, and unique case-insensitively (issue 18).

A layer id is its product's id in lower case with every other character than ``[a-z0-9_-]``
made ``-`` (``skanderborg-demo-frame-DJI_0006`` -> ``skanderborg-demo-frame-dji_0006``): URLs,
WMS/WMTS layer names and the layer folders on case-insensitive file systems all read it the same.
Two products of a flight whose ids differ only in case or punctuation (frames ``DJI_0001.JPG`` and
``dji_0001.JPG`` delivered in one folder) would then share one id: the first of them in sorted order
keeps it, every other one gets ``-`` and six hex digits of its product id's sha256, so each product
keeps its own layer for ever, whichever order they are published in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from pipeline.models import Product


def layer_id_for(product: Product) -> str:
    """The URL-safe base id of a product (its id, lower-case, ``[a-z0-9_-]``)."""
    return re.sub(r"[^a-z0-9_-]+", "-", product.id.lower()).strip("-")


def unique_layer_ids(products: Iterable[Product]) -> dict[str, str]:
    """Product id -> layer id over ``products`` (a flight's), distinct even where base ids collide."""
    by_base: dict[str, list[str]] = {}
    for product in products:
        ids = by_base.setdefault(layer_id_for(product), [])
        if product.id not in ids:
            ids.append(product.id)
    out: dict[str, str] = {}
    for base, ids in by_base.items():
        first, *others = sorted(ids)
        out[first] = base
        for product_id in others:
            out[product_id] = f"{base}-{hashlib.sha256(product_id.encode()).hexdigest()[:6]}"
    return out
