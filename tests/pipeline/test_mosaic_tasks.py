"""The thermal mosaic as window tasks: same bytes whatever the block size or the executor."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core.errors import UsageError
from pipeline.executors import DaskExecutor, LocalExecutor, SerialExecutor, block_windows
from pipeline.mosaic.build import thermal_mosaic
from pipeline.mosaic.tasks import MosaicFrame, mosaic_window, plan_windows
from pipeline.thermal.frames import write_thermal_frame


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def frames(tmp_path: Path) -> list[Path]:
    """Four overlapping °C frames: different pixel sizes, one in another CRS, NaN holes."""
    rng = np.random.default_rng(7)
    out = []
    for i, (crs, left, res) in enumerate(
        [
            ("EPSG:25832", 560000.0, 1.0),
            ("EPSG:25832", 560010.3, 0.7),
            ("EPSG:32632", 560030.0, 1.3),
            ("EPSG:25832", 560005.0, 1.0),
        ]
    ):
        data = rng.normal(20.0, 5.0, (40, 36)).astype(np.float32)
        data[0, :5] = np.nan
        top = 6215520.0 - 7.0 * i
        transform = from_origin(left, top, res, res)
        out.append(write_thermal_frame(data, tmp_path / f"f{i}.tif", crs=crs, transform=transform))
    return out


def test_mosaic_bytes_do_not_depend_on_block_size(frames: list[Path], tmp_path: Path) -> None:
    whole = thermal_mosaic(frames, tmp_path / "whole.tif")  # one 1024 px window
    for block in (16, 48):
        assert _sha(thermal_mosaic(frames, tmp_path / f"b{block}.tif", block=block)) == _sha(whole)
    with rasterio.open(whole) as src:
        data = src.read(1)
        assert (src.width, src.height) == (110, 95)  # 0.7 m pixels over 76.8 m × 66 m
    assert np.isfinite(data).mean() > 0.5
    assert not list(tmp_path.glob(".*"))  # the block file and the COG's temporary are gone
    with pytest.raises(
        UsageError, match=r"b20\.tif: mosaic block must be a positive multiple of 16 px, got 20"
    ):
        thermal_mosaic(frames, tmp_path / "b20.tif", block=20)


def test_local_pool_gives_the_same_mosaic(frames: list[Path], tmp_path: Path) -> None:
    serial = thermal_mosaic(frames, tmp_path / "serial.tif", executor=SerialExecutor(), block=32)
    pool = LocalExecutor(workers=2)
    try:
        local = thermal_mosaic(frames, tmp_path / "pool.tif", executor=pool, block=32)
    finally:
        pool.close()
    assert _sha(local) == _sha(serial)


def test_window_tasks_list_only_overlapping_frames(tmp_path: Path) -> None:
    from rasterio.transform import Affine

    grid = Affine(1, 0, 560000, 0, -1, 6215520)
    a = MosaicFrame(str(tmp_path / "a.tif"), (0, 16), (0, 18))
    b = MosaicFrame(str(tmp_path / "b.tif"), (0, 16), (40, 48))
    tasks = plan_windows([a, b], list(block_windows(64, 16, 16)), grid, "EPSG:25832")
    assert [[f.path[-5:] for f in t.frames] for t in tasks] == [["a.tif"], ["a.tif"], ["b.tif"], []]
    gap = tasks[3]
    block = mosaic_window(gap)  # no frame opened: the paths do not even exist
    assert block.shape == (16, 16) and block.dtype == np.float32 and np.isnan(block).all()


@pytest.mark.slow
def test_mosaic_on_a_dask_cluster_equals_the_local_one(
    cluster: object, frames: list[Path], tmp_path: Path
) -> None:
    from distributed import Client, get_task_stream

    local = thermal_mosaic(frames, tmp_path / "local.tif", block=32)
    with Client(cluster) as client:  # type: ignore[no-untyped-call]
        executor = DaskExecutor(client)
        with get_task_stream(client) as stream:
            remote = thermal_mosaic(frames, tmp_path / "dask.tif", executor=executor, block=32)
        executor.close()
    assert _sha(remote) == _sha(local)
    windows = [t for t in stream.data if str(t["key"]).startswith("mosaic_window-")]
    assert len(windows) == len(list(block_windows(110, 95, 32))) == 12  # one task per window
    workers = set(cluster.scheduler_info["workers"])  # type: ignore[attr-defined]
    assert {t["worker"] for t in windows} <= workers and len(workers) == 2
