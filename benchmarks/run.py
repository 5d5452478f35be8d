"""Run benchmarks side by side with their peers, keep the results as JSON, regenerate RESULTS.md.

    .venv/bin/python benchmarks/run.py [NAME ...]     # all when no name is given
    .venv/bin/python benchmarks/run.py --list         # names, scripts and peers
    .venv/bin/python benchmarks/run.py --report       # only regenerate RESULTS.md
    .venv/bin/python benchmarks/run.py thermal -- --flir-frames 100   # arguments for one benchmark

``scripts/bench.sh`` installs the peers and then calls this. Every peer a selected
benchmark needs is checked before anything runs: a missing one is a clear error
(exit 3), never a hang. Each benchmark runs as a child process in its own process
group with a time limit; the harness stops the group on a timeout or when it is
interrupted, and afterwards stops any server a script registered and left running
(``benchmarks/common.py``, :class:`Server`). Results go to
``benchmarks/results/NAME.json`` (the figures, the command, the machine and load
before and after) and ``benchmarks/results/machine.json``; a failed run keeps the
previous file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PEERS,
    REPO,
    SERVERS,
    WORK,
    PeerError,
    command_version,
    fail,
    machine,
    package_version,
    stop_group,
)

RESULTS = REPO / "benchmarks" / "results"
TITILER_PY = PEERS / "titiler" / "bin" / "python"


class Bench(NamedTuple):
    """A benchmark script, its default arguments, the peers it needs and its time limit (s)."""

    script: str
    args: tuple[str, ...]
    peers: tuple[str, ...]
    timeout: int


BENCHMARKS: dict[str, Bench] = {
    "thermal": Bench("thermal_bench.py", (), ("flirimageextractor", "exiftool", "dji-thermal-cli"), 1800),
    "ingest": Bench("ingest_bench.py", ("--cold",), ("exiftool", "cp"), 3600),
    "ingest_readers": Bench("ingest_metadata_readers.py", (), ("exiftool",), 1800),
    "tiles": Bench("tiles_bench.py", (), ("titiler", "wrk"), 1800),
    "wms": Bench("wms_bench.py", (), ("mapserver-fastcgi",), 1200),
    "pyramid": Bench("pyramid_bench.py", ("--zooms", "14-20"), ("gdal2tiles",), 1800),
    "ortho": Bench("ortho_bench.py", (), ("gdal",), 7200),
    "ortho20k": Bench("ortho_bench.py", ("--size", "20000", "--runs", "1"), ("gdal",), 7200),
    "zonal": Bench("zonal_bench.py", (), ("exactextract",), 3600),
    "volume": Bench("volume_bench.py", (), ("exactextract",), 3600),
    "georef": Bench("georef_frames_bench.py", ("3",), ("orthority",), 1800),
    "executors": Bench("service_executors_bench.py", ("--frames", "6"), (), 1800),
    "features": Bench("features_bench.py", (), ("gdal",), 1800),
    "vegetation": Bench("vegetation_bench.py", (), (), 7200),
    "load": Bench("load_bench.py", (), (), 900),
}


def _python_package(name: str) -> Callable[[], str]:
    def check() -> str:
        version = package_version(name)
        if version is None:
            raise PeerError(f"Python package {name} is not installed in {sys.prefix} (bash scripts/setup.sh)")
        return f"{name} {version}"

    return check


def _command(cmd: list[str], package: str) -> Callable[[], str]:
    def check() -> str:
        version = command_version(cmd)
        if version is None:
            raise PeerError(f"{cmd[0]} not found or not working (Debian package {package}; scripts/bench.sh)")
        return version

    return check


def _titiler() -> str:
    if not TITILER_PY.exists():
        raise PeerError(f"TiTiler's venv {TITILER_PY.parents[1]} is missing (bash scripts/bench.sh makes it)")
    code = "import uvicorn, titiler.application; from importlib.metadata import version as v; "
    code += "print('titiler', v('titiler-application'))"
    version = command_version([str(TITILER_PY), "-c", code])
    if version is None or not version.startswith("titiler"):
        raise PeerError(f"titiler.application does not import in {TITILER_PY} (bash scripts/bench.sh)")
    return version


def _mapserver() -> str:
    version = command_version(["mapserv", "-v"])
    if version is None or "SUPPORTS=FASTCGI" not in version:
        raise PeerError("mapserv with FastCGI not found (Debian cgi-mapserver, mapserver-bin; bench.sh)")
    front = command_version(["lighttpd", "-v"])
    if front is None:
        raise PeerError("lighttpd (the FastCGI front for mapserv) not found (Debian lighttpd; bench.sh)")
    return f"{version.split(' OUTPUT=')[0]}; {front}"


def _dji_cli() -> str:
    exe = Path(sys.executable).parent / "dji-thermal-cli"
    if not exe.exists():
        raise PeerError(f"{exe} not found (the dronegis[dji] extra; bash scripts/setup.sh)")
    return _python_package("dji-thermal-cli")()


PEER_CHECKS: dict[str, Callable[[], str]] = {
    "exiftool": _command(["exiftool", "-ver"], "libimage-exiftool-perl"),
    "cp": _command(["cp", "--version"], "coreutils"),
    "gdal": _command(["gdalwarp", "--version"], "gdal-bin"),
    "gdal2tiles": _command(["gdal2tiles.py", "--version"], "gdal-bin"),
    "flirimageextractor": _python_package("flirimageextractor"),
    "dji-thermal-cli": _dji_cli,
    "exactextract": _python_package("exactextract"),
    "orthority": _python_package("orthority"),
    "titiler": _titiler,
    "mapserver-fastcgi": _mapserver,
    "wrk": _command(["wrk", "--version"], "wrk"),
}


def check_peers(names: list[str]) -> dict[str, str]:
    """Version of every peer the named benchmarks need; exit 3 naming each missing one."""
    needed = sorted({peer for name in names for peer in BENCHMARKS[name].peers})
    found: dict[str, str] = {}
    missing: list[str] = []
    for peer in needed:
        try:
            found[peer] = PEER_CHECKS[peer]()
        except PeerError as exc:
            missing.append(f"{peer}: {exc}")
    if missing:
        fail("missing peer(s):\n  " + "\n  ".join(missing))
    return found


def stop_leftover_servers() -> list[str]:
    """Stop every server a benchmark registered and did not stop (its script was killed)."""
    stopped = []
    for record in sorted(SERVERS.glob("*.json")) if SERVERS.exists() else []:
        pid = int(record.stem)
        with contextlib.suppress(OSError, ValueError):
            name = json.loads(record.read_text())["name"]
            if Path(f"/proc/{pid}").exists():
                stop_group(pid)
                stopped.append(f"{name} (pid {pid})")
        record.unlink(missing_ok=True)
    return stopped


class Interrupted(Exception):
    """SIGINT or SIGTERM reached the harness."""


def run_one(name: str, peers: dict[str, str], extra: list[str]) -> bool:
    """Run one benchmark; store its result. True when it succeeded."""
    bench = BENCHMARKS[name]
    script = REPO / "benchmarks" / bench.script
    if not script.exists():
        print(f"bench: {name}: {script} does not exist", file=sys.stderr)
        return False
    out = WORK / "results" / f"{name}.json"
    out.unlink(missing_ok=True)
    args = [*bench.args, *extra]
    # a script without --json (not yet converted): its printed output is kept instead
    structured = "add_json_option" in script.read_text(encoding="utf-8")
    cmd = [sys.executable, str(script), *args, *(["--json", str(out)] if structured else [])]
    shown = f".venv/bin/python benchmarks/{bench.script} {shlex.join(args)}".strip()
    before = machine()
    print(f"bench: {name}: {shown} (load {before['load_average'][0]:.2f})", file=sys.stderr, flush=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    printed = WORK / "results" / f"{name}.stdout"
    printed.parent.mkdir(parents=True, exist_ok=True)
    with printed.open("wb") as stdout:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, start_new_session=True, stdout=None if structured else stdout
        )
    try:
        code = proc.wait(bench.timeout)
    except subprocess.TimeoutExpired:
        print(f"bench: {name}: no result after {bench.timeout} s; stopping it", file=sys.stderr)
        code = -1
    finally:
        stop_group(proc.pid, grace=20)
        proc.wait()
        for server in stop_leftover_servers():
            print(f"bench: {name}: stopped a server it left running: {server}", file=sys.stderr)
    if code == 0 and not structured:
        lines = printed.read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
        out.write_text(json.dumps({"tables": [], "stdout": lines}), encoding="utf-8")
    if code != 0 or not out.exists():
        kept = RESULTS / f"{name}.json"
        print(f"bench: {name}: FAILED (exit {code}); {kept} kept as it was", file=sys.stderr)
        return False
    record = {
        "name": name,
        "command": shown,
        "seconds": round(time.monotonic() - start, 1),
        "machine": before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "peers": {peer: peers[peer] for peer in bench.peers},
        "result": json.loads(out.read_text(encoding="utf-8")),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
    (RESULTS / f"{name}.json").write_text(text, encoding="utf-8")
    return True


def main() -> None:
    """Parse the names, check the peers, run, regenerate RESULTS.md."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and their peers")
    parser.add_argument("--report", action="store_true", help="only regenerate RESULTS.md from the JSON")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []  # NAME -- ARGS: more arguments for NAME
    args = parser.parse_args(argv[: len(argv) - len(extra) - (1 if "--" in argv else 0)])
    if args.list:
        for name, bench in BENCHMARKS.items():
            needs = ", ".join(bench.peers) or "none"
            print(f"{name:15s} benchmarks/{bench.script} {' '.join(bench.args)}  peers: {needs}")
        return
    from report import regenerate

    if args.report:
        regenerate()
        return
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        fail(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", code=2)
    if extra and len(args.names) != 1:
        fail(f"extra arguments {extra} need exactly one benchmark name", code=2)
    names = args.names or list(BENCHMARKS)
    peers = check_peers(names)

    def interrupted(signum: int, _frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    failed = []
    try:
        for name in names:
            if not run_one(name, peers, extra):
                failed.append(name)
    except Interrupted as exc:
        fail(f"interrupted ({exc}); every server started was stopped", code=130)
    finally:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "machine.json").write_text(json.dumps(machine(), indent=1) + "\n", encoding="utf-8")
    regenerate()
    if failed:
        fail(f"failed: {', '.join(failed)}", code=1)


if __name__ == "__main__":
    main()
