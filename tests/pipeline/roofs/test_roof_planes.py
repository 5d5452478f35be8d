"""Roofs of known planes: face areas, slopes and aspects; heights above a DTM; bad footprints."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely import affinity
from shapely.geometry import LineString, box

from core.errors import HeightDatumError
from pipeline.roofs import RoofConfig, RoofRun, RoofSettings, RoofStatus, run_roofs
from pipeline.roofs.segment import segment_roof

CELL = 0.1
T = Affine(CELL, 0, 600_000, 0, -CELL, 6_200_040)
GROUND = 40.0
EAVES = 6.0  # eaves height above the ground
SLOPES = (30.0, 40.0)  # the two faces of the gable, each 5 m deep
CENTRE = (600_020.0, 6_200_020.0)


def angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def gable(rotation_deg: float) -> tuple[np.ndarray, object]:
    """Heights of a 12 m × 10 m gable roof on level ground, ridge along the (rotated) x axis."""
    rows, cols = np.mgrid[0:400, 0:400] + 0.5
    x, y = T.c + T.a * cols - CENTRE[0], T.f + T.e * rows - CENTRE[1]
    th = math.radians(rotation_deg)
    across = -x * math.sin(th) + y * math.cos(th)  # towards the (rotated) north
    t_south, t_north = (math.tan(math.radians(s)) for s in SLOPES)
    ridge = EAVES + 5 * t_south  # south face rises 5 m at 30° to the ridge
    roof = np.where(across < 0, ridge - t_south * -across, ridge - t_north * across)
    footprint = affinity.rotate(box(CENTRE[0] - 6, CENTRE[1] - 5, CENTRE[0] + 6, CENTRE[1] + 5), rotation_deg)
    inside = np.asarray(footprint.contains(gpd.points_from_xy(x.ravel() + CENTRE[0], y.ravel() + CENTRE[1])))
    heights = GROUND + np.where(inside.reshape(x.shape), roof, 0.0)
    heights[:, :] += np.random.default_rng(0).normal(0, 0.01, heights.shape)  # 1 cm noise
    return heights, footprint


def write(path: Path, data: np.ndarray) -> Path:
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": "float32", "crs": "EPSG:25832", "transform": T, "nodata": -9999.0}  # fmt: skip
    with rasterio.open(path, "w", **profile) as out:
        out.write(data.astype(np.float32), 1)
    return path


def roof_run(
    tmp_path: Path, rotation: float, *, dtm: bool = True, extra: dict[str, object] | None = None
) -> RoofRun:
    heights, footprint = gable(rotation)
    shapes = {"hus": footprint, **(extra or {})}
    gpd.GeoDataFrame({"bygning_id": list(shapes)}, geometry=list(shapes.values()), crs=25832).to_file(
        tmp_path / "fp.gpkg"
    )
    config = RoofConfig(
        dsm=write(tmp_path / "dsm.tif", heights),
        footprints=tmp_path / "fp.gpkg",
        dtm=write(tmp_path / "dtm.tif", np.full(heights.shape, GROUND)) if dtm else None,
        out_dir=tmp_path / "out",
    )
    return run_roofs(config)


@pytest.mark.parametrize("rotation", [0.0, 30.0, 117.0])
def test_gable_faces_area_slope_aspect(tmp_path: Path, rotation: float) -> None:
    result = roof_run(tmp_path, rotation)
    building = result.buildings[0]
    assert building.id == "hus" and building.status is RoofStatus.OK and building.planes == 2
    faces = sorted(result.planes, key=lambda p: p.slope_deg)
    # the footprint turns anticlockwise (shapely), so compass bearings turn the other way
    for face, slope, aspect in zip(faces, SLOPES, (180.0 - rotation, -rotation), strict=True):
        assert face.slope_deg == pytest.approx(slope, abs=0.5)
        assert angle_gap(face.aspect_deg, aspect % 360) < 0.5
        assert face.area_m2 == pytest.approx(12 * 5 / math.cos(math.radians(slope)), rel=0.01)
    total = 60 / math.cos(math.radians(30)) + 60 / math.cos(math.radians(40))
    assert building.roof_area_m2 == pytest.approx(total, rel=0.01)
    assert building.dominant_slope_deg == pytest.approx(40.0, abs=0.5)  # the larger face
    assert building.footprint_area_m2 == pytest.approx(120.0)


def test_height_above_terrain_and_files(tmp_path: Path) -> None:
    result = roof_run(tmp_path, 0.0)
    building = result.buildings[0]
    ridge = EAVES + 5 * math.tan(math.radians(30))
    assert building.max_height_m == pytest.approx(ridge, abs=0.1)
    assert EAVES < building.height_m < ridge
    faces = gpd.read_file(result.outputs["gpkg"], layer="roof_planes")
    assert faces.crs.to_epsg() == 25832 and len(faces) == 2
    assert sorted(faces.geometry.area) == pytest.approx([60.0, 60.0], rel=0.01)
    buildings = gpd.read_file(result.outputs["gpkg"], layer="buildings")
    assert buildings.loc[0, "id"] == "hus"
    danish = Path(result.outputs["csv"]).read_text(encoding="utf-8-sig").splitlines()
    assert danish[0].startswith("Id;Status;Tagareal (m²)")
    html = Path(result.outputs["html"]).read_text(encoding="utf-8")
    assert html.index("Tagopmåling") < html.index("Roof report")


def test_bad_footprints_are_reported_by_name(tmp_path: Path) -> None:
    extra = {
        "langt-væk": box(0, 0, 10, 10),
        "en-streg": LineString([(600_001, 6_200_001), (600_005, 6_200_005)]),
    }
    result = roof_run(tmp_path, 0.0, extra=extra)
    found = {b.id: b for b in result.buildings}
    assert found["hus"].status is RoofStatus.OK
    assert found["langt-væk"].status is RoofStatus.FAILED
    assert "building langt-væk lies outside the DSM" in found["langt-væk"].problems[0]
    assert found["en-streg"].status is RoofStatus.FAILED and "not a polygon" in found["en-streg"].problems[0]


def test_dtm_in_another_datum_is_refused_without_the_grid(tmp_path: Path) -> None:
    heights, footprint = gable(0.0)
    gpd.GeoDataFrame({"id": ["hus"]}, geometry=[footprint], crs=25832).to_file(tmp_path / "fp.gpkg")
    dsm = write(tmp_path / "dsm.tif", heights)
    with rasterio.open(dsm, "r+") as ds:
        ds.update_tags(DRONEGIS_HEIGHT_DATUM="DVR90 (EPSG:5799)")
    dtm = write(tmp_path / "dtm.tif", np.full(heights.shape, GROUND + 40))
    with rasterio.open(dtm, "r+") as ds:
        ds.update_tags(DRONEGIS_HEIGHT_DATUM="ellipsoidal (ETRS89)")
    with pytest.raises(HeightDatumError, match=r"dsm\.tif.*DVR90.*DTM.*dtm\.tif.*ellipsoidal"):
        run_roofs(RoofConfig(dsm=dsm, footprints=tmp_path / "fp.gpkg", dtm=dtm))


def test_flat_roof_has_no_aspect() -> None:
    heights = np.full((50, 50), 12.0) + np.random.default_rng(1).normal(0, 0.005, (50, 50))
    seg = segment_roof(heights, np.ones((50, 50), bool), T, RoofSettings())
    assert len(seg.fits) == 1
    assert seg.fits[0].plane.slope_deg < 0.5
