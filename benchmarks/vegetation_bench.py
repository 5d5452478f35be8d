"""Vegetation index and change detection on two 20k × 20k orthophotos, in windows (issue 13, "Speed").

Inputs (made once into ``benchmarks/_work/vegetation/``, git-ignored):

* BEFORE: ``make_raster.py 20000`` — 8-bit RGB GeoTIFF, EPSG:25832, 0.05 m (1.26 GB, tiled, uncompressed);
* AFTER: the same pixels with its georeference moved so that its content lies 6.4 px west and 3.7 px
  south of BEFORE's (a sub-pixel shift that needs no resampling to make), 10 % brighter, and 20
  squares of 40 m (800 px) turned to bare soil (a planted change of 32 000 m²).

Side by side, each in a child process under ``/usr/bin/time`` (wall time, peak RSS), interleaved rounds:

* ours: ``pipeline.vegetation.vegetation_indices`` (ExG on chromatic coordinates → float32 COG);
* plain rasterio + numpy, the same ExG and the same COG encoding (DEFLATE level 1, floating-point predictor,
  GDAL's COG driver): (a) the whole raster at once, as a short script would do it; (b) block by block
  (``block_windows``) into a tiled GeoTIFF, then the COG;
* ours: ``pipeline.change.detect_change`` BEFORE → AFTER (co-registration, change map COG, change areas,
  report). No peer: nothing else co-registers and compares; its memory is the point (≤ 1 GiB).

The ExG COGs of ours and the plain scripts are compared pixel by pixel on a full-resolution window.

    .venv/bin/python benchmarks/vegetation_bench.py [--size 20000] [--runs 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, WORK, add_json_option, exit_on_sigterm, ratio, table, write_result  # noqa: E402

PY = sys.executable
HERE = WORK / "vegetation"
SHIFT_PX = (-6.4, 3.7)  # where AFTER's content lies relative to BEFORE's (columns east, rows south)
GAIN = 1.1
SQUARES, SQUARE_PX = 20, 800

OURS_INDEX = """
import sys
from pathlib import Path
from pipeline.vegetation import VegetationConfig, vegetation_indices
r = vegetation_indices(Path(sys.argv[1]), VegetationConfig(out_dir=Path(sys.argv[2]), indices=("ExG",)))
print(r.products[0].path, file=sys.stderr)
"""

OURS_CHANGE = """
import sys
from pathlib import Path
from pipeline.change import ChangeConfig, detect_change
r = detect_change(Path(sys.argv[1]), Path(sys.argv[2]), ChangeConfig(out_dir=Path(sys.argv[3])))
print("RESULT", r.alignment.dx_px, r.alignment.dy_px, r.alignment.model, len(r.areas), r.changed_m2,
      r.overlap_m2, file=sys.stderr)
"""

# What a short script does: everything in memory.
PLAIN_WHOLE = """
import sys
import numpy as np
import rasterio, rasterio.shutil
src_path, tif, cog = sys.argv[1:4]
with rasterio.open(src_path) as src:
    r, g, b = (src.read(i).astype("float32") for i in (1, 2, 3))
    profile = src.profile
total = r + g + b
with np.errstate(invalid="ignore", divide="ignore"):
    exg = (2 * g - r - b) / total
exg[~np.isfinite(exg)] = -9999
profile.update(count=1, dtype="float32", nodata=-9999, tiled=True, blockxsize=512, blockysize=512,
               compress="deflate", zlevel=1, predictor=3, photometric="minisblack", BIGTIFF="YES")
with rasterio.open(tif, "w", **profile) as dst:
    dst.write(exg, 1)
rasterio.shutil.copy(tif, cog, driver="COG", COMPRESS="DEFLATE", LEVEL="1", PREDICTOR="YES", BLOCKSIZE="512",
                     OVERVIEW_RESAMPLING="AVERAGE", NUM_THREADS="ALL_CPUS", BIGTIFF="IF_SAFER")
