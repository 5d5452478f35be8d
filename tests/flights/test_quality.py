from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import ImageDecodeError
from flights.models import ImageQuality
from flights.quality import (
    DEFAULT_BLUR_THRESHOLD,
    assess,
    assess_many,
    exposure,
    is_black,
    is_blurry,
    iter_assess,
)


def _write(path: Path, img: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), img)
    return path


def test_brighton_frames_are_sharp(data_dir: Path) -> None:
    frames = sorted((data_dir / "brighton_beach/images").glob("*.JPG"))
    results = assess_many(frames, workers=2)
    assert len(results) == 18
    for path, q in zip(frames, results, strict=True):
        assert isinstance(q, ImageQuality), path
        assert not is_blurry(q) and not is_black(q) and exposure(q) is None, (path.name, q)
        assert q.blur_score > 20 * DEFAULT_BLUR_THRESHOLD  # measured minimum 1259 (DJI_0030)
        assert (q.decoded_width, q.decoded_height) == (2000, 1125)  # half-resolution decode


def test_agung_faults_are_flagged(data_dir: Path) -> None:
    images = data_dir / "drone_testdata_agung_1/images"
    poor = assess(next(images.glob("*_POOR_SHARPNESS.JPG")))
    assert is_blurry(poor) and not is_black(poor), poor
    for cap in sorted(images.glob("*_LENS_CAP.JPG")):
        q = assess(cap)
        assert is_black(q), (cap.name, q)
        assert not is_blurry(q)  # reported as black, not as blurry


def test_soft_kite_frames_are_not_blurry(data_dir: Path) -> None:
    # odm_data_copr is soft (score 23-41) but processed fine by ODM: the threshold sits below it
    for path in sorted((data_dir / "odm_data_copr/images").glob("*.jpg")):
        assert not is_blurry(assess(path)), path.name


def test_synthetic_black_saturated_and_flat(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    black = _write(tmp_path / "black.jpg", rng.integers(0, 4, (400, 600, 3), dtype=np.uint8))
    white = _write(tmp_path / "white.png", np.full((400, 600), 255, np.uint8))
    dark = _write(tmp_path / "dark.png", rng.integers(15, 30, (400, 600), dtype=np.uint8))
    flat = _write(tmp_path / "flat.png", np.full((400, 600), 128, np.uint8))
    qb, qw, qd, qf = (assess(p) for p in (black, white, dark, flat))
    assert is_black(qb) and exposure(qb) is None
    assert qw.saturated_fraction == 1.0 and exposure(qw) == "over" and not is_black(qw)
    assert exposure(qd) == "under" and not is_black(qd)
    assert qf.blur_score == 0.0 and is_blurry(qf) and exposure(qf) is None
    assert (qf.decoded_width, qf.decoded_height) == (600, 400)  # small frames: full decode


def test_sharp_noise_is_not_blurry_and_blurring_lowers_the_score(tmp_path: Path) -> None:
    img = np.random.default_rng(2).integers(0, 256, (1200, 1800), dtype=np.uint8)
    sharp = assess(_write(tmp_path / "sharp.png", img))
    soft = assess(_write(tmp_path / "soft.png", cv2.GaussianBlur(img, (0, 0), 6)))
    assert not is_blurry(sharp)
    assert soft.blur_score < sharp.blur_score / 100
    assert is_blurry(soft)
    assert is_blurry(sharp, threshold=sharp.blur_score + 1)


def test_sixteen_bit_tiff_is_scaled(tmp_path: Path) -> None:
    img = (np.random.default_rng(3).random((100, 120)) * 60000).astype(np.uint16)
    q = assess(_write(tmp_path / "ir.tif", img))
    assert 0 < q.mean_brightness < 255 and q.blur_score > 0


def test_tiff_maker_tags_do_not_print_opencv_warnings(
    data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # the MicaSense RedEdge band carries maker tags libtiff does not know; OpenCV would print
    # a TIFF_Warning per tag on stderr (ingest skips multispectral frames; assess is quiet anyway)
    level = cv2.utils.logging.getLogLevel()
    q = assess(data_dir / "webodm_fixtures/app/fixtures/tiny_drone_image_multispec.tif")
    assert (q.decoded_width, q.decoded_height) == (48, 36)
    assert capfd.readouterr().err == ""
    assert cv2.utils.logging.getLogLevel() == level


def test_undecodable_file(tmp_path: Path) -> None:
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(ImageDecodeError, match=r"bad\.jpg: OpenCV cannot decode"):
        assess(tmp_path / "bad.jpg")


def test_assess_many_keeps_order_and_returns_failures(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    paths = []
    for i in range(12):
        if i == 5:
            (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8garbage")
            paths.append(tmp_path / "broken.jpg")
        else:
            value = 2 if i % 2 else 128
            img = (
                rng.integers(0, 255, (64, 64), dtype=np.uint8)
                if value == 128
                else np.full((64, 64), 2, np.uint8)
            )
            paths.append(_write(tmp_path / f"f{i:02d}.png", img))
    results = assess_many(paths, workers=2)
    assert len(results) == 12
    assert isinstance(results[5], ImageDecodeError) and "broken.jpg" in str(results[5])
    for i, r in enumerate(results):
        if i != 5:
            assert isinstance(r, ImageQuality)
            assert is_black(r) == bool(i % 2), i
    assert assess_many(paths[:3], workers=1) == results[:3]


def crash_on_marker(path: Path) -> ImageQuality | Exception:
    """A per-frame task whose process dies on files named ``*crash*`` (imported by the workers)."""
    if "crash" in path.name:
        os._exit(3)
    return assess(path)


def test_a_dying_decoder_costs_one_frame_only(tmp_path: Path) -> None:
    img = np.random.default_rng(5).integers(0, 255, (64, 64), dtype=np.uint8)
    paths = [_write(tmp_path / f"f{i:02d}.png", img) for i in range(8)]
    paths[3] = _write(tmp_path / "f03_crash.png", img)
    results = [r for _, r in iter_assess(paths, workers=2, task=crash_on_marker)]
    assert len(results) == 8
    assert isinstance(results[3], ImageDecodeError) and "died" in str(results[3])
    assert all(isinstance(r, ImageQuality) for i, r in enumerate(results) if i != 3)


def test_unicode_file_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "Skanderborg sø æblehave 01.png", np.full((50, 80), 90, np.uint8))
    assert assess(path).mean_brightness == pytest.approx(90.0)
