from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.atomic import atomic_write_text
from core.errors import JobError, UsageError
from core.workspace import Workspace
from dronegis.catalog import JobStatus
from dronegis.jobs import (
    PUBLICATION_POLICY,
    STAGES,
    Decision,
    JobContext,
    JobRunner,
    Progress,
    StageResult,
    publication_decision,
    stages_from,
)
from pipeline.models import Product, ProductKind


class Recorder:
    """Stand-in stages: each writes a marker file (idempotently) and records its calls."""

    def __init__(self, qa_status: str = "pass", fail_at: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.qa_status = qa_status
        self.fail_at = fail_at

    def stage(self, name: str) -> Callable[[JobContext, Progress], StageResult]:
        def run(ctx: JobContext, progress: Progress) -> StageResult:
            self.calls.append((name, ctx.flight))
            if name == self.fail_at:
                raise ValueError(f"{name} exploded on {ctx.flight}")
            for i in range(3):
                progress(i + 1, 3)
            atomic_write_text(ctx.workspace.products(ctx.flight) / f"{name}.txt", name)
            if name == "process":
                product = Product(
                    id=f"{ctx.flight}-o",
                    flight=ctx.flight,
                    kind=ProductKind.ORTHOPHOTO,
                    path="p.tif",
                    crs="EPSG:25832",
                    bounds=(0, 0, 1, 1),
                )
                return StageResult("1 product", products=(product,))
            if name == "qa":
                return StageResult("qa", qa_status=self.qa_status)
            if name == "publish":
                return StageResult("published", layers=({"id": f"{ctx.flight}-o", "by": ctx.approved_by},))
            return StageResult(name)

        return run

    def stages(self) -> dict[str, Callable[[JobContext, Progress], StageResult]]:
        return {name: self.stage(name) for name in STAGES}


def test_policy_table() -> None:
    assert publication_decision("survey", "pass") is Decision.AUTO
    assert publication_decision("nature-monitoring", "pass") is Decision.AUTO
    assert publication_decision("survey", "warn") is Decision.APPROVAL
    assert publication_decision("survey", "fail") is Decision.APPROVAL
    assert publication_decision("building-inspection", "pass") is Decision.APPROVAL
    assert publication_decision("other", "pass") is Decision.APPROVAL
    assert publication_decision("unknown-purpose", "pass") is Decision.APPROVAL
    assert publication_decision("survey", None) is Decision.APPROVAL
    assert set(PUBLICATION_POLICY) == {"survey", "nature-monitoring", "building-inspection", "other"}


def test_stages_from() -> None:
    assert stages_from("qa") == ("qa", "publish")
    with pytest.raises(UsageError, match="unknown stage 'georef'"):
        stages_from("georef")


def test_survey_pass_publishes_automatically(workspace: Workspace) -> None:
    rec = Recorder()
    runner = JobRunner(workspace, rec.stages())
    job = runner.submit("f1", purpose="survey", source=Path("/src"))
    [done] = runner.run_pending()
    assert done.id == job.id and done.status is JobStatus.DONE and done.qa_status == "pass"
    assert [c[0] for c in rec.calls] == list(STAGES)
    assert (done.done, done.total) == (3, 3)
    assert runner.catalog.flight("f1").status == "published"
    assert [p.id for p in runner.catalog.products("f1")] == ["f1-o"]
    assert runner.catalog.layers("f1")[0]["id"] == "f1-o"


def test_building_inspection_waits_for_approval(workspace: Workspace) -> None:
    rec = Recorder()
    runner = JobRunner(workspace, rec.stages())
    runner.submit("roof", purpose="building-inspection")
    [waiting] = runner.run_pending()
    assert waiting.status is JobStatus.WAITING_APPROVAL and waiting.stage == "publish"
    assert "approval" in (waiting.error or "")
    assert ("publish", "roof") not in rec.calls
    with pytest.raises(UsageError, match="needs a reason"):
        runner.approve("roof", by="gis", reason="  ")
    runner.approve("roof", by="anna (gis)", reason="conditions checked on site")
    [done] = runner.run_pending()
    assert done.status is JobStatus.DONE and done.approved_by == "anna (gis)"
    assert done.approval_reason == "conditions checked on site"
    assert runner.catalog.layers("roof")[0]["by"] == "anna (gis)"
    assert [c[0] for c in rec.calls].count("qa") == 1


def test_qa_warn_on_survey_waits(workspace: Workspace) -> None:
    runner = JobRunner(workspace, Recorder(qa_status="warn").stages())
    runner.submit("s", purpose="survey")
    assert runner.run_pending()[0].status is JobStatus.WAITING_APPROVAL
    with pytest.raises(JobError, match="no job waiting"):
        runner.approve("other", by="x", reason="y")


def test_failure_shows_reason_and_rerun_from(workspace: Workspace) -> None:
    rec = Recorder(fail_at="process")
    runner = JobRunner(workspace, rec.stages())
    runner.submit("f", purpose="survey")
    [failed] = runner.run_pending()
    assert failed.status is JobStatus.FAILED and failed.stage == "process"
    assert failed.error == "process failed: ValueError: process exploded on f"
    assert runner.catalog.flight("f").status == "failed"
    rec.fail_at = None
    rerun = runner.submit("f", from_stage="process")
    assert rerun.from_stage == "process"
    [done] = runner.run_pending()
    assert done.status is JobStatus.DONE
    assert [c[0] for c in rec.calls] == ["ingest", "process", "process", "qa", "publish"]


def test_one_active_job_per_flight(workspace: Workspace) -> None:
    runner = JobRunner(workspace, Recorder().stages())
    runner.submit("f", purpose="survey")
    with pytest.raises(JobError, match="already has job"):
        runner.submit("f")


def test_rerun_supersedes_waiting_job(workspace: Workspace) -> None:
    runner = JobRunner(workspace, Recorder().stages())
    first = runner.submit("f", purpose="other")
    runner.run_pending()
    second = runner.submit("f", from_stage="qa")
    assert runner.catalog.job(first.id).error == "superseded by a rerun"
    assert runner.catalog.job(second.id).status is JobStatus.QUEUED


def test_interrupted_job_resumes_at_its_stage(workspace: Workspace) -> None:
    rec = Recorder()
    runner = JobRunner(workspace, rec.stages())
    job = runner.submit("f", purpose="survey")
    runner.catalog.claim(job.id)
    runner.catalog.update_job(job.id, stage="qa")  # a killed process left it here
    fresh = JobRunner(workspace, rec.stages())
    assert [j.id for j in fresh.recover()] == [job.id]
    [done] = fresh.run_pending()
    assert done.status is JobStatus.DONE and done.attempts == 2
    assert [c[0] for c in rec.calls] == ["qa", "publish"]


def test_missing_stage_function(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="publish"):
        JobRunner(workspace, {s: Recorder().stage(s) for s in STAGES[:3]})


def test_worker_thread_runs_and_stops(workspace: Workspace) -> None:
    runner = JobRunner(workspace, Recorder().stages(), poll_interval=0.05)
    runner.start()
    try:
        job = runner.submit("t", purpose="survey")
        deadline = time.monotonic() + 20
        while runner.catalog.job(job.id).status is not JobStatus.DONE and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    assert runner.catalog.job(job.id).status is JobStatus.DONE


def test_one_process_runs_the_jobs(workspace: Workspace) -> None:
    first = JobRunner(workspace, Recorder().stages(), poll_interval=0.05)
    second = JobRunner(workspace, Recorder().stages(), poll_interval=0.05)
    assert first.start() is True
    try:
        assert second.start() is False  # the lock is held: the second only queues
        job = second.submit("q", purpose="survey")
        deadline = time.monotonic() + 20
        while first.catalog.job(job.id).status is not JobStatus.DONE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.catalog.job(job.id).status is JobStatus.DONE
    finally:
        first.stop()
        second.stop()
    assert second.start() is True  # released by stop()
    second.stop()
