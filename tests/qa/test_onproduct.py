"""Check points observed on raw frames, measured on an orthophoto by image matching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from flights.models import ControlPoint, PixelObservation
from qa.measure import measure_product, pixel_to_world
from qa.onproduct import observe_on_product

CELL = 0.1  # m per ground pixel
ORIGIN = (560000.0, 6215600.0)


@pytest.fixture(scope="module")
def ground() -> np.ndarray:
    rng = np.random.default_rng(3)
    blocks = (rng.random((100, 120, 3)) * 255).astype(np.uint8)
    return np.kron(blocks, np.ones((8, 8, 1), np.uint8))  # 800 × 960 px of blocky texture


def _scene(tmp_path: Path, ground: np.ndarray, shift_east_m: float) -> tuple[Path, Path, list[ControlPoint]]:
    frames = tmp_path / "archive"
    frames.mkdir()
    # two "frames": crops of the ground, the second upscaled 1.5× (a lower flight)
    cv2.imwrite(
        str(frames / "F1.JPG"),
        cv2.cvtColor(ground[100:500, 100:600], cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, 95],
    )
    crop = cv2.resize(ground[300:700, 400:900], None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(str(frames / "F2.JPG"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    # the orthophoto: the ground at half resolution (0.2 m), georeferenced with a deliberate east shift
    ortho = tmp_path / "ortho.tif"
    half = cv2.resize(ground, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    transform = from_origin(ORIGIN[0] + shift_east_m, ORIGIN[1], 2 * CELL, 2 * CELL)
    with rasterio.open(
        ortho,
        "w",
        driver="GTiff",
        width=half.shape[1],
        height=half.shape[0],
        count=3,
        dtype="uint8",
        crs="EPSG:25832",
        transform=transform,
    ) as dst:
        dst.write(np.moveaxis(half, -1, 0))
    truth = from_origin(ORIGIN[0], ORIGIN[1], CELL, CELL)
    points = []
    for name, (gc, gr) in {"CHK1": (300.0, 300.0), "CHK2": (500.0, 400.0), "CHK3": (650.0, 550.0)}.items():
        x, y = pixel_to_world(truth, gc, gr)
        obs = []
        if 100 <= gc < 600 and 100 <= gr < 500:
            obs.append(PixelObservation(image="F1.JPG", col=gc - 100, row=gr - 100))
        if 400 <= gc < 900 and 300 <= gr < 700:
            obs.append(
                PixelObservation(
                    image="F2.JPG", col=(gc - 400 + 0.5) * 1.5 - 0.5, row=(gr - 300 + 0.5) * 1.5 - 0.5
                )
            )
        points.append(
            ControlPoint(name=name, x=x, y=y, crs="EPSG:25832", role="check", observations=tuple(obs))
        )
    return ortho, frames, points


@pytest.mark.parametrize("shift", [0.0, 0.6])
def test_frame_observations_land_on_the_orthophoto(tmp_path: Path, ground: np.ndarray, shift: float) -> None:
    ortho, frames, points = _scene(tmp_path, ground, shift)
    observed = observe_on_product(points, ortho, frames)
    assert all(any(o.image == "ortho.tif" for o in p.observations) for p in observed)
    measured, missing = measure_product(observed, ortho)
    assert not missing and len(measured) == 3
    for m in measured:
        assert m.error.dx == pytest.approx(shift, abs=0.1)  # half an ortho pixel
        assert m.error.dy == pytest.approx(0.0, abs=0.1)


def test_points_without_frames_are_left_alone(tmp_path: Path, ground: np.ndarray) -> None:
    ortho, _, points = _scene(tmp_path, ground, 0.0)
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert observe_on_product(points, ortho, empty) == points
