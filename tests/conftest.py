"""Shared fixtures: the real data folder, tiny rasters, a workspace."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    return Path(os.environ.get("DRONEGIS_TEST_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real public test data (../shared/data, or $DRONEGIS_TEST_DATA). Read-only."""
    root = _data_root()
    if not (root / "SOURCES.md").exists():
        pytest.fail(f"real test data not found at {root}; set DRONEGIS_TEST_DATA")
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary folder."""
    return Workspace.at(tmp_path / "ws")


@pytest.fixture
def make_raster(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write a small GeoTIFF and return its path."""
    import rasterio
    from rasterio.transform import from_origin

    def _make(
        name: str = "r.tif",
        width: int = 16,
        height: int = 16,
        count: int = 1,
        dtype: str = "uint8",
        crs: str | None = "EPSG:25832",
        transform: object | None = None,
        nodata: float | None = None,
        data: np.ndarray | None = None,
    ) -> Path:
        path = tmp_path / name
        if data is None:
            rng = np.random.default_rng(0)
            data = (rng.random((count, height, width)) * 200).astype(dtype)
        profile = {
            "driver": "GTiff",
            "width": width,
            "height": height,
            "count": count,
            "dtype": dtype,
            "transform": transform or from_origin(560000, 6215500, 0.5, 0.5),
            "nodata": nodata,
        }
        if crs:
            profile["crs"] = crs
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
        return path

    return _make
