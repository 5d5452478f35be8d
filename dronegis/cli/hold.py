"""``dronegis hold FLIGHT --reason TEXT [--release]``: a legal hold blocks retention and erasure."""

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
from dronegis.records.holds import place_hold, release_hold


@click.command()
@click.argument("flight")
@common_options
@click.option("--reason", required=True, help="Why (the case, the request); recorded with the hold.")
@click.option("--release", is_flag=True, help="Release the flight's hold instead (the history stays).")
@click.option("--by", default=None, help="Who (default: the logged-in user).")
def hold(
    flight: str, workspace: Path | None, as_json: bool, reason: str, release: bool, by: str | None
) -> None:
    """Place (or with --release lift) a legal hold on FLIGHT. Exit code 1 when there is none to release."""
    ws = Workspace.at(settings_for(workspace).workspace)
    who = by or getpass.getuser()
    try:
        if release:
            record = release_hold(ws, flight, reason=reason, by=who, now=datetime.now(UTC))
        else:
            record = place_hold(ws, flight, reason=reason, by=who, now=datetime.now(UTC))
    except DroneGisError as exc:
        echo_err(f"hold {flight}: {exc}")
        sys.exit(1)
    if as_json:
        emit_json(record.model_dump(mode="json"))
        return
    key = "records.hold_released" if release else "records.hold_placed"
    for lang in LANGS:
        echo_err(text(key, lang, flight=flight, reason=reason))
