"""``process_flight`` on N brighton_beach frames: in-process vs a local pool vs a Dask LocalCluster.

Every run starts from its own freshly ingested workspace; the script checks that the three
runs give identical products (pixels + grid of every raster, products.json byte for byte)
and prints wall times and ratios to the in-process run. Pool and cluster start-up count.

    .venv/bin/python benchmarks/service_executors_bench.py --frames 6 [--json OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA as SHARED  # noqa: E402
from common import WORK as BENCH_WORK  # noqa: E402
from common import add_json_option, exit_on_sigterm, ratio, table, write_result  # noqa: E402

DATA = SHARED / "brighton_beach" / "images"
WORK = BENCH_WORK / "service_executors"


def _hashes(ws: object, flight: str) -> dict[str, str]:
    from pipeline.products import load_products

    out = {}
    for product in load_products(ws, flight):  # type: ignore[arg-type]
        path = ws.root / product.path  # type: ignore[attr-defined]
        if path.suffix != ".tif":
            continue
        with rasterio.open(path) as ds:
            digest = hashlib.sha256(np.ascontiguousarray(ds.read()).tobytes())
            digest.update(repr(tuple(ds.transform)).encode())
        out[product.id] = digest.hexdigest()
    return out


def _run(name: str, source: Path, make_executor: Callable[[], object]) -> tuple[float, object]:
    from core.workspace import Workspace
    from flights.ingest import ingest_folder
    from flights.ingest_config import IngestConfig
    from pipeline.process import process_flight

    ws = Workspace.at(WORK / name)
    shutil.rmtree(ws.root, ignore_errors=True)
    ingest_folder(
        source,
        IngestConfig(
            archive_dir=ws.archive("b"),
            quarantine_dir=ws.quarantine("b"),
            flight_id="b",
            now=datetime(2026, 11, 28, tzinfo=UTC),
            workers=1,
            flight_json=ws.flight_json("b"),
        ),
    )
    start = time.perf_counter()
    executor = make_executor()
    try:
        process_flight(ws, "b", executor=executor)  # type: ignore[arg-type]
    finally:
        executor.close()  # type: ignore[attr-defined]
    return time.perf_counter() - start, ws


def main() -> None:
    from distributed import LocalCluster

    from pipeline.executors import DaskExecutor, LocalExecutor, SerialExecutor

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=6)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    source = WORK / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for path in sorted(DATA.glob("*.JPG"))[: args.frames]:
        shutil.copy(path, source / path.name)
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    try:
        runs = {
            "serial": _run("serial", source, SerialExecutor),
            "local pool (2)": _run("local", source, lambda: LocalExecutor(2)),
            "dask LocalCluster (2x1)": _run("dask", source, lambda: DaskExecutor(cluster.scheduler_address)),
        }
    finally:
        cluster.close()
    base_time, base_ws = runs["serial"]
    reference = _hashes(base_ws, "b")
    base_json = base_ws.products_json("b").read_bytes()  # type: ignore[attr-defined]
    print(f"{args.frames} brighton_beach frames, {len(reference)} raster products")
    rows = []
    for name, (seconds, ws) in runs.items():
        same = _hashes(ws, "b") == reference and ws.products_json("b").read_bytes() == base_json  # type: ignore[attr-defined]
        print(f"{name:26s} {seconds:7.1f} s  ratio {seconds / base_time:5.2f}  identical={same}")
        rows.append([name, seconds, ratio(seconds / base_time), same])
    write_result(
        args.json,
        figures={name: seconds for name, (seconds, _) in runs.items()},
        tables=[table(f"`process_flight` on {args.frames} brighton_beach frames, start-up included",
                      ["executor", "wall s", "ratio to in-process", "products identical"], rows)],
    )  # fmt: skip


if __name__ == "__main__":
    main()
