"""``dronegis roofs``: JSON on stdout, files written, exit codes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner
from shapely.geometry import box

from dronegis.cli.main import cli

T = Affine(0.25, 0, 600_000, 0, -0.25, 6_200_020)


def test_roofs_cli_shed_roof(tmp_path: Path) -> None:
    """A 10 m × 8 m shed roof rising 20° towards the north; one footprint off the DSM."""
    rows, cols = np.mgrid[0:80, 0:80] + 0.5
    x, y = T.c + T.a * cols, T.f + T.e * rows
    on_roof = (abs(x - 600_010) < 5) & (abs(y - 6_200_010) < 4)
    heights = np.where(on_roof, 5 + math.tan(math.radians(20)) * (y - 6_199_996), 0.0) + 30
    dsm = tmp_path / "dsm.tif"
    profile = {"driver": "GTiff", "width": 80, "height": 80, "count": 1, "dtype": "float32",
               "crs": "EPSG:25832", "transform": T}  # fmt: skip
    with rasterio.open(dsm, "w", **profile) as out:
        out.write(heights.astype(np.float32), 1)
    fp = tmp_path / "fp.geojson"
    shapes = [box(600_005, 6_200_006, 600_015, 6_200_014), box(0, 0, 1, 1)]
    gpd.GeoDataFrame({"id": ["skur", "væk"]}, geometry=shapes, crs=25832).to_file(fp)
    args = ["roofs", str(dsm), "--footprints", str(fp), "--out", str(tmp_path / "out"), "--json"]
    result = CliRunner().invoke(cli, args, env={"DRONEGIS_WORKSPACE": str(tmp_path)}, catch_exceptions=False)
    assert result.exit_code == 1  # "væk" is off the DSM
    payload = json.loads(result.stdout)
    shed = next(b for b in payload["buildings"] if b["id"] == "skur")
    assert shed["planes"] == 1
    assert shed["dominant_slope_deg"] == pytest.approx(20.0, abs=0.5)
    assert shed["dominant_aspect_deg"] == pytest.approx(180.0, abs=0.5)  # it falls towards the south
    assert shed["roof_area_m2"] == pytest.approx(80 / math.cos(math.radians(20)), abs=0.8)
    assert (tmp_path / "out" / "roofs.gpkg").exists()
