"""A seeded mutation fuzzer for the file parsers a pilot's delivery reaches (issue 18).

Targets (each a parser entry point, fed mutated copies of valid seed files):

- ``frame``: :func:`flights.exif.read_capture` on JPEG (DJI RGB, DJI R-JPEG thermal, FLIR R-JPEG) and
  TIFF frames — the JPEG segment walker, the TIFF/EXIF IFD walker, XMP, FLIR/FFF and the pose readers;
- ``xmp``: :func:`flights.xmp.parse_xmp` on XMP packets;
- ``flir``: :func:`flights.flir.read_flir` on FLIR R-JPEG bytes (records, Planck block, raw pixels);
- ``control``: :func:`flights.control.read_control_file` on gcp_list.txt, check-point lists, a
  surveyor CSV, a DJI MRK and a DJI SRT;
- ``world``: :func:`flights.rasters.read_world_file` on world files.

A run passes when every execution returns or raises an error of the project's tree
(:class:`core.errors.DroneGisError`); anything else is a crash, saved with its input under
``crash_dir``. Mutations: bit flips, interesting bytes and integers (0, 0xFF, 0x7FFF, 0xFFFFFFFF …)
at random places, deleted/duplicated/inserted chunks, truncation, splicing two seeds, and for text
numbers replaced by 1e300, nan, -0, huge integers and line ends changed.

Short run (CI): ``tests/robustness/test_fuzz_parsers.py``. Long run, documented with its figures in
``docs/DESIGN.md`` ("Hostile input, identifiers and the service under load")::

    .venv/bin/python tests/robustness/fuzz_parsers.py --executions 1000000 --seconds 2700 --seed 7
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from core.errors import DroneGisError
from flights.control import read_control_file
from flights.exif import read_capture
from flights.flir import read_flir
from flights.flir_synth import make_flir_rjpeg
from flights.models import FileKind, ThermalParameters
from flights.rasters import read_world_file
from flights.sample import make_sample_flight
from flights.xmp import parse_xmp

INTERESTING_8 = (0x00, 0x01, 0x7F, 0x80, 0xFF)
INTERESTING_16 = (0, 1, 0x7FFF, 0x8000, 0xFFFF)
INTERESTING_32 = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
TEXT_NUMBERS = ("1e300", "-1e300", "nan", "inf", "-0", "0", "99999999999999999999999", "1e-320", "")
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
FLIR_PARAMS = ThermalParameters(
    planck_r1=21106.77,
    planck_r2=0.012545258,
    planck_b=1501.0,
    planck_f=1.0,
    planck_o=-7340.0,
    emissivity=0.95,
    object_distance_m=12.0,
    reflected_temp_c=5.0,
    atmospheric_temp_c=7.0,
    ir_window_temp_c=7.0,
    ir_window_transmission=1.0,
    relative_humidity_pct=80.0,
)
MRK = (
    b"2\t296288.242869\t[2211]\t     3,N\t     0,E\t    75,V\t"
    b"47.6436873208,Lat\t16.4759271684,Lon\t512.998,Ellh\t0.014391, 0.013698, 0.029694\t50,Q\n"
    b"3\t296289.777625\t[2211]\t     5,N\t     1,E\t    75,V\t"
    b"47.6436479170,Lat\t16.4758945272,Lon\t512.996,Ellh\t0.014268, 0.013609, 0.029783\t50,Q\n"
)
SRT = (
    b"1\n00:00:00,000 --> 00:00:01,000\nF/2.8, SS 206.14, ISO 150, EV 0, GPS (-82.6669, 27.7716, 10), "
    b"D 2.80m, H 0.00m, H.S 0.00m/s, V.S 0.00m/s\n\n2\n00:00:01,000 --> 00:00:02,000\n"
    b"F/2.8, SS 202.82, ISO 140, EV 0, GPS (-82.6669, 27.7716, 9), "
    b"D 2.84m, H 0.00m, H.S 0.00m/s, V.S 0.00m/s\n\n"
)
CSV = b"name,latitude,longitude,elevation\r\nCHK1,56.05,9.93,100.0\r\nCHK2,56.051,9.931,101.5\r\n"
WORLD = b"0.05\n0.0\n0.0\n-0.05\n557850.025\n6212099.975\n"


@dataclass(frozen=True)
class Target:
    """One parser: its seeds (file name -> bytes) and how it is called on a file."""

    name: str
    seeds: dict[str, bytes]
    call: Callable[[Path, str], object]
    text: bool = False


@dataclass
class Crash:
    """An execution that raised something outside the project's error tree."""

    target: str
    seed: str
    iteration: int
    error: str
    saved: str


