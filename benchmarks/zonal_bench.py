"""Zonal statistics benchmark: dronegis (pipeline.zonal) versus exactextract, in one run.

10 000 synthetic building footprints (rotated rectangles and L shapes, 6–30 m) over a
20 000 × 20 000 float32 °C raster (EPSG:25832, 0.25 m, tiled 512, DEFLATE — the shape of
our thermal mosaics), both made here in benchmarks/_work (git-ignored). Each tool runs in
its own child process (so peak RSS is its own) on the same files and computes the same
statistics: count, mean, median, p10, p90, min, max, std. "ours" decodes the DEFLATE blocks
on all cores (GDAL ``NUM_THREADS``, the default of ``ZonalSettings``); "ours:1-thread" on one.
exactextract runs with its defaults. Each child reads the footprint GeoPackage itself (through
geopandas/pyogrio: exactextract's own file reader needs GDAL's ``osgeo`` or fiona, neither installed).
Best of ``--passes`` interleaved runs.

Usage::

    .venv/bin/python benchmarks/zonal_bench.py [--size 20000] [--count 10000] [--passes 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORK = REPO / "benchmarks" / "_work"
RES = 0.25
X0, Y0 = 560000.0, 6220000.0
EE_OPS = ["count", "mean", "median", "quantile(q=0.1)", "quantile(q=0.9)", "min", "max", "stdev"]


def make_raster(path: Path, size: int) -> None:
    """A smooth °C field (roofs 0–15 °C) with sensor noise, written strip by strip."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(X0, Y0, RES, RES),
        "nodata": float("nan"),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "DEFLATE",
        "bigtiff": "YES",
    }
    rng = np.random.default_rng(1)
    cols = np.arange(size, dtype=np.float32)
    tmp = path.with_suffix(".part.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        for row0 in range(0, size, 512):
            rows = np.arange(row0, min(row0 + 512, size), dtype=np.float32)[:, None]
            field = (
                6 + 4 * np.sin(cols / 700.0) * np.cos(rows / 900.0) + rng.normal(0, 0.4, (rows.size, size))
            )
            dst.write(field.astype("float32"), 1, window=Window(0, row0, size, rows.size))
    tmp.rename(path)


def make_footprints(path: Path, size: int, count: int) -> None:
    """``count`` rotated rectangles and L shapes scattered over the raster (a few cross its edge)."""
    import geopandas as gpd
    import shapely
    from shapely import affinity

    rng = np.random.default_rng(2)
    extent = size * RES
    polys = []
    for i in range(count):
        cx, cy = X0 + rng.uniform(-5, extent + 5), Y0 - rng.uniform(-5, extent + 5)
        w, h = rng.uniform(6, 30, 2)
        shape = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if i % 3 == 0:
            shape = shape.difference(shapely.box(cx, cy, cx + w, cy + h))  # an L
        polys.append(affinity.rotate(shape, rng.uniform(0, 90), origin="centroid"))
    frame = gpd.GeoDataFrame(
        {"bygning_id": [f"b{i:05d}" for i in range(count)]}, geometry=polys, crs="EPSG:25832"
    )
    frame.to_file(path, driver="GPKG", layer="bygning")


def run_ours(raster: Path, footprints: Path, threads: str) -> dict[str, object]:
    """dronegis: read the layer (reprojected to the raster's CRS), zonal statistics."""
    from pipeline.zonal import ZonalSettings, read_polygons, zonal_stats

    start = time.perf_counter()
    layer = read_polygons(footprints, crs="EPSG:25832")
    stats = zonal_stats(raster, [f.geometry for f in layer.features], ZonalSettings(read_threads=threads))
    seconds = time.perf_counter() - start
    means = [s.mean if s.mean is not None else float("nan") for s in stats]
    return {"seconds": seconds, "means": means, "n": len(stats)}


def run_exactextract(raster: Path, footprints: Path, strategy: str) -> dict[str, object]:
    """exactextract: the same statistics from the same files."""
    import geopandas as gpd
    from exactextract import exact_extract

    start = time.perf_counter()  # its file reader needs GDAL's osgeo or fiona; both read through pyogrio here
    frame = exact_extract(str(raster), gpd.read_file(footprints), EE_OPS, output="pandas", strategy=strategy)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "means": frame["mean"].astype(float).tolist(), "n": len(frame)}


def child(tool: str, raster: Path, footprints: Path) -> None:
    """Run one tool and print its figures (with this process's peak RSS) as JSON."""
    if tool.startswith("ours"):
        result = run_ours(raster, footprints, "1" if tool == "ours:1-thread" else "ALL_CPUS")
    else:
        result = run_exactextract(raster, footprints, tool.split(":", 1)[1])
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def spawn(tool: str, raster: Path, footprints: Path) -> dict[str, object]:
    """Run one tool in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", tool, str(raster), str(footprints)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Make the inputs if missing, run both tools, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "RASTER", "FOOTPRINTS"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    raster = WORK / f"zonal_celsius_{args.size}.tif"
    footprints = WORK / f"zonal_footprints_{args.size}_{args.count}.gpkg"
    if not raster.exists():
        started = time.perf_counter()
        make_raster(raster, args.size)
        print(f"made {raster.name} in {time.perf_counter() - started:.0f} s")
    if not footprints.exists():
        make_footprints(footprints, args.size, args.count)
    tools = ["ours", "ours:1-thread", "exactextract:feature-sequential", "exactextract:raster-sequential"]
    best: dict[str, dict[str, object]] = {}
    for _ in range(args.passes):
        for tool in tools:
            result = spawn(tool, raster, footprints)
            if tool not in best or float(result["seconds"]) < float(best[tool]["seconds"]):  # type: ignore[arg-type]
                best[tool] = result
    ours_means = np.array(best["ours"]["means"], dtype=float)  # type: ignore[arg-type]
    print(f"{args.count} footprints over {args.size}² float32 (best of {args.passes}):")
    for tool in tools:
        seconds = float(best[tool]["seconds"])  # type: ignore[arg-type]
        ratio = seconds / float(best["ours"]["seconds"])  # type: ignore[arg-type]
        means = np.array(best[tool]["means"], dtype=float)  # type: ignore[arg-type]
        both = np.isfinite(means) & np.isfinite(ours_means)
        diff = float(np.max(np.abs(means[both] - ours_means[both]))) if both.any() else float("nan")
        print(
            f"  {tool:34s} {seconds:7.2f} s  peak RSS {float(best[tool]['peak_rss_mib']):7.0f} MiB"  # type: ignore[arg-type]
            f"  its time / ours {ratio:5.2f}  max |mean − ours| {diff:.4f} K"
        )


if __name__ == "__main__":
    main()
