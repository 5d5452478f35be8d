from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio

from tests.webgis_export.published import blocky_rgb, write_cog
from webgis_export.models import Style
from webgis_export.pyramid import build_pyramid, default_zooms, tile_path, tiles_covering
from webgis_export.render import FastWarp, style_image
from webgis_export.tms import get_tms


@pytest.fixture(scope="module")
def rgb_cog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cog(tmp_path_factory.mktemp("pyr") / "rgb.tif", blocky_rgb(), 0.1)


@pytest.mark.parametrize("tms_id", ["View1", "WebMercatorQuad"])
def test_pool_pyramid_equals_dynamic_tiles(rgb_cog: Path, tmp_path: Path, tms_id: str) -> None:
    zooms = default_zooms(rgb_cog, tms_id, 0.1)
    assert zooms[1] - zooms[0] == 1  # 512 px -> two levels
    result = build_pyramid(rgb_cog, tmp_path / tms_id, Style(), tms_id, fmt="png", zooms=zooms, processes=2)
    covering = tiles_covering(rgb_cog, tms_id, *zooms)
    assert result.written + result.skipped == len(covering) and result.written > 0
    tms = get_tms(tms_id)
    with rasterio.open(rgb_cog) as dataset:
        warp = FastWarp(dataset)
        for z, row, col in covering:
            path = tile_path(tmp_path / tms_id, z, row, col, "png")
            if not path.exists():
                continue
            tile = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
            if tile.shape[2] == 3:  # opaque tiles are written as RGB
                tile = np.dstack((tile, np.full(tile.shape[:2], 255, np.uint8)))
            image = warp.read(tuple(tms.xy_bounds(col, row, z)), tms.rasterio_crs, 256, 256)
            assert image is not None
            expected = style_image(image, Style())
            np.testing.assert_array_equal(tile[..., 3], expected.alpha)
            np.testing.assert_array_equal(
                tile[..., 2::-1][expected.alpha > 0], expected.rgb[expected.alpha > 0]
            )


def test_empty_tiles_are_skipped(tmp_path: Path) -> None:
    data = blocky_rgb(256)
    data[:, :, 128:] = 0
    cog = write_cog(tmp_path / "half.tif", data, 0.1, nodata=0)
    zooms = (16, 16)
    result = build_pyramid(cog, tmp_path / "tiles", Style(), "View1", fmt="png", zooms=zooms, processes=1)
    assert result.skipped > 0 and result.written > 0
    assert len(list((tmp_path / "tiles").rglob("*.png"))) == result.written