@dataclass
class Report:
    """Counts of one run."""

    executions: dict[str, int] = field(default_factory=dict)
    project_errors: dict[str, int] = field(default_factory=dict)
    crashes: list[Crash] = field(default_factory=list)
    slowest_s: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """Executions over every target."""
        return sum(self.executions.values())


def _frame(path: Path, name: str) -> object:
    return read_capture(path, name, sha256="0" * 64, size=path.stat().st_size, kind=FileKind.RGB_FRAME)


def _xmp(path: Path, name: str) -> object:
    return parse_xmp(path.read_bytes(), Path(name))


def _flir(path: Path, name: str) -> object:
    return read_flir(path.read_bytes(), name=name)


def _control(path: Path, name: str) -> object:
    return read_control_file(path, name)


def _world(path: Path, name: str) -> object:
    return read_world_file(path, name)


def _tiff_frame(folder: Path) -> bytes:
    path = folder / "frame.tif"
    profile = {"driver": "GTiff", "width": 16, "height": 16, "count": 3, "dtype": "uint8"}
    profile |= {"crs": "EPSG:25832", "transform": from_origin(557850, 6212100, 0.05, 0.05)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((3, 16, 16), 100, np.uint8))
    return path.read_bytes()


def build_targets(folder: Path) -> list[Target]:
    """The targets and their seeds, made from the generated sample flight and synthetic files."""
    sample = folder / "sample"
    make_sample_flight(sample)
    rgb = (sample / "DJI_0001.JPG").read_bytes()
    thermal = (sample / "DJI_0007_R.JPG").read_bytes()
    raw = (np.arange(24 * 32, dtype=np.uint16).reshape(24, 32) + 20000).astype(np.uint16)
    flir = make_flir_rjpeg(raw, FLIR_PARAMS)
    start, end = rgb.find(b"<x:xmpmeta"), rgb.find(b"</x:xmpmeta>")
    packet = rgb[start : end + len(b"</x:xmpmeta>")] if start >= 0 and end > start else b""
    frames = {"DJI_0001.JPG": rgb, "DJI_0007_R.JPG": thermal, "FLIR0001.JPG": flir}
    frames["frame.tif"] = _tiff_frame(folder)
    control = {
        "gcp_list.txt": (sample / "gcp_list.txt").read_bytes(),
        "check_points.txt": (sample / "check_points.txt").read_bytes(),
        "checkpoints.csv": CSV,
        "flight_Timestamp.MRK": MRK,
        "video.SRT": SRT,
    }
    return [
        Target("frame", frames, _frame),
        Target("xmp", {"packet.xmp": packet} if packet else {}, _xmp, text=True),
        Target("flir", {"FLIR0001.JPG": flir}, _flir),
        Target("control", control, _control, text=True),
        Target("world", {"ortho.tfw": WORLD}, _world, text=True),
    ]


def _put_int(data: bytearray, rng: random.Random) -> None:
    width = rng.choice((2, 4))
    if len(data) < width:
        return
    pos = rng.randrange(len(data) - width + 1)
    value = rng.choice(INTERESTING_16 if width == 2 else INTERESTING_32)
    data[pos : pos + width] = value.to_bytes(width, rng.choice(("big", "little")))


def _text_mutation(data: bytearray, rng: random.Random) -> bytearray:
    numbers = list(NUMBER.finditer(bytes(data)))
    if numbers and rng.random() < 0.6:
        hit = rng.choice(numbers)
        return data[: hit.start()] + rng.choice(TEXT_NUMBERS).encode() + data[hit.end() :]
    return bytearray(bytes(data).replace(b"\n", rng.choice((b"\r", b"\r\n", b"\n\n", b"", b"\x00"))))


