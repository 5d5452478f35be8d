"""Shared fixtures: the real data folder, tiny rasters, a workspace."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]


def _import_orthority_without_its_side_effect() -> None:
    """Orthority (a reference the georeferencing tests compare against) sets ``PROJ_NETWORK=ON`` in
    ``os.environ`` when it is imported. PROJ contexts created after that (GDAL's, per thread) look for
    datum grids online; with no internet, NAD83 → WGS84 came back as infinities, so a test's result
    depended on whether orthority had been collected before it. Here, first, GDAL's PROJ settles its
    network choice (off) on a datum transformation that has online grids, then orthority is imported
    and the environment put back as it was (measured: popping the variable after the import alone
    was not enough)."""
    from rasterio.warp import transform_bounds  # noqa: PLC0415

    nad83 = transform_bounds("EPSG:26918", "EPSG:4326", 321498.0, 4297500.0, 322064.0, 4298018.0)
    assert all(abs(v) < 360 for v in nad83), f"PROJ cannot bring NAD83 to WGS84 offline: {nad83}"
    before = os.environ.get("PROJ_NETWORK")
    import orthority  # noqa: F401, PLC0415

    if before is None:
        os.environ.pop("PROJ_NETWORK", None)
    else:
        os.environ["PROJ_NETWORK"] = before


_import_orthority_without_its_side_effect()


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
