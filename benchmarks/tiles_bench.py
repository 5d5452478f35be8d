"""Dynamic tiles: dronegis XYZ tiles vs TiTiler on the same COG and the same 500 WebMercatorQuad tiles.

Both servers run under uvicorn (1 worker) on 127.0.0.1 at the same time; the load is
one pass over the 500 URLs at concurrency 8 with httpx (async), measured alternately
(dronegis, TiTiler, dronegis, TiTiler, ...) so that machine noise hits both.

    .venv/bin/python benchmarks/tiles_bench.py [--cog COG] [--rounds 2] [--ext jpg]

The COG defaults to a 10k×10k JPEG COG made from /work/shared/tools/make_raster.py
(made once into benchmarks/_work/ if missing). Nothing here is asserted by tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "_work"
PY = sys.executable
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


def publish_for_bench(cog: Path) -> tuple[Path, str]:
    """A workspace with the COG published (no pyramid: every tile is rendered from the COG)."""
    from datetime import UTC, datetime

    from core.workspace import Workspace
    from pipeline.models import Product, ProductKind
    from webgis_export.publish import load_layers, publish

    ws = Workspace.at(WORK / "bench_ws")
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


def start(cmd: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a server and wait until it answers."""
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"server on port {port} did not start: {cmd}")


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
                response = await client.get(url)
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
    args = parser.parse_args()
    cog = ensure_cog(args.cog)
    ws_root, layer_id = publish_for_bench(cog)
    published_cog = ws_root / "publish" / "layers" / layer_id / "cog.tif"
    tiles = tile_list(cog)
    ours_port, titiler_port = 8731, 8732
    ours = start([PY, "-c", LAUNCH_DRONEGIS, str(ws_root), str(ours_port)], ours_port)
    titiler = start(
        [
            PY,
            "-m",
            "uvicorn",
            "titiler.application.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(titiler_port),
            "--log-level",
            "warning",
        ],
        titiler_port,
    )
    urls = {
        "dronegis": [
            f"http://127.0.0.1:{ours_port}/tiles/{layer_id}/WebMercatorQuad/{z}/{x}/{y}.{args.ext}"
            for z, x, y in tiles
        ],
        "titiler": [
            f"http://127.0.0.1:{titiler_port}/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.{args.ext}"
            f"?url={published_cog}"
            for z, x, y in tiles
        ],
    }
    results: dict[str, list[dict[str, float]]] = {"dronegis": [], "titiler": []}
    try:
        for batch in urls.values():  # warm-up: open files, fill caches
            asyncio.run(run_pass(batch[::25], args.concurrency))
        for _ in range(args.rounds):
            for name, batch in urls.items():
                figures = asyncio.run(run_pass(batch, args.concurrency))
                results[name].append(figures)
                print(name, json.dumps({k: round(v, 1) for k, v in figures.items()}), flush=True)
    finally:
        for proc in (ours, titiler):
            proc.terminate()
            proc.wait(10)
    best = {name: max(runs, key=lambda r: r["tiles_per_s"]) for name, runs in results.items()}
    med = {name: statistics.median(r["tiles_per_s"] for r in runs) for name, runs in results.items()}
    p95 = {name: statistics.median(r["p95_ms"] for r in runs) for name, runs in results.items()}
    print(
        json.dumps(
            {
                "cog": str(cog),
                "tiles": len(tiles),
                "format": args.ext,
                "concurrency": args.concurrency,
                "median_tiles_per_s": {k: round(v, 1) for k, v in med.items()},
                "median_p95_ms": {k: round(v, 1) for k, v in p95.items()},
                "ratio_tiles_per_s": round(med["dronegis"] / med["titiler"], 2),
                "ratio_p95": round(p95["dronegis"] / p95["titiler"], 2),
                "best": best,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
