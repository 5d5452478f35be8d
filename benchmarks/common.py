"""Shared parts of the benchmark scripts: result files, the machine record, servers that always stop.

Every script takes ``--json PATH`` (:func:`add_json_option`) and writes its figures there
with :func:`write_result`: raw ``figures``, the ``tables`` that ``benchmarks/report.py``
renders into RESULTS.md, ``versions`` of both sides and ``notes``. ``benchmarks/run.py``
(called by ``scripts/bench.sh``) adds the command and the machine before and after.

:class:`Server` starts an HTTP server in its own process group, waits until it answers
(failing at once when it exits, or after a deadline — never hanging) and stops the whole
group by its PID when the ``with`` block ends, whatever happened. Each running server is
also registered in ``benchmarks/_work/servers/``, so the harness can stop what a killed
script left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "_work"
PEERS = WORK / "peers"
SERVERS = WORK / "servers"
DATA = Path(os.environ.get("DRONEGIS_TEST_DATA", REPO.parent / "shared" / "data"))


class PeerError(RuntimeError):
    """A peer tool is missing or does not start; the message says which and how to get it."""


def fail(message: str, code: int = 3) -> None:
    """Print ``bench: ERROR: message`` on stderr and exit with ``code``."""
    print(f"bench: ERROR: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` and ``with`` blocks stop the servers."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """The ``--json PATH`` option every benchmark script takes."""
    parser.add_argument("--json", type=Path, help="write the figures here (machine-readable)")


def table(title: str, columns: Sequence[str], rows: Sequence[Any]) -> dict[str, Any]:
    """A table for RESULTS.md: a title, column names and rows of cells (strings or numbers)."""
    return {"title": title, "columns": list(columns), "rows": [list(r) for r in rows]}


def ratio(value: float, digits: int = 2) -> str:
    """``value`` as ``1.23×``."""
    return f"{value:.{digits}f}×"


def write_result(
    path: Path | None,
    *,
    figures: dict[str, Any],
    tables: Sequence[dict[str, Any]],
    versions: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> None:
    """Write a benchmark's result (and print it when no path is given)."""
    payload = {
        "figures": figures,
        "tables": list(tables),
        "versions": {**base_versions(), **(versions or {})},
        "notes": list(notes),
        "load_at_end": os.getloadavg(),
    }
    text = json.dumps(payload, indent=1, default=str, ensure_ascii=False)
    if path is None:
        print(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, load average and the time now (UTC)."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem_gib = round(kib / 2**20, 1)
    system = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip('"')
    return {
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": system,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def package_version(name: str) -> str | None:
    """The installed version of a Python distribution, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def command_version(cmd: Sequence[str], env: dict[str, str] | None = None) -> str | None:
    """The first output line of a version command, or None when it cannot run."""
    try:
        done = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})}
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None


def base_versions() -> dict[str, Any]:
    """Our side: dronegis and the libraries that do its work."""
    import rasterio

    return {
        "dronegis": package_version("dronegis"),
        "numpy": package_version("numpy"),
        "rasterio": rasterio.__version__,
        "gdal (rasterio)": rasterio.__gdal_version__,
        "opencv": package_version("opencv-python-headless"),
    }


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """An HTTP server for the length of a ``with`` block; stopped by PID (its process group).

    Args:
        name: what it is, for messages (``TiTiler``, ``MapServer/lighttpd``).
        cmd: the command; it runs in its own session, so its workers are stopped with it.
        ready_url: answered (any status below 500) once the server is up.
        env: extra environment.
        timeout: seconds to wait for ``ready_url``.
    """

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        ready_url: str,
        *,
        env: dict[str, str] | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.name, self.cmd, self.ready_url = name, list(cmd), ready_url
        self.env, self.timeout = env, timeout
        self.log = WORK / "logs" / f"{name.replace('/', '_').replace(' ', '_')}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # kept after the stop, for checks

    def __enter__(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.cmd, env={**os.environ, **(self.env or {})}, cwd=REPO, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.pid = self.proc.pid
        SERVERS.mkdir(parents=True, exist_ok=True)
        (SERVERS / f"{self.proc.pid}.json").write_text(json.dumps({"name": self.name, "cmd": self.cmd}))
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        import httpx

        assert self.proc is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise PeerError(f"{self.name} exited with code {code} before answering: {self.tail()}")
            try:
                if httpx.get(self.ready_url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        waited = f"{self.timeout:.0f} s"
        raise PeerError(f"{self.name} did not answer {self.ready_url} within {waited}: {self.tail()}")

    def tail(self, lines: int = 8) -> str:
        """The last lines of the server's log."""
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return f"{self.log}: " + " | ".join(text)

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 10 s; unregister it."""
        if self.proc is None:
            return
        stop_group(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        (SERVERS / f"{self.proc.pid}.json").unlink(missing_ok=True)
        self.proc = None


def stop_group(pid: int, grace: float = 10.0) -> None:
    """Stop the process group led by ``pid``: SIGTERM, then SIGKILL after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