"""

# The same, block by block.
PLAIN_BLOCKS = """
import sys
import numpy as np
import rasterio, rasterio.shutil
src_path, tif, cog = sys.argv[1:4]
with rasterio.open(src_path) as src:
    profile = src.profile
    profile.update(count=1, dtype="float32", nodata=-9999, tiled=True, blockxsize=512, blockysize=512,
                   compress="deflate", zlevel=1, predictor=3, photometric="minisblack", BIGTIFF="YES")
    with rasterio.open(tif, "w", **profile) as dst:
        for _, window in src.block_windows(1):
            r, g, b = src.read((1, 2, 3), window=window).astype("float32")
            total = r + g + b
            with np.errstate(invalid="ignore", divide="ignore"):
                exg = (2 * g - r - b) / total
            exg[~np.isfinite(exg)] = -9999
            dst.write(exg, 1, window=window)
rasterio.shutil.copy(tif, cog, driver="COG", COMPRESS="DEFLATE", LEVEL="1", PREDICTOR="YES", BLOCKSIZE="512",
                     OVERVIEW_RESAMPLING="AVERAGE", NUM_THREADS="ALL_CPUS", BIGTIFF="IF_SAFER")
"""


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB) and stderr of a child process, from GNU time."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True, text=True, cwd=REPO
    )
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed:\n{done.stderr}")
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("TIME ")][-1]
    _, wall, rss = line.split()
    return float(wall), int(rss) // 1024, done.stderr


def squares(size: int) -> list[tuple[int, int]]:
    """Top-left corners of the planted squares (fixed seed, inside the raster)."""
    rng = np.random.default_rng(13)
    return [(int(x), int(y)) for x, y in rng.integers(1000, size - 1000 - SQUARE_PX, (SQUARES, 2))]


def prepare(size: int) -> tuple[Path, Path]:
    """BEFORE (make_raster.py) and AFTER (moved georeference, brighter, planted squares); made once."""
    HERE.mkdir(parents=True, exist_ok=True)
    before, after = HERE / f"before_{size}.tif", HERE / f"after_{size}.tif"
    if not before.exists():
        subprocess.run([PY, "/work/shared/tools/make_raster.py", str(size), str(before)], check=True)
    if not after.exists():
        corners = squares(size)
        with rasterio.open(before) as src:
            t = src.transform
            moved = t * t.translation(*SHIFT_PX)  # pixel (c, r) now lies where BEFORE has (c + dx, r + dy)
            profile = {**src.profile, "transform": moved}
            with rasterio.open(after, "w", **profile) as dst:
                for _, window in src.block_windows(1):
                    data = src.read(window=window).astype(np.float32) * GAIN
                    _plant(data, window, corners)
                    dst.write(np.clip(data, 0, 255).astype(np.uint8), window=window)
    return before, after


def _plant(data: np.ndarray, window: Window, corners: list[tuple[int, int]]) -> None:
    """Bare soil (150, 120, 85) × GAIN, textured by the block's own brightness, inside the squares."""
    c0, r0, w, h = int(window.col_off), int(window.row_off), int(window.width), int(window.height)
    for x, y in corners:
        cs, ce = max(x, c0), min(x + SQUARE_PX, c0 + w)
        rs, re = max(y, r0), min(y + SQUARE_PX, r0 + h)
        if cs < ce and rs < re:
            part = data[:, rs - r0 : re - r0, cs - c0 : ce - c0]
            light = part.mean(axis=0, keepdims=True) / max(float(part.mean()), 1.0)
            part[:] = np.array([150, 120, 85], np.float32)[:, None, None] * GAIN * light


