"""Analytic solids on a tilted plane: volumes within 0.5 % with every base, and the files written."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from volume_site import CELL, SHAPES, TILT, Site, write_raster

from pipeline.rasters.cog import validate_cog
from pipeline.volumes import BaseMethod, VerticalError, VolumeConfig, VolumeRun, VolumeStatus, run_volumes


def run(site: Site, out: Path | None = None, **kwargs: object) -> VolumeRun:
    config = VolumeConfig(dsm=site.dsm, polygons=site.polygons, id_field="navn", out_dir=out, **kwargs)
    return run_volumes(config)


def by_id(result: VolumeRun) -> dict[str, object]:
    return {p.id: p for p in result.polygons}


def assert_solids(result: VolumeRun, rel: float = 0.005) -> None:
    found = by_id(result)
    for name, shape in SHAPES.items():
        p = found[name]
        assert p.status is VolumeStatus.OK, p.problems
        expected = shape.volume
        if shape.sign > 0:
            assert p.cut_m3 == pytest.approx(expected, rel=rel)
            assert p.fill_m3 == pytest.approx(0.0, abs=expected * 1e-4)
        else:
            assert p.fill_m3 == pytest.approx(expected, rel=rel)
            assert p.cut_m3 == pytest.approx(0.0, abs=expected * 1e-4)
        assert p.net_m3 == pytest.approx(shape.sign * expected, rel=rel)


def test_plane_base_on_the_boundary_gives_the_analytic_volumes(site: Site) -> None:
    result = run(site)
    assert_solids(result)
    cone = by_id(result)["cone"]
    slope = math.degrees(math.atan(math.hypot(*TILT)))
    aspect = math.degrees(math.atan2(-TILT[0], -TILT[1])) % 360
    assert cone.base.slope_deg == pytest.approx(slope, abs=1e-3)
    assert cone.base.aspect_deg == pytest.approx(aspect, abs=1e-2)
    assert cone.base.residual_rmse_m < 1e-4
    assert cone.max_height_m == pytest.approx(3.0, abs=0.05)
    assert cone.mean_height_m == pytest.approx(1.0, rel=0.01)  # a cone's mean height is h/3
    assert by_id(result)["pit"].max_depth_m == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("base", ["ground", "ground_25833"])
def test_base_raster_gives_the_analytic_volumes(site: Site, base: str) -> None:
    """The ground as a base raster, on the DSM's grid and in another CRS (warped on the fly)."""
    result = run(site, base=BaseMethod.SURFACE, base_dem=getattr(site, base))
    assert_solids(result)


def test_sloped_area_of_the_cone(site: Site) -> None:
    cone = by_id(run(site))["cone"]
    shape = SHAPES["cone"]
    tilt = math.sqrt(1 + TILT[0] ** 2 + TILT[1] ** 2)
    outside = cone.area_2d_m2 - math.pi * shape.radius**2
    # the cone's mantle on a tilted plane is not closed-form; bound it by the untilted mantle and ground
    mantle = math.pi * shape.radius * math.hypot(shape.radius, shape.height)
    assert cone.area_3d_m2 == pytest.approx(mantle + outside * tilt, rel=0.01)
    assert cone.area_2d_m2 == pytest.approx(math.pi * (shape.radius + 2) ** 2, rel=0.005)


def test_level_ground_lowest_and_average_bases(tmp_path: Path, site: Site) -> None:
    with rasterio.open(site.dsm) as ds, rasterio.open(site.ground) as ground:
        level = ds.read(1) - ground.read(1) + 50.0
        transform = ds.transform
    flat = Site(
        write_raster(tmp_path / "flat.tif", level, transform), site.ground, site.ground, site.polygons
    )
    for base in (BaseMethod.LOWEST, BaseMethod.AVERAGE, BaseMethod.PLANE):
        result = run(flat, base=base)
        assert_solids(result)
        assert by_id(result)["cone"].base.height_m == pytest.approx(50.0, abs=1e-4)


def test_lowest_base_on_a_tilted_plane_measures_more(site: Site) -> None:
    plane, lowest = by_id(run(site)), by_id(run(site, base=BaseMethod.LOWEST))
    assert lowest["cone"].cut_m3 > plane["cone"].cut_m3 * 1.5  # the level runs under the whole slope


