"""Thermal benchmark, side by side with the peer tools, in one run.

FLIR, per frame (ratio = peer time / our time), the peer being flirimageextractor's
classic ``process_image`` body + ``get_thermal_np`` (it runs exiftool three times per
image; 1.5.11's ``process_image`` downloads a DJI SDK first and fails offline):

1. ``dronegis thermal FILE...`` on ``--frames`` R-JPEGs (the nine FLIR samples cycled,
   distinct files), process start-up and the °C GeoTIFF writes included, against the
   peer on the same samples; also with ``--compress zstd``, and the start-up alone
   (``from dronegis.cli.main import cli; import dronegis.cli.thermal`` in a fresh process);
2. the process stage's thermal sub-stage (``pipeline.thermal.stage.thermal_stage`` on an
   ingested flight of ``--frames`` Zenmuse XT R frames — copies of one file with a few
   bytes appended after its end, so that ingest sees distinct files), with the default
   threads, with one thread and with ZSTD frames, against the peer on the same frame;
3. the conversion alone (read + °C in memory), as before;
4. the frame writer's compression, measured for the choice in ``pipeline.thermal.frames``:
   CPU per frame, size and exactness of each candidate on the nine samples.

DJI: our ``dronegis[dji]`` adapter against dji-thermal-cli's ``measure()`` and its
command line ``process`` (temp_c TIFFs). Passes alternate between the tools; the best
pass of each is reported.

    .venv/bin/python benchmarks/thermal_bench.py [--frames 200] [--peer-frames 18] [--passes 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, REPO, WORK, add_json_option, exit_on_sigterm, ratio, table, write_result  # noqa: E402

FLIR_RJPEGS = [
    "thermal_parser/images/FLIR.jpg",
    "thermal_parser/images/FLIR_AX8.jpg",
    "thermal_parser/images/FLIR_B60.jpg",
    "thermal_parser/images/FLIR_E40.jpg",
    "thermal_parser/images/FLIR_T640.jpg",
    "thermal_parser/images/DJI_XT2.jpg",
    "thermal_parser/images/DJI_XTR.jpg",
    "thermimage/inst/extdata/IR_2412.jpg",
    "metadata_extractor_images/jpg/FLIR iPhone device.jpg",
]
XTR = "thermal_parser/images/DJI_XTR.jpg"
HERE = WORK / "thermal"
CLI = [sys.executable, "-c", "from dronegis.cli.main import cli; cli()"]
# Our command runs as an installed package does, with its bytecode cached (here under
# benchmarks/_work, outside the tree): a shell with PYTHONDONTWRITEBYTECODE=1 (this
# machine's sessions) would otherwise compile the ~70 project modules it imports on every
# run, 0.05-0.1 CPU-s of start-up that no installation pays.
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "PYTHONPYCACHEPREFIX": str(WORK / "pycache")
}
COMPRESSIONS: dict[str, dict[str, Any]] = {
    "none (chosen)": {},
    "ZSTD 1 (`--compress zstd`; the default before)": {"compress": "zstd", "zstd_level": 1},
    "ZSTD 1 + floating-point predictor": {"compress": "zstd", "zstd_level": 1, "predictor": 3},
    "Deflate 6 + floating-point predictor (the first choice)": {"compress": "deflate", "predictor": 3},
    "LERC lossless": {"compress": "lerc", "max_z_error": 0},
    "LERC, max error 0.001 °C": {"compress": "lerc", "max_z_error": 0.001},
}


def ours_flir(path: Path) -> np.ndarray:
    """Read + °C in memory (the conversion alone)."""
    from flights.flir import read_flir
    from pipeline.thermal.radiometry import MeasurementParameters, raw_to_celsius

    image = read_flir(path)
    return raw_to_celsius(image.raw, MeasurementParameters.from_thermal(image.params))


def peer_flir(path: Path) -> object:
    """flirimageextractor's classic process_image body (<= 1.5.3), made of its own methods."""
    from flirimageextractor import FlirImageExtractor

    fie = FlirImageExtractor()
    fie.loadfile(str(path))
    if fie.get_image_type().upper().strip() == "TIFF":
        fie.fix_endian = False
    fie.thermal_image_np = fie.extract_thermal_image()
    return fie.get_thermal_np()


def per_item(fn: Callable[[Path], object], items: list[Path]) -> float:
    """Seconds per item of ``fn`` over ``items``."""
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def cpu_seconds() -> float:
    """CPU seconds so far of this process (all threads) and of its waited-for children."""
    now = os.times()
    return now.user + now.system + now.children_user + now.children_system


