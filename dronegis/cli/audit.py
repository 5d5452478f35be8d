"""``dronegis audit [--since DATE] [--json]``: the access log, its chain checked."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from core.i18n import LANGS, text
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from dronegis.cli.retention import parse_now
from dronegis.records.access import AccessLog, unaccounted_redactions, verify


@click.command()
@common_options
@click.option("--since", default=None, metavar="DATE", help="Only entries at or after DATE (ISO).")
def audit(workspace: Path | None, as_json: bool, since: str | None) -> None:
    """Print who read internal layers, raw frames and downloads, and check the log's hash chain.

    Exit code 1 when the chain is broken (an entry was edited, removed or inserted).
    """
    ws = Workspace.at(settings_for(workspace).workspace)
    log = AccessLog(ws.access_log)
    verdict = verify(log)
    hidden = unaccounted_redactions(log, ws.erasures)
    if hidden:
        verdict = verdict.model_copy(update={"ok": False, "problems": (*verdict.problems, *hidden)})
    start = parse_now(since) if since else None
    entries = [line for line in log.lines() if start is None or _at(line) >= start]
    if as_json:
        emit_json({"verdict": verdict.model_dump(mode="json"), "entries": entries})
    else:
        for line in entries:
            body = line["body"]
            if "redacted" in body:
                click.echo(f"{line['seq']:>6} {body.get('at')}  [slettet / redacted: {body['redacted']}]")
                continue
            who = f"{body.get('who') or 'anonym'} ({body.get('role') or '-'})"
            click.echo(
                f"{line['seq']:>6} {body['at']}  {who:<24} {body['action']:<10} {','.join(body['layers'])}"
                f"  [{body['reason']}] {body.get('client') or ''}"
            )
    key = "records.audit_ok" if verdict.ok else "records.audit_broken"
    params = {
        "count": verdict.count,
        "redacted": verdict.redacted,
        "head": verdict.head,
        "problems": "; ".join(verdict.problems),
    }
    for lang in LANGS:
        echo_err(text(key, lang, **params))
    if not verdict.ok:
        sys.exit(1)


def _at(line: dict[str, object]) -> datetime:
    body = line.get("body")
    value = body.get("at") if isinstance(body, dict) else None
    return parse_now(str(value)) if value else datetime.min.replace(tzinfo=parse_now(None).tzinfo)
