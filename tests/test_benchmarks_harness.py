"""The benchmark harness (benchmarks/common.py, run.py, report.py): peers fail fast, servers stop."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import common  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402


def _gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_server_that_exits_fails_at_once_and_names_itself() -> None:
    start = time.monotonic()
    server = common.Server("broken-peer", [sys.executable, "-c", "print('no module'); raise SystemExit(3)"],
                           f"http://127.0.0.1:{common.free_port()}/", timeout=60)  # fmt: skip
    with pytest.raises(common.PeerError, match=r"broken-peer exited with code 3.*no module"), server:
        pass
    assert time.monotonic() - start < 20
    assert server.proc is None


def test_server_that_never_answers_is_stopped_with_its_children() -> None:
    code = "import subprocess, sys, time; "
    code += "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    server = common.Server("silent-peer", [sys.executable, "-c", code], f"http://127.0.0.1:{common.free_port()}/",
                           timeout=2)  # fmt: skip
    with pytest.raises(common.PeerError, match="silent-peer did not answer"), server:
        pass
    assert server.pid is not None and _gone(server.pid)  # the server and the child it started
    assert not (common.SERVERS / f"{server.pid}.json").exists()


def test_server_stops_by_pid_when_the_block_fails(tmp_path: Path) -> None:
    port = common.free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(tmp_path)]
    server = common.Server("http", cmd, f"http://127.0.0.1:{port}/")
    with pytest.raises(RuntimeError, match="benchmark failed"), server:
        raise RuntimeError("benchmark failed")
    assert server.pid is not None and _gone(server.pid)


def test_missing_peer_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(run.PEER_CHECKS, "titiler", run._command(["no-such-titiler-binary"], "nothing"))
    with pytest.raises(SystemExit) as exc:
        run.check_peers(["tiles"])
    assert exc.value.code == 3
    assert "missing peer(s)" in capsys.readouterr().err


def test_report_replaces_only_generated_blocks(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    record = {
        "name": "demo", "command": "x", "seconds": 1.0, "load_average_after": [0.1, 0.2, 0.3],
        "machine": {"date_utc": "2026-12-06T10:00:00+00:00", "cpu": "cpu", "cores": 2, "memory_gib": 1.0,
                    "os": "os", "load_average": [0.1, 0.2, 0.3]},
        "peers": {"tool": "tool 1.0"},
        "result": {"tables": [common.table("T", ["a", "b"], [["x", 1.23456]])], "notes": ["n"],
                   "versions": {}},
    }  # fmt: skip
    (results / "demo.json").write_text(json.dumps(record))
    target = tmp_path / "RESULTS.md"
    block = "<!-- generated:demo -->\nold\n<!-- /generated:demo -->"
    target.write_text(f"# R\n\nprose kept\n\n{block}\n\nmore prose\n")
    assert report.regenerate(results, target) == ["demo"]
    text = target.read_text()
    assert "prose kept" in text and "more prose" in text and "old" not in text
    assert "| x | 1.23 |" in text and "tool: tool 1.0" in text
