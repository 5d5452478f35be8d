"""Ellipsoidal heights to DVR90 (pipeline.geodesy.dvr90), REFERENCE.md §2.6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from core.errors import UsageError
from pipeline.geodesy.dvr90 import (
    dvr90_transformer,
    geoid_heights,
    geoid_offsets,
    register_grids,
    to_dvr90,
    with_dvr90,
)


@pytest.fixture
def grids(data_dir: Path) -> Path:
    return data_dir / "proj_grids"


def test_reference_vector_geographic(grids: Path) -> None:
    """100.0 m ellipsoidal at 9.93 E, 56.04 N is 60.433 m DVR90(2023)."""
    transformer = dvr90_transformer("EPSG:4258", grids)
    assert transformer is not None
    out = to_dvr90(transformer, np.array([9.93]), np.array([56.04]), np.array([100.0]))
    assert out[0] == pytest.approx(60.433, abs=0.0005)
    assert "dk_sdfi_dvr90_2023.tif" in transformer.definition


def test_reference_vector_utm(grids: Path) -> None:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(9.93, 56.04)
    transformer = dvr90_transformer("EPSG:25832", grids)
    assert transformer is not None
    out = to_dvr90(transformer, np.array([x]), np.array([y]), np.array([100.0]))
    assert out[0] == pytest.approx(60.433, abs=0.0005)
    offsets = geoid_offsets(transformer, np.array([x, x + 5000.0]), np.array([y, y]))
    assert offsets[0] == pytest.approx(-39.567, abs=0.0005)
    assert -42 < offsets[1] < -36
    n = geoid_heights(grids, "EPSG:7416", np.array([x, -4.7e6]), np.array([y, 11.1e6]))
    assert n is not None and n[0] == pytest.approx(39.567, abs=0.0005) and np.isnan(n[1])  # outside: NaN


def test_compound_crs_and_no_grid_folder() -> None:
    assert with_dvr90("EPSG:25832").to_epsg() == 7416
    assert with_dvr90("EPSG:3857").is_compound and with_dvr90("EPSG:3857").to_epsg() is None
    assert dvr90_transformer("EPSG:25832", None) is None
    assert geoid_heights(None, "EPSG:25832", np.array([560000.0]), np.array([6210000.0])) is None


def test_bad_grid_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="holds no .tif grids"):
        register_grids(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        dvr90_transformer("EPSG:25832", tmp_path / "missing")


def test_outside_grid_raises(grids: Path) -> None:
    transformer = dvr90_transformer("EPSG:4258", grids)
    assert transformer is not None
    with pytest.raises(UsageError, match="outside the DVR90 grid"):
        to_dvr90(transformer, np.array([-93.0]), np.array([45.0]), np.array([100.0]))


def test_grids_do_not_touch_proj_env_or_rasterio(grids: Path) -> None:
    """STACK.md: PROJ_DATA/PROJ_LIB set globally break rasterio; we only extend pyproj's path."""
    import os

    import rasterio.crs

    register_grids(grids)
    register_grids(grids)  # idempotent
    assert "PROJ_DATA" not in os.environ and "PROJ_LIB" not in os.environ
    assert rasterio.crs.CRS.from_epsg(7416).to_epsg() == 7416  # rasterio's own proj.db still works
    import pyproj.datadir

    assert pyproj.datadir.get_data_dir().split(os.pathsep).count(str(grids.resolve())) == 1