def compare(a: Path, b: Path) -> float:
    """Largest |difference| of two ExG COGs over a 4096² full-resolution window (nodata excluded)."""
    with rasterio.open(a) as x, rasterio.open(b) as y:
        win = Window(x.width // 2 - 2048, x.height // 2 - 2048, 4096, 4096)
        u, v = x.read(1, window=win), y.read(1, window=win)
    both = (u != -9999) & (v != -9999)
    assert (both == ((u != -9999) | (v != -9999))).all(), "nodata differs"
    return float(np.abs(u[both] - v[both]).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=2)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    before, after = prepare(args.size)
    out = HERE / "out"
    cogs = {"ours": out / "ours" / f"{before.stem}_exg.tif", "whole": out / "whole_cog.tif",
            "blocks": out / "blocks_cog.tif"}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    jobs = {
        "ours": [PY, "-c", OURS_INDEX, str(before), str(out / "ours")],
        "whole": [PY, "-c", PLAIN_WHOLE, str(before), str(out / "whole.tif"), str(cogs["whole"])],
        "blocks": [PY, "-c", PLAIN_BLOCKS, str(before), str(out / "blocks.tif"), str(cogs["blocks"])],
        "change": [PY, "-c", OURS_CHANGE, str(before), str(after), str(out / "change")],
    }
    runs: dict[str, list[tuple[float, int]]] = {k: [] for k in jobs}
    change_line = ""
    for i in range(args.runs):
        for name, cmd in jobs.items():
            wall, rss, err = timed(cmd)
            runs[name].append((wall, rss))
            if name == "change":
                change_line = [ln for ln in err.splitlines() if ln.startswith("RESULT")][-1]
        print(
            f"round {i + 1}: " + ", ".join(f"{k} {v[-1][0]:.1f} s {v[-1][1]} MB" for k, v in runs.items()),
            flush=True,
        )
    _report(args, runs, cogs, change_line)


def _report(args: argparse.Namespace, runs: dict[str, list[tuple[float, int]]], cogs: dict[str, Path],
            change_line: str) -> None:  # fmt: skip
    from pipeline.rasters.cog import validate_cog

    labels = {"ours": "ours: `vegetation_indices` (windowed)",
              "whole": "plain rasterio + numpy, whole raster",
              "blocks": "plain rasterio + numpy, block by block"}  # fmt: skip
    base = statistics.median(w for w, _ in runs["whole"])
    rows = []
    for name in ("ours", "whole", "blocks"):
        walls = [w for w, _ in runs[name]]
        med = statistics.median(walls)
        rows.append([labels[name], f"{med:.1f}", ", ".join(f"{w:.1f}" for w in walls), ratio(med / base),
                     f"{max(r for _, r in runs[name])} MB", f"{cogs[name].stat().st_size / 1e6:.0f} MB",
                     str(validate_cog(cogs[name]).valid)])  # fmt: skip
    diffs = {name: compare(cogs["ours"], cogs[name]) for name in ("whole", "blocks")}
    _, dx, dy, model, n_areas, changed, overlap = change_line.split()
    planted = SQUARES * (SQUARE_PX * 0.05) ** 2
    walls = [w for w, _ in runs["change"]]
    change_rows = [[
        "ours: `detect_change` (co-registration + map COG + areas + report)",
        f"{statistics.median(walls):.1f}", ", ".join(f"{w:.1f}" for w in walls),
        f"{max(r for _, r in runs['change'])} MB",
        f"{float(dx):+.3f} / {float(dy):+.3f} px ({model}; truth {SHIFT_PX[0]:+.1f} / "
        f"{SHIFT_PX[1]:+.1f})",
        f"{n_areas} areas, {float(changed):.0f} m² (planted {planted:.0f} m²) of "
        f"{float(overlap) / 1e6:.2f} km²",
    ]]  # fmt: skip
    size = f"{args.size}²"
    write_result(
        args.json,
        figures={"runs": runs, "max_abs_diff_vs_ours": diffs, "change": change_line},
        tables=[
            table(f"ExG of a {size} RGB orthophoto → float32 COG, {args.runs} interleaved rounds",
                  ["implementation", "wall s (median)", "rounds", "ratio to whole-raster script", "peak RSS",
                   "COG", "COG valid"], rows),
            table(f"Change between two {size} orthophotos (AFTER moved {SHIFT_PX} px, 10 % brighter, "
                  f"{SQUARES} squares of {SQUARE_PX} px planted)",
                  ["implementation", "wall s (median)", "rounds", "peak RSS", "co-registration", "found"],
                  change_rows),
        ],
        notes=[f"ExG of ours vs {k}: largest |difference| {v:.2e} over a 4096² window"
               for k, v in diffs.items()],
    )  # fmt: skip
    print(json.dumps({"diffs": diffs, "change": change_line}))


if __name__ == "__main__":
    main()
