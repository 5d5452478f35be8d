"""``--height-datum``: the declared vertical datum of a delivery's DSMs/DTMs, and how the decision reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from core.workspace import Workspace
from flights.ingest import load_flight
from flights.models import HeightDatums
from pipeline.geodesy.decision import delivered_datums
from pipeline.models import Datum

CHOICES = ("dvr90", "ellipsoidal", "unknown")
KINDS = ("dsm", "dtm")

height_datum_option = click.option(
    "--height-datum",
    "height_datum",
    multiple=True,
    metavar="[KIND=]DATUM",
    help="Vertical datum of the delivered heights: dvr90, ellipsoidal or unknown, for every DSM/DTM or "
    "per kind (dsm=ellipsoidal, dtm=dvr90; repeat). The file's own vertical CRS wins; stored with the "
    "flight for process. Default: the previous ingest's declaration, else none.",
)


def parse_height_datum(values: tuple[str, ...]) -> HeightDatums | None:
    """The declaration of ``--height-datum`` values; None when none was given.

    Raises:
        click.BadParameter: an unknown kind or datum, naming the value.
    """
    if not values:
        return None
    declared: dict[str, str] = {}
    for value in values:
        kind, _, datum = value.strip().lower().rpartition("=")
        kinds = (kind,) if kind else KINDS
        if datum not in CHOICES or any(k not in KINDS for k in kinds):
            raise click.BadParameter(
                f"{value!r}: expected DATUM or KIND=DATUM with DATUM in {', '.join(CHOICES)} and KIND in "
                f"{', '.join(KINDS)}",
                param_hint="--height-datum",
            )
        declared.update(dict.fromkeys(kinds, datum))
    return HeightDatums.model_validate(declared)


def decisions(
    workspace: Path, flight_id: str, grids: Path | None, target_crs: str
) -> list[tuple[str, Datum]]:
    """The datum decision of each delivered DSM/DTM of an ingested flight (what ``process`` will decide)."""
    ws = Workspace.at(workspace)
    flight = load_flight(ws.flight_json(flight_id))
    return delivered_datums(ws, flight, target_crs=target_crs, grids=grids)


def render_decisions(found: list[tuple[str, Datum]]) -> list[str]:
    """Lines for the pilot summary: one per DSM/DTM, then each contradiction as a warning."""
    lines = []
    for path, d in found:
        n = f", N = {d.geoid_n_m:.2f} m" if d.geoid_n_m is not None else ""
        lines.append(f"  heights:  {path}: {d.datum.value} (source {d.source.value}{n})")
        lines.extend(f"      warn  height_datum: {w}" for w in d.warnings)
    return lines


def decisions_json(found: list[tuple[str, Datum]]) -> list[dict[str, Any]]:
    """The decisions as JSON-ready rows."""
    return [{"file": path, **d.model_dump(mode="json")} for path, d in found]
