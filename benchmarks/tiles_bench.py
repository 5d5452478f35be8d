"""Dynamic tiles: dronegis XYZ tiles vs TiTiler on the same COG and the same 500 WebMercatorQuad tiles.

Both servers run under uvicorn on 127.0.0.1 (random free ports) at the same time:
dronegis with one worker (threads inside), TiTiler from its own venv with 4 workers and
the GDAL settings of its docker-compose file. The load is one pass over the 500 URLs at
concurrency 8, sent by ``wrk`` (benchmarks/wrk_pass.py; ``--client httpx`` for the httpx async
client, whose 2-3 ms of CPU per request bounded the earlier figures on two cores), measured
alternately (dronegis, TiTiler, dronegis, TiTiler, ...) so that machine noise hits both. Both
servers are stopped by PID when the run ends, fails or is killed (``common.Server``).

    .venv/bin/python benchmarks/tiles_bench.py [--cog COG] [--rounds 2] [--ext jpg] [--client wrk]
        [--json OUT]

The COG defaults to a 10k×10k JPEG COG made from /work/shared/tools/make_raster.py
(made once into benchmarks/_work/ if missing). Nothing here is asserted by tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import morecantile
import rasterio
from rasterio.warp import transform_bounds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PEERS,
    WORK,
    PeerError,
    Server,
    add_json_option,
    exit_on_sigterm,
    free_port,
    ratio,
    table,
    write_result,
)
from wrk_pass import wrk_pass  # noqa: E402

PY = sys.executable
TITILER_WORKERS = 4
TITILER_ENV = {  # the GDAL settings of TiTiler's own docker-compose.yml, cache per worker
    "GDAL_CACHEMAX": "200",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
    "VSI_CACHE": "TRUE",
    "VSI_CACHE_SIZE": "536870912",
    "PYTHONWARNINGS": "ignore",
}
PER_ZOOM = {14: 4, 15: 9, 16: 16, 17: 49, 18: 60, 19: 100, 20: 150, 21: 112}  # = 500, as in STACK.md §4
LAUNCH_DRONEGIS = """
import sys, uvicorn
from fastapi import FastAPI
from dronegis.settings import Settings
settings = Settings(workspace=sys.argv[1])
try:
    from dronegis.api.app import create_app
    app = create_app(settings)
    print("app: create_app", file=sys.stderr)
except Exception as exc:  # the job service of a colleague may be mid-edit: serve the OGC routes alone
    from dronegis.api.app import install_ogc
    app = FastAPI()
    install_ogc(app, settings)
    print(f"app: install_ogc only ({type(exc).__name__}: {exc})", file=sys.stderr)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def ensure_cog(path: Path) -> Path:
    """The benchmark COG, made once (make_raster 10000 + gdal_translate COG JPEG) if missing."""
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    raw = WORK / "r10k.tif"
    if not raw.exists():
        subprocess.run([PY, "/work/shared/tools/make_raster.py", "10000", str(raw)], check=True)
    subprocess.run(
        [
            "gdal_translate",
            "-q",
            "-of",
            "COG",
            "-co",
            "COMPRESS=JPEG",
            "-co",
            "QUALITY=85",
            "-co",
            "OVERVIEW_RESAMPLING=AVERAGE",
            "-co",
            "NUM_THREADS=2",
            str(raw),
            str(path),
        ],
        check=True,
    )
    return path


def tile_list(cog: Path, seed: int = 42) -> list[tuple[int, int, int]]:
    """500 WebMercatorQuad tiles inside the COG, fixed per zoom level."""
    tms = morecantile.tms.get("WebMercatorQuad")
    with rasterio.open(cog) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    pad_x, pad_y = (east - west) * 0.02, (north - south) * 0.02
    tiles: list[tuple[int, int, int]] = []
    rng = random.Random(seed)
    for z, count in PER_ZOOM.items():
        inside = list(tms.tiles(west + pad_x, south + pad_y, east - pad_x, north - pad_y, zooms=[z]))
        chosen = inside if len(inside) <= count else rng.sample(inside, count)
        while len(chosen) < count:
            chosen.append(rng.choice(inside))
        tiles.extend((t.z, t.x, t.y) for t in chosen)
    return tiles


def publish_for_bench(cog: Path, root: Path | None = None) -> tuple[Path, str]:
    """A workspace (default ``_work/bench_ws``) with the COG published (no pyramid: tiles are rendered)."""
    from datetime import UTC, datetime

    from core.workspace import Workspace
    from pipeline.models import Product, ProductKind
    from webgis_export.publish import load_layers, publish

    ws = Workspace.at(root or WORK / "bench_ws")
    layer_id = "bench-orthophoto"
    if any(layer.id == layer_id for layer in load_layers(ws)):
        return ws.root, layer_id
    folder = ws.products("bench")
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "ortho.tif"
    if not link.exists():
        link.symlink_to(cog.resolve())
    with rasterio.open(cog) as src:
        bounds = tuple(src.bounds)
    product = Product(
        id=layer_id,
        flight="bench",
        kind=ProductKind.ORTHOPHOTO,
        path="products/bench/ortho.tif",
        crs="EPSG:25832",
        bounds=bounds,
        gsd_m=0.05,
        time_start=datetime(2026, 5, 1, tzinfo=UTC),
    )
    ws.products_json("bench").write_text(json.dumps([product.model_dump(mode="json")]), encoding="utf-8")
    publish(ws, layer_id, access="public", pyramids=False)
    return ws.root, layer_id


