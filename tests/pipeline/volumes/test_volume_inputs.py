"""Bad input: every polygon ends in the result with a message naming it; whole-run problems raise clearly."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import LineString, Point, Polygon, box
from volume_site import SHAPES, TRANSFORM, Site, write_raster

from core.errors import HeightDatumError, PolygonLayerError, RasterInputError
from pipeline.volumes import BaseMethod, VolumeConfig, VolumeStatus, run_volumes


def polygons_file(path: Path, named: dict[str, object], crs: str = "EPSG:25832") -> Path:
    gpd.GeoDataFrame({"navn": list(named)}, geometry=list(named.values()), crs=crs).to_file(path)
    return path


def test_outside_nodata_tiny_self_intersecting_and_not_polygons(tmp_path: Path, site: Site) -> None:
    cone = SHAPES["cone"]
    x0, y_top = TRANSFORM.c, TRANSFORM.f
    with rasterio.open(site.dsm) as ds:
        heights = ds.read(1)
    heights[:, 150:] = np.nan  # the east three quarters have no data; the cone (x 20-40 m) straddles the edge
    dsm = write_raster(tmp_path / "holes.tif", heights, TRANSFORM)
    shapes = {
        "outside": box(x0 - 500, y_top - 50, x0 - 400, y_top),
        "half-on-nodata": Point(cone.x, cone.y).buffer(cone.radius + 2, 64),
        "all-nodata": Point(560_090, 6_215_090).buffer(5),
        "over-the-edge": box(x0 - 10, y_top - 30, x0 + 10, y_top - 10),
        "tiny": Point(560_010.05, 6_215_010.05).buffer(0.01),
        "bow-tie": Polygon(
            [(560_005, 6_215_005), (560_025, 6_215_025), (560_025, 6_215_005), (560_005, 6_215_025)]
        ),
        "a-line": LineString([(560_005, 6_215_005), (560_010, 6_215_010)]),
    }
    result = run_volumes(
        VolumeConfig(dsm=dsm, polygons=polygons_file(tmp_path / "bad.gpkg", shapes), id_field="navn")
    )
    found = {p.id: p for p in result.polygons}
    assert list(found) == list(shapes)  # every feature, in file order
    assert found["outside"].status is VolumeStatus.FAILED
    assert "polygon outside lies outside the DSM" in found["outside"].problems[0]
    half = found["half-on-nodata"]
    assert half.status is VolumeStatus.PARTIAL and 0.2 < half.coverage < 0.8
    assert (
        half.problems[0].startswith("polygon half-on-nodata: DSM dækker") and "DSM covers" in half.problems[0]
    )
    assert found["all-nodata"].status is VolumeStatus.FAILED
    assert "all-nodata" in found["all-nodata"].problems[0]
    edge = found["over-the-edge"]
    assert edge.status is VolumeStatus.PARTIAL and edge.coverage == pytest.approx(0.5, abs=0.02)
    assert found["tiny"].status is VolumeStatus.FAILED and "no cell centre" in found["tiny"].problems[0]
    bow = found["bow-tie"]
    assert bow.status is VolumeStatus.OK and "repaired" in bow.problems[0] and "bow-tie" in bow.problems[0]
    assert found["a-line"].status is VolumeStatus.FAILED and "not a polygon" in found["a-line"].problems[0]
    assert {p.id for p in result.failed} == {"outside", "all-nodata", "tiny", "a-line"}


def test_few_boundary_cells_fail_the_plane_but_not_the_run(tmp_path: Path, site: Site) -> None:
    with rasterio.open(site.dsm) as ds:
        heights = ds.read(1)
    heights[:] = np.nan
    heights[140:160, 140:160] = 50.0  # data only well inside the polygon: its boundary has none
    dsm = write_raster(tmp_path / "island.tif", heights, TRANSFORM)
    polygons = polygons_file(tmp_path / "p.geojson", {"island": Point(560_030, 6_215_090).buffer(8)})
    result = run_volumes(VolumeConfig(dsm=dsm, polygons=polygons, id_field="navn"))
    assert result.polygons[0].status is VolumeStatus.FAILED
    problem = result.polygons[0].problems[0]
    assert problem.startswith("polygon island:") and "0 valid DSM cells on its boundary" in problem


def test_base_raster_in_another_vertical_datum_is_refused(tmp_path: Path, site: Site) -> None:
    with rasterio.open(site.ground) as ds:
        ground = ds.read(1)
    dvr90 = write_raster(tmp_path / "dtm_dvr90.tif", ground, TRANSFORM, crs="EPSG:7416")  # UTM 32N + DVR90
    ellipsoidal = write_raster(
        tmp_path / "dsm_ellipsoidal.tif", ground + 40, TRANSFORM, DRONEGIS_HEIGHT_DATUM="ellipsoidal (ETRS89)"
    )
    config = VolumeConfig(dsm=ellipsoidal, polygons=site.polygons, base=BaseMethod.SURFACE, base_dem=dvr90)
    with pytest.raises(HeightDatumError, match=r"dsm_ellipsoidal\.tif.*ellipsoidal.*dtm_dvr90\.tif.*DVR90"):
        run_volumes(config)


def test_geographic_dsm_and_polygons_without_crs_are_refused(tmp_path: Path, site: Site) -> None:
    from affine import Affine

    degrees = write_raster(
        tmp_path / "deg.tif", np.ones((10, 10)), Affine(1e-4, 0, 9.9, 0, -1e-4, 56.0), "EPSG:4326"
    )
    with pytest.raises(RasterInputError, match=r"deg\.tif.*degrees"):
        run_volumes(VolumeConfig(dsm=degrees, polygons=site.polygons))
    bare = tmp_path / "bare.geojson"
    bare.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                    '"geometry":{"type":"Point","coordinates":[560030,6215090]}}]}')  # fmt: skip
    with pytest.raises(PolygonLayerError, match=r"bare\.geojson"):
        run_volumes(VolumeConfig(dsm=site.dsm, polygons=bare))


def test_unknown_id_field_names_the_file_and_the_fields(site: Site) -> None:
    with pytest.raises(PolygonLayerError, match=r"piles\.geojson has no id field 'nummer' \(fields: navn\)"):
        run_volumes(VolumeConfig(dsm=site.dsm, polygons=site.polygons, id_field="nummer"))


def test_config_rejects_a_surface_base_without_raster(site: Site) -> None:
    with pytest.raises(ValueError, match="base=surface"):
        VolumeConfig(dsm=site.dsm, polygons=site.polygons, base=BaseMethod.SURFACE)
