"""Volume benchmark: 1 000 stockpile polygons on a 20 000 × 20 000 float32 DSM, in windows.

The DSM (EPSG:25832, 0.1 m, tiled 512, DEFLATE with the floating-point predictor, the
``dsm_f32`` shape of our products) is gently rolling ground (a 0.5 % tilt plus 0.5 m
waves of 400-700 m) with 2 cm of per-cell noise (a photogrammetric DSM's texture, which
also sets how well it compresses), carrying 1 000 cones of radius 4-20 m and height
1-6 m, each with a circular polygon 2 m wider; both are made here in benchmarks/_work
(git-ignored), strip by strip. Each contender runs in its own child process, so peak RSS is its own:

- ``ours``: :func:`pipeline.volumes.run_volumes` with the default plane base, writing
  everything (cut/fill COG with overviews, legend, GeoPackage, CSV, JSON, HTML);
- ``ours:figures``: the same without files (``out_dir=None``): reading and measuring only;
- ``exactextract``: the peer's ``sum`` and ``count`` of the DSM over the same polygons
  (the zonal read every per-polygon tool pays; no base, no volume).

Accuracy is reported too: the cones' analytic volumes π r² h / 3 against ours.

Usage::

    .venv/bin/python benchmarks/volume_bench.py [--size 20000] [--count 1000] [--passes 2] [--json PATH]
    bash scripts/bench.sh volume
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from common import add_json_option, ratio, table, write_result  # noqa: E402

WORK = REPO / "benchmarks" / "_work" / "volume"
RES = 0.1
X0, Y0 = 560_000.0, 6_220_000.0
NOISE_M = 0.02


def piles(size: int, count: int) -> np.ndarray:
    """(x, y, radius, height) of ``count`` cones inside the raster, not overlapping."""
    rng = np.random.default_rng(7)
    extent = size * RES
    found: list[tuple[float, float, float, float]] = []
    while len(found) < count:
        r = rng.uniform(4, 20)
        x, y = X0 + rng.uniform(r + 3, extent - r - 3), Y0 - rng.uniform(r + 3, extent - r - 3)
        if all(math.hypot(x - a, y - b) > r + c + 5 for a, b, c, _ in found):
            found.append((x, y, r, rng.uniform(1, 6)))
    return np.array(found)


def ground(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 40 + 0.005 * (x - X0) + 0.5 * np.sin((x - X0) / 400) * np.cos((Y0 - y) / 700)


def make_dsm(path: Path, size: int, cones: np.ndarray) -> None:
    """The DSM written in strips of 512 rows; each strip adds the cones that reach it."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "float32", "crs": "EPSG:25832",
        "transform": from_origin(X0, Y0, RES, RES), "nodata": -9999.0, "tiled": True, "blockxsize": 512,
        "blockysize": 512, "compress": "DEFLATE", "predictor": 3, "bigtiff": "YES",
    }  # fmt: skip
    xs = X0 + (np.arange(size) + 0.5) * RES
    rng = np.random.default_rng(11)
    tmp = path.with_suffix(".part.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        for row0 in range(0, size, 512):
            rows = np.arange(row0, min(row0 + 512, size))
            ys = Y0 - (rows + 0.5) * RES
            strip = ground(xs[None, :], ys[:, None]) + rng.normal(0.0, NOISE_M, (rows.size, size))
            near = np.abs(cones[:, 1] - ys.mean()) < cones[:, 2] + 512 * RES
            for x, y, r, h in cones[near]:
                c0, c1 = int((x - r - X0) / RES) - 1, int((x + r - X0) / RES) + 2
                dist = np.hypot(xs[None, c0:c1] - x, ys[:, None] - y)
                strip[:, c0:c1] += h * np.clip(1 - dist / r, 0, None)
            dst.write(strip.astype("float32"), 1, window=Window(0, row0, size, rows.size))
    tmp.rename(path)


def make_polygons(path: Path, cones: np.ndarray) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    geometry = [Point(x, y).buffer(r + 2, 32) for x, y, r, _ in cones]
    ids = [f"bunke-{i:04d}" for i in range(len(cones))]
    gpd.GeoDataFrame({"id": ids}, geometry=geometry, crs="EPSG:25832").to_file(path, layer="bunker")


def run_ours(dsm: Path, polygons: Path, out: Path | None) -> dict[str, object]:
    from pipeline.volumes import VolumeConfig, run_volumes

    start = time.perf_counter()
    result = run_volumes(VolumeConfig(dsm=dsm, polygons=polygons, out_dir=out))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "net": [p.net_m3 for p in result.polygons], "failed": len(result.failed)}


