"""Helpers of the service tests: tokens and stand-in stages."""

from __future__ import annotations

from collections.abc import Callable

from dronegis.settings import Token
from flights.atomic import atomic_write_text
from pipeline.jobs import STAGES, JobContext, Progress, StageResult

PILOT, GIS, VIEWER = "pilot-token", "gis-token", "viewer-token"
TOKENS = (Token(token=PILOT, role="pilot", name="pia"), Token(token=GIS, role="gis", name="gustav"),
          Token(token=VIEWER, role="viewer", name="vera"))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def standin_stages(qa_status: str = "pass") -> dict[str, Callable[[JobContext, Progress], StageResult]]:
    """Stages that only list what ingest received and write a QA page (no real processing)."""

    def ingest(ctx: JobContext, progress: Progress) -> StageResult:
        names = sorted(p.relative_to(ctx.source).as_posix() for p in ctx.source.rglob("*") if p.is_file())
        for i, _ in enumerate(names):
            progress(i + 1, len(names))
        atomic_write_text(ctx.workspace.products(ctx.flight) / "received.txt", "\n".join(names))
        return StageResult(f"{len(names)} files")

    def process(ctx: JobContext, progress: Progress) -> StageResult:
        progress(1, 1)
        return StageResult("nothing", products=())

    def qa(ctx: JobContext, progress: Progress) -> StageResult:
        atomic_write_text(ctx.workspace.qa(ctx.flight) / "report.html", f"<h1>QA {ctx.flight}: {qa_status}</h1>")
        return StageResult("qa", qa_status=qa_status)

    def publish(ctx: JobContext, progress: Progress) -> StageResult:
        return StageResult("published", layers=({"id": f"{ctx.flight}-x", "title": "X"},))

    stages = {"ingest": ingest, "process": process, "qa": qa, "publish": publish}
    assert set(stages) == set(STAGES)
    return stages
