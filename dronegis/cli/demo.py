"""``dronegis demo``: every stage on the embedded sample flight (no network, no ../shared).

The demo is a list of named steps run in order over one :class:`DemoContext`. Each step
returns a JSON-able dict (collected for ``--json``) and a line of text for the reader.
Later stages add a step function to ``STEPS``; nothing else needs to change.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import click

from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from pipeline.workspace import Workspace

DEMO_FLIGHT_ID = "skanderborg-demo"


@dataclass
class DemoContext:
    """What the steps share: the workspace, the flight id, the clock, and results so far."""

    workspace: Workspace
    flight_id: str = DEMO_FLIGHT_ID
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    results: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


class StepResult(NamedTuple):
    """What one step reports: JSON payload, human text, and whether the demo may go on."""

    payload: dict[str, Any]
    text: str
    ok: bool = True


Step = Callable[[DemoContext], StepResult]


def step_sample(ctx: DemoContext) -> StepResult:
    """Generate the sample flight (kept when it already exists, so a rerun re-ingests the same files)."""
    from flights.sample import SampleTruth, make_sample_flight

    folder = ctx.workspace.sample_flight()
    truth_file = folder / "truth.json"
    if truth_file.exists():
        truth = SampleTruth.model_validate_json(truth_file.read_text(encoding="utf-8"))
        note = "reused"
    else:
        truth = make_sample_flight(folder)
        note = "generated"
    payload = {"folder": str(folder), "frames": len(truth.frames), "points": len(truth.points), "note": note}
    return StepResult(payload, f"sample flight {note}: {folder} ({len(truth.frames)} frames, {len(truth.points)} targets)")


def step_ingest(ctx: DemoContext) -> StepResult:
    """Ingest the sample flight and show the pilot summary."""
    from dronegis.cli.ingest import render_summary, run_ingest
    from flights.models import Purpose

    summary = run_ingest(
        ctx.workspace.sample_flight(),
        workspace=ctx.workspace.root,
        purpose=Purpose.SURVEY,
        flight_id=ctx.flight_id,
        now=ctx.now,
    )
    return StepResult(summary.model_dump(mode="json"), render_summary(summary), summary.usable)


STEPS: list[tuple[str, Step]] = [("sample", step_sample), ("ingest", step_ingest)]


def run_demo(workspace: Workspace, steps: list[tuple[str, Step]] | None = None, *, echo: bool = True) -> DemoContext:
    """Run the demo steps in order; stop at the first step that reports failure."""
    ctx = DemoContext(workspace=workspace)
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


@click.command()
@common_options
def demo(workspace: Path | None, as_json: bool) -> None:
    """Run dronegis end to end on a generated sample flight over Skanderborg (no download)."""
    ws = Workspace.at(settings_for(workspace).workspace)
    ctx = run_demo(ws, echo=not as_json)
    if as_json:
        emit_json({"workspace": str(ws.root), "flight": ctx.flight_id, "ok": ctx.ok, "steps": ctx.results})
    else:
        click.echo(f"demo {'finished' if ctx.ok else 'FAILED'}; workspace {ws.root}")
    sys.exit(0 if ctx.ok else 1)
