"""GCP fits: GDAL-equivalent polynomials, residuals, LOO, homography, and warps against gdalwarp."""

from __future__ import annotations

import math
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.errors import NotGeoreferencedWarning

from core.errors import GeoreferenceError
from flights.control import read_control_file
from pipeline.gcp.fit import GcpPair, check_residuals, fit_gcps, pairs_for_image
from pipeline.gcp.warp import warp_with_fit

GDALWARP = shutil.which("gdalwarp")


def _grid_pairs(n: int = 5, noise: float = 0.0) -> list[GcpPair]:
    rng = np.random.default_rng(1)
    pairs = []
    for i in range(n):
        for j in range(n):
            col, row = 100.0 + 400 * i + rng.uniform(-150, 150), 80.0 + 300 * j + rng.uniform(-100, 100)
            x = 560000 + 0.05 * col + 0.002 * row + 1e-6 * col * row
            y = 6215000 - 0.05 * row + 0.001 * col
            pairs.append(GcpPair(f"p{i}{j}", col, row, x + rng.normal(0, noise), y + rng.normal(0, noise)))
    return [pairs[k] for k in np.random.default_rng(3).permutation(len(pairs))]  # no collinear prefix


def test_minimum_counts_follow_gdal() -> None:
    pairs = _grid_pairs()
    for order, need in ((1, 3), (2, 6), (3, 10)):
        fit_gcps(pairs[:need], order=order)
        with pytest.raises(GeoreferenceError, match=f"at least {need} GCPs"):
            fit_gcps(pairs[: need - 1], order=order)


def test_exact_at_minimum_and_warned() -> None:
    fit = fit_gcps(_grid_pairs()[:3], method="affine")
    assert fit.rmse_r < 1e-9
    assert any("minimum" in w for w in fit.warnings)
    assert fit.loo_rmse_r is None


def test_order2_recovers_bilinear_term_and_loo() -> None:
    pairs = _grid_pairs(noise=0.01)
    fit1, fit2 = fit_gcps(pairs, order=1), fit_gcps(pairs, order=2)
    assert fit2.rmse_r < fit1.rmse_r
    assert 0.005 < fit2.rmse_r < 0.02
    assert fit2.loo_rmse_r is not None and fit2.loo_rmse_r > fit2.rmse_r
    assert math.isclose(fit2.rmse_r, math.hypot(fit2.rmse_x, fit2.rmse_y), rel_tol=1e-9)
    x, y = fit2.to_map(np.array([1000.0]), np.array([700.0]))
    c, r = fit2.to_pixel(x, y)
    assert abs(c[0] - 1000) < 0.5 and abs(r[0] - 700) < 0.5


def test_affine_geotransform_matches_fit() -> None:
    fit = fit_gcps(_grid_pairs(noise=0.0)[:9], method="affine")
    x, y = fit.to_map(np.array([123.0]), np.array([456.0]))
    assert fit.affine() * (123.0, 456.0) == pytest.approx((x[0], y[0]), abs=1e-6)
    with pytest.raises(GeoreferenceError, match="not an affine"):
        fit_gcps(_grid_pairs(), order=2).affine()


def test_check_points_never_fitted() -> None:
    pairs = _grid_pairs()
    bad = pairs[0]._replace(x=pairs[0].x + 50.0, role="check", name="CHK1")
    fit_clean = fit_gcps(pairs[1:], order=1)
    fit_with_check = fit_gcps([bad, *pairs[1:]], order=1)
    assert fit_with_check.forward == fit_clean.forward
    assert {r.name for r in fit_with_check.residuals} == {p.name for p in pairs[1:]}
    (check,) = check_residuals(fit_with_check, [bad, *pairs[1:]])
    assert check.name == "CHK1" and check.dr == pytest.approx(50.0, abs=0.1)


