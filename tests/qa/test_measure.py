"""Check points measured on the product: pixel observation -> world, z from the product's value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from rasterio.transform import from_origin

from core.errors import QAError
from flights.models import ControlPoint, PixelObservation
from qa.measure import (
    consistent,
    measure_points,
    measure_product,
    pixel_to_world,
    sample_value,
    world_to_pixel,
)
from qa.transfer import features, locate, transfer_points

T = from_origin(560000.0, 6215500.0, 0.5, 0.5)


def _check(
    name: str, x: float, y: float, z: float | None = None, obs: tuple[PixelObservation, ...] = ()
) -> ControlPoint:
    return ControlPoint(name=name, x=x, y=y, z=z, crs="EPSG:25832", role="check", observations=obs)


def test_pixel_index_convention_round_trip() -> None:
    # pixel index (0, 0) is the centre of the upper-left pixel
    assert pixel_to_world(T, 0, 0) == (560000.25, 6215499.75)
    assert world_to_pixel(T, 560000.25, 6215499.75) == pytest.approx((0.0, 0.0))
    assert world_to_pixel(T, *pixel_to_world(T, 7.3, 2.9)) == pytest.approx((7.3, 2.9))


def test_measure_from_the_observation_on_the_product(make_raster: Callable[..., Path]) -> None:
    ortho = make_raster("ortho.tif", transform=T)
    dsm = make_raster(
        "dsm.tif", dtype="float32", transform=T, data=np.full((1, 16, 16), 52.5, dtype="float32")
    )
    x, y = pixel_to_world(T, 4, 6)
    points = [
        _check("CHK1", x - 0.10, y + 0.20, 52.0, (PixelObservation(image="ortho.tif", col=4, row=6),)),
        _check("CHK2", x, y, 50.0, (PixelObservation(image="IMG_0001.JPG", col=100, row=200),)),
        ControlPoint(
            name="GCP1",
            x=x,
            y=y,
            crs="EPSG:25832",
            role="gcp",
            observations=(PixelObservation(image="ortho.tif", col=0, row=0),),
        ),
    ]
    measured, missing = measure_product(points, ortho, height_raster=dsm)
    assert missing == ["CHK2"]  # observed only on a raw frame, not on the product
    assert [m.name for m in measured] == ["CHK1"]  # GCPs are never measured
    e = measured[0].error
    assert (e.dx, e.dy) == pytest.approx((0.10, -0.20))
    assert e.dz == pytest.approx(0.5)


def test_point_crs_is_transformed_into_the_product_crs() -> None:
    from pyproj import Transformer

    x, y = pixel_to_world(T, 8, 8)
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(x, y)
    point = ControlPoint(
        name="C",
        x=lon,
        y=lat,
        crs="EPSG:4326",
        role="check",
        observations=(PixelObservation(image="p", col=8, row=8),),
    )
    measured, _ = measure_points([point], ["p"], T, "EPSG:25832")
    assert measured[0].error.dh < 1e-6


def test_disagreeing_observation_is_dropped() -> None:
    px = np.array([[10.0, 10.0], [10.5, 9.8], [90.0, 40.0]])
    assert consistent(px).tolist() == [True, True, False]
    assert consistent(np.array([[0.0, 0.0], [50.0, 0.0]])).all()  # two far apart: keep both


def test_sample_value_nodata_and_outside(make_raster: Callable[..., Path]) -> None:
    data = np.full((1, 16, 16), 10.0, dtype="float32")
    data[0, 0, 0] = -9999
    dsm = make_raster("d.tif", dtype="float32", transform=T, nodata=-9999, data=data)
    assert sample_value(dsm, *pixel_to_world(T, 1, 1)) == 10.0
    assert sample_value(dsm, *pixel_to_world(T, 0, 0)) is None
    assert sample_value(dsm, 0.0, 0.0) is None


def test_product_without_crs_needs_one(make_raster: Callable[..., Path]) -> None:
    path = make_raster("nocrs.tif", crs=None, transform=T)
    with pytest.raises(QAError, match="no CRS"):
        measure_product([], path)


def test_transfer_finds_a_shifted_observation() -> None:
    rng = np.random.default_rng(1)
    base = (rng.random((60, 80)) * 255).astype(np.uint8)
    base = np.kron(base, np.ones((6, 6), np.uint8))  # blocky texture SIFT can hold on to
    reference = base[20:320, 30:430]
    target = base[35:335, 10:410]  # the same ground, shifted by (+20, -15) pixels
    hit = locate(features(reference), 200.0, 150.0, features(target), min_inliers=10)
    assert hit is not None
    assert (hit.col, hit.row) == pytest.approx((220.0, 135.0), abs=0.3)
    point = _check("C", 0, 0, obs=(PixelObservation(image="ref.jpg", col=200.0, row=150.0),))
    out = transfer_points(
        [point],
        {"ref.jpg": (features(reference), Affine.identity())},
        features(target),
        "t.tif",
        min_inliers=10,
    )
    assert out[0].observations[-1].image == "t.tif"
