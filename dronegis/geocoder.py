"""Address and place-name search through a DAWA / Dataforsyningen-shaped service (settings ``geocoder``).

Two requests, both asking for EPSG:25832 coordinates:

- ``GET {url}/autocomplete?q=…&type=adresse&srid=25832&per_side=N`` — addresses; each hit has
  ``forslagstekst`` (or ``tekst``) and ``data.x``/``data.y``;
- ``GET {url}/stednavne2?q=…&srid=25832&per_side=N`` — place names; each hit has ``navn`` and
  ``sted.visueltcenter`` ``[x, y]`` (and ``sted.undertype``, e.g. ``by``).

Hits without coordinates are left out. The server asks the service (the token, if any,
stays here); a failure is a :class:`GeocoderError` naming the URL and what went wrong.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import httpx

from core.errors import GeocoderError
from core.models import Frozen
from dronegis.settings import Geocoder

log = logging.getLogger(__name__)


class Place(Frozen):
    """One address or place found, with its point in EPSG:25832."""

    kind: Literal["address", "place"]
    label: str
    detail: str = ""
    east: float
    north: float


def search(settings: Geocoder, query: str) -> list[Place]:
    """Addresses first, then place names, for ``query`` (at most ``settings.limit`` of each).

    Raises:
        GeocoderError: the service did not answer, answered an error or unreadable JSON.
    """
    common: dict[str, str | int] = {"q": query, "srid": 25832, "per_side": settings.limit}
    if settings.token:
        common["token"] = settings.token
    base = settings.url.rstrip("/")
    with httpx.Client(timeout=settings.timeout_s) as client:
        addresses = _get(client, f"{base}/autocomplete", {**common, "type": "adresse"})
        places = _get(client, f"{base}/stednavne2", common)
    found = [*(_address(hit) for hit in addresses), *(_place(hit) for hit in places)]
    return [place for place in found if place is not None]


def _get(client: httpx.Client, url: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
    try:
        response = client.get(url, params=params)
        response.raise_for_status()
        doc = response.json()
    except httpx.HTTPStatusError as exc:
        raise GeocoderError(f"geocoder {url} answered HTTP {exc.response.status_code}") from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise GeocoderError(f"geocoder {url} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(doc, list):
        raise GeocoderError(f"geocoder {url} answered {type(doc).__name__}, not a list of hits")
    return [hit for hit in doc if isinstance(hit, dict)]


def _address(hit: dict[str, Any]) -> Place | None:
    data = hit.get("data") or hit.get("adresse") or {}
    x, y = data.get("x"), data.get("y")
    label = hit.get("forslagstekst") or hit.get("tekst")
    if not isinstance(x, int | float) or not isinstance(y, int | float) or not label:
        return None
    return Place(kind="address", label=str(label).replace("\n", ", "), east=float(x), north=float(y))


def _place(hit: dict[str, Any]) -> Place | None:
    sted = hit.get("sted") or {}
    centre = sted.get("visueltcenter")
    name = hit.get("navn")
    if not (isinstance(centre, list | tuple) and len(centre) == 2 and name):
        return None
    if not all(isinstance(v, int | float) for v in centre):
        return None
    kind = str(sted.get("undertype") or sted.get("hovedtype") or "")
    return Place(kind="place", label=str(name), detail=kind, east=float(centre[0]), north=float(centre[1]))
