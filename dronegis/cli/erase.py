"""``dronegis erase FLIGHT --reason TEXT [--json]``: remove a flight from everything, keep a record."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from core.errors import DroneGisError
from core.i18n import LANGS, text
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from dronegis.records.erasure import erase as erase_flight
from dronegis.records.erasure import paused, record_path


@click.command()
@click.argument("flight")
@common_options
@click.option(
    "--reason", required=True, help="Why (the request, its case number); kept in the erasure record."
)
@click.option("--by", default=None, help="Who (default: the logged-in user).")
@click.option(
    "--step-pause",
    type=float,
    default=0.0,
    hidden=True,
    help="Seconds to wait after each step (crash tests).",
)
def erase(
    flight: str, workspace: Path | None, as_json: bool, reason: str, by: str | None, step_pause: float
) -> None:
    """Erase FLIGHT: archive, products, QA, publications, catalog, caches; keep only an erasure record.

    Journaled: killed at any point, the flight is either still whole or no longer published, and
    running the same command again finishes it. Exit code 1 when refused (unknown flight, legal hold,
    a running job).
    """
    ws = Workspace.at(settings_for(workspace).workspace)
    try:
        record = erase_flight(
            ws,
            flight,
            reason=reason,
            by=by or getpass.getuser(),
            now=datetime.now(UTC),
            step=paused(lambda name: echo_err(f"erase {flight}: {name}"), step_pause),
        )
    except DroneGisError as exc:
        for lang in LANGS:
            echo_err(text("records.erase_refused", lang, flight=flight, why=str(exc)))
        sys.exit(1)
    if as_json:
        emit_json(record.model_dump(mode="json"))
        return
    where = record_path(ws, record.id)
    for lang in LANGS:
        echo_err(
            text(
                "records.erased",
                lang,
                flight=flight,
                files=len(record.files),
                layers=len(record.layers),
                record=where,
            )
        )