def test_homography_least_squares_and_ransac_outlier() -> None:
    pairs = _grid_pairs(n=4)
    # A planar homography: map = H(pixel).
    h = np.array([[0.05, 0.002, 560000.0], [0.001, -0.05, 6215000.0], [1e-6, 2e-6, 1.0]])
    exact = []
    for p in pairs:
        w = h[2, 0] * p.col + h[2, 1] * p.row + 1.0
        exact.append(
            p._replace(
                x=(h[0, 0] * p.col + h[0, 1] * p.row + h[0, 2]) / w,
                y=(h[1, 0] * p.col + h[1, 1] * p.row + h[1, 2]) / w,
            )
        )
    fit = fit_gcps(exact, method="homography")
    assert fit.rmse_r < 1e-3
    outlier = [exact[0]._replace(x=exact[0].x + 30.0), *exact[1:]]
    robust = fit_gcps(outlier, method="homography", ransac=True, ransac_threshold_px=2.0)
    assert robust.inliers == len(exact) - 1
    assert sorted(r.dr for r in robust.residuals)[-2] < 1e-2
    with pytest.raises(GeoreferenceError, match="at least 4"):
        fit_gcps(exact[:3], method="homography")


def test_collinear_points_fail_clearly() -> None:
    pairs = [GcpPair(f"p{i}", float(i), float(i), float(i), float(i)) for i in range(5)]
    with pytest.raises(GeoreferenceError, match="degenerate"):
        fit_gcps(pairs, order=1)


def test_copr_pairs_per_image(data_dir: Path) -> None:
    control = read_control_file(data_dir / "odm_data_copr" / "gcp_list.txt", "gcp_list.txt")
    pairs = pairs_for_image(control.points, "IMG_0031.jpg")
    assert len(pairs) == 3
    fit = fit_gcps(pairs, method="affine", crs=control.crs)
    assert fit.rmse_r < 1e-6  # three points: exact


# --- against gdalwarp ---------------------------------------------------------------------------


def _ramp(path: Path, width: int, height: int) -> Path:
    """Two float32 bands holding each pixel's own centre (col, row): bilinear warps of it give
    the source position every output pixel sampled, so two warps compare in pixels."""
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=width, height=height, count=2, dtype="float32"
        ) as dst:
            dst.write(np.stack([cols, rows]).astype(np.float32))
    return path


