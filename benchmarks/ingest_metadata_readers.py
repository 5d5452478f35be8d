"""Per-file metadata and image-quality readers against exiftool, in one run.

Usage:
    .venv/bin/python benchmarks/ingest_metadata_readers.py [DATA_DIR] [--repeat N]

Measures on brighton_beach/images (18 DJI FC300S frames, 2.8-4.0 MB each; the files
are read from the page cache after the first pass):

1. ``exiftool -json -n -r`` on the folder (wall time, one process),
2. ``flights.exif.read_capture`` on the same frames, repeated ``--repeat`` times,
   single process, plus ``flights.classify.classify``,
3. ``flights.quality.assess_many`` with 1 and 2 workers.

Prints frames/s and the read_capture/exiftool ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from flights.classify import classify
from flights.exif import read_capture
from flights.jpeg import _cached_header
from flights.models import FileKind
from flights.quality import assess_many


def _exiftool(folder: Path, n_files: int, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        subprocess.run(["exiftool", "-json", "-n", "-r", str(folder)], capture_output=True, check=True)
    return n_files * repeat / (time.perf_counter() - start)


def _read_capture(frames: list[Path], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        _cached_header.cache_clear()  # every pass reads every header again
        for p in frames:
            read_capture(p, p.name, sha256="0" * 64, size=0, kind=FileKind.RGB_FRAME)
    return len(frames) * repeat / (time.perf_counter() - start)


def _classify_and_read(frames: list[Path], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        _cached_header.cache_clear()  # classify reads the header, read_capture reuses it
        for p in frames:
            read_capture(p, p.name, sha256="0" * 64, size=0, kind=classify(p))
    return len(frames) * repeat / (time.perf_counter() - start)


def _quality(frames: list[Path], workers: int) -> float:
    start = time.perf_counter()
    results = assess_many(frames, workers=workers)
    assert all(not isinstance(r, Exception) for r in results)
    return len(frames) / (time.perf_counter() - start)


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    folder = Path(args.data) / "brighton_beach" / "images"
    frames = sorted(folder.glob("*.JPG"))
    print(f"{len(frames)} frames in {folder}; load average {os.getloadavg()[0]:.2f}")
    _read_capture(frames, 1)  # warm the page cache
    ex = _exiftool(folder, len(frames), max(1, args.repeat // 10))
    rc = _read_capture(frames, args.repeat)
    cr = _classify_and_read(frames, args.repeat)
    print(f"exiftool -json -n -r : {ex:8.1f} frames/s")
    print(f"read_capture         : {rc:8.1f} frames/s  ({rc / ex:.1f}x exiftool)")
    print(f"classify+read_capture: {cr:8.1f} frames/s  ({cr / ex:.1f}x exiftool)")
    batch = frames * 5
    q1, q2 = _quality(batch, 1), _quality(batch, 2)
    print(f"quality, 1 worker    : {q1:8.1f} frames/s  (half-resolution grey decode, 4000x2250 frames)")
    print(f"quality, 2 workers   : {q2:8.1f} frames/s  ({q2 / q1:.2f}x one worker)")


if __name__ == "__main__":
    main()
