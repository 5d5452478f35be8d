"""``dronegis serve`` sets read deadlines and a connection cap (issue 18): slow clients cannot hold it.

A real ``dronegis serve`` process on 127.0.0.1, raw sockets for the hostile clients and httpx for the
well-behaved one; the limits are made small through the environment (``DRONEGIS_SERVER__*``).
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from svc_helpers import GIS, REPO, Service, free_port

LIMITS = {
    "DRONEGIS_SERVER__HEADER_TIMEOUT_S": "1.0",
    "DRONEGIS_SERVER__BODY_IDLE_TIMEOUT_S": "1.0",
    "DRONEGIS_SERVER__MAX_CONNECTIONS": "6",
    "DRONEGIS_SERVER__BULK_THREADS": "1",
}


class CliService(Service):
    """The service started the way an operator starts it: ``dronegis serve``."""

    def start(self, timeout: float = 60.0) -> CliService:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", "serve"]
        argv += ["--workspace", str(self.workspace), "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{self.url}/layers", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"dronegis serve did not start in {timeout} s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliService]:
    root = tmp_path_factory.mktemp("serve")
    service = CliService(root / "ws", root / "serve.log", env=LIMITS).start()
    try:
        yield service
    finally:
        service.stop()


def _connect(service: Service) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=10)
    return sock


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and how long that took."""
    start, data = time.monotonic(), b""
    sock.settimeout(limit_s)
    while True:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return data, float("inf")
        if not chunk:
            return data, time.monotonic() - start
        data += chunk


def test_a_request_sent_one_byte_at_a_time_gets_408_within_the_header_deadline(served: CliService) -> None:
    sock = _connect(served)
    start = time.monotonic()
    answer = b""
    for byte in b"GET /layers HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # the server closed it
            break
        time.sleep(0.05)
        if time.monotonic() - start > 6:
            break
    answer, _ = _read_until_closed(sock, 5)
    sock.close()
    # only the header deadline answers 408: the trickle itself never completes its headers
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_silent_connection_is_closed_after_the_header_deadline(served: CliService) -> None:
    sock = _connect(served)
    answer, took = _read_until_closed(sock, 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ") and math.isfinite(took), (answer, took)  # closed in time


def test_a_body_that_stops_coming_closes_the_connection(served: CliService) -> None:
    sock = _connect(served)
    head = (
        f"POST /api/flights HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {GIS}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"name": "')
    answer, took = _read_until_closed(sock, 6)
    sock.close()
    assert answer == b"" and math.isfinite(took), (
        answer,
        took,
    )  # closed without an answer, the handler saw a disconnect


def test_connections_above_the_cap_get_503_and_the_service_recovers(served: CliService) -> None:
    idle = [_connect(served) for _ in range(6)]
    time.sleep(0.3)
    extra = _connect(served)
    answer, took = _read_until_closed(extra, 3)
    extra.close()
    assert answer.startswith(b"HTTP/1.1 503 ") and math.isfinite(took), (answer, took)
    for sock in idle:
        sock.close()
    time.sleep(0.5)
    assert httpx.get(f"{served.url}/layers", timeout=5).status_code == 200


def test_well_behaved_clients_are_served_and_kept_alive(served: CliService) -> None:
    with httpx.Client(base_url=served.url, timeout=5) as client:
        codes = [client.get("/layers").status_code for _ in range(5)]
        time.sleep(1.5)  # idle longer than the header deadline, shorter than keep-alive: idle is not slow
        codes.append(client.get("/layers").status_code)
    assert codes == [200] * 6
    assert "Traceback" not in Path(served.log_path).read_text(errors="replace")


def test_the_limits_come_from_the_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRONEGIS_")}
    code = "from dronegis.settings import Settings; print(Settings().server.model_dump_json())"
    out = subprocess.run([sys.executable, "-c", code], env={**env, **LIMITS}, capture_output=True, check=True)
    assert out.stdout.decode().strip() == (
        '{"header_timeout_s":1.0,"body_idle_timeout_s":1.0,"keep_alive_s":5,"max_connections":6,'
        '"max_header_bytes":65536,"render_threads":0,"bulk_threads":1}'
    )


@pytest.mark.parametrize(
    ("proj_env", "warned"),
    [
        ({}, False),  # PROJ's network off (the default): nothing to check
        # a CDN it cannot reach (port 9 on this machine: nothing listens)
        ({"PROJ_NETWORK": "ON", "PROJ_NETWORK_ENDPOINT": "http://127.0.0.1:9"}, True),
    ],
)
def test_serve_warns_when_proj_would_fetch_grids_it_cannot_reach(
    proj_env: dict[str, str], warned: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJ_NETWORK")}
    code = "from dronegis.serving import proj_network_warning; print(proj_network_warning())"
    run = [sys.executable, "-c", code]
    out = subprocess.run(run, env={**env, **proj_env}, capture_output=True, check=True)
    said = out.stdout.decode().strip()
    if warned:
        assert said.startswith("PROJ_NETWORK=ON, but PROJ cannot fetch") and "PROJ_NETWORK=OFF" in said
    else:
        assert said == "None"
