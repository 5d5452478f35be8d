"""Change detection: a planted change is found within 10 % and nothing else; DSM volumes; bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from change_pairs import GRASS, write_rgba
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject

from core.errors import ChangeError, CoregistrationError, NoOverlapError, RasterInputError
from pipeline.change import AlignSettings, ChangeConfig, ChangeKind, detect_change, read_result
from pipeline.rasters.cog import validate_cog

CRS = "EPSG:32722"
RES = 0.1156592985332547
PLANTED_M2 = 100 * 100 * RES * RES  # the 100 × 100 px grass square turned to dirt


def _config(tmp_path: Path, **kw: object) -> ChangeConfig:
    return ChangeConfig(out_dir=tmp_path / "out", target_crs=None, before_crs=CRS, **kw)  # type: ignore[arg-type]


def _planted_polygon() -> object:
    from shapely.geometry import box

    x0, y1 = 658490.6022928214 + GRASS[1].start * RES, 7167011.175075 - GRASS[0].start * RES
    return box(x0, y1 - 100 * RES, x0 + 100 * RES, y1)


@pytest.mark.slow
def test_planted_change_is_found_within_10_percent_and_nothing_else(
    odm_br: Path, make_shifted: Callable[..., Path], tmp_path: Path
) -> None:
    after = make_shifted(3.4, -2.7, plant=True, gain=1.15)  # other exposure too: ExG is chromatic
    result = detect_change(odm_br, after, _config(tmp_path))
    assert result.kind is ChangeKind.ORTHOPHOTO and result.alignment.corrected
    assert len(result.areas) == 1, [(a.area_m2, a.sign) for a in result.areas]
    (area,) = result.areas
    assert area.sign == -1 and area.mean_change < -0.08  # vegetation lost
    assert area.area_m2 == pytest.approx(PLANTED_M2, rel=0.10)
    frame = gpd.read_file(result.change_polygons)
    assert str(frame.crs) == CRS and list(frame["change"]) == ["loss"] and list(frame["aendring"]) == ["tab"]
    assert frame.geometry.iloc[0].intersection(_planted_polygon()).area / PLANTED_M2 > 0.9
    assert validate_cog(result.change_map).valid
    with rasterio.open(result.change_map) as src:
        assert src.dtypes[0] == "float32" and src.nodata == -9999.0
        assert json.loads(src.tags()["DRONEGIS_ALIGNMENT"])["dx_px"] == pytest.approx(3.4, abs=0.1)
    assert read_result(result.summary_json) == result


@pytest.mark.slow
def test_without_co_registration_the_shift_itself_looks_like_change(
    odm_br: Path, make_shifted: Callable[..., Path], tmp_path: Path
) -> None:
    after = make_shifted(3.4, -2.7, plant=True)
    naive = detect_change(odm_br, after, _config(tmp_path, align=AlignSettings(enabled=False)))
    aligned = detect_change(odm_br, after, _config(tmp_path / "b"))
    assert naive.alignment.model == "none"
    assert len(naive.areas) > 5 * len(aligned.areas)
    assert naive.changed_m2 > aligned.changed_m2 + 20


@pytest.mark.slow
def test_after_in_another_crs_is_reprojected(
    odm_br: Path, make_shifted: Callable[..., Path], tmp_path: Path
) -> None:
    after = make_shifted(2.0, 1.0, plant=True)
    geographic = tmp_path / "after_4326.tif"
    with rasterio.open(after) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:4326", src.width, src.height, *src.bounds
        )
        profile = {
            **src.profile,
            "crs": "EPSG:4326",
            "transform": transform,
            "width": width,
            "height": height,
        }
        with rasterio.open(geographic, "w", **profile) as dst:
            for band in range(1, 5):
                reproject(rasterio.band(src, band), rasterio.band(dst, band), resampling=Resampling.bilinear)
            dst.colorinterp = src.colorinterp
    result = detect_change(odm_br, geographic, _config(tmp_path))
    assert result.grid.crs == CRS and result.after.resampling.startswith("reprojected from EPSG:4326")
    assert [a.sign for a in result.areas] == [-1]
    assert result.areas[0].area_m2 == pytest.approx(PLANTED_M2, rel=0.10)


@pytest.mark.slow
def test_different_resolutions_meet_on_the_coarser_grid(
    odm_br: Path, make_shifted: Callable[..., Path], tmp_path: Path
) -> None:
    after = make_shifted(2.0, 1.0, plant=True)
    coarse = tmp_path / "after_25cm.tif"
    with rasterio.open(after) as src:
        width, height = int(src.width * RES / 0.25), int(src.height * RES / 0.25)
        transform = from_origin(src.bounds.left, src.bounds.top, 0.25, 0.25)
        data = src.read(out_shape=(4, height, width), resampling=Resampling.average)
        write_rgba(coarse, data[:3], np.where(data[3] == 255, 255, 0).astype(np.uint8), transform)
    result = detect_change(odm_br, coarse, _config(tmp_path))
    assert result.grid.resolution == pytest.approx(0.25)
    assert result.before.resampling == "average resampling" and result.after.resampling == "read as it is"
    assert [a.sign for a in result.areas] == [-1]
    assert result.areas[0].area_m2 == pytest.approx(PLANTED_M2, rel=0.10)


def _dsm(path: Path, heights: np.ndarray, origin: tuple[float, float] = (560000.0, 6215500.0)) -> Path:
    profile = {
        "driver": "GTiff", "width": heights.shape[1], "height": heights.shape[0], "count": 1,
        "dtype": "float32", "crs": "EPSG:25832", "transform": from_origin(*origin, 0.1, 0.1),
        "nodata": -9999.0,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(heights.astype(np.float32)[None])
    return path


def _terrain(size: int = 600, seed: int = 7) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] * 0.1
    hills = 50 + 2 * np.sin(xx / 9) + 1.5 * np.cos(yy / 7)
    shrubs = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 4) * 40
    return hills + shrubs - shrubs.mean()


@pytest.mark.slow
def test_dsm_height_and_volume_change(tmp_path: Path) -> None:
    """A 1.5 m pile (radius 4 m: 75.4 m³) and a 1 m pit (radius 3 m: −28.3 m³); AFTER 0.4 m higher overall."""
    from scipy import ndimage

    before = _terrain()
    yy, xx = np.mgrid[0:600, 0:600] * 0.1
    pile = (np.hypot(xx - 15, yy - 15) <= 4) * 1.5
    pit = (np.hypot(xx - 45, yy - 40) <= 3) * -1.0
    after = (
        ndimage.shift(before, (0.6, -1.3), order=3, mode="nearest")
        + ndimage.shift(pile + pit, (0.6, -1.3), order=0)
        + 0.4
    )
    result = detect_change(
        _dsm(tmp_path / "dsm_2024.tif", before), _dsm(tmp_path / "dsm_2025.tif", after),
        ChangeConfig(out_dir=tmp_path / "out"),
    )  # fmt: skip
    assert result.kind is ChangeKind.DSM and result.unit == "m" and result.grid.crs == "EPSG:25832"
    assert result.bias == pytest.approx(0.4, abs=0.02)
    assert result.alignment.dx_px == pytest.approx(-1.3, abs=0.1) and result.alignment.dy_px == pytest.approx(
        0.6, abs=0.1
    )
    assert sorted(a.sign for a in result.areas) == [-1, 1]
    fill = next(a for a in result.areas if a.sign > 0)
    cut = next(a for a in result.areas if a.sign < 0)
    assert fill.volume_m3 == pytest.approx(np.pi * 16 * 1.5, rel=0.05)
    assert cut.volume_m3 == pytest.approx(-np.pi * 9 * 1.0, rel=0.05)
    # the border of an area lies where the smoothed step falls to half the threshold (0.15 m): for a
    # step h it is σ·Φ⁻¹(1 − 0.15 / h) outside the edge (σ = 0.3 m): 1.28 σ for the pile, 1.04 σ for the pit
    assert fill.area_m2 == pytest.approx(np.pi * (4 + 1.2816 * 0.3) ** 2, rel=0.05)
    assert cut.area_m2 == pytest.approx(np.pi * (3 + 1.0364 * 0.3) ** 2, rel=0.05)
    assert result.volume_gain_m3 == pytest.approx(fill.volume_m3) and result.volume_loss_m3 == pytest.approx(
        cut.volume_m3
    )


def test_rasters_that_do_not_overlap(tmp_path: Path) -> None:
    terrain = _terrain(100)
    a = _dsm(tmp_path / "a.tif", terrain)
    b = _dsm(tmp_path / "b.tif", terrain, origin=(561000.0, 6215500.0))
    with pytest.raises(
        NoOverlapError, match=r"a.tif and b.tif do not overlap in EPSG:25832: bounds \(560000.00"
    ):
        detect_change(a, b, ChangeConfig(out_dir=tmp_path / "out"))


def test_an_all_nodata_raster(tmp_path: Path) -> None:
    a = _dsm(tmp_path / "a.tif", _terrain(100))
    empty = _dsm(tmp_path / "empty.tif", np.full((100, 100), -9999.0))
    with pytest.raises(
        RasterInputError, match="empty.tif: ingen pixel med data .* / no pixel with data in the overlap"
    ):
        detect_change(a, empty, ChangeConfig(out_dir=tmp_path / "out"))


def test_different_kinds_are_refused(odm_br: Path, tmp_path: Path) -> None:
    dsm = _dsm(tmp_path / "dsm.tif", _terrain(100))
    with pytest.raises(
        ChangeError, match=r"cannot compare odm_extra_gcp_br_ckeck.png \(orthophoto\) with dsm.tif \(dsm\)"
    ):
        detect_change(odm_br, dsm, ChangeConfig(out_dir=tmp_path / "out", before_crs=CRS))


def test_outside_the_target_crs_area_is_refused(
    odm_br: Path, make_shifted: Callable[..., Path], tmp_path: Path
) -> None:
    from core.errors import GeoreferenceError

    with pytest.raises(
        GeoreferenceError, match="odm_extra_gcp_br_ckeck.png: .*outside the area of use of the target"
    ):
        detect_change(odm_br, make_shifted(1, 1), ChangeConfig(out_dir=tmp_path / "out", before_crs=CRS))


def test_unmatched_flights_are_refused(odm_br: Path, tmp_path: Path) -> None:
    with rasterio.open(odm_br) as src:
        transform, shape = src.transform, (src.height, src.width)
    rng = np.random.default_rng(2)
    other = rng.integers(60, 200, (3, *shape)).astype(np.uint8)
    path = write_rgba(tmp_path / "other.tif", other, np.full(shape, 255, np.uint8), transform)
    with pytest.raises(CoregistrationError, match="cannot be matched"):
        detect_change(odm_br, path, _config(tmp_path))


@pytest.mark.slow
def test_index_rasters_are_compared_as_they_are(
    odm_br: Path, make_shifted: Callable[..., Path], tmp_path: Path
) -> None:
    from pipeline.vegetation import VegetationConfig, vegetation_indices

    rasters = []
    for name, ortho in (("2024", odm_br), ("2025", make_shifted(3.4, -2.7, plant=True))):
        config = VegetationConfig(out_dir=tmp_path / name, indices=("GLI",), crs=CRS)
        rasters.append(vegetation_indices(ortho, config).products[0].path)
    result = detect_change(*rasters, ChangeConfig(out_dir=tmp_path / "out", target_crs=None))
    assert result.kind is ChangeKind.INDEX and result.threshold == 0.10 and result.value == "index value"
    assert result.alignment.dx_px == pytest.approx(3.4, abs=0.1)
    assert [a.sign for a in result.areas] == [-1]
    assert result.areas[0].area_m2 == pytest.approx(PLANTED_M2, rel=0.10)
