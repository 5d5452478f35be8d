"""Orthophoto benchmark: an RGBA orthophoto delivered in a UTM CRS -> EPSG:25832 JPEG COG.

Side by side in one run (issue 20, "Speed"):
  * GDAL CLI chain (Debian gdal-bin): ``gdalwarp -multi -wo NUM_THREADS=ALL_CPUS -t_srs EPSG:25832
    -r bilinear`` then ``gdal_translate -of COG -co COMPRESS=JPEG -co QUALITY=85 -co NUM_THREADS=ALL_CPUS``;
  * ``dronegis process FLIGHT --from rasters`` on a workspace where the orthophoto was ingested (untimed),
    i.e. the whole CLI with its start-up, the rasters sub-stage and ``reproject_to_cog``;
  * with ``--src-crs EPSG:32632`` also ``reproject_to_cog`` alone, default (the identity shortcut: the
    null datum step moves no pixel by more than 0.01 px, so the raster is relabelled) and forced to warp.
The input: ``make_raster.py SIZE`` (EPSG:25832, 5 cm) relabelled EPSG:32632, or for any other CRS
warped there once with ``gdalwarp -r bilinear -dstalpha`` (an RGBA orthophoto as ODM delivers it).
Each contender runs in a child process under ``/usr/bin/time`` (wall time, peak RSS); rounds are
interleaved; the median of ``--runs`` is reported with ratios to the GDAL chain, and the pixels of
each output are compared with the GDAL chain's (same grid, mean |difference|).

    .venv/bin/python benchmarks/ortho_bench.py [--size 8000] [--src-crs EPSG:32633] [--runs 3] [--json OUT]
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

sys.path.insert(0, str(REPO))
LABELS = {"gdal": "GDAL chain (gdalwarp -multi, then gdal_translate -of COG)",
          "process": "ours, `dronegis process FLIGHT --from rasters`",
          "identity": "ours, `reproject_to_cog` default (identity relabel)",
          "warp": "ours, `reproject_to_cog` forced warp"}  # fmt: skip
PY = sys.executable
DRONEGIS = str(Path(sys.executable).with_name("dronegis"))
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


def prepare(size: int, crs: str) -> Path:
    """The input in ``crs`` (made once, reused): relabelled for EPSG:32632, else warped there (RGBA)."""
    base = WORK / f"r{size // 1000}k.tif"
    code = crs.split(":")[-1]
    delivered = WORK / f"r{size // 1000}k_{code}.tif"
    WORK.mkdir(parents=True, exist_ok=True)
    if not base.exists():
        subprocess.run([PY, "/work/shared/tools/make_raster.py", str(size), str(base)], check=True)
    if delivered.exists():
        return delivered
    if code == "32632":
        subprocess.run(["cp", "--reflink=auto", str(base), str(delivered)], check=True)
        with rasterio.open(delivered, "r+") as ds:
            ds.crs = "EPSG:32632"  # same coordinates; the ~1 m datum difference is irrelevant for timing
    else:
        subprocess.run(["gdalwarp", "-q", "-t_srs", crs, "-r", "bilinear", "-dstalpha", "-co", "TILED=YES",
                        "-co", "BIGTIFF=IF_SAFER", str(base), str(delivered)], check=True)  # fmt: skip
    return delivered


def ingested(src: Path) -> tuple[Path, str]:
    """A workspace holding ``src`` as a flight's delivered orthophoto (ingested once, untimed)."""
    workspace, folder = WORK / f"ortho_ws_{src.stem}", WORK / f"ortho_flight_{src.stem}"
    if workspace.exists():
        subprocess.run(["rm", "-rf", str(workspace)], check=True)
    folder.mkdir(parents=True, exist_ok=True)
    delivered = folder / "orthophoto.tif"
    if not delivered.exists():
        delivered.hardlink_to(src)
    done = subprocess.run([DRONEGIS, "ingest", "-w", str(workspace), "--json", str(folder)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return workspace, str(json.loads(done.stdout)["flight_id"])


def processed(workspace: Path, flight: str) -> tuple[float, int]:
    """``dronegis process --from rasters`` timed; the COG is products/<flight>/rasters/orthophoto.tif."""
    return timed([DRONEGIS, "process", "-w", str(workspace), "--from", "rasters", flight])


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
        footprint = (x.dataset_mask() > 0) == (y.dataset_mask() > 0)
    return (f"same grid: {same_grid}; footprint (mask) agrees on {100 * footprint.mean():.3f} % of pixels; "
            f"mean |diff| full-res {full:.2f} DN, 1/8 overview {ovr:.2f} DN")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--src-crs", default="EPSG:32633", help="CRS the orthophoto is delivered in")
    parser.add_argument("--runs", type=int, default=3)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    src = prepare(args.size, args.src_crs)
    workspace, flight = ingested(src)
    outs = {
        "gdal": WORK / "gdal_cog.tif",
        "process": workspace / "products" / flight / "rasters" / "orthophoto.tif",
    }
    if args.src_crs == "EPSG:32632":
        outs |= {"identity": WORK / "ours_identity.tif", "warp": WORK / "ours_warp.tif"}
    runs: dict[str, list[tuple[float, int]]] = {k: [] for k in outs}
    for i in range(args.runs):
        runs["gdal"].append(gdal_chain(src, outs["gdal"]))
        runs["process"].append(processed(workspace, flight))
        if "identity" in outs:
            runs["identity"].append(ours(src, outs["identity"], 0.01))
            runs["warp"].append(ours(src, outs["warp"], 0.0))
        print(
            f"run {i + 1}: " + ", ".join(f"{k} {v[-1][0]:.1f} s {v[-1][1]} MB" for k, v in runs.items()),
            flush=True,
        )
    report(args, src, outs, runs)


def report(
    args: argparse.Namespace, src: Path, outs: dict[str, Path], runs: dict[str, list[tuple[float, int]]]
) -> None:
    """Print and write the medians, ratios, peak RSS, COG validity and the pixels against the GDAL chain."""
    from pipeline.rasters.cog import validate_cog

    base = statistics.median(w for w, _ in runs["gdal"])
    same = {name: compare(outs[name], outs["gdal"]) for name in outs if name != "gdal"}
    rows = []
    for name, values in runs.items():
        walls = [w for w, _ in values]
        med = statistics.median(walls)
        rows.append(
            [
                LABELS[name],
                round(med, 1),
                ", ".join(f"{w:.1f}" for w in walls),
                f"**{ratio(med / base)}**",
                f"{max(r for _, r in values)} MB",
                f"{outs[name].stat().st_size / 1e6:.1f} MB, COG valid {validate_cog(outs[name]).valid}",
            ]
        )
        print(" | ".join(str(c) for c in rows[-1]))
    with rasterio.open(src) as ds:
        shape = f"{ds.width}×{ds.height} {ds.count}-band"
    write_result(
        args.json,
        figures={"runs": runs, "pixels_vs_gdal": same, "input": str(src), "src_crs": args.src_crs},
        tables=[table(f"{shape} orthophoto in {args.src_crs} → EPSG:25832 JPEG COG, {args.runs} interleaved "
                      "rounds (ratio = our wall time / the GDAL chain's)",
                      ["variant", "wall s (median)", "rounds", "ratio to GDAL chain", "peak RSS", "output"],
                      rows)],
        notes=[f"{name} vs GDAL chain: {text}" for name, text in same.items()],
    )  # fmt: skip


if __name__ == "__main__":
    main()
