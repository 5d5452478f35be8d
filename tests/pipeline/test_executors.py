from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio

from core.workspace import Workspace
from flights.ingest import load_flight
from flights.ingest_config import IngestConfig
from pipeline.executors import (
    DaskExecutor,
    LocalExecutor,
    SerialExecutor,
    ThreadExecutor,
    block_windows,
    executor_for,
    map_progress,
    map_windows,
)
from pipeline.models import GcpGeoref, ProductKind, ThermalOverrides
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.run import ProcessConfig


def _sha(path: Path) -> str:
    with rasterio.open(path) as ds:
        return hashlib.sha256(ds.read().tobytes()).hexdigest()


def test_block_windows_cover_raster() -> None:
    windows = list(block_windows(10, 7, 4))
    assert windows[0] == (0, 0, 4, 4) and windows[-1] == (8, 4, 2, 3)
    assert sum(w * h for _, _, w, h in windows) == 70


def test_serial_and_local_pool_agree() -> None:
    items = list(range(40))
    local = LocalExecutor(workers=2)
    try:
        assert local.map(math.factorial, items) == SerialExecutor().map(math.factorial, items)
        assert local.call(math.factorial, 5) == 120
    finally:
        local.close()


def test_map_progress_reports_each_result_in_order() -> None:
    seen: list[tuple[int, int]] = []
    local = LocalExecutor(workers=2)
    try:
        for executor in (SerialExecutor(), local):
            seen.clear()
            assert map_progress(executor, math.factorial, range(9), lambda d, t: seen.append((d, t))) == [
                math.factorial(i) for i in range(9)
            ]
            assert seen == [(i, 9) for i in range(1, 10)]
        assert map_progress(local, math.factorial, [], None) == []
    finally:
        local.close()


def test_thread_executor_keeps_order_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    threads = ThreadExecutor(workers=3)
    assert threads.map(math.factorial, range(30)) == SerialExecutor().map(math.factorial, range(30))
    assert map_progress(threads, math.factorial, range(9), lambda d, t: seen.append((d, t))) == [
        math.factorial(i) for i in range(9)
    ]
    assert seen == [(i, 9) for i in range(1, 10)]
    assert threads.call(math.factorial, 5) == 120 and ThreadExecutor(1).map(abs, [-1, -2]) == [1, 2]


def test_executor_for_defaults_to_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRONEGIS_DASK_SCHEDULER", raising=False)
    ex = executor_for(None, workers=1)
    assert ex.name == "local"
    ex.close()


@pytest.mark.slow
def test_dask_map_call_and_env(cluster: object, monkeypatch: pytest.MonkeyPatch) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    monkeypatch.setenv("DRONEGIS_DASK_SCHEDULER", address)
    ex = executor_for(None)
    try:
        assert isinstance(ex, DaskExecutor) and ex.address == address
        assert ex.map(math.factorial, range(30)) == [math.factorial(i) for i in range(30)]
        assert ex.call(int, "ff", base=16) == 255
        assert ex.call(dict, workers=2, pure=1) == {"workers": 2, "pure": 1}  # no clash with submit()
        assert ex.map(math.factorial, []) == []
        # tasks really ran on the two worker processes, not here
        workers = ex.client.run(lambda: 1)
        assert len(workers) == 2
    finally:
        ex.close()