def mutate(data: bytes, rng: random.Random, other: bytes, text: bool) -> bytes:
    """One to eight random mutations of ``data`` (``other``: a second seed to splice with)."""
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        choice = rng.randrange(9 if text else 8)
        size = len(out)
        if choice == 0 and size:
            pos = rng.randrange(size)
            out[pos] ^= 1 << rng.randrange(8)
        elif choice == 1 and size:
            out[rng.randrange(size)] = rng.choice(INTERESTING_8)
        elif choice == 2:
            _put_int(out, rng)
        elif choice == 3 and size:
            start = rng.randrange(size)
            del out[start : start + rng.randint(1, 64)]
        elif choice == 4 and size:
            start = rng.randrange(size)
            out[start:start] = out[start : start + rng.randint(1, 256)]
        elif choice == 5:
            out[rng.randrange(size + 1) : rng.randrange(size + 1)] = bytes(
                rng.getrandbits(8) for _ in range(8)
            )
        elif choice == 6 and size:
            del out[rng.randrange(size) :]
        elif choice == 7 and other:
            cut = rng.randrange(len(other))
            out = out[: rng.randrange(size + 1)] + bytearray(other[cut:])
        elif choice == 8:
            out = _text_mutation(out, rng)
    return bytes(out)


def run(
    targets: list[Target],
    executions: int,
    seed: int,
    work: Path,
    crash_dir: Path | None = None,
    seconds: float | None = None,
) -> Report:
    """Fuzz the targets in turn, ``executions`` inputs in all (or until ``seconds`` pass); seeded."""
    rng = random.Random(seed)
    report = Report()
    began = time.perf_counter()
    for target in targets:
        for name in sorted(target.seeds):  # the seeds themselves must parse
            path = work / name
            path.write_bytes(target.seeds[name])
            target.call(path, name)
    for i in range(executions):
        if seconds is not None and i % 100 == 0 and time.perf_counter() - began > seconds:
            break
        _one(targets[i % len(targets)], i, rng, work, report, crash_dir)
    report.seconds = time.perf_counter() - began
    return report


def _one(
    target: Target, i: int, rng: random.Random, work: Path, report: Report, crash_dir: Path | None
) -> None:
    """One mutated input through one target, counted in ``report``."""
    names = sorted(target.seeds)
    name = rng.choice(names)
    data = mutate(target.seeds[name], rng, target.seeds[rng.choice(names)], target.text)
    path = work / name
    path.write_bytes(data)
    tick = time.perf_counter()
    try:
        target.call(path, name)
    except DroneGisError:
        report.project_errors[target.name] = report.project_errors.get(target.name, 0) + 1
    except Exception as exc:  # noqa: BLE001 - a crash is what the fuzzer looks for
        report.crashes.append(_save(target, name, i, exc, data, crash_dir))
    took = time.perf_counter() - tick
    report.slowest_s[target.name] = max(report.slowest_s.get(target.name, 0.0), took)
    report.executions[target.name] = report.executions.get(target.name, 0) + 1


def _save(
    target: Target, name: str, iteration: int, exc: Exception, data: bytes, crash_dir: Path | None
) -> Crash:
    error = "".join(traceback.format_exception_only(exc)).strip()
    saved = ""
    if crash_dir is not None:
        crash_dir.mkdir(parents=True, exist_ok=True)
        path = crash_dir / f"{target.name}-{iteration}-{name}"
        path.write_bytes(data)
        saved = str(path)
    return Crash(target.name, name, iteration, error[:500], saved)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the fuzzer and print its counts as JSON (exit 1 on any crash)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crash-dir", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dronegis-fuzz-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        report = run(build_targets(Path(tmp)), args.executions, args.seed, work, args.crash_dir, args.seconds)
    summary = {
        "executions": report.total,
        "per_target": report.executions,
        "project_errors": report.project_errors,
        "crashes": len(report.crashes),
        "distinct_crashes": sorted({c.error.splitlines()[-1] for c in report.crashes}),
        "first_crashes": [c.__dict__ for c in report.crashes[:20]],
        "slowest_s": {k: round(v, 4) for k, v in report.slowest_s.items()},
        "seconds": round(report.seconds, 1),
        "seed": args.seed,
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
