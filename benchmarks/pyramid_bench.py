"""Static pyramid: dronegis ``build_pyramid`` vs ``gdal2tiles.py --processes=2`` for the same levels.

Same COG, WebMercatorQuad, same zoom range, PNG tiles, nearest resampling on both
sides (gdal2tiles ``-r near``), 2 processes each, run one after the other in one go.

    .venv/bin/python benchmarks/pyramid_bench.py [--cog benchmarks/_work/r10k_jpeg_cog.tif] [--zooms 14-20]
        [--json OUT]

Also builds the View1 pyramid for the same depth (gdal2tiles has no View1 profile in
GDAL 3.6, so that one is reported without a peer).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from webgis_export.models import Style
from webgis_export.pyramid import build_pyramid, tiles_covering

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, add_json_option, exit_on_sigterm, ratio, table, write_result  # noqa: E402
from tiles_bench import ensure_cog  # noqa: E402


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
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    low, high = (int(v) for v in args.zooms.split("-"))
    ensure_cog(args.cog)
    out = WORK / "pyramid_bench"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    figures: dict[str, dict[str, Any]] = {}

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
    }
    print(json.dumps(figures["dronegis View1"]), flush=True)
    ours, peer, view1 = (figures[k] for k in ("dronegis WebMercatorQuad", "gdal2tiles WebMercatorQuad",
                                              "dronegis View1"))  # fmt: skip
    summary = {
        "cog": str(args.cog),
        "zooms": args.zooms,
        "command": " ".join(cmd),
        "candidate_tiles": len(tiles_covering(args.cog, "WebMercatorQuad", low, high)),
        "speedup_vs_gdal2tiles": peer["seconds"] / ours["seconds"],
        "cpu_ratio_gdal2tiles_over_dronegis": peer["cpu_seconds"] / ours["cpu_seconds"],
        "figures": figures,
    }
    print(json.dumps(summary, indent=1, default=str))
    rows = [
        [f"dronegis `build_pyramid`, {args.processes} processes", ours["seconds"], ours["cpu_seconds"],
         f"{ours['written']} (+{ours['empty']} empty skipped)", ours["tiles_per_s"]],
        [f"`gdal2tiles.py --processes={args.processes} -r near --xyz`", peer["seconds"], peer["cpu_seconds"],
         peer["written"], peer["tiles_per_s"]],
        ["**gdal2tiles / dronegis**", f"**{ratio(summary['speedup_vs_gdal2tiles'])} faster**",
         f"{ratio(summary['cpu_ratio_gdal2tiles_over_dronegis'])} less CPU", "", ""],
        [f"dronegis View1 z{view1['zooms']} (no peer: gdal2tiles 3.6 has no View1)", view1["seconds"], "",
         view1["written"], view1["tiles_per_s"]],
    ]  # fmt: skip
    write_result(
        args.json,
        figures=summary,
        tables=[table(f"Static pyramid, WebMercatorQuad z{args.zooms}, PNG, nearest, of {args.cog.name} "
                      "(target: ≥ 3× faster)", ["tool", "wall s", "CPU s", "tiles written", "tiles/s"],
                      rows)],
    )  # fmt: skip


if __name__ == "__main__":
    main()
