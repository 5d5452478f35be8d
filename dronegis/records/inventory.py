"""What the workspace holds of a flight, read from its files as plain JSON.

Records read only the few keys they need (ids, paths, flights, checksums), so they keep working
while the product and layer models grow: retention and erasure must never fail on a field they
do not use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import ErasureError
from core.workspace import Workspace
from dronegis.upload_names import FLIGHT_ID


def read_json(path: Path) -> Any:
    """The JSON document at ``path``, or None when there is no such file."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def flight_doc(workspace: Workspace, flight: str) -> dict[str, Any] | None:
    """The ingested flight (``flights/<id>.json``) as a dict, or None."""
    doc = read_json(workspace.flight_json(flight))
    return doc if isinstance(doc, dict) else None


def flown_at(doc: dict[str, Any] | None, fallback: datetime) -> datetime:
    """When the flight was flown: its last capture time, else its ingest time, else ``fallback``."""
    times = [c.get("time_utc") for c in (doc or {}).get("captures", []) if c.get("time_utc")]
    text = max(times) if times else (doc or {}).get("ingested_at")
    if not text:
        return fallback
    when = datetime.fromisoformat(str(text))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def published(workspace: Workspace) -> list[dict[str, Any]]:
    """Every published raster and vector layer (id, flight, product_id, access, kind …)."""
    out: list[dict[str, Any]] = []
    for path in (workspace.layers_json, workspace.collections_json):
        docs = read_json(path)
        out += [d for d in docs or [] if isinstance(d, dict)]
    return out


def product_paths(workspace: Workspace, flight: str) -> dict[str, str]:
    """Product id -> path (relative to the workspace) of a flight's products."""
    docs = read_json(workspace.products_json(flight)) or []
    return {str(d["id"]): str(d["path"]) for d in docs if isinstance(d, dict) and "id" in d and "path" in d}


def known_flights(workspace: Workspace) -> set[str]:
    """Flights with anything in the workspace: ingested, archived, processed or published."""
    names = set(workspace.flights())
    for folder in ("archive", "products", "qa", "quarantine"):
        root = workspace.root / folder
        if root.exists():
            names |= {p.name for p in root.iterdir() if p.is_dir() and FLIGHT_ID.match(p.name)}
    names |= {str(d.get("flight")) for d in published(workspace) if d.get("flight")}
    return names


def check_flight_id(flight: str) -> str:
    """``flight`` when it is a flight id (letters, digits, ``-``, ``_``; never a path such as ``..``).

    Raises:
        ErasureError: it is not one (nothing is looked up under it).
    """
    if not FLIGHT_ID.match(flight):
        raise ErasureError(f"{flight!r} is no flight id (letters, digits, '-' and '_', at most 64)")
    return flight
