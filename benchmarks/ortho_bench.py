"""Orthophoto benchmark: 20k x 20k RGB GeoTIFF in EPSG:32632 -> EPSG:25832 JPEG COG.

Side by side in one run (issue 3, "Speed"):
  * GDAL CLI chain (Debian gdal-bin): ``gdalwarp -multi -wo NUM_THREADS=ALL_CPUS -t_srs EPSG:25832``
    then ``gdal_translate -of COG -co COMPRESS=JPEG -co QUALITY=85 -co NUM_THREADS=ALL_CPUS``;
  * ``pipeline.rasters.reproject.reproject_to_cog`` with PROJ's default operation (identity shortcut:
    the null datum step moves no pixel by more than 0.01 px, so the raster is relabelled);
  * ``reproject_to_cog`` forced to warp (``identity_tolerance_px=0``).
Each is run in a child process under ``/usr/bin/time`` (wall time, peak RSS); runs are
interleaved; the median of ``--runs`` is reported with ratios to the GDAL chain.

    .venv/bin/python benchmarks/ortho_bench.py [--size 20000] [--runs 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, WORK, add_json_option, exit_on_sigterm, ratio, table, write_result  # noqa: E402

sys.path.insert(0, str(REPO))
LABELS = {"gdal": "GDAL chain (gdalwarp -multi, then gdal_translate -of COG)",
          "identity": "ours, default (`reproject_to_cog`)", "warp": "ours, forced warp"}  # fmt: skip
PY = sys.executable
QUALITY = "85"

OURS = """
import sys
from pathlib import Path
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog
from pipeline.models import ProductKind
config = ReprojectConfig(kind=ProductKind.ORTHOPHOTO, identity_tolerance_px=float(sys.argv[3]))
p = reproject_to_cog(Path(sys.argv[1]), Path(sys.argv[2]), config)
print(getattr(p.georef, "warp", None), "|", p.transformation, file=sys.stderr)
"""


def prepare(size: int) -> Path:
    """The EPSG:32632 input (made once, reused)."""
    base = WORK / f"r{size // 1000}k.tif"
    relabelled = WORK / f"r{size // 1000}k_32632.tif"
    WORK.mkdir(parents=True, exist_ok=True)
    if not base.exists():
        subprocess.run([PY, "/work/shared/tools/make_raster.py", str(size), str(base)], check=True)
    if not relabelled.exists():
        subprocess.run(["cp", "--reflink=auto", str(base), str(relabelled)], check=True)
        with rasterio.open(relabelled, "r+") as ds:
            ds.crs = "EPSG:32632"  # same coordinates; the ~1 m datum difference is irrelevant for timing
    return relabelled


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of a child process, from GNU time."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True, text=True, cwd=REPO, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{done.stderr}")
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("TIME ")][-1]
    _, wall, rss = line.split()
    return float(wall), int(rss) // 1024


def gdal_chain(src: Path, out: Path) -> tuple[float, int]:
    warped = WORK / "gdal_warped.tif"
    w1, r1 = timed(["gdalwarp", "-q", "-overwrite", "-multi", "-wo", "NUM_THREADS=ALL_CPUS",
                    "-t_srs", "EPSG:25832", "-r", "bilinear", str(src), str(warped)])  # fmt: skip
    w2, r2 = timed(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=JPEG", "-co", f"QUALITY={QUALITY}",
                    "-co", "NUM_THREADS=ALL_CPUS", str(warped), str(out)])  # fmt: skip
    warped.unlink()
    return w1 + w2, max(r1, r2)


def ours(src: Path, out: Path, tolerance: float) -> tuple[float, int]:
    return timed([PY, "-c", OURS, str(src), str(out), str(tolerance)])


def compare(a: Path, b: Path) -> str:
    """Mean |difference| of a 2048^2 full-resolution window and of the 1/8 overview."""
    with rasterio.open(a) as x, rasterio.open(b) as y:
        win = Window(x.width // 2 - 1024, x.height // 2 - 1024, 2048, 2048)
        full = np.abs(x.read(window=win).astype(int) - y.read(window=win).astype(int)).mean()
        shape = (x.count, x.height // 8, x.width // 8)
        ovr = np.abs(x.read(out_shape=shape).astype(int) - y.read(out_shape=shape).astype(int)).mean()
        same_grid = x.transform.almost_equals(y.transform, precision=1e-6) and x.shape == y.shape
    return f"same grid: {same_grid}; mean |diff| full-res {full:.2f} DN, 1/8 overview {ovr:.2f} DN"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    src = prepare(args.size)
    outs = {
        "gdal": WORK / "gdal_cog.tif",
        "identity": WORK / "ours_identity.tif",
        "warp": WORK / "ours_warp.tif",
    }
    runs: dict[str, list[tuple[float, int]]] = {k: [] for k in outs}
    for i in range(args.runs):
        runs["gdal"].append(gdal_chain(src, outs["gdal"]))
        runs["identity"].append(ours(src, outs["identity"], 0.01))
        runs["warp"].append(ours(src, outs["warp"], 0.0))
        print(
            f"run {i + 1}: " + ", ".join(f"{k} {v[-1][0]:.1f} s {v[-1][1]} MB" for k, v in runs.items()),
            flush=True,
        )
    from pipeline.rasters.cog import validate_cog

    base = statistics.median(w for w, _ in runs["gdal"])
    print(f"\n| variant | wall s (median of {args.runs}) | runs | peak RSS MB (max) | ratio to GDAL chain |")
    print("|---|---|---|---|---|")
    for name, values in runs.items():
        walls = [w for w, _ in values]
        med = statistics.median(walls)
        print(f"| {name} | {med:.1f} | {', '.join(f'{w:.1f}' for w in walls)} | {max(r for _, r in values)} "
              f"| {med / base:.2f} |")  # fmt: skip
    for name, path in outs.items():
        print(f"{name}: {path.stat().st_size / 1e6:.1f} MB, COG valid: {validate_cog(path).valid}")
    same = {name: compare(outs[name], outs["gdal"]) for name in ("identity", "warp")}
    for name, text in same.items():
        print(f"{name} vs gdal:", text)
    rows = []
    for name, values in runs.items():
        walls = [w for w, _ in values]
        rows.append([LABELS[name], statistics.median(walls), ", ".join(f"{w:.1f}" for w in walls),
                     f"**{ratio(statistics.median(walls) / base)}**", f"{max(r for _, r in values)} MB",
                     f"{outs[name].stat().st_size / 1e6:.1f} MB, COG valid {validate_cog(outs[name]).valid}"])
    write_result(
        args.json,
        figures={"runs": runs, "pixels_vs_gdal": same},
        tables=[table(f"{args.size}² RGB EPSG:32632 → EPSG:25832 JPEG COG, {args.runs} interleaved rounds",
                      ["variant", "wall s (median)", "rounds", "ratio to GDAL chain", "peak RSS", "output"],
                      rows)],
        notes=[f"{name} vs GDAL chain: {text}" for name, text in same.items()],
    )  # fmt: skip


if __name__ == "__main__":
    main()
