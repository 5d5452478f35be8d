"""The service under load (issue 18): 50 clients for a bounded time, p50/p95 and the server's RSS growth.

``dronegis serve`` (one uvicorn worker, the server limits of ``dronegis.serving``) publishes the
10 000 x 10 000 JPEG COG of the tiles benchmark (no pyramid: every tile is rendered from the COG).
50 asyncio clients on 127.0.0.1 send, each in a loop until the phase ends, a seeded random mix:
XYZ tiles (WebMercatorQuad and View1, zoom 14-19 over the COG), WMS GetMap from 1x1 to 4096x4096
(PNG and JPEG), WMS GetFeatureInfo and ``/layers``. Two phases of ``--seconds`` each; the server's
resident memory (RSS, psutil, its whole process tree) is sampled every 0.5 s. Reported: requests,
errors (status >= 500 or a failed connection), p50/p95/max latency per phase, RSS after the
warm-up (the first ``--warmup`` seconds of phase 1), at the end of each phase and its peak, and the
growth after warm-up in percent (issue 18 asks for at most +10 %).

    .venv/bin/python benchmarks/load_bench.py [--clients 50] [--seconds 60] [--warmup 10] [--json OUT]
    .venv/bin/python benchmarks/run.py load
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import rasterio
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, Server, add_json_option, exit_on_sigterm, free_port, table, write_result  # noqa: E402
from tiles_bench import PY, ensure_cog, publish_for_bench  # noqa: E402

from webgis_export.tms import get_tms  # noqa: E402

GETMAP_SIDES = (1, 64, 256, 512, 1024, 2048, 4096)
GETMAP_WEIGHTS = (2, 4, 8, 6, 4, 2, 1)


def serve(ws_root: Path, port: int) -> Server:
    """``dronegis serve`` on ``port`` (the operator's command, with its read deadlines and caps)."""
    cmd = [PY, "-c", "from dronegis.cli.main import cli; cli()", "serve", "--workspace", str(ws_root)]
    return Server("dronegis-serve", [*cmd, "--port", str(port)], f"http://127.0.0.1:{port}/layers")


class Mix:
    """Seeded random requests over the published COG."""

    def __init__(self, layer: str, bounds: tuple[float, float, float, float], seed: int) -> None:
        self.layer, self.bounds, self.rng = layer, bounds, random.Random(seed)
        to_wgs84 = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
        self.lonlat = to_wgs84.transform_bounds(*bounds)

    def url(self) -> tuple[str, str]:
        """(kind, path with query) of the next request."""
        pick = self.rng.random()
        if pick < 0.45:
            return "tile", self._tile()
        if pick < 0.8:
            side, path = self._getmap()
            size = "≤ 256²" if side <= 256 else "512²-1024²" if side <= 1024 else "2048²-4096² (bulk lane)"
            return f"getmap {size}", path
        if pick < 0.95:
            return "getfeatureinfo", self._info()
        return "layers", "/layers"

    def _tile(self) -> str:
        tms = self.rng.choice(("WebMercatorQuad", "View1"))
        z = self.rng.randint(14, 19) if tms == "WebMercatorQuad" else self.rng.randint(9, 14)
        west, south, east, north = self.lonlat
        lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
        tile = get_tms(tms).tile(lon, lat, z)
        return f"/tiles/{self.layer}/{tms}/{tile.z}/{tile.x}/{tile.y}.jpg"

    def _box(self) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.bounds
        span = self.rng.uniform(16.0, min(x1 - x0, y1 - y0))
        x, y = self.rng.uniform(x0, x1 - span), self.rng.uniform(y0, y1 - span)
        return x, y, x + span, y + span

    def _getmap(self) -> tuple[int, str]:
        side = self.rng.choices(GETMAP_SIDES, GETMAP_WEIGHTS)[0]
        fmt = self.rng.choice(("image/png", "image/jpeg"))
        box = ",".join(f"{v:.2f}" for v in self._box())
        return side, (
            f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={self.layer}&STYLES=&CRS=EPSG:25832"
            f"&BBOX={box}&WIDTH={side}&HEIGHT={side}&FORMAT={fmt}"
        )

    def _info(self) -> str:
        box = ",".join(f"{v:.2f}" for v in self._box())
        i, j = self.rng.randrange(256), self.rng.randrange(256)
        return (
            f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS={self.layer}&QUERY_LAYERS={self.layer}"
            f"&STYLES=&CRS=EPSG:25832&BBOX={box}&WIDTH=256&HEIGHT=256&I={i}&J={j}&INFO_FORMAT=application/json"
        )


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its children, MiB."""
    try:
        process = psutil.Process(pid)
        procs = [process, *process.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
    except psutil.Error:
        return float("nan")


async def phase(base: str, mix: Mix, clients: int, seconds: float, pid: int) -> dict[str, Any]:
    """``clients`` loops for ``seconds``; latencies, errors and the RSS samples."""
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    end = start + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < end:
            kind, path = mix.url()
            tick = time.perf_counter()
            try:
                response = await http.get(path)
                if response.status_code >= 500:
                    errors.append(f"{response.status_code} {path}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__} {path}")
                continue
            latencies.setdefault(kind, []).append(time.perf_counter() - tick)

    async def sampler() -> None:
        while time.monotonic() < end:
            samples.append((time.monotonic() - start, rss_mib(pid)))
            await asyncio.sleep(0.5)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
        await asyncio.gather(sampler(), *(client(http) for _ in range(clients)))
    samples.append((time.monotonic() - start, rss_mib(pid)))
    return {"latencies": latencies, "errors": errors, "samples": samples, "seconds": time.monotonic() - start}


def summary(name: str, result: dict[str, Any]) -> list[Any]:
    """One table row: phase, requests, errors, req/s, p50, p95, max (ms)."""
    every = sorted(v for values in result["latencies"].values() for v in values)
    count = len(every)
    p50 = statistics.median(every) * 1000 if every else float("nan")
    p95 = every[int(0.95 * (count - 1))] * 1000 if every else float("nan")
    peak = max((v for v in every), default=float("nan")) * 1000
    rate = count / result["seconds"]
    return [name, count, len(result["errors"]), round(rate, 1), round(p50), round(p95), round(peak)]


def main() -> None:
    """Run both phases and write the figures."""
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cog", type=Path, default=WORK / "r10k_jpeg_cog.tif")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=18)
    add_json_option(parser)
    args = parser.parse_args()
    cog = ensure_cog(args.cog)
    ws_root, layer = publish_for_bench(cog, WORK / "load_ws")
    with rasterio.open(cog) as src:
        bounds = tuple(src.bounds)
    port = free_port()
    with serve(ws_root, port) as server:
        assert server.pid is not None
        base = f"http://127.0.0.1:{port}"
        idle = rss_mib(server.pid)
        mix = Mix(layer, bounds, args.seed)  # type: ignore[arg-type]
        first = asyncio.run(phase(base, mix, args.clients, args.seconds, server.pid))
        second = asyncio.run(phase(base, mix, args.clients, args.seconds, server.pid))
    warm = [rss for t, rss in first["samples"] if t >= args.warmup][:1] or [first["samples"][-1][1]]
    after_warmup, end1, end2 = warm[0], first["samples"][-1][1], second["samples"][-1][1]
    peak = max(rss for _, rss in first["samples"] + second["samples"])
    growth = (end2 - after_warmup) / after_warmup * 100
    rows = [summary("phase 1", first), summary("phase 2", second)]
    memory = [[round(idle), round(after_warmup), round(end1), round(end2), round(peak), f"{growth:+.1f} %"]]
    both: dict[str, list[float]] = {}
    for result in (first, second):
        for kind, values in result["latencies"].items():
            both.setdefault(kind, []).extend(values)
    total = sum(len(v) for v in both.values())
    kinds = [
        [kind, len(v), f"{len(v) / total * 100:.1f} %", round(statistics.median(v) * 1000),
         round(sorted(v)[int(0.95 * (len(v) - 1))] * 1000), round(max(v) * 1000)]
        for kind, v in sorted(both.items())
    ]  # fmt: skip
    write_result(
        args.json,
        figures={
            "clients": args.clients,
            "seconds_per_phase": args.seconds,
            "requests": rows[0][1] + rows[1][1],
            "errors": len(first["errors"]) + len(second["errors"]),
            "p50_ms": [rows[0][4], rows[1][4]],
            "p95_ms": [rows[0][5], rows[1][5]],
            "rss_idle_mib": round(idle, 1),
            "rss_after_warmup_mib": round(after_warmup, 1),
            "rss_end_phase1_mib": round(end1, 1),
            "rss_end_phase2_mib": round(end2, 1),
            "rss_peak_mib": round(peak, 1),
            "rss_growth_after_warmup_pct": round(growth, 1),
            "first_errors": (first["errors"] + second["errors"])[:10],
        },
        tables=[
            table(
                f"{args.clients} clients on 127.0.0.1, dronegis serve, two phases of {args.seconds:.0f} s",
                ["phase", "requests", "errors", "req/s", "p50 ms", "p95 ms", "max ms"],
                rows,
            ),
            table(
                "Server RSS (MiB, process tree)",
                [
                    "idle",
                    f"after {args.warmup:.0f} s warm-up",
                    "end phase 1",
                    "end phase 2",
                    "peak",
                    "growth",
                ],
                memory,
            ),
            table(
                "Both phases by request kind",
                ["kind", "requests", "share", "p50 ms", "p95 ms", "max ms"],
                kinds,
            ),
        ],
        notes=[
            "mix: 45 % XYZ tiles (z14-19 WebMercatorQuad, z9-14 View1), 35 % GetMap 1x1..4096x4096 "
            "(PNG/JPEG), 15 % GetFeatureInfo, 5 % /layers; seeded",
            "no peer: the figure is the service's own memory growth and latency under the issue 18 mix",
        ],
    )


if __name__ == "__main__":
    main()