def dronegis_server(ws_root: Path, port: int) -> Server:
    """Our service (one uvicorn worker, threads inside) on ``port``."""
    return Server("dronegis", [PY, "-c", LAUNCH_DRONEGIS, str(ws_root), str(port)], f"http://127.0.0.1:{port}/docs")


def titiler_server(port: int) -> Server:
    """TiTiler from its own venv (scripts/bench.sh): 4 uvicorn workers, its recommended GDAL settings."""
    python = PEERS / "titiler" / "bin" / "python"
    if not python.exists():
        raise PeerError(f"TiTiler's venv is missing ({python}); bash scripts/bench.sh makes it")
    cmd = [str(python), "-m", "uvicorn", "titiler.application.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(TITILER_WORKERS), "--log-level", "warning"]  # fmt: skip
    return Server("TiTiler", cmd, f"http://127.0.0.1:{port}/healthz", env=TITILER_ENV)


async def run_pass(urls: list[str], concurrency: int = 8, hard_stop: float = 300.0) -> dict[str, float]:
    """One pass over ``urls`` at ``concurrency``; tiles/s, p50, p95 (ms), errors, bytes."""
    latencies: list[float] = []
    errors = 0
    size = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors, size
            while not queue.empty():
                url = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    response = await client.get(url)
                except httpx.TransportError:  # a server that drops the connection: an error, not a crash
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    errors += 1
                size += len(response.content)

        start_time = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), hard_stop)
        wall = time.perf_counter() - start_time
    latencies.sort()
    return {
        "tiles_per_s": len(urls) / wall,
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        "errors": errors,
        "avg_kb": size / len(urls) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cog", type=Path, default=WORK / "r10k_jpeg_cog.tif")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ext", default="jpg", choices=["jpg", "png"])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--client", default="wrk", choices=["wrk", "httpx"],
        help="load generator: wrk (C; default) or the httpx async client (costs 2-3 ms CPU per request)",
    )  # fmt: skip
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    cog = ensure_cog(args.cog)
    ws_root, layer_id = publish_for_bench(cog)
    published_cog = ws_root / "publish" / "layers" / layer_id / "cog.tif"
    tiles = tile_list(cog)
    ours_port, titiler_port = free_port(), free_port()
    bases = {"dronegis": f"http://127.0.0.1:{ours_port}", "titiler": f"http://127.0.0.1:{titiler_port}"}
    paths = {
        "dronegis": [f"/tiles/{layer_id}/WebMercatorQuad/{z}/{x}/{y}.{args.ext}" for z, x, y in tiles],
        "titiler": [
            f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.{args.ext}?url={published_cog}" for z, x, y in tiles
        ],
    }

    def one_pass(name: str, batch: list[str]) -> dict[str, float]:
        if args.client == "wrk":
            return wrk_pass(bases[name], batch, args.concurrency)
        return asyncio.run(run_pass([bases[name] + path for path in batch], args.concurrency))

    results: dict[str, list[dict[str, float]]] = {"dronegis": [], "titiler": []}
    with dronegis_server(ws_root, ours_port), titiler_server(titiler_port):
        for name, batch in paths.items():  # warm-up: open files, fill caches
            one_pass(name, batch[::25])
        for _ in range(args.rounds):
            for name, batch in paths.items():
                figures = one_pass(name, batch)
                results[name].append(figures)
                print(name, json.dumps({k: round(v, 1) for k, v in figures.items()}), flush=True)
    med = {name: statistics.median(r["tiles_per_s"] for r in runs) for name, runs in results.items()}
    p95 = {name: statistics.median(r["p95_ms"] for r in runs) for name, runs in results.items()}
    summary = {
        "cog": str(cog), "tiles": len(tiles), "format": args.ext, "concurrency": args.concurrency,
        "client": args.client,
        "titiler_workers": TITILER_WORKERS, "rounds": results,
        "median_tiles_per_s": med, "median_p95_ms": p95,
        "ratio_tiles_per_s": med["dronegis"] / med["titiler"], "ratio_p95": p95["dronegis"] / p95["titiler"],
    }  # fmt: skip
    print(json.dumps(summary, indent=1))
    rows = [
        [f"{name} round {i + 1}", r["tiles_per_s"], r["p50_ms"], r["p95_ms"], r["errors"], r["avg_kb"]]
        for name, runs in results.items()
        for i, r in enumerate(runs)
    ]
    ratio_row = [
        "**dronegis / TiTiler (median of rounds)**",
        f"**{ratio(summary['ratio_tiles_per_s'])}**", "", f"p95 {ratio(summary['ratio_p95'])}", "", "",
    ]  # fmt: skip
    title = (
        f"{len(tiles)} WebMercatorQuad {args.ext.upper()} tiles of {cog.name}, "
        f"concurrency {args.concurrency}, client {args.client}; "
        f"dronegis 1 uvicorn worker, TiTiler {TITILER_WORKERS} workers (target: ≥ 10× tiles/s, p95 ≤ 50 ms)"
    )
    columns = ["run", "tiles/s", "p50 ms", "p95 ms", "errors", "mean kB"]
    write_result(
        args.json,
        figures=summary,
        tables=[table(title, columns, [*rows, ratio_row])],
    )  # fmt: skip


if __name__ == "__main__":
    main()
