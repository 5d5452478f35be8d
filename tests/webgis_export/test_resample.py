"""Nearest-neighbour sampling from a lattice (webgis_export.resample): the affine shortcut equals the maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rio_tiler.io import Reader

import webgis_export.resample
from tests.webgis_export.published import blocky_rgb, write_cog
from webgis_export.render import FastWarp
from webgis_export.resample import AFFINE_TOLERANCE_PX, Sampler, densify, sampler
from webgis_export.tms import get_tms


def lattice(width: int, height: int, bend: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Source positions of a 17 x 17 lattice: rotated, scaled and shifted, plus an optional bend."""
    cols = np.linspace(0.0, width - 1, 17)[None, :]
    rows = np.linspace(0.0, height - 1, 17)[:, None]
    x = 3.3 + 0.93 * cols + 0.071 * rows + bend * (rows / height) ** 2
    y = 7.1 - 0.068 * cols + 0.95 * rows
    return x, y


def test_affine_sampling_equals_the_dense_maps() -> None:
    band = np.random.default_rng(1).integers(0, 255, (300, 300), dtype=np.uint8)
    x, y = lattice(256, 256)
    fast = sampler(x, y, 256, 256)
    assert fast.affine is not None
    maps = Sampler(256, 256, None, (densify(x, 256, 256), densify(y, 256, 256)))
    assert (fast.nearest(band) == maps.nearest(band)).mean() > 0.999  # ties at pixel edges only


def test_a_bent_lattice_gets_per_pixel_maps() -> None:
    bent = sampler(*lattice(256, 256, bend=10 * AFFINE_TOLERANCE_PX), 256, 256)
    assert bent.affine is None and bent.maps is not None


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "View1"])
def test_tiles_through_the_shortcut_equal_the_dense_path(
    tms_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real COG reads through FastWarp, every tile of three zoom levels: shortcut vs per-pixel maps."""
    cog = write_cog(tmp_path / "rgb.tif", blocky_rgb(), 0.1)
    tms = get_tms(tms_id)
    with Reader(str(cog), tms=tms) as reader:
        west, south, east, north = reader.get_geographic_bounds(tms.rasterio_geographic_crs)
    zooms = [tms.zoom_for_res(0.1) + k for k in (-2, 0, 1)]
    tiles = [t for z in zooms for t in tms.tiles(west, south, east, north, zooms=[z])]
    with rasterio.open(cog) as dataset:
        warp = FastWarp(dataset)
        fast = [warp.read(tuple(tms.xy_bounds(t)), tms.rasterio_crs, 256, 256) for t in tiles]
        monkeypatch.setattr(webgis_export.resample, "AFFINE_TOLERANCE_PX", -1.0)  # always the maps
        dense = [warp.read(tuple(tms.xy_bounds(t)), tms.rasterio_crs, 256, 256) for t in tiles]
    pairs = [(a, b) for a, b in zip(fast, dense, strict=True) if a is not None and b is not None]
    assert len(pairs) >= 8
    for a, b in pairs:
        assert (a.mask == b.mask).mean() > 0.999
        assert (a.data == b.data).all(axis=0).mean() > 0.999
