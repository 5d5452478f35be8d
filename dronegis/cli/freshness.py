"""``dronegis freshness``: capture date, age, status and stale date of every layer in the catalog."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.errors import DroneGisError
from core.localtime import local_date
from core.workspace import Workspace
from dronegis.cli.options import common_options, emit_json, settings_for
from dronegis.cli.qa import parse_now
from qa.catalog_freshness import catalog_freshness

if TYPE_CHECKING:
    from qa.catalog_freshness import LayerFreshness


@click.command()
@common_options
@click.option(
    "--rules",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Freshness rules (TOML).",
)
@click.option("--now", "now_text", default=None, metavar="ISO", help="Evaluate at this time (default: now).")
def freshness(workspace: Path | None, as_json: bool, rules: Path | None, now_text: str | None) -> None:
    """Report the freshness of every product and published layer.

    Exit code 0 when nothing is stale, 1 when some layer is stale, 2 for usage errors.
    """
    now = parse_now(now_text)
    try:
        entries = catalog_freshness(Workspace.at(settings_for(workspace).workspace), now, rules)
    except DroneGisError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json({"now": now.isoformat(), "layers": [e.model_dump(mode="json") for e in entries]})
    else:
        if not entries:
            click.echo("no products or layers in the catalog")
        for e in entries:
            click.echo(freshness_line(e))
    sys.exit(1 if any(e.status == "stale" for e in entries) else 0)


def freshness_line(e: LayerFreshness) -> str:
    """One entry as text; dates are days in Europe/Copenhagen, an unknown date says so."""
    if e.captured is None:
        return f"{e.status:7} {e.id:40} {e.kind:15} captured unknown (optagelsesdato ukendt)"
    if e.status == "unknown":
        return f"{e.status:7} {e.id:40} {e.kind:15} captured {local_date(e.captured)}  ({e.message})"
    captured = local_date(e.captured).isoformat()
    age = f"{e.age_days:.0f} d" if e.age_days is not None else "unknown"
    stale = e.stale_on.isoformat() if e.stale_on else "never"
    return f"{e.status:7} {e.id:40} {e.kind:15} captured {captured}  age {age:>7}  stale on {stale}"
