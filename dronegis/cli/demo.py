"""``dronegis demo``: every stage on the embedded sample flight (no network, no external data).

The demo is a list of named steps run in order over one :class:`DemoContext`. Each step
returns a JSON-able dict (collected for ``--json``) and a line of text for the reader.
Later stages add a step function to ``STEPS``; nothing else needs to change.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import click
import uvicorn

from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.catalog import JobStatus
from dronegis.cli.ingest import IngestRequest, render_summary, run_ingest
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from dronegis.service import build_runner
from dronegis.serving import uvicorn_options
from dronegis.settings import Token
from flights.models import Purpose
from flights.sample import SAMPLE_FOOTPRINTS, SampleTruth, make_sample_flight

DEMO_FLIGHT_ID = "skanderborg-demo"
HEATING_MONTHS = (10, 11, 12, 1, 2, 3, 4)
# What the crew of the (synthetic) demo flight logged: a cold, calm, dry heating-season night.
DEMO_CONDITIONS = """# Thermography conditions logged by the demo crew (REFERENCE.md §5.1)
[measured]
air_temp_c = 2.0
indoor_temp_c = 21.0
wind_m_s = 2.0
humidity_pct = 80
hours_since_precipitation = 36
"""
# Roofing felt / tiles and a clear night sky (REFERENCE.md §5.1–5.2).
DEMO_THERMAL = {
    "emissivity": 0.93,
    "reflected_temp_c": -10.0,
    "atmospheric_temp_c": 2.0,
    "relative_humidity_pct": 80.0,
}


def demo_capture_time(now: datetime) -> datetime:
    """The most recent heating-season night before ``now``: 05:00 UTC, before dawn in Skanderborg.

    In May–September this is 31 March, the last night of the past season; its thermal layer
    stays valid until 30 September (REFERENCE.md §6).
    """
    day = (now - timedelta(days=1)).astimezone(UTC)
    while day.month not in HEATING_MONTHS:
        day -= timedelta(days=day.day)  # last day of the previous month
    return day.replace(hour=5, minute=0, second=0, microsecond=0)


@dataclass
class DemoContext:
    """What the steps share: the workspace, the flight id, the clock, and results so far."""

    workspace: Workspace
    flight_id: str = DEMO_FLIGHT_ID
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    results: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    scheduler: str | None = None


class StepResult(NamedTuple):
    """What one step reports: JSON payload, human text, and whether the demo may go on."""

    payload: dict[str, Any]
    text: str
    ok: bool = True


Step = Callable[[DemoContext], StepResult]


def step_sample(ctx: DemoContext) -> StepResult:
    """Generate the sample flight (kept when it already exists, so a rerun re-ingests the same files)."""
    folder = ctx.workspace.sample_flight()
    truth_file = folder / "truth.json"
    if truth_file.exists():
        truth = SampleTruth.model_validate_json(truth_file.read_text(encoding="utf-8"))
        note = "reused"
    else:
        truth = make_sample_flight(folder, start=demo_capture_time(ctx.now))
        note = "generated"
    payload = {"folder": str(folder), "frames": len(truth.frames), "points": len(truth.points), "note": note}
    return StepResult(
        payload, f"sample flight {note}: {folder} ({len(truth.frames)} frames, {len(truth.points)} targets)"
    )


def step_ingest(ctx: DemoContext) -> StepResult:
    """Ingest the sample flight and show the pilot summary."""
    request = IngestRequest(
        folder=ctx.workspace.sample_flight(),
        workspace=ctx.workspace.root,
        purpose=Purpose.SURVEY,
        flight_id=ctx.flight_id,
        now=ctx.now,
    )
    summary = run_ingest(request)
    return StepResult(summary.model_dump(mode="json"), render_summary(summary), summary.usable)


DEMO_APPROVAL = "demo run: approved automatically by `dronegis demo`"
DEMO_PUBLIC_FRAMES = "demo run: generated sample flight; its synthetic frames show no person or property"


def step_pipeline(ctx: DemoContext) -> StepResult:
    """Run process → qa → publish through the job runner (the service's code path), as one job.

    The sample's synthetic building footprints (``flights/data/sample_buildings.geojson``) make
    the process stage rank its buildings by heat loss; they are published with their cards.
    """
    settings = settings_for(ctx.workspace.root).model_copy(
        update={"dask_scheduler": ctx.scheduler, "footprints": SAMPLE_FOOTPRINTS}  # the buildings analysis
    )
    conditions = ctx.workspace.root / "demo-conditions.toml"
    conditions.write_text(DEMO_CONDITIONS, encoding="utf-8")
    options = {
        "access": "public",
        "title": "Skanderborg demo",
        "now": ctx.now.isoformat(),
        "conditions": str(conditions),
        "thermal": DEMO_THERMAL,
        "public_frames": DEMO_PUBLIC_FRAMES,
    }
    runner = build_runner(settings, options=options)
    try:
        runner.recover()
        if not runner.catalog.jobs(ctx.flight_id, statuses=[JobStatus.QUEUED]):
            runner.submit(
                ctx.flight_id, from_stage="process", purpose="survey", source=ctx.workspace.sample_flight()
            )
        job = runner.run_pending()[-1]
        approved = job.status is JobStatus.WAITING_APPROVAL
        if approved:
            runner.approve(ctx.flight_id, by="dronegis demo", reason=DEMO_APPROVAL)
            job = runner.run_pending()[-1]
        layers = runner.catalog.layers(ctx.flight_id)
    finally:
        runner.executor.close()
    products = [p.id for p in runner.catalog.products(ctx.flight_id)]
    payload = {
        "job": job.id,
        "status": job.status.value,
        "qa_status": job.qa_status,
        "error": job.error,
        "approved": approved,
        "executor": runner.executor.name,
        "layers": [doc["id"] for doc in layers],
        "products": products,
    }
    text = (
        f"job {job.id}: {job.status.value}; QA {job.qa_status}; "
        f"{len(products)} products, {len(layers)} layers"
        + (" (QA asked for approval: approved by the demo)" if approved else "")
        + (f"\n  error: {job.error}" if job.status is JobStatus.FAILED else "")
    )
    return StepResult(payload, text, job.status is JobStatus.DONE)


STEPS: list[tuple[str, Step]] = [
    ("sample", step_sample),
    ("ingest", step_ingest),
    ("pipeline", step_pipeline),
]


def run_demo(
    workspace: Workspace,
    steps: list[tuple[str, Step]] | None = None,
    *,
    echo: bool = True,
    ctx: DemoContext | None = None,
) -> DemoContext:
    """Run the demo steps in order; stop at the first step that reports failure."""
    ctx = ctx or DemoContext(workspace=workspace)
    for name, step in steps or STEPS:
        if echo:
            echo_err(f"== {name}")
        result = step(ctx)
        ctx.results[name] = result.payload
        if echo:
            click.echo(result.text)
        if not result.ok:
            ctx.ok = False
            break
    return ctx


def serve_demo(workspace: Workspace, host: str, port: int, flight: str) -> None:
    """Serve the demo workspace (viewer, WMS/WMTS, job API) until interrupted, printing the URLs."""
    settings = settings_for(workspace.root)
    if not settings.tokens:
        settings = settings.model_copy(
            update={"tokens": (Token(token=secrets.token_urlsafe(16), role="gis", name="demo"),)}
        )
    token = settings.tokens[0].token
    base = f"http://{host}:{port}"
    click.echo(f"map viewer:   {base}/viewer")
    click.echo(f"flight page:  {base}/flights/{flight}?token={token}")
    click.echo(f"QA report:    {base}/flights/{flight}/qa?token={token}")
    click.echo(f"WMS:          {base}/wms?SERVICE=WMS&REQUEST=GetCapabilities")
    click.echo("press Ctrl+C to stop")
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning", **uvicorn_options(settings.server)
    )


@click.command()
@common_options
@click.option(
    "--no-serve", is_flag=True, help="Stop after the stages (tests, CI) instead of serving the viewer."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the viewer is served on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--scheduler",
    default=None,
    envvar="DRONEGIS_DASK_SCHEDULER",
    help="Dask scheduler address (tcp://host:8786): run the stages on that cluster.",
)
def demo(
    workspace: Path | None, as_json: bool, no_serve: bool, host: str, port: int, scheduler: str | None
) -> None:
    """Run dronegis end to end on a generated sample flight over Skanderborg (no download), then serve it."""
    ws = Workspace.at(settings_for(workspace).workspace)
    ctx = DemoContext(workspace=ws, scheduler=scheduler)
    ctx = run_demo(ws, echo=not as_json, ctx=ctx)
    if as_json:
        emit_json({"workspace": str(ws.root), "flight": ctx.flight_id, "ok": ctx.ok, "steps": ctx.results})
    else:
        click.echo(f"demo {'finished' if ctx.ok else 'FAILED'}; workspace {ws.root}")
    if ctx.ok and not no_serve:
        serve_demo(ws, host, port, ctx.flight_id)
    sys.exit(0 if ctx.ok else 1)
