"""Where a layer lies, in words: the postal district of its centre, derived offline.

A person's site name (given at upload or publication: ``Skanderborg Rådhus``) always wins;
without one, a layer is named after the postal district its centre lies in
(``8660 Skanderborg``), read from the districts shipped with the package
(``webgis_export/data/postnumre_0746.geojson``: DAGI postnumre clipped to Skanderborg
Kommune, Geodatastyrelsen & Danske Kommuner, free geodata terms; see
``webgis_export/data/README.md``). Outside those districts the locality is unknown
(``None``): no network look-up, no guess.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyogrio
import shapely
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from core.models import Frozen
from core.workspace import Workspace
from flights.ingest import load_flight

POSTAL_DISTRICTS = Path(__file__).with_name("data") / "postnumre_0746.geojson"
POSTAL_SOURCE = "DAGI postnumre, Geodatastyrelsen & Danske Kommuner (FOT 2014, 1:500 000)"


class District(Frozen):
    """One postal district: number, name and its polygon in CRS84 (lon/lat)."""

    number: str
    name: str
    geometry_wkb: bytes

    @property
    def label(self) -> str:
        """``8660 Skanderborg``."""
        return f"{self.number} {self.name}"

    @property
    def geometry(self) -> BaseGeometry:
        """The polygon (CRS84)."""
        return shapely.from_wkb(self.geometry_wkb)


@lru_cache(maxsize=2)
def postal_districts(path: Path = POSTAL_DISTRICTS) -> tuple[District, ...]:
    """The shipped (or given) postal districts, in file order (fields ``POSTNR_TXT``, ``POSTBYNAVN``)."""
    frame = pyogrio.read_dataframe(path, columns=["POSTNR_TXT", "POSTBYNAVN"])
    return tuple(
        District(number=str(number), name=str(name), geometry_wkb=shapely.to_wkb(geometry))
        for number, name, geometry in zip(
            frame["POSTNR_TXT"], frame["POSTBYNAVN"], frame.geometry, strict=True
        )
    )


def locality_of(bounds_wgs84: tuple[float, float, float, float]) -> str | None:
    """The postal district (``8660 Skanderborg``) holding the centre of ``bounds_wgs84``, if any.

    When the centre lies in no district (outside the municipality), the district the
    bounds overlap most is named; when they overlap none, ``None``.
    """
    west, south, east, north = bounds_wgs84
    centre = Point((west + east) / 2.0, (south + north) / 2.0)
    districts = postal_districts()
    for district in districts:
        if district.geometry.covers(centre):
            return district.label
    footprint = box(west, south, east, north)
    best = max(districts, key=lambda d: d.geometry.intersection(footprint).area, default=None)
    if best is None or best.geometry.intersection(footprint).area <= 0.0:
        return None
    return best.label


def site_given_at_ingest(workspace: Workspace, flight: str) -> str | None:
    """The site name given when the flight was ingested (``dronegis ingest --site``), if any."""
    path = workspace.flight_json(flight)
    return load_flight(path).site if path.exists() else None
