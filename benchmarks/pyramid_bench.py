"""Static pyramid: dronegis ``build_pyramid`` vs ``gdal2tiles.py --processes=2`` for the same levels.

Same COG, WebMercatorQuad, same zoom range, PNG tiles, nearest resampling on both
sides (gdal2tiles ``-r near``), 2 processes each, run one after the other in one go.

    .venv/bin/python benchmarks/pyramid_bench.py [--cog benchmarks/_work/r10k_jpeg_cog.tif] [--zooms 14-20]

Also builds the View1 pyramid for the same depth (gdal2tiles has no View1 profile in
GDAL 3.6, so that one is reported without a peer).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import time
from pathlib import Path

from webgis_export.models import Style
from webgis_export.pyramid import build_pyramid, tiles_covering

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "_work"


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (load-independent cost)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def count_files(root: Path, pattern: str) -> int:
    return sum(1 for _ in root.rglob(pattern))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cog", type=Path, default=WORK / "r10k_jpeg_cog.tif")
    parser.add_argument("--zooms", default="14-20")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    low, high = (int(v) for v in args.zooms.split("-"))
    out = WORK / "pyramid_bench"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    figures: dict[str, dict[str, float]] = {}

    t0 = time.perf_counter()
    result = build_pyramid(
        args.cog,
        out / "dronegis" / "WebMercatorQuad",
        Style(),
        "WebMercatorQuad",
        fmt="png",
        zooms=(low, high),
        processes=args.processes,
    )
    wall = time.perf_counter() - t0
    figures["dronegis WebMercatorQuad"] = {
        "seconds": wall,
        "cpu_seconds": result.cpu_seconds,
        "written": result.written,
        "empty": result.skipped,
        "tiles_per_s": result.written / wall,
    }
    print(json.dumps(figures["dronegis WebMercatorQuad"]), flush=True)

    cmd = [
        "gdal2tiles.py",
        f"--processes={args.processes}",
        "-z",
        f"{low}-{high}",
        "--xyz",
        "-r",
        "near",
        "-w",
        "none",
        "-q",
        str(args.cog),
        str(out / "gdal2tiles"),
    ]
    t0, c0 = time.perf_counter(), cpu_seconds()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    written = count_files(out / "gdal2tiles", "*.png")
    figures["gdal2tiles WebMercatorQuad"] = {
        "seconds": wall,
        "cpu_seconds": cpu_seconds() - c0,
        "written": written,
        "tiles_per_s": written / wall,
    }
    print(json.dumps(figures["gdal2tiles WebMercatorQuad"]), flush=True)

    from webgis_export.tms import zoom_for_gsd

    v_high = zoom_for_gsd("View1", 0.05)
    v_low = v_high - (high - low)
    t0 = time.perf_counter()
    result = build_pyramid(
        args.cog,
        out / "dronegis" / "View1",
        Style(),
        "View1",
        fmt="png",
        zooms=(v_low, v_high),
        processes=args.processes,
    )
    wall = time.perf_counter() - t0
    figures["dronegis View1"] = {
        "seconds": wall,
        "written": result.written,
        "empty": result.skipped,
        "tiles_per_s": result.written / wall,
        "zooms": f"{v_low}-{v_high}",
    }  # type: ignore[dict-item]
    print(json.dumps(figures["dronegis View1"]), flush=True)
    ratio = figures["gdal2tiles WebMercatorQuad"]["seconds"] / figures["dronegis WebMercatorQuad"]["seconds"]
    print(
        json.dumps(
            {
                "cog": str(args.cog),
                "zooms": args.zooms,
                "command": " ".join(cmd),
                "candidate_tiles": len(tiles_covering(args.cog, "WebMercatorQuad", low, high)),
                "speedup_vs_gdal2tiles": round(ratio, 2),
                "cpu_ratio_gdal2tiles_over_dronegis": round(
                    figures["gdal2tiles WebMercatorQuad"]["cpu_seconds"]
                    / figures["dronegis WebMercatorQuad"]["cpu_seconds"],
                    2,
                ),
                "figures": figures,
            },
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