def run_exactextract(dsm: Path, polygons: Path) -> dict[str, object]:
    import geopandas as gpd
    from exactextract import exact_extract

    start = time.perf_counter()
    frame = exact_extract(str(dsm), gpd.read_file(polygons), ["sum", "count"], output="pandas")
    return {"seconds": time.perf_counter() - start, "n": len(frame)}


def child(tool: str, dsm: Path, polygons: Path) -> None:
    """Run one contender; print its figures and this process's peak RSS as JSON."""
    if tool == "ours":
        result = run_ours(dsm, polygons, WORK / "out")
    elif tool == "ours:figures":
        result = run_ours(dsm, polygons, None)
    else:
        result = run_exactextract(dsm, polygons)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def spawn(tool: str, dsm: Path, polygons: Path) -> dict[str, object]:
    """Run one contender in a fresh interpreter; its stderr is shown when it fails."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", tool, str(dsm), str(polygons)], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"bench: {tool} failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Make the inputs if missing, run the contenders interleaved, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "DSM", "POLYGONS"))
    add_json_option(parser)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    cones = piles(args.size, args.count)
    dsm, polygons = WORK / f"dsm_noisy_{args.size}.tif", WORK / f"piles_{args.size}_{args.count}.gpkg"
    if not dsm.exists():
        started = time.perf_counter()
        make_dsm(dsm, args.size, cones)
        print(
            f"made {dsm.name} ({dsm.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s"
        )
    if not polygons.exists():
        make_polygons(polygons, cones)
    tools = ["ours", "ours:figures", "exactextract"]
    best: dict[str, dict[str, object]] = {}
    for _ in range(args.passes):
        for tool in tools:
            result = spawn(tool, dsm, polygons)
            if tool not in best or float(result["seconds"]) < float(best[tool]["seconds"]):  # type: ignore[arg-type]
                best[tool] = result
    report(args, cones, best, tools)


def report(
    args: argparse.Namespace, cones: np.ndarray, best: dict[str, dict[str, object]], tools: list[str]
) -> None:
    """The table (time, peak RSS, ratio) and the accuracy against π r² h / 3, as JSON and text."""
    exact = math.pi * cones[:, 2] ** 2 * cones[:, 3] / 3
    net = np.array(best["ours"]["net"], dtype=float)  # type: ignore[arg-type]
    error = np.abs(net - exact) / exact
    ours = float(best["ours"]["seconds"])  # type: ignore[arg-type]
    rows = [
        [
            tool,
            float(best[tool]["seconds"]),
            float(best[tool]["peak_rss_mib"]),
            ratio(float(best[tool]["seconds"]) / ours),
        ]  # type: ignore[arg-type]
        for tool in tools
    ]
    title = f"{args.count} polygons on a {args.size}² float32 DSM (0.1 m, DEFLATE), best of {args.passes}"
    figures = {
        "seconds": {tool: float(best[tool]["seconds"]) for tool in tools},  # type: ignore[arg-type]
        "peak_rss_mib": {tool: float(best[tool]["peak_rss_mib"]) for tool in tools},  # type: ignore[arg-type]
        "median_relative_error": float(np.median(error)),
        "max_relative_error": float(error.max()),
        "failed": best["ours"]["failed"],
    }
    notes = [
        "ours writes the cut/fill COG (with overviews), legend, GeoPackage, CSV, JSON and HTML; "
        "ours:figures measures only; exactextract computes sum and count of the DSM per polygon (no base)",
        f"ours against the cones' π r² h / 3: median |error| {np.median(error):.2e}, max {error.max():.2e}",
    ]
    write_result(
        args.json,
        figures=figures,
        tables=[table(title, ["contender", "seconds", "peak RSS MiB", "its time / ours"], rows)],
        notes=notes,
    )
    if args.json is not None:
        for row in rows:
            print(f"  {row[0]:14s} {row[1]:7.2f} s  peak RSS {row[2]:6.0f} MiB  its time / ours {row[3]}")
        print("  " + notes[1])


if __name__ == "__main__":
    main()