def cpu_per_item(fn: Callable[[Path], object], items: list[Path]) -> float:
    """CPU seconds per item of ``fn`` over ``items``, its child processes (exiftool) included."""
    start = cpu_seconds()
    for item in items:
        fn(item)
    return (cpu_seconds() - start) / len(items)


def cli_frames(n: int) -> list[Path]:
    """``n`` distinct files cycling the nine FLIR samples (made once)."""
    folder = HERE / f"cli_{n}"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, name in enumerate(islice(cycle(FLIR_RJPEGS), n)):
        path = folder / f"{i:04d}_{Path(name).name.replace(' ', '_')}"
        if not path.exists():
            shutil.copyfile(DATA / name, path)
        files.append(path)
    return files


def xtr_flight(n: int) -> tuple[Any, Any]:
    """A workspace with a flight of ``n`` distinct XT R frames, ingested once by ``dronegis ingest``."""
    from core.workspace import Workspace
    from flights.ingest import load_flight

    ws = Workspace.at(HERE / f"ws_{n}")
    flight_id = f"xtr{n}"
    if not ws.flight_json(flight_id).exists():
        source = HERE / f"xtr_{n}"
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        data = (DATA / XTR).read_bytes()
        for i in range(n):
            (source / f"{i:04d}_DJI_XTR.jpg").write_bytes(data + f"bench-{i:06d}".encode())
        cmd = [*CLI, "ingest", str(source), "-w", str(ws.root), "--flight-id", flight_id]
        subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return ws, load_flight(ws.flight_json(flight_id))


