"""Helpers of the service tests: tokens and stand-in stages."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from core.atomic import atomic_write_text
from dronegis.jobs import STAGES, JobContext, Progress, StageResult
from dronegis.settings import Token

PILOT, GIS, VIEWER = "pilot-token", "gis-token", "viewer-token"
TOKENS = (
    Token(token=PILOT, role="pilot", name="pia"),
    Token(token=GIS, role="gis", name="gustav"),
    Token(token=VIEWER, role="viewer", name="vera"),
)


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
        atomic_write_text(
            ctx.workspace.qa(ctx.flight) / "report.html", f"<h1>QA {ctx.flight}: {qa_status}</h1>"
        )
        return StageResult("qa", qa_status=qa_status)

    def publish(ctx: JobContext, progress: Progress) -> StageResult:
        return StageResult("published", layers=({"id": f"{ctx.flight}-x", "title": "X"},))

    stages = {"ingest": ingest, "process": process, "qa": qa, "publish": publish}
    assert set(stages) == set(STAGES)
    return stages


# -- a real service process on 127.0.0.1 ----------------------------------------------------------


REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """``uvicorn dronegis.api.app:create_app`` in a subprocess on 127.0.0.1 (stopped by :meth:`stop`)."""

    def __init__(self, workspace: Path, log: Path, *, env: dict[str, str] | None = None) -> None:
        self.workspace, self.log_path = workspace, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DRONEGIS_WORKSPACE": str(workspace),
            "DRONEGIS_TOKENS": json.dumps([t.model_dump() for t in TOKENS]),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "dronegis.api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/layers", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"service did not start in {timeout} s")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
