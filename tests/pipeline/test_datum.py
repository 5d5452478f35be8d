"""Ellipsoidal heights to DVR90 (pipeline.datum), REFERENCE.md §2.6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from core.errors import EllipsoidalHeightWarning, UsageError
from pipeline.datum import dvr90_transformer, geoid_offsets, plan_heights, register_grids, to_dvr90
from pipeline.models import HeightDatum


@pytest.fixture
def grids(data_dir: Path) -> Path:
    return data_dir / "proj_grids"


def test_reference_vector_geographic(grids: Path) -> None:
    """100.0 m ellipsoidal at 9.93 E, 56.04 N is 60.433 m DVR90(2023)."""
    plan = plan_heights("EPSG:4258", grids)
    assert plan.datum is HeightDatum.DVR90
    assert plan.transformer is not None
    out = to_dvr90(plan.transformer, np.array([9.93]), np.array([56.04]), np.array([100.0]))
    assert out[0] == pytest.approx(60.433, abs=0.0005)
    assert plan.operation is not None and "dk_sdfi_dvr90_2023.tif" in plan.operation


def test_reference_vector_utm(grids: Path) -> None:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(9.93, 56.04)
    plan = plan_heights("EPSG:25832", grids)
    assert plan.transformer is not None
    out = to_dvr90(plan.transformer, np.array([x]), np.array([y]), np.array([100.0]))
    assert out[0] == pytest.approx(60.433, abs=0.0005)
    offsets = geoid_offsets(plan.transformer, np.array([x, x + 5000.0]), np.array([y, y]))
    assert offsets[0] == pytest.approx(-39.567, abs=0.0005)
    assert -42 < offsets[1] < -36


def test_no_grid_folder_labels_ellipsoidal() -> None:
    with pytest.warns(EllipsoidalHeightWarning, match="heights stay ellipsoidal"):
        plan = plan_heights("EPSG:25832", None, name="dsm.tif")
    assert plan.datum is HeightDatum.ELLIPSOIDAL
    assert plan.transformer is None and plan.operation is None


def test_heights_already_dvr90_pass_through(grids: Path) -> None:
    plan = plan_heights("EPSG:25832", grids, source_datum=HeightDatum.DVR90)
    assert plan == (HeightDatum.DVR90, None, None)
    unknown = plan_heights("EPSG:25832", None, source_datum=HeightDatum.UNKNOWN)
    assert unknown.datum is HeightDatum.UNKNOWN


def test_bad_grid_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="holds no .tif grids"):
        register_grids(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        dvr90_transformer("EPSG:25832", tmp_path / "missing")


def test_outside_grid_raises(grids: Path) -> None:
    plan = plan_heights("EPSG:4258", grids)
    assert plan.transformer is not None
    with pytest.raises(UsageError, match="outside the DVR90 grid"):
        to_dvr90(plan.transformer, np.array([-93.0]), np.array([45.0]), np.array([100.0]))


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