def time_cli(files: list[Path], out: Path, compression: str | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of ``dronegis thermal FILE... --out out [--compress c]`` in a fresh process."""
    shutil.rmtree(out, ignore_errors=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    cmd = [*CLI, "thermal", *map(str, files), "--out", str(out)]
    subprocess.run([*cmd, "--compress", compression] if compression else cmd, check=True, capture_output=True,
                   cwd=REPO, env=CLI_ENV)  # fmt: skip
    return time.perf_counter() - start, cpu_seconds() - cpu


def time_startup() -> tuple[float, float]:
    """Wall and CPU seconds (the child's user + system) of importing the CLI and its thermal command."""
    code = "from dronegis.cli.main import cli; import dronegis.cli.thermal"
    before = os.times()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO, env=CLI_ENV)
    wall, after = time.perf_counter() - start, os.times()
    cpu = after.children_user - before.children_user + after.children_system - before.children_system
    return wall, cpu


def time_stage(ws: Any, flight: Any, threads: int | None, compression: str = "") -> tuple[float, int]:
    """Wall seconds of the thermal stage (the process stage's call) and the frames written."""
    from pipeline.executors import ThreadExecutor
    from pipeline.thermal.frames import DEFAULT_COMPRESSION
    from pipeline.thermal.stage import thermal_stage

    executor = ThreadExecutor(threads) if threads else None
    start = time.perf_counter()
    result = thermal_stage(ws, flight, executor=executor, compression=compression or DEFAULT_COMPRESSION)
    if result.failed:
        raise SystemExit(f"bench: ERROR: thermal stage failed: {result.failed}")
    return time.perf_counter() - start, len(result.written)


def check_outputs(files: list[Path], out: Path) -> bool:
    """The CLI's GeoTIFFs hold exactly the in-memory temperatures (bit for bit)."""
    import rasterio

    for path in files[: len(FLIR_RJPEGS)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(out / f"{path.stem}_celsius.tif") as src:
                if src.read(1).tobytes() != ours_flir(path).tobytes():
                    return False
    return True


def bench_frames(n: int, n_peer: int, passes: int) -> tuple[dict[str, Any], list[list[Any]]]:
    """Sections 1–3: per-frame seconds of ours and the peer, best of ``passes`` interleaved passes."""
    files, (ws, flight) = cli_frames(n), xtr_flight(n)
    samples = [DATA / name for name in FLIR_RJPEGS]
    peer_cycle = list(islice(cycle(samples), n_peer))
    peer_xtr = [DATA / XTR] * max(3, n_peer // 2)
    out = Path(tempfile.mkdtemp(prefix="thermal-cli-", dir=HERE))
    ours_flir(samples[0])  # OpenCV imported once, as in any long-running process
    keys = ("cli", "cli_cpu", "cli_zstd", "startup", "startup_cpu", "stage", "stage_1", "stage_zstd", "conv",
            "peer", "peer_cpu", "peer_xtr")  # fmt: skip
    t: dict[str, list[float]] = {k: [] for k in keys}
    written = 0
    for _ in range(passes):
        t["cli_zstd"].append(time_cli(files, out, "zstd")[0] / n)
        for key, seconds in zip(("cli", "cli_cpu"), time_cli(files, out), strict=True):
            t[key].append(seconds / n)
        for key, seconds in zip(("startup", "startup_cpu"), time_startup(), strict=True):
            t[key].append(seconds / n)
        t["peer"].append(per_item(peer_flir, peer_cycle))
        t["peer_cpu"].append(cpu_per_item(peer_flir, peer_cycle))
        seconds, written = time_stage(ws, flight, None)
        t["stage"].append(seconds / written)
        t["stage_1"].append(time_stage(ws, flight, 1)[0] / written)
        t["stage_zstd"].append(time_stage(ws, flight, None, "zstd")[0] / written)
        t["peer_xtr"].append(per_item(peer_flir, peer_xtr))
        t["conv"].append(per_item(ours_flir, list(islice(cycle(samples), n))))
    exact = check_outputs(files, out)
    shutil.rmtree(out, ignore_errors=True)
    best = {k: min(v) * 1000 for k, v in t.items()}
    threads = os.cpu_count()
    peer, peer_xtr_ms = best["peer"], best["peer_xtr"]
    rows = [
        [f"`dronegis thermal` on {n} FLIR R-JPEGs (9 samples cycled), start-up and GeoTIFF writes included",
         best["cli"], f"{peer:.0f} ({n_peer} frames)", f"**{ratio(peer / best['cli'], 0)}**", "≥ 50×"],
        [f"of which the start-up (CLI and thermal command imported; {best['startup'] * n / 1000:.2f} s wall, "
         f"{best['startup_cpu'] * n / 1000:.2f} CPU-s, spread over {n} frames)", best["startup"], "", "", ""],
        ["same, frames written with ZSTD 1 (`--compress zstd`)", best["cli_zstd"], f"{peer:.0f}",
         ratio(peer / best["cli_zstd"], 0), ""],
        ["`dronegis thermal` in CPU per frame (user + system, all threads) against the peer's CPU (Python "
         "and its exiftool processes): less sensitive to the machine's load", best["cli_cpu"],
         f"{best['peer_cpu']:.0f}", ratio(best["peer_cpu"] / best["cli_cpu"], 0), ""],
        [f"process stage `thermal_stage`, {written} XT R frames, {threads} threads, GeoTIFF writes included",
         best["stage"], f"{peer_xtr_ms:.0f} ({len(peer_xtr)} frames)",
         f"**{ratio(peer_xtr_ms / best['stage'], 0)}**", "≥ 50×"],
        ["same, 1 thread", best["stage_1"], f"{peer_xtr_ms:.0f}", ratio(peer_xtr_ms / best["stage_1"], 0),
         ""],
        ["same, frames written with ZSTD 1", best["stage_zstd"], f"{peer_xtr_ms:.0f}",
         ratio(peer_xtr_ms / best["stage_zstd"], 0), ""],
        [f"conversion alone (read + °C in memory), {n} frames, 9 samples cycled", best["conv"],
         f"{peer:.0f}", ratio(peer / best["conv"], 0), ""],
    ]  # fmt: skip
    figures = {"ms_per_frame": best, "passes_ms": {k: [x * 1000 for x in v] for k, v in t.items()},
               "frames": n, "stage_frames": written, "peer_frames": n_peer, "threads": threads,
               "cli_outputs_bit_exact": exact}  # fmt: skip
    return figures, rows


def bench_compression(reps: int = 5) -> tuple[dict[str, Any], list[list[Any]]]:
    """Section 4: CPU ms, kB, exactness of each frame compression on the nine samples."""
    import rasterio

    frames = [ours_flir(DATA / name) for name in FLIR_RJPEGS]
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(dir=HERE) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, options in COMPRESSIONS.items():
            cpu, size, worst = time.process_time(), 0, 0.0
            for rep in range(reps):
                for i, celsius in enumerate(frames):
                    path = Path(tmp) / f"{i}.tif"
                    height, width = celsius.shape
                    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1,
                               "dtype": "float32", "nodata": float("nan"),
                               "tiled": width >= 256 and height >= 256, **options}  # fmt: skip
                    with rasterio.open(path, "w", **profile) as dst:
                        dst.write(celsius, 1)
                    if rep == 0:
                        size += path.stat().st_size
                        with rasterio.open(path) as src:
                            worst = max(worst, float(np.nanmax(np.abs(src.read(1) - celsius))))
            ms = (time.process_time() - cpu) / reps / len(frames) * 1000
            kb = size / len(frames) / 1024
            figures[label] = {"cpu_ms": ms, "kb": kb, "max_abs_error_c": worst}
            rows.append([label, ms, kb, "bit-exact" if worst == 0 else f"≤ {worst:.4f} °C"])
    return figures, rows


def bench_dji(passes: int) -> tuple[dict[str, Any], list[list[Any]]]:
    """DJI in process (embedded parameters, emissivity 0.95) and on the command line."""
    import dji_thermal_cli as dtc

    from pipeline.models import ThermalOverrides
    from pipeline.thermal.dji import read_dji

    root = DATA / "thermal_parser/images"
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".jpg"
                   and not p.name.startswith(("FLIR", "DJI_XT2", "DJI_XTR")))  # fmt: skip
    rows, figures = [], {}
    for emissivity in (None, 0.95):
        overrides, settings = ThermalOverrides(emissivity=emissivity), dtc.Settings(emissivity=emissivity)
        for path in files:  # warm both (the SDK port loads its tables once)
            read_dji(path, overrides)
            dtc.measure(path, settings)
        ours, peer = [], []
        for _ in range(passes):
            ours.append(per_item(lambda p, o=overrides: read_dji(p, o), files))  # type: ignore[misc]
            peer.append(per_item(lambda p, s=settings: dtc.measure(p, s), files))  # type: ignore[misc]
        label = "embedded parameters" if emissivity is None else f"emissivity {emissivity}"
        figures[label] = {"ours_ms": min(ours) * 1000, "peer_ms": min(peer) * 1000}
        rows.append([f"DJI in process, {label} ({len(files)} files)", min(ours) * 1000,
                     f"`measure()` {min(peer) * 1000:.0f}", ratio(min(peer) / min(ours)),
                     "≥ 1×"])  # fmt: skip
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i, path in enumerate(files):
            shutil.copy(path, src / f"{i:02d}_{path.name}")
        inputs = sorted(str(p) for p in src.iterdir())
        exe = Path(sys.executable).parent / "dji-thermal-cli"
        peer_cmd = [str(exe), "process", "--input-dir", str(src), "--output-dir", str(Path(tmp) / "peer"),
                    "-o", "temp_c:tiff", "-j", "1", "-q"]  # fmt: skip
        ours_cmd = [*CLI, "thermal", *inputs, "--out", str(Path(tmp) / "ours")]
        ours, peer = [], []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(ours_cmd, check=True, capture_output=True, cwd=REPO, env=CLI_ENV)
            ours.append((time.perf_counter() - start) / len(files))
            start = time.perf_counter()
            subprocess.run(peer_cmd, check=True, capture_output=True)
            peer.append((time.perf_counter() - start) / len(files))
    figures["cli"] = {"ours_ms": min(ours) * 1000, "peer_ms": min(peer) * 1000}
    rows.append([f"DJI files → °C TIFFs on the command line ({len(files)} files)", min(ours) * 1000,
                 f"`dji-thermal-cli process` {min(peer) * 1000:.0f}", ratio(min(peer) / min(ours)),
                 "—"])  # fmt: skip
    return figures, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--peer-frames", type=int, default=18)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--dji-passes", type=int, default=3)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    HERE.mkdir(parents=True, exist_ok=True)
    frames, frame_rows = bench_frames(args.frames, args.peer_frames, args.passes)
    print(json.dumps(frames["ms_per_frame"]), flush=True)
    compression, compression_rows = bench_compression()
    print(json.dumps(compression), flush=True)
    dji, dji_rows = bench_dji(args.dji_passes)
    print(json.dumps(dji), flush=True)
    cols = ["case", "dronegis ms/frame", "peer ms/frame", "ratio", "target"]
    write_result(
        args.json,
        figures={"flir": frames, "compression": compression, "dji": dji},
        tables=[
            table(f"FLIR → °C, peer flirimageextractor (best of {args.passes} interleaved passes)", cols,
                  frame_rows),
            table("Frame GeoTIFF compression, 9 FLIR samples (CPU per frame written, one thread)",
                  ["compression", "CPU ms/frame", "kB/frame", "read back"], compression_rows),
            table(f"DJI → °C, peer dji-thermal-cli (best of {args.dji_passes} passes)", cols, dji_rows),
        ],
        notes=[f"`dronegis thermal` GeoTIFFs read back bit-exact: {frames['cli_outputs_bit_exact']}"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
