"""``dronegis qa FLIGHT``: precision, image quality, coverage, freshness, thermography conditions."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from core.errors import DroneGisError
from core.models import Frozen
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from qa.models import QAReport
from qa.run import QAConfig, run_qa

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def parse_now(value: str | None) -> datetime:
    """The ``--now`` option: an ISO date/time (naive = UTC), or the current time when absent.

    Raises:
        click.BadParameter: ``value`` is not an ISO date/time.
    """
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"--now {value!r} is not an ISO date/time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@click.command()
@click.argument("flight")
@common_options
@click.option(
    "--checkpoints",
    type=_FILE,
    default=None,
    help="Check-point file (gcp_list format, CSV, ...); every point is a check point. Targets also "
    "delivered with the flight count once (same name and position).",
)
@click.option("--rules", type=_FILE, default=None, help="Freshness rules (TOML).")
@click.option("--conditions", type=_FILE, default=None, help="Thermography conditions (TOML or JSON).")
@click.option(
    "--override-thermal-gate",
    "override",
    default=None,
    metavar="REASON",
    help="Publish thermal layers despite a failed conditions gate; the reason is recorded.",
)
@click.option(
    "--municipality",
    type=_FILE,
    default=None,
    help="Municipality boundary (default: $DRONEGIS_MUNICIPALITY, else Skanderborg's boundary shipped with "
    "dronegis).",
)
@click.option(
    "--municipality-code",
    default=None,
    help="KOMKODE to select (default: $DRONEGIS_MUNICIPALITY_CODE or 0746 = Skanderborg).",
)
@click.option(
    "--now", "now_text", default=None, metavar="ISO", help="Evaluate freshness at this time (default: now)."
)
def qa(
    flight: str,
    workspace: Path | None,
    as_json: bool,
    checkpoints: Path | None,
    rules: Path | None,
    conditions: Path | None,
    override: str | None,
    municipality: Path | None,
    municipality_code: str | None,
    now_text: str | None,
) -> None:
    """Run QA on FLIGHT and write qa/FLIGHT/report.json and report.html.

    Exit code 0 when no check failed, 1 when QA failed, 2 for usage errors.
    """
    request = QARequest(
        flight=flight,
        workspace=workspace,
        as_json=as_json,
        now_text=now_text,
        config=QAConfig(
            checkpoints=checkpoints,
            rules=rules,
            conditions=conditions,
            override_thermal_gate=override,
            municipality=municipality,
            municipality_code=municipality_code,
        ),
    )
    settings = settings_for(request.workspace)
    now = parse_now(request.now_text)
    ws = Workspace.at(settings.workspace)
    area = {
        "municipality": request.config.municipality or settings.municipality,
        "municipality_code": request.config.municipality_code or settings.municipality_code,
    }
    try:
        report = run_qa(ws, flight, now=now, config=request.config.model_copy(update=area))
    except DroneGisError as exc:
        raise click.ClickException(str(exc)) from exc
    if request.as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        _echo_summary(report, flight)
        click.echo(f"report: {ws.qa_report_html(flight)}")
    echo_err(f"wrote {ws.qa_report_json(flight)}")
    sys.exit(1 if report.status == "fail" else 0)


class QARequest(Frozen):
    """The options of ``dronegis qa``: the flight, where, how to answer, and the QA inputs."""

    flight: str
    workspace: Path | None = None
    as_json: bool = False
    now_text: str | None = None
    config: QAConfig = QAConfig()


def _echo_summary(report: QAReport, flight: str) -> None:
    """Status line, then one line per failed or warning check and the thermal gate."""
    counts = report.counts()
    click.echo(
        f"QA {flight}: {report.status.upper()}  ({counts['pass']} pass, {counts['warn']} warn, "
        f"{counts['fail']} fail, {counts['skip']} not evaluated)"
    )
    for check in report.checks:
        if check.status in ("fail", "warn"):
            click.echo(f"  {check.status:4}  {check.title}: {check.message}")
    if report.thermal_publication_blocked:
        click.echo(f"  thermal publication BLOCKED: {report.thermal_gate_reason}")
