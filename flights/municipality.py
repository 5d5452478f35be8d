"""The municipality the ingest checks default to: Skanderborg Kommune (KOMKODE 0746).

Its boundary ships with the package (DAGI kommuner, see ``flights/data/README.md``); reading it is
:func:`flights.aoi.load_municipality`'s job. The names are here, without shapely, because the
settings (:mod:`dronegis.settings`, imported by every CLI command) only need them.
"""

from __future__ import annotations

from pathlib import Path

SKANDERBORG_KOMKODE = "0746"
DEFAULT_MUNICIPALITY = Path(__file__).with_name("data") / "skanderborg_0746.geojson"
