"""``dronegis retention [--apply] [--now DATE] [--json]``: delete what the policy's terms have ended."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from core.errors import DroneGisError
from core.i18n import LANGS, text
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from dronegis.records.policy import load_policy
from dronegis.records.retention import apply, plan


def parse_now(value: str | None) -> datetime:
    """``--now``: an ISO date (midnight UTC) or date-time (UTC when it has no offset); default now."""
    if not value:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is no ISO date (2027-03-01) or date-time", param_hint="--now"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command()
@common_options
@click.option("--apply", "do_apply", is_flag=True, help="Delete the files listed (default: a dry run).")
@click.option("--now", "now_text", default=None, metavar="DATE", help="Measure terms at DATE (ISO), not now.")
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Retention policy TOML (default: $DRONEGIS_RETENTION_POLICY, else the shipped one).",
)
def retention(
    workspace: Path | None, as_json: bool, do_apply: bool, now_text: str | None, policy: Path | None
) -> None:
    """List (or with --apply delete) every file past its retention term, and why.

    Nothing a published layer needs and nothing of a flight under legal hold is deleted; every
    deleted file's sha256 is kept in records/retention/<flight>.json. Exit code 1 when the
    policy cannot be read.
    """
    settings = settings_for(workspace)
    ws = Workspace.at(settings.workspace)
    now = parse_now(now_text)
    try:
        rules = load_policy(policy or settings.retention_policy)
        items = plan(ws, rules, now)
        records = apply(ws, rules, items, now) if do_apply else []
    except DroneGisError as exc:
        echo_err(f"retention: {exc}")
        sys.exit(1)
    delete = [i for i in items if i.action == "delete"]
    kept = [i for i in items if i.action == "keep"]
    counts = {"delete": len(delete), "keep": len(kept), "delete_bytes": sum(i.size for i in delete)}
    if as_json:
        emit_json(
            {
                "applied": do_apply,
                "now": now.isoformat(),
                "policy": rules.source,
                "items": [i.model_dump(mode="json") for i in items],
                "records": [str(r) for r in records],
                **counts,
            }
        )
        return
    for item in items:
        click.echo(f"{'SLET ' if item.action == 'delete' else 'BEHOLD'} {item.path}  {item.why}")
    for lang in LANGS:
        echo_err(text("records.retention_summary", lang, **counts))
    if do_apply:
        for record in records:
            echo_err(
                text(
                    "records.retention_applied",
                    "da",
                    delete=len(delete),
                    delete_bytes=counts["delete_bytes"],
                    record=record,
                )
            )
    else:
        echo_err(f"{text('records.retention_dry', 'da')} / {text('records.retention_dry', 'en')}")
