"""Reading polygon layers: formats, CRS, ids, and bad features flagged per feature."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from core.errors import PolygonLayerError
from pipeline.zonal import ProblemCode, read_polygons

X0, Y0 = 560000.0, 6215400.0


def buildings(n: int = 3) -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + 20 * i, Y0, X0 + 20 * i + 10, Y0 + 8) for i in range(n)]
    return gpd.GeoDataFrame(
        {"id_lokalId": [f"b{i}" for i in range(n)], "BYG_ANVEND": [120, 120, 320][:n]},
        geometry=boxes,
        crs="EPSG:25832",
    )


@pytest.mark.parametrize(
    ("driver", "suffix"), [("GPKG", ".gpkg"), ("GeoJSON", ".geojson"), ("ESRI Shapefile", ".shp")]
)
def test_any_format_in_any_crs_is_reprojected_to_the_target(tmp_path: Path, driver: str, suffix: str) -> None:
    path = tmp_path / f"b{suffix}"
    buildings().to_crs("EPSG:4326" if driver == "GeoJSON" else "EPSG:3044").to_file(path, driver=driver)
    layer = read_polygons(path)
    assert layer.crs == "EPSG:25832"
    assert layer.id_field is not None and layer.id_field.lower() == "id_lokalid"
    assert [f.id for f in layer.features] == ["b0", "b1", "b2"]
    assert layer.features[2].attributes["BYG_ANVEND"] == 320
    # EPSG:3044 and 25832 share axes; 4326 round trip is sub-millimetre at these sizes
    assert layer.features[0].geometry.bounds == pytest.approx((X0, Y0, X0 + 10, Y0 + 8), abs=1e-3)
    assert all(not f.problems for f in layer.features)


def test_target_crs_other_than_25832(tmp_path: Path) -> None:
    path = tmp_path / "b.gpkg"
    buildings().to_file(path)
    layer = read_polygons(path, crs="EPSG:4326")
    assert layer.crs == "EPSG:4326"
    assert layer.features[0].geometry.bounds[0] == pytest.approx(9.96, abs=0.05)


def test_shapefile_without_prj_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    buildings().to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(PolygonLayerError, match=r"noprj\.shp has no CRS"):
        read_polygons(path)


def test_geojson_in_metres_without_crs_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "metres.geojson"
    feature = {
        "type": "Feature",
        "properties": {"id": 1},
        "geometry": shapely.geometry.mapping(shapely.box(X0, Y0, X0 + 5, Y0 + 5)),
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(PolygonLayerError, match=r"metres\.geojson .*states no CRS"):
        read_polygons(path)


def test_bad_features_are_flagged_not_fatal(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    frame = gpd.GeoDataFrame(
        {"bygning_id": ["a", "a", "c", None, "e"]},
        geometry=[
            bowtie,
            shapely.box(X0, Y0, X0 + 1, Y0 + 1),
            shapely.Polygon(),
            shapely.box(X0, Y0, X0 + 2, Y0 + 2),
            shapely.Point(X0, Y0),
        ],
        crs="EPSG:25832",
    )
    path = tmp_path / "bad.gpkg"
    frame.to_file(path)
    layer = read_polygons(path)
    codes = {f.index: {p.code for p in f.problems} for f in layer.features}
    assert codes[0] == {ProblemCode.REPAIRED, ProblemCode.DUPLICATE_ID}
    assert codes[1] == {ProblemCode.DUPLICATE_ID}
    assert codes[2] == {ProblemCode.EMPTY}
    assert codes[3] == {ProblemCode.MISSING_ID}
    assert codes[4] == {ProblemCode.NOT_POLYGON}
    repaired = layer.features[0].geometry
    assert repaired.is_valid and repaired.area == pytest.approx(50.0)
    assert [f.index for f in layer.usable] == [0, 1, 3]
    assert layer.features[3].id == "#3"
    assert (layer.features[0].key, layer.features[1].key) == ("a~0", "a~1")
    assert all("bad.gpkg" in p.message for _, p in layer.problems)


def test_id_field_option(tmp_path: Path) -> None:
    path = tmp_path / "b.gpkg"
    buildings().to_file(path)
    assert [f.id for f in read_polygons(path, id_field="byg_anvend").features] == ["120", "120", "320"]
    with pytest.raises(
        PolygonLayerError, match=r"b\.gpkg has no id field 'nope' \(fields: id_lokalId, BYG_ANVEND\)"
    ):
        read_polygons(path, id_field="nope")


def test_unreadable_file_and_missing_layer(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a geopackage")
    with pytest.raises(PolygonLayerError, match=r"junk\.gpkg cannot be read"):
        read_polygons(junk)
    path = tmp_path / "b.gpkg"
    buildings().to_file(path, layer="bygning")
    with pytest.raises(PolygonLayerError, match=r"no layer 'x' \(layers: bygning\)"):
        read_polygons(path, layer="x")


def test_geodanmark_footprints_epsg3044(data_dir: Path) -> None:
    layer = read_polygons(data_dir / "dk_sdfi_dhmqc/demo/build_1km_6173_632.geojson")
    assert layer.source_crs == "EPSG:3044" and layer.id_field == "FID"
    assert len(layer.usable) == 11
    assert layer.features[0].id == "65"
    assert layer.features[0].geometry.has_z is False
    assert 632000 < layer.features[0].geometry.centroid.x < 633000


def test_opengeos_buildings_crs84(data_dir: Path) -> None:
    layer = read_polygons(data_dir / "opengeos_data/elevation/buildings.geojson", crs="EPSG:26918")
    assert layer.source_crs in ("OGC:CRS84", "EPSG:4326")
    assert len(layer.features) == 84 and layer.id_field is None
    assert layer.features[1].id == "#1"
    # independent check: the geodesic area of the CRS84 polygons (pyproj.Geod) equals the projected area
    source = gpd.read_file(data_dir / "opengeos_data/elevation/buildings.geojson")
    geod = Geod(ellps="WGS84")
    for feature, geom in zip(layer.features, source.geometry, strict=True):
        assert feature.geometry.area == pytest.approx(abs(geod.geometry_area_perimeter(geom)[0]), rel=1e-3)
