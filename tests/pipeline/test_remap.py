"""Bilinear 8-bit imagery warped by OpenCV over a coordinate map (pipeline.rasters.remap) equals gdalwarp.

The OpenCV path replaces GDAL's warper for orthophotos (issue 20: the real reprojection at
0.6x the GDAL chain); these tests hold it to ``gdalwarp -r bilinear`` (Debian GDAL 3.6) on the
same grid: the grid itself, the footprint (alpha) and the colours within resampling tolerance.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from pyproj.enums import TransformDirection
from rasterio.transform import from_origin

import pipeline.rasters.warp
from pipeline.models import ProductKind
from pipeline.rasters.cog import COG_PROFILES, CogProfile
from pipeline.rasters.remap import MAX_ERROR_PX, source_map
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog

WEBODM = Path("webodm_fixtures/app/fixtures/orthophoto.tif")


def lossless() -> CogProfile:
    """``ortho_jpeg`` with DEFLATE, so pixels compare exactly (alpha kept as a band)."""
    base = COG_PROFILES.get("ortho_jpeg")
    options = base.creation_options | {"COMPRESS": "DEFLATE"}
    options.pop("QUALITY", None)
    return base.model_copy(update={"name": "ortho_lossless", "creation_options": options})


def no_gdal_warp(*args: object, **kwargs: object) -> None:
    raise AssertionError("GDAL's warper was called: the OpenCV path was not taken")


def gdalwarp(src: Path, out: Path, crs: str) -> Path:
    """``gdalwarp -r bilinear`` on GDAL's own default grid (what gdalwarp users get)."""
    cmd = ["gdalwarp", "-q", "-overwrite", "-t_srs", crs, "-r", "bilinear", str(src), str(out)]
    subprocess.run(cmd, check=True, timeout=120)
    return out


def utm33_orthophoto(make_raster: Callable[..., Path]) -> Path:
    """A smooth RGBA image in EPSG:32633 over Skanderborg with a transparent corner (a footprint edge)."""
    rows, cols = np.mgrid[0:600, 0:800].astype(np.float64)
    red = 128 + 100 * np.sin(cols / 37.0) * np.cos(rows / 23.0)
    green = 40 + 0.25 * cols
    blue = 60 + 0.3 * rows + 20 * np.sin((cols + rows) / 11.0)
    alpha = np.where(rows + cols > 150, 255, 0)
    data = np.stack([red, green, blue, alpha]).round().clip(0, 255).astype("uint8")
    # Skanderborg (56.04 N, 9.93 E) in UTM 33N, 5 cm pixels
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(9.93, 56.04)
    return make_raster("u33.tif", width=800, height=600, count=4, crs="EPSG:32633", data=data,
                       transform=from_origin(round(x, 2), round(y, 2), 0.05, 0.05))  # fmt: skip


def test_source_map_is_within_gdal_error_threshold() -> None:
    """Every pixel of a 700 x 300 window: interpolated map within 0.125 px of PROJ's exact transform."""
    transformer = Transformer.from_crs("EPSG:32633", "EPSG:25832", always_xy=True)
    src_transform = from_origin(145000.0, 6230000.0, 0.05, 0.05)
    dst_transform = from_origin(560000.0, 6215200.0, 0.05, 0.05)
    smap = source_map(dst_transform, (300, 700), src_transform, transformer)
    rows, cols = np.mgrid[0:300, 0:700] + 0.5
    x, y = dst_transform * (cols, rows)
    sx, sy = transformer.transform(x, y, direction=TransformDirection.INVERSE)
    scol, srow = ~src_transform * (sx, sy)
    assert np.abs(smap.cols - (scol - 0.5)).max() <= MAX_ERROR_PX
    assert np.abs(smap.rows - (srow - 0.5)).max() <= MAX_ERROR_PX


@pytest.mark.parametrize("case", ["utm33_to_25832", "webodm_utm15_to_utm14"])
def test_orthophoto_warp_matches_gdalwarp(
    case: str,
    make_raster: Callable[..., Path],
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case == "utm33_to_25832":
        src, crs = utm33_orthophoto(make_raster), "EPSG:25832"
    else:  # the real WebODM orthophoto (UTM 15N, RGBA) into the neighbouring zone: a real rotation
        src, crs = data_dir / WEBODM, "EPSG:32614"
    monkeypatch.setattr(pipeline.rasters.warp, "reproject", no_gdal_warp)
    product = reproject_to_cog(
        src,
        tmp_path / "o.tif",
        ReprojectConfig(kind=ProductKind.ORTHOPHOTO, target_crs=crs, profile=lossless()),
    )
    assert product.georef is not None and product.georef.model_dump()["warp"] == "warped"
    ref = gdalwarp(src, tmp_path / "ref.tif", crs)
    with rasterio.open(tmp_path / "o.tif") as ours, rasterio.open(ref) as theirs:
        assert (ours.width, ours.height) == (theirs.width, theirs.height)
        assert ours.transform.almost_equals(theirs.transform, precision=1e-6)
        a, b = ours.read().astype(int), theirs.read().astype(int)
    assert (b[3] == 0).any(), "the footprint edge is part of the comparison"
    assert ((a[3] > 0) == (b[3] > 0)).mean() > 0.995
    both = (a[3] == 255) & (b[3] == 255)
    diff = np.abs(a[:3, both] - b[:3, both])
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 3
    edge = (a[3] > 0) & (b[3] > 0) & ~both  # footprint edge: colours of valid pixels only, as GDAL's
    assert np.abs(a[:3, edge] - b[:3, edge]).mean() < 3
