"""One pass over a list of URLs with ``wrk`` (C, epoll), the HTTP load generator of the tile benchmarks.

A Python client costs the CPU it measures: httpx's async client spends 2-3 ms of CPU per request,
so on a two-core machine a server answering a tile in a few milliseconds is measured at the
client's speed (py-spy of ``dronegis serve`` under the httpx pass: the render threads idle 90 %
of the time, the event loop 55 %). ``wrk`` spends microseconds per request. The pass is the same
as the httpx one: every URL once, ``concurrency`` connections kept alive, each connection asking
the next URL when its answer arrived; wrk's Lua hooks hand out the list and stop when every URL
has been answered; it then tells this module on stderr, which interrupts wrk (SIGINT ends wrk's
timed run early and it prints its summary). Latency percentiles are wrk's (time from sending a
request to its answer); the pass's duration is wrk's own, from its start to the interrupt. At most
``concurrency - 1`` requests beyond the list (the last path again) are in flight at the end.

    from wrk_pass import wrk_pass
    wrk_pass("http://127.0.0.1:8000", ["/tiles/a/WebMercatorQuad/14/1/2.jpg", ...], concurrency=8)
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from common import PeerError

#: Hands each connection the next path of the list, counts answers, stops when all are answered.
LUA = r"""
local paths, next_index, answered, failed, bytes = {}, 1, 0, 0, 0
local total = 0

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  total = #paths
end

function request()
  local path = paths[next_index] or paths[total]
  next_index = next_index + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  answered = answered + 1
  bytes = bytes + #body
  if status ~= 200 then failed = failed + 1 end
  if answered >= total then
    io.stderr:write(string.format("wrk-pass answered=%d failed=%d bytes=%d\n", answered, failed, bytes))
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "status_errors": %d}\n',
    summary.duration, summary.requests, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
end
"""


def wrk_binary() -> str:
    """Path of ``wrk`` (Debian package ``wrk``; scripts/bench.sh installs it)."""
    found = shutil.which("wrk")
    if found is None:
        raise PeerError("wrk is missing (Debian package wrk); bash scripts/bench.sh installs it")
    return found


def wrk_pass(
    base_url: str, paths: list[str], concurrency: int = 8, timeout_s: float = 120.0
) -> dict[str, float]:
    """Every path of ``paths`` once at ``concurrency``; tiles/s, p50/p95/max ms, errors, mean kB.

    A request that fails (connection reset, read error, 60 s timeout) is never answered, so the
    list is not either: wrk then runs until ``timeout_s`` and the pass is reported from wrk's own
    summary — the answered requests over the whole time, every unanswered path an error.
    """
    with tempfile.TemporaryDirectory(prefix="wrk-pass-") as tmp:
        listing, script = Path(tmp) / "paths.txt", Path(tmp) / "pass.lua"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        script.write_text(LUA, encoding="utf-8")
        cmd = [wrk_binary(), "-t1", f"-c{concurrency}", f"-d{int(timeout_s)}s", "--timeout", "60s",
               "-s", str(script), base_url, "--", str(listing)]  # fmt: skip
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as wrk:
            assert wrk.stderr is not None and wrk.stdout is not None
            line = wrk.stderr.readline()  # the Lua hook's "wrk-pass answered=..." once all are answered
            wrk.send_signal(signal.SIGINT)
            out, rest = wrk.communicate(timeout=30)
    figures = json.loads(out.strip().splitlines()[-1])
    seconds = figures["duration_us"] / 1e6
    wrk_errors = sum(figures[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    if line.startswith("wrk-pass "):
        answered = {key: int(value) for key, value in (part.split("=") for part in line.split()[1:])}
        count, failed, size = answered["answered"], answered["failed"], answered["bytes"]
    else:  # ran out its time: some requests failed and were never answered
        note = f"wrk-pass: {base_url}: {figures['requests']} of {len(paths)} answered; {line}{rest}"
        print(note.strip(), flush=True)
        count, size = figures["requests"], figures["bytes"]
        failed = figures["status_errors"] + len(paths) - count
    return {
        "tiles_per_s": count / seconds,
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "errors": failed + wrk_errors,
        "avg_kb": size / max(count, 1) / 1024,
    }