@pytest.mark.slow
def test_raster_windows_local_and_dask_identical(
    cluster: object, make_raster: Callable[..., Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    data = rng.random((1, 300, 420)).astype("float32") * 40
    src = make_raster("t.tif", width=420, height=300, dtype="float32", data=data)
    fn: Callable[[np.ndarray], np.ndarray] = np.sqrt
    local = LocalExecutor(workers=2)
    dask = DaskExecutor(cluster.scheduler_address)  # type: ignore[attr-defined]
    try:
        n_local = map_windows(local, src, tmp_path / "local.tif", fn, block=128)
        n_dask = map_windows(dask, src, tmp_path / "dask.tif", fn, block=128)
    finally:
        local.close()
        dask.close()
    assert n_local == n_dask == 12
    assert _sha(tmp_path / "local.tif") == _sha(tmp_path / "dask.tif")
    with rasterio.open(tmp_path / "dask.tif") as ds:
        assert np.array_equal(ds.read(), np.sqrt(data))
        assert ds.crs.to_epsg() == 25832


def _product_hashes(ws: Workspace, flight: str) -> dict[str, str]:
    """sha256 per product: pixels + grid of each raster, sorted features of each GeoPackage."""
    import json

    import pyogrio

    out = {}
    for product in load_products(ws, flight):
        path = ws.root / product.path
        digest = hashlib.sha256()
        if path.suffix == ".gpkg":
            frame = pyogrio.read_dataframe(path)
            rows = sorted(json.dumps([str(v) for v in row]) for row in frame.to_wkt().values)
            digest.update("\n".join(rows).encode())
        else:
            with rasterio.open(path) as ds:
                digest.update(np.ascontiguousarray(ds.read()).tobytes())
                digest.update(repr((ds.crs.to_string(), tuple(ds.transform))).encode())
        out[product.id] = digest.hexdigest()
    return out


def _ingested_sample(root: Path, source: Path) -> Workspace:
    from flights.ingest import ingest_folder

    ws = Workspace.at(root)
    ingest_folder(
        source,
        IngestConfig(
            archive_dir=ws.archive("s"),
            quarantine_dir=ws.quarantine("s"),
            flight_id="s",
            now=datetime(2026, 11, 28, tzinfo=UTC),
            workers=1,
            flight_json=ws.flight_json("s"),
        ),
    )
    return ws


@pytest.mark.slow
def test_process_flight_frames_as_dask_tasks_identical_to_local(cluster: object, tmp_path: Path) -> None:
    """The sample flight on a LocalCluster: one task per frame (and per thermal frame), same products."""
    from distributed import Client, get_task_stream

    from flights.sample import make_sample_flight

    make_sample_flight(tmp_path / "sample")
    overrides = ThermalOverrides(emissivity=0.95, reflected_temp_c=5.0)
    local = _ingested_sample(tmp_path / "local", tmp_path / "sample")
    remote = _ingested_sample(tmp_path / "dask", tmp_path / "sample")
    local_products = process_flight(local, "s", ProcessConfig(thermal_overrides=overrides))
    seen: list[tuple[int, int]] = []
    with Client(cluster) as client:  # type: ignore[no-untyped-call]
        executor = DaskExecutor(client)
        with get_task_stream(client) as stream:
            dask_products = process_flight(
                remote,
                "s",
                ProcessConfig(thermal_overrides=overrides),
                executor=executor,
                progress=lambda d, t: seen.append((d, t)),
            )
        executor.close()
    frames = [c for c in load_flight(remote.flight_json("s")).captures if c.usable]
    keys = {str(task["key"]) for task in stream.data}
    per_frame = {k for k in keys if k.startswith("georeference_frame-")}
    per_thermal = {k for k in keys if k.startswith("convert_thermal_frame-")}
    assert len(per_frame) == len(frames) == 7  # one task per frame
    assert len(per_thermal) == 1  # the sample flight's one thermal frame
    per_gcp = {k for k in keys if k.startswith("warp_gcp_frame-")}
    gcp_products = sorted(p.id for p in dask_products if isinstance(p.georef, GcpGeoref))
    assert gcp_products == ["s-gcpframe-DJI_0002", "s-gcpframe-DJI_0005"]
    assert len(per_gcp) == len(gcp_products)  # one GCP task per GCP-warped frame
    assert {task["worker"] for task in stream.data} <= set(cluster.scheduler_info["workers"])  # type: ignore[attr-defined]
    assert seen[-1] == (7, 7) and len(seen) == 7  # progress per frame as the tasks finished
    assert [p.model_dump(mode="json") for p in dask_products] == [
        p.model_dump(mode="json") for p in local_products
    ]
    assert local.products_json("s").read_bytes() == remote.products_json("s").read_bytes()
    hashes = _product_hashes(local, "s")
    assert len(hashes) == 12 and hashes == _product_hashes(remote, "s")
    thermal = next(p for p in dask_products if p.kind == ProductKind.THERMAL_FRAME)
    assert thermal.thermal is not None and thermal.thermal.emissivity is not None
    assert thermal.thermal.emissivity.source == "override"


@pytest.mark.slow
def test_cli_process_scheduler_and_workers(cluster: object, tmp_path: Path) -> None:
    """``dronegis process --scheduler`` (and ``--workers 2``) give the products of a run in this process."""
    import json

    from click.testing import CliRunner

    from dronegis.cli.main import cli
    from flights.sample import make_sample_flight

    make_sample_flight(tmp_path / "sample")
    runs = {name: _ingested_sample(tmp_path / name, tmp_path / "sample") for name in ("here", "dask", "pool")}
    extra = {
        "here": [],
        "dask": ["--scheduler", cluster.scheduler_address],  # type: ignore[attr-defined]
        "pool": ["--workers", "2"],
    }
    for name, ws in runs.items():
        out = CliRunner().invoke(cli, ["process", "s", "--workspace", str(ws.root), "--json", *extra[name]])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["ok"]
    hashes = _product_hashes(runs["here"], "s")
    assert hashes and hashes == _product_hashes(runs["dask"], "s") == _product_hashes(runs["pool"], "s")
    unreachable = CliRunner().invoke(
        cli, ["process", "s", "--workspace", str(runs["here"].root), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert unreachable.exit_code == 2 and "Dask scheduler" in unreachable.output