def test_uncertainty_parts_follow_the_stated_model(site: Site) -> None:
    error = VerticalError.from_rmse(0.05, bias_m=0.03, source="test")
    assert error.sigma_m == pytest.approx(0.04)
    plane = by_id(run(site, dsm_error=error))["cone"]
    u = plane.uncertainty
    assert u.bias_m3 == 0.0  # the base comes from the same DSM: a constant bias cancels
    assert u.random_m3 == pytest.approx(0.04 * CELL**2 * math.sqrt(plane.valid_cells), rel=1e-9)
    assert u.total95_m3 == pytest.approx(
        1.96 * math.sqrt(u.random_m3**2 + u.base_m3**2 + u.cell_m3**2), rel=1e-9
    )
    surface = by_id(run(site, dsm_error=error, base=BaseMethod.SURFACE, base_dem=site.ground))["cone"]
    assert surface.uncertainty.bias_m3 == pytest.approx(0.03 * surface.area_2d_m2, rel=1e-9)
    correlated = by_id(run(site, dsm_error=error.model_copy(update={"correlation_range_m": 5.0})))["cone"]
    area = correlated.area_2d_m2  # larger than π·5², so Rolstad's σ²·πa²/(5A) applies
    assert correlated.uncertainty.random_m3 == pytest.approx(
        area * 0.04 * math.sqrt(math.pi * 25 / (5 * area))
    )


def test_outputs_cog_gpkg_csv_html(tmp_path: Path, site: Site) -> None:
    result = run(site, tmp_path / "out")
    files = {kind: Path(path) for kind, path in result.outputs.items()}
    assert set(files) == {"cutfill", "legend", "gpkg", "csv", "csv_en", "json", "html"}
    assert validate_cog(files["cutfill"]).valid
    with rasterio.open(files["cutfill"]) as ds:
        values = ds.read(1, masked=True)
        tags = ds.tags()
        assert float(values.sum()) * CELL**2 == pytest.approx(
            sum(p.net_m3 for p in result.polygons), rel=1e-5
        )
    assert float(tags["DRONEGIS_VMIN"]) == -float(tags["DRONEGIS_VMAX"])
    frame = gpd.read_file(files["gpkg"], layer="volumes")
    assert frame.crs.to_epsg() == 25832 and len(frame) == 3
    assert frame.set_index("id").loc["cone", "cut_m3"] == pytest.approx(SHAPES["cone"].volume, rel=0.005)
    raw = files["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, cone = rows[0], next(r for r in rows if r[0] == "cone")
    assert header[3] == "Afgravning (m³)"
    assert cone[3] == f"{by_id(result)['cone'].cut_m3:.2f}".replace(".", ",")
    english = list(csv.DictReader(files["csv_en"].open(encoding="utf-8")))
    assert float(next(r for r in english if r["id"] == "pit")["net_m3"]) == pytest.approx(
        -SHAPES["pit"].volume, rel=0.005
    )
    html = files["html"].read_text(encoding="utf-8")
    assert html.index("Volumenberegning") < html.index("Volume report")
    assert "data:image/png;base64," in html
    assert VolumeRun.model_validate_json(files["json"].read_text()).outputs == result.outputs


def test_independent_numpy_sum_agrees(site: Site) -> None:
    """Σ(DSM − ground)·A over the cells whose centre is in each circle, numpy and matplotlib only."""
    from matplotlib.path import Path as MplPath

    with rasterio.open(site.dsm) as ds, rasterio.open(site.ground) as ground:
        diff = ds.read(1).astype(np.float64) - ground.read(1).astype(np.float64)
        t = ds.transform
    rows, cols = np.mgrid[0 : diff.shape[0], 0 : diff.shape[1]] + 0.5
    points = np.column_stack([t.c + t.a * cols.ravel(), t.f + t.e * rows.ravel()])
    polygons = gpd.read_file(site.polygons).to_crs("EPSG:25832")
    result = by_id(run(site, base=BaseMethod.SURFACE, base_dem=site.ground))
    for name, geom in zip(polygons["navn"], polygons.geometry, strict=True):
        inside = MplPath(np.asarray(geom.exterior.coords)).contains_points(points).reshape(diff.shape)
        independent = float(diff[inside].sum()) * abs(t.a * t.e)
        assert result[name].net_m3 == pytest.approx(independent, rel=1e-3)


def test_polygons_larger_than_a_window_are_measured_in_strips(tmp_path: Path, site: Site) -> None:
    whole = by_id(run(site))
    strips = run(site, tmp_path / "strips", window_cells=4096)  # each circle holds 11 000-22 000 cells
    for name, p in by_id(strips).items():
        assert p.net_m3 == pytest.approx(whole[name].net_m3, rel=1e-9)
        assert p.valid_cells == whole[name].valid_cells and p.cells == whole[name].cells
        assert p.base.slope_deg == pytest.approx(whole[name].base.slope_deg, abs=1e-9)
        assert p.area_3d_m2 == pytest.approx(whole[name].area_3d_m2, rel=1e-3)  # one-sided gradients at cuts
        assert p.uncertainty.total_m3 == pytest.approx(whole[name].uncertainty.total_m3, rel=1e-6)
    with rasterio.open(strips.outputs["cutfill"]) as ds:
        total = float(ds.read(1, masked=True).sum()) * CELL**2
    assert total == pytest.approx(sum(p.net_m3 for p in strips.polygons), rel=1e-5)
