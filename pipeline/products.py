"""A flight's products on disk: the one reader and writer of ``products.json``, and the product-id rule.

Every floor reads products through :func:`load_products` / :func:`read_products` (process, QA,
publication, the service), so a malformed file fails the same way everywhere: a
:class:`~core.errors.ProductsFileError` naming the file, the product and the key or value the model
refuses. Only the ``process`` stage writes the file (:func:`write_products`, atomically).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from pydantic import TypeAdapter, ValidationError

from core.atomic import atomic_write_text
from core.errors import ProductsFileError
from core.workspace import Workspace
from pipeline.models import Product, Skipped

_SKIPPED = TypeAdapter(list[Skipped])


def product_id(flight: str, label: str, source: str | None = None) -> str:
    """The id of a product: ``<flight>-<label>``, and its source when it has one.

    The source loses its suffix and ``/`` becomes ``-``: a frame is named by its path in the flight
    folder (``100MEDIA/DJI_0001.JPG`` -> ``<flight>-frame-100MEDIA-DJI_0001``, so cards with the same
    file names do not collide); a delivered raster by its file name (``odm_dem/dsm.tif`` ->
    ``<flight>-dsm-dsm``, ODM's layout), a second one of that name being refused by the stage.
    """
    if source is None:
        return f"{flight}-{label}"
    stem = PurePosixPath(source).with_suffix("").as_posix().replace("/", "-")
    return f"{flight}-{label}-{stem}"


def _problem(path: Path, index: int, item: object, error: ValidationError) -> str:
    """``products.json: product 3 (f-dsm): unknown key 'properties'``: the first thing refused."""
    first = error.errors()[0]
    name = item.get("id") if isinstance(item, dict) else None
    where = f"product {index}" + (f" ({name})" if name else "")
    key = ".".join(str(part) for part in first["loc"]) or "?"
    if first["type"] == "extra_forbidden":
        return f"{path}: {where}: unknown key {key!r}"
    if first["type"] == "missing":
        return f"{path}: {where}: key {key!r} is missing"
    return f"{path}: {where}: {key}: {first['msg']} (got {first.get('input')!r})"


def read_products(path: Path) -> list[Product]:
    """The products listed in ``path`` (a ``products.json``).

    Raises:
        ProductsFileError: the file cannot be read, is not a JSON list, or holds a product the model
            refuses (an unknown or misspelt key, a missing key, a bad value), naming the file and key.
    """
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProductsFileError(f"{path}: cannot read the products file: {exc}") from exc
    except ValueError as exc:
        raise ProductsFileError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ProductsFileError(f"{path}: expected a list of products, found {type(items).__name__}")
    products = []
    for index, item in enumerate(items):
        try:
            products.append(Product.model_validate(item))
        except ValidationError as exc:
            raise ProductsFileError(_problem(path, index, item, exc)) from exc
    return products


def load_products(workspace: Workspace, flight_id: str) -> list[Product]:
    """The products a previous run of ``process`` recorded for a flight (empty when it has not run).

    Raises:
        ProductsFileError: as :func:`read_products`.
    """
    path = workspace.products_json(flight_id)
    return read_products(path) if path.exists() else []


def write_products(workspace: Workspace, flight_id: str, products: Iterable[Product]) -> Path:
    """Write a flight's ``products.json`` atomically (the ``process`` stage is its only writer)."""
    path = workspace.products_json(flight_id)
    payload = [p.model_dump(mode="json") for p in products]
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
    return path


def write_skipped(workspace: Workspace, flight_id: str, skipped: Iterable[Skipped]) -> Path:
    """Write what a ``process`` run skipped, and why (``skipped.json``, atomically; the run's only writer)."""
    path = workspace.skipped_json(flight_id)
    atomic_write_text(path, _SKIPPED.dump_json(list(skipped), indent=1).decode() + "\n")
    return path


def load_skipped(workspace: Workspace, flight_id: str) -> list[Skipped]:
    """What the last ``process`` run of a flight skipped (empty before the first run).

    Raises:
        ProductsFileError: the file is not a list of skipped inputs, naming the file.
    """
    path = workspace.skipped_json(flight_id)
    if not path.exists():
        return []
    try:
        return _SKIPPED.validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise ProductsFileError(f"{path}: not a list of skipped inputs: {exc}") from exc


def bounds_of(products: Sequence[Product]) -> tuple[float, float, float, float] | None:
    """Union of the products' finite bounds, or None."""
    boxes = [p.bounds for p in products if all(math.isfinite(v) for v in p.bounds)]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
