"""Co-registration: known shifts of the real odm_br orthophoto recovered within 0.1 px, against OpenCV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from change_pairs import write_rgba

from core.errors import CoregistrationError
from pipeline.change.align import coregister, read_coarse
from pipeline.change.coregister import PatchShift, ecc_motion, fit_motion, motion_at, phase_shift, translation
from pipeline.change.grid import common_grid
from pipeline.change.inputs import bands_to_read
from pipeline.change.models import Alignment, AlignSettings, ChangeKind
from pipeline.rasters.inputs import open_raster

CRS = "EPSG:32722"


def _align(before: Path, after: Path, settings: AlignSettings | None = None) -> Alignment:
    b, a = open_raster(before, crs=CRS), open_raster(after)
    grid = common_grid(b, a, CRS)
    kind = ChangeKind.ORTHOPHOTO
    bands = (bands_to_read(b, kind), bands_to_read(a, kind))
    settings = settings or AlignSettings()
    coarse = read_coarse(b, a, grid, kind, bands, settings.coarse_size, "ExG")
    return coregister(b, a, grid, kind, bands, settings, coarse)


def _opencv_reference(before: Path, after: Path) -> tuple[tuple[float, float], tuple[float, float]]:
    """OpenCV on the whole pair: phaseCorrelate (Hann) and ECC (masked, Gaussian 5) on the grey images."""
    with rasterio.open(before) as b, rasterio.open(after) as a:
        rgb_b, rgba_a = b.read()[:3].astype(np.float32), a.read().astype(np.float32)
    grey_b = cv2.cvtColor(np.ascontiguousarray(np.moveaxis(rgb_b, 0, -1)), cv2.COLOR_RGB2GRAY)
    grey_a = cv2.cvtColor(np.ascontiguousarray(np.moveaxis(rgba_a[:3], 0, -1)), cv2.COLOR_RGB2GRAY)
    window = cv2.createHanningWindow(grey_b.shape[::-1], cv2.CV_32F)
    (px, py), _ = cv2.phaseCorrelate(grey_b.copy(), grey_a.copy(), window)
    mask = cv2.erode((rgba_a[3] > 0).astype(np.uint8), np.ones((15, 15), np.uint8))
    warp = np.array([[1, 0, px], [0, 1, py]], np.float32)
    _, warp = cv2.findTransformECC(grey_b, grey_a, warp, cv2.MOTION_TRANSLATION, (3, 200, 1e-7), mask, 5)
    return (px, py), (float(warp[0, 2]), float(warp[1, 2]))


@pytest.mark.slow
@pytest.mark.parametrize(("dx", "dy"), [(3.4, -2.7), (-7.0, 5.0), (0.3, 0.45), (-12.6, -8.2)])
def test_known_shift_of_the_real_orthophoto_is_recovered(
    odm_br: Path, make_shifted: Callable[..., Path], dx: float, dy: float
) -> None:
    after = make_shifted(dx, dy)
    got = _align(odm_br, after)
    assert got.model == "translation" and got.corrected
    assert got.dx_px == pytest.approx(dx, abs=0.1) and got.dy_px == pytest.approx(dy, abs=0.1)
    res = 0.1156592985332547
    assert got.dx_m == pytest.approx(dx * res, abs=0.1 * res)
    assert got.dy_m == pytest.approx(-dy * res, abs=0.1 * res)  # north is up: a row south is -y
    (pc_x, pc_y), (ecc_x, ecc_y) = _opencv_reference(odm_br, after)
    # the peer on the same pair: OpenCV's masked ECC on the whole image agrees with ours to 0.1 px;
    # OpenCV's phase correlation alone (centroid sub-pixel estimate) is no closer to the truth than ours
    assert abs(got.dx_px - ecc_x) < 0.1 and abs(got.dy_px - ecc_y) < 0.1
    assert np.hypot(got.dx_px - dx, got.dy_px - dy) <= np.hypot(pc_x - dx, pc_y - dy) + 0.02


def test_an_unrelated_image_cannot_be_matched(odm_br: Path, tmp_path: Path) -> None:
    with rasterio.open(odm_br) as src:
        data, transform = src.read(), src.transform
    rng = np.random.default_rng(5)
    noise = cv2.GaussianBlur(rng.integers(0, 256, data.shape[1:]).astype(np.uint8), (0, 0), 2)
    other = write_rgba(
        tmp_path / "noise.tif", np.stack([noise] * 3), np.full(noise.shape, 255, np.uint8), transform
    )
    with pytest.raises(
        CoregistrationError, match=r"cannot be matched: phase-correlation peak 0\.\d+ < 0\.05"
    ):
        _align(odm_br, other)


def test_a_shift_beyond_the_tolerance_is_refused_not_corrected(
    odm_br: Path, make_shifted: Callable[..., Path]
) -> None:
    after = make_shifted(30.0, 0.0)  # 3.5 m
    with pytest.raises(
        CoregistrationError, match=r"after.tif is shifted by 3\.4\d m .* tolerance of 2 m; not corrected"
    ):
        _align(odm_br, after, AlignSettings(max_shift_m=2.0))


def test_phase_correlation_leaves_its_inputs_alone() -> None:
    """OpenCV 5.0's phaseCorrelate multiplies its inputs by the window in place; ours passes copies."""
    rng = np.random.default_rng(0)
    a = cv2.GaussianBlur(rng.random((128, 128)).astype(np.float32), (0, 0), 2)
    kept = a.copy()
    phase_shift(a, a)
    np.testing.assert_array_equal(a, kept)


def test_ecc_refines_a_sub_pixel_shift_from_a_coarse_start() -> None:
    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.random((400, 400)).astype(np.float32), (0, 0), 2)
    before = big[50:350, 50:350]
    after = np.roll(np.roll(big, 3, axis=1), -2, axis=0)[50:350, 50:350]  # content 3 east, 2 north
    refined = ecc_motion(before, after, translation(2.6, -1.6))
    assert refined is not None
    assert refined[0][:, 2] == pytest.approx([3.0, -2.0], abs=0.01) and refined[1] > 0.99


def test_fit_motion_translation_or_affine() -> None:
    same = [
        PatchShift(x, y, 2.0 + 0.01 * i, -1.0, 0.9)
        for i, (x, y) in enumerate([(0, 0), (1000, 0), (0, 800), (1000, 800)])
    ]
    motion = fit_motion(same, affine_tolerance_px=0.3)
    assert motion.model == "translation" and motion_at(motion.matrix, 500, 400)[0] == pytest.approx(
        2.01, abs=0.02
    )
    # a 0.1° rotation about (500, 400): the shifts differ by ~1.7 px across the area -> affine
    angle = np.radians(0.1)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = [(0, 0), (1000, 0), (0, 800), (1000, 800), (500, 400)]
    patches = []
    for x, y in pts:
        moved = rot @ (np.array([x, y]) - (500, 400)) + (500, 400) + (1.5, 0.5)
        patches.append(PatchShift(x, y, moved[0] - x, moved[1] - y, 0.9))
    fitted = fit_motion(patches, affine_tolerance_px=0.3)
    assert fitted.model == "affine" and fitted.residual_px < 1e-6
    for x, y in pts:
        assert motion_at(fitted.matrix, x, y) == pytest.approx(
            next((p.dx, p.dy) for p in patches if (p.x, p.y) == (x, y)), abs=1e-6
        )