def _with_gcps(ramp: Path, pairs: list[GcpPair], crs: str, out: Path) -> Path:
    shutil.copy(ramp, out)
    gcps = [GroundControlPoint(row=p.row, col=p.col, x=p.x, y=p.y, id=p.name) for p in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(out, "r+") as ds:
            ds.gcps = (gcps, crs)
    return out


def _compare_with_gdalwarp(
    tmp_path: Path,
    pairs: list[GcpPair],
    crs: str,
    width: int,
    height: int,
    order: int,
    bounds: tuple[float, float, float, float] | None = None,
    res: float | None = None,
) -> tuple[float, int]:
    fit = fit_gcps(pairs, order=order, crs=crs)
    ramp = _ramp(tmp_path / "ramp.tif", width, height)
    ours = warp_with_fit(ramp, tmp_path / f"ours{order}.tif", fit, bounds=bounds, resolution=res)
    minx, miny, maxx, maxy = ours.bounds
    gdal_out = tmp_path / f"gdal{order}.tif"
    subprocess.run(
        [
            GDALWARP,
            "-q",
            "-overwrite",
            "-order",
            str(order),
            "-et",
            "0",
            "-r",
            "bilinear",
            "-te",
            repr(minx),
            repr(miny),
            repr(maxx),
            repr(maxy),
            "-tr",
            repr(ours.resolution),
            repr(ours.resolution),
            "-dstnodata",
            "nan",
            str(_with_gcps(ramp, pairs, crs, tmp_path / "gcps.tif")),
            str(gdal_out),
        ],
        check=True,
    )
    with rasterio.open(ours.path) as a, rasterio.open(gdal_out) as b:
        assert (a.width, a.height, a.transform) == (b.width, b.height, b.transform)
        ra, rb = a.read(), b.read()
    # gdalwarp widens the bilinear kernel when it downsamples and truncates it at the source
    # edge; keep away from the edge by that kernel's reach (the local source step, doubled).
    steps = np.stack([np.abs(g) for band in np.nan_to_num(ra) for g in np.gradient(band)])
    margin = 1.0 + 2.0 * np.minimum(steps.max(axis=0), 1e6)
    inner = (ra[0] > margin) & (ra[0] < width - margin) & (ra[1] > margin) & (ra[1] < height - margin)
    both = inner & np.isfinite(rb[0]) & np.isfinite(rb[1])
    diff = np.hypot(ra[0] - rb[0], ra[1] - rb[1])[both]
    return float(diff.max()), int(both.sum())


def _odm_br_pairs(data_dir: Path) -> tuple[list[GcpPair], str, int, int]:
    """All 19 odm_br targets placed in the GCP orthophoto through its world file, with a
    deterministic ±1.5 px 'digitising' error so that order 1 and 2 fits differ."""
    base = data_dir / "odm_br"
    control = read_control_file(
        base / "odm_gcp_br" / "gcp_list_chk_raw.txt", "gcp_list_chk_raw.txt", role="gcp"
    )
    a, _, _, e, c, f = (float(v) for v in (base / "odm_extra_gcp_br_ckeck.pgw").read_text().split())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(base / "odm_extra_gcp_br_ckeck.png") as ds:
            width, height = ds.width, ds.height
    rng = np.random.default_rng(7)
    pairs = []
    for p in control.points:
        col, row = (p.x - c) / a + 0.5, (p.y - f) / e + 0.5  # world files name the first pixel's centre
        pairs.append(GcpPair(p.name, col + rng.uniform(-1.5, 1.5), row + rng.uniform(-1.5, 1.5), p.x, p.y))
    assert control.crs is not None
    return pairs, control.crs, width, height


@pytest.mark.skipif(GDALWARP is None, reason="gdal-bin not installed")
@pytest.mark.parametrize("order", [1, 2])
def test_odm_br_orthophoto_warp_matches_gdalwarp(data_dir: Path, tmp_path: Path, order: int) -> None:
    pairs, crs, width, height = _odm_br_pairs(data_dir)
    assert len(pairs) == 15
    worst, count = _compare_with_gdalwarp(tmp_path, pairs, crs, width, height, order)
    assert count > 0.5 * width * height
    assert worst < 0.5


@pytest.mark.skipif(GDALWARP is None, reason="gdal-bin not installed")
def test_copr_frame_warp_matches_gdalwarp(data_dir: Path, tmp_path: Path) -> None:
    """IMG_0031 is the only COPR frame with three GCPs; two of them share a pixel (gcp00/gcp04 are
    mislabelled in the source file), so the fit is flagged but must still equal GDAL's."""
    control = read_control_file(data_dir / "odm_data_copr" / "gcp_list.txt", "gcp_list.txt")
    pairs = pairs_for_image(control.points, "IMG_0031.jpg")
    fit = fit_gcps(pairs, order=1, crs=control.crs)
    assert any("gcp04" in w and "gcp00" in w for w in fit.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(data_dir / "odm_data_copr" / "images" / "IMG_0031.jpg") as ds:
            width, height = ds.width, ds.height
    assert control.crs is not None
    xs, ys = [p.x for p in pairs], [p.y for p in pairs]
    bounds = (min(xs) - 5, min(ys) - 5, max(xs) + 5, max(ys) + 5)
    worst, count = _compare_with_gdalwarp(
        tmp_path, pairs, control.crs, width, height, 1, bounds=bounds, res=0.05
    )
    assert count > 1000
    assert worst < 0.5


@pytest.mark.parametrize("image", ["IMG_0046.jpg", "IMG_0052.jpg", "IMG_0082.jpg"])
def test_copr_frames_with_two_gcps_fail_clearly(data_dir: Path, image: str) -> None:
    control = read_control_file(data_dir / "odm_data_copr" / "gcp_list.txt", "gcp_list.txt")
    pairs = pairs_for_image(control.points, image)
    assert len(pairs) == 2
    with pytest.raises(GeoreferenceError, match="at least 3 GCPs, got 2"):
        fit_gcps(pairs, method="affine")


def test_real_image_warp_writes_rgb_alpha(data_dir: Path, tmp_path: Path) -> None:
    pairs, crs, _, _ = _odm_br_pairs(data_dir)
    fit = fit_gcps(pairs, order=2, crs=crs)
    out = warp_with_fit(data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png", tmp_path / "f.tif", fit)
    with rasterio.open(out.path) as ds:
        assert ds.count == 5 and ds.crs.to_epsg() == 32722
        alpha = ds.read(5)
        assert 0.2 < float((alpha == 255).mean()) < 1.0
        sample = ds.read(1)[alpha == 255]
        assert sample.std() > 5
