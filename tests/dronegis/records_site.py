"""The demo flight for the records tests: built once, copied for every test that changes it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from svc_helpers import REPO, free_port

FLIGHT = "skanderborg-demo"
GIS_TOKEN = "records-gis-token-7f3a"
TOKENS = [{"token": GIS_TOKEN, "role": "gis", "name": "gustav"}]


def cli(workspace: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``dronegis ARGS`` on ``workspace`` in a subprocess."""
    env = {**os.environ, "DRONEGIS_WORKSPACE": str(workspace)}
    env.pop("DRONEGIS_TOKENS", None)
    result = subprocess.run(
        [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(
            f"dronegis {' '.join(args)} failed ({result.returncode}): {result.stderr[-3000:]}"
        )
    return result


def build_demo(root: Path) -> Path:
    """``dronegis demo --no-serve`` into ``root``."""
    cli(root, "demo", "--no-serve", "--json")
    return root


def copy_site(demo: Path, target: Path) -> Path:
    """A copy of the demo workspace (paths inside the workspace follow it: the sample folder)."""
    shutil.copytree(demo, target, symlinks=True)
    flight = target / "flights" / f"{FLIGHT}.json"
    doc = json.loads(flight.read_text(encoding="utf-8"))
    doc["source"] = str(target / "samples" / FLIGHT)
    os.chmod(flight, 0o644)
    flight.write_text(json.dumps(doc), encoding="utf-8")
    return target


def files_naming(root: Path, name: str) -> list[str]:
    """Every path under ``root`` whose name or bytes contain ``name``."""
    found = []
    needle = name.encode("utf-8")
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if name in rel:
            found.append(rel)
        elif path.is_file() and needle in path.read_bytes():
            found.append(rel)
    return found


@contextmanager
def uvicorn_service(workspace: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The dronegis app under uvicorn (access log on, at info level) in a subprocess on 127.0.0.1."""
    port = free_port()
    full = {
        **os.environ,
        "DRONEGIS_WORKSPACE": str(workspace),
        "DRONEGIS_TOKENS": json.dumps(TOKENS),
        **(env or {}),
    }
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "dronegis.api.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "info"],
            cwd=REPO, env=full, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"service exited: {log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{url}/layers", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
