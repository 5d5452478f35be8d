"""Per-file metadata and image-quality readers against exiftool, in one run.

Usage:
    .venv/bin/python benchmarks/ingest_metadata_readers.py [DATA_DIR] [--copies 56]

Builds (once) ``benchmarks/_work/metadata_1008/``: 1008 hard links to the 18
brighton_beach frames (DJI FC300S, 2.8-4.0 MB each), each link a distinct path as in a
real delivery; the bytes come from the page cache for both tools. Then measures:

1. ``exiftool -json -n -r`` on that folder (one process, as a pilot would run it),
2. ``flights.exif.read_capture`` on the same 1008 paths, single process,
3. ``flights.classify.classify`` + ``read_capture`` (what ingest does per frame),
4. ``flights.quality.assess_many`` over 90 frames with 1 and 2 worker processes.

Prints frames/s and the read_capture/exiftool ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import cv2

from flights.classify import classify
from flights.exif import read_capture
from flights.jpeg import _cached_start
from flights.models import FileKind
from flights.quality import assess, assess_many

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, add_json_option, exit_on_sigterm, ratio, table, write_result  # noqa: E402


def _replicate(frames: list[Path], copies: int) -> Path:
    folder = WORK / f"metadata_{len(frames) * copies}"
    if len(list(folder.glob("*.JPG"))) != len(frames) * copies:
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(copies):
            for p in frames:
                link = folder / f"{i:03d}_{p.name}"
                if not link.exists():
                    os.link(p, link)
    return folder


class Rate(NamedTuple):
    """Frames per wall-clock second and per CPU second (the latter is robust to a loaded machine)."""

    wall: float
    cpu: float


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _exiftool(folder: Path) -> Rate:
    n = len(list(folder.glob("*.JPG")))
    start, cpu0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(["exiftool", "-json", "-n", "-r", str(folder)], capture_output=True, check=True)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    assert out.stdout.count(b'"SourceFile"') == n
    return Rate(n / elapsed, n / cpu)


def _timed(frames: list[Path], with_classify: bool) -> Rate:
    _cached_start.cache_clear()
    start, cpu0 = time.perf_counter(), time.process_time()
    for p in frames:
        kind = classify(p) if with_classify else FileKind.RGB_FRAME
        read_capture(p, p.name, sha256="0" * 64, size=0, kind=kind)
    return Rate(len(frames) / (time.perf_counter() - start), len(frames) / (time.process_time() - cpu0))


def _quality(frames: list[Path], workers: int) -> float:
    start = time.perf_counter()
    results = assess_many(frames, workers=workers)
    assert all(not isinstance(r, Exception) for r in results)
    return len(frames) / (time.perf_counter() - start)


def _quality_cpu(frames: list[Path]) -> float:
    """CPU milliseconds per frame of one assess() (single thread)."""
    cv2.setNumThreads(1)
    cpu0 = time.process_time()
    for p in frames:
        assess(p)
    return (time.process_time() - cpu0) / len(frames) * 1000


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    parser.add_argument("--copies", type=int, default=56)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    source = sorted((Path(args.data) / "brighton_beach" / "images").glob("*.JPG"))
    folder = _replicate(source, args.copies)
    frames = sorted(folder.glob("*.JPG"))
    print(f"{len(frames)} frames in {folder}; load average {os.getloadavg()[0]:.2f}")
    _timed(frames, False)  # warm the page cache
    ex1 = _exiftool(folder)
    rc = _timed(frames, False)
    cr = _timed(frames, True)
    ex2 = _exiftool(folder)
    ex = Rate((ex1.wall + ex2.wall) / 2, (ex1.cpu + ex2.cpu) / 2)
    print("                        frames/s wall   frames/CPU-s   (ratio to exiftool: wall, CPU)")
    runs = f"(runs before/after: {ex1.wall:.1f}, {ex2.wall:.1f})"
    print(f"exiftool -json -n -r : {ex.wall:10.1f} {ex.cpu:14.1f}   {runs}")
    for name, r in (("read_capture", rc), ("classify+read_capture", cr)):
        print(f"{name:21s}: {r.wall:10.1f} {r.cpu:14.1f}   ({r.wall / ex.wall:.1f}x, {r.cpu / ex.cpu:.1f}x)")
    print(f"load average now {os.getloadavg()[0]:.2f}")
    batch = source * 5
    q1, q2 = _quality(batch, 1), _quality(batch, 2)
    ms = _quality_cpu(source)
    print(f"quality, 1 worker    : {q1:8.1f} frames/s  (half-resolution grey decode, 4000x2250 frames)")
    print(f"quality, 2 workers   : {q2:8.1f} frames/s  ({q2 / q1:.2f}x one worker)")
    print(
        f"quality CPU cost     : {ms:8.1f} ms/frame single-threaded -> {1000 / ms:.1f} frames/s per idle core"
    )
    print(f"load average now {os.getloadavg()[0]:.2f}")
    rows = [
        ["`exiftool -json -n -r` (mean of a run before and after ours)", ex.wall, ex.cpu, "1× / 1×"],
        *[[f"`{name}`", r.wall, r.cpu, f"**{ratio(r.wall / ex.wall, 1)}** / {ratio(r.cpu / ex.cpu, 1)}"]
          for name, r in (("flights.exif.read_capture", rc),
                          ("flights.classify.classify + read_capture", cr))],
        [f"quality pass `assess_many(workers=1)`, {len(batch)} frames", q1, 1000 / ms,
         f"{ms:.1f} ms CPU/frame"],
        [f"quality pass `assess_many(workers=2)`, {len(batch)} frames", q2, "", ratio(q2 / q1)],
    ]  # fmt: skip
    write_result(
        args.json,
        figures={"frames": len(frames), "exiftool": ex._asdict(), "read_capture": rc._asdict(),
                 "classify_read_capture": cr._asdict(), "quality_fps": [q1, q2], "quality_cpu_ms": ms},
        tables=[table(f"{len(frames)} brighton_beach frames (page cache warm), one process",
                      ["reader", "frames/s (wall)", "frames per CPU-s", "ratio to exiftool (wall / CPU)"],
                      rows)],
    )  # fmt: skip


if __name__ == "__main__":
    main()
