from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio

from pipeline.executors import (
    DaskExecutor,
    LocalExecutor,
    SerialExecutor,
    block_windows,
    executor_for,
    map_windows,
)


def _sha(path: Path) -> str:
    with rasterio.open(path) as ds:
        return hashlib.sha256(ds.read().tobytes()).hexdigest()


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    cl = distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    try:
        yield cl
    finally:
        cl.close()


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
