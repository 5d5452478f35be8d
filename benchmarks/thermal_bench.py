"""Thermal radiometry benchmark, side by side with the peer tools, in one run.

FLIR: dronegis (pure-Python FFF parse + numpy raw2temp) versus flirimageextractor's
``process_image`` + ``get_thermal_np`` (which shells out to exiftool three times), per
R-JPEG. 1.5.11's ``process_image`` downloads a DJI SDK first and fails offline, so the
classic body of ``process_image`` is timed (see ``bench_flir``).
DJI: dronegis' ``dronegis[dji]`` adapter versus dji-thermal-cli called the ways a user
would: its Python API ``measure()`` and its command line ``process`` (temp_c TIFFs),
against our per-frame °C GeoTIFF path.

Usage::

    .venv/bin/python benchmarks/thermal_bench.py [--flir-frames 220] [--peer-frames 22] [--dji-passes 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA = Path(os.environ.get("DRONEGIS_TEST_DATA", REPO.parent / "shared" / "data"))
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


def _timed(fn: Callable[[Path], object], frames: list[Path]) -> float:
    start = time.perf_counter()
    for path in frames:
        fn(path)
    return (time.perf_counter() - start) / len(frames)


def _side_by_side(
    ours: Callable[[Path], object],
    peer: Callable[[Path], object],
    ours_frames: list[Path],
    peer_frames: list[Path],
    passes: int,
) -> tuple[float, float]:
    """Seconds per image of each, best of ``passes`` interleaved passes.

    The machine is shared with other jobs: the passes alternate between the two tools
    so that both see the same load, and the best pass of each is the least disturbed.
    """
    t_ours, t_peer = [], []
    for _ in range(passes):
        t_ours.append(_timed(ours, ours_frames))
        t_peer.append(_timed(peer, peer_frames))
    return min(t_ours), min(t_peer)


def bench_flir(n_ours: int, n_peer: int) -> dict[str, float]:
    """Seconds per image for both, over the same files cycled."""
    from flirimageextractor import FlirImageExtractor

    from flights.flir import read_flir
    from pipeline.thermal import MeasurementParameters, raw_to_celsius

    def ours(path: Path) -> object:
        image = read_flir(path)
        return raw_to_celsius(image.raw, MeasurementParameters.from_thermal(image.params))

    def peer(path: Path) -> object:
        # flirimageextractor 1.5.11's process_image() first downloads a DJI SDK from the
        # network and fails offline; this is its classic process_image body (<= 1.5.3),
        # made of its own methods: image type, metadata and raw image through exiftool.
        fie = FlirImageExtractor()
        fie.loadfile(str(path))
        if fie.get_image_type().upper().strip() == "TIFF":
            fie.fix_endian = False
        fie.thermal_image_np = fie.extract_thermal_image()
        return fie.get_thermal_np()

    files = [DATA / name for name in FLIR_RJPEGS]
    ours(files[0])  # import cv2 once, as any long-running process would have
    t_ours, t_peer = _side_by_side(
        ours, peer, list(islice(cycle(files), n_ours)), list(islice(cycle(files), n_peer)), passes=2
    )
    return {"ours_s": t_ours, "peer_s": t_peer, "n_ours": n_ours, "n_peer": n_peer, "ratio": t_peer / t_ours}


def _dji_files() -> list[Path]:
    root = DATA / "thermal_parser/images"
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() == ".jpg" and not p.name.startswith(("FLIR", "DJI_XT2", "DJI_XTR"))
    )


def bench_dji_api(passes: int, emissivity: float | None = None) -> dict[str, float]:
    """In-process: our adapter versus dji_thermal_cli.measure(), same files, warm."""
    import dji_thermal_cli as dtc

    from pipeline.thermal import ThermalOverrides
    from pipeline.thermal_dji import read_dji

    overrides = ThermalOverrides(emissivity=emissivity)
    settings = dtc.Settings(emissivity=emissivity)
    files = _dji_files()
    for path in files:  # warm both (the SDK port loads its tables once)
        read_dji(path, overrides)
        dtc.measure(path, settings)
    t_ours, t_peer = _side_by_side(
        lambda p: read_dji(p, overrides), lambda p: dtc.measure(p, settings), files, files, passes
    )
    return {"ours_s": t_ours, "peer_s": t_peer, "n": len(files), "ratio": t_peer / t_ours}


def bench_dji_cli(passes: int) -> dict[str, float]:
    """Files to °C TIFFs: `dji-thermal-cli process -o temp_c:tiff -j 1` versus `dronegis thermal`."""
    files = _dji_files()
    exe = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i, path in enumerate(files):
            shutil.copy(path, src / f"{i:02d}_{path.name}")
        inputs = sorted(str(p) for p in src.iterdir())
        peer = [str(exe / "dji-thermal-cli"), "process", "--input-dir", str(src), "--output-dir",
                str(Path(tmp) / "peer"), "-o", "temp_c:tiff", "-j", "1", "-q"]  # fmt: skip
        ours = [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", "thermal", *inputs,
                "--out", str(Path(tmp) / "ours")]  # fmt: skip
        t_ours, t_peer = _side_by_side(
            lambda _: subprocess.run(ours, check=True, capture_output=True, cwd=REPO),
            lambda _: subprocess.run(peer, check=True, capture_output=True),
            [src], [src], passes,
        )  # fmt: skip
    n = len(files)
    return {"ours_s": t_ours / n, "peer_s": t_peer / n, "n": n, "ratio": t_peer / t_ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flir-frames", type=int, default=220)
    parser.add_argument("--peer-frames", type=int, default=22)
    parser.add_argument("--dji-passes", type=int, default=3)
    args = parser.parse_args()
    flir = bench_flir(args.flir_frames, args.peer_frames)
    print(
        f"FLIR R-JPEG -> °C: dronegis {flir['ours_s'] * 1000:.2f} ms/image over {flir['n_ours']} frames; "
        f"flirimageextractor {flir['peer_s'] * 1000:.1f} ms/image over {flir['n_peer']} frames "
        "(best of 2 interleaved passes); "
        f"ratio {flir['ratio']:.0f}x"
    )
    for emissivity in (None, 0.95):
        api = bench_dji_api(args.dji_passes, emissivity)
        label = "embedded parameters" if emissivity is None else f"emissivity {emissivity}"
        print(
            f"DJI in-process, {label}: dronegis[dji] {api['ours_s'] * 1000:.1f} ms/image; "
            f"dji_thermal_cli.measure {api['peer_s'] * 1000:.1f} ms/image over {api['n']} files, "
            f"best of {args.dji_passes} interleaved passes; "
            f"ratio {api['ratio']:.2f}x"
        )
    cli = bench_dji_cli(2)
    print(
        f"DJI files -> °C TIFFs (CLI): dronegis thermal {cli['ours_s'] * 1000:.1f} ms/image; dji-thermal-cli "
        f"process {cli['peer_s'] * 1000:.1f} ms/image over {cli['n']} files; ratio {cli['ratio']:.2f}x"
    )


if __name__ == "__main__":
    main()
