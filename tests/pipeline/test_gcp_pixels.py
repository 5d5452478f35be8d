"""One pixel convention: a GCP-warped frame puts a marked pixel on its surveyed coordinate.

A synthetic frame carries one marked pixel; a gcp_list.txt (ODM format, pixel centres as
OpenSfM/ODM read them) maps the frame to EPSG:25832 by a known affine. After the fit and the
warp, the output at the marked pixel's surveyed coordinate must hold the mark, and the mark's
centroid must lie within 0.1 source pixel of that coordinate. gdalwarp, fed the same file
through ``flights.pixels.to_gdal``, is the peer check of the conversion.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.errors import NotGeoreferencedWarning

from flights.control import read_control_file
from flights.pixels import to_gdal
from pipeline.gcp.fit import fit_gcps, pairs_for_image
from pipeline.gcp.warp import warp_with_fit
from pipeline.models import GcpFit

WIDTH, HEIGHT = 64, 48
MARK = (20, 13)  # (col, row) of the marked pixel, i.e. its centre in control-file pixels
GDALWARP = shutil.which("gdalwarp")


def _survey(col: float, row: float, rotated: bool) -> tuple[float, float]:
    """The 'true' map coordinate of a control-file pixel position (pixel centres at integers)."""
    if rotated:
        return 600_000.0 + 0.30 * col - 0.05 * row, 6_200_000.0 - 0.05 * col - 0.30 * row
    return 600_000.0 + 0.25 * col, 6_200_000.0 - 0.25 * row


def _frame(tmp_path: Path) -> tuple[Path, Path]:
    data = np.zeros((1, HEIGHT, WIDTH), np.float32)
    data[0, MARK[1], MARK[0]] = 1000.0
    path = tmp_path / "IMG_0001.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=1, dtype="float32"
        ) as d:
            d.write(data)
    return path, tmp_path


def _gcp_list(folder: Path, rotated: bool) -> Path:
    lines = ["EPSG:25832"]
    targets = [(3.0, 4.0), (60.0, 2.5), (5.5, 44.0), (58.0, 45.0), (31.25, 22.75), (12.0, 30.0)]
    for i, (col, row) in enumerate(targets):
        x, y = _survey(col, row, rotated)
        lines.append(f"{x:.4f} {y:.4f} 100.0 {col} {row} IMG_0001.tif GCP{i}")
    path = folder / "gcp_list.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _centroid_error_px(out: Path, rotated: bool, pixel_size: float) -> float:
    """Distance from the mark's centroid in the output to its surveyed coordinate, in source pixels."""
    with rasterio.open(out) as ds:
        values = np.nan_to_num(ds.read(1))
        transform = ds.transform
    rows, cols = np.nonzero(values > 0)
    weights = values[rows, cols]
    xs, ys = transform * (cols + 0.5, rows + 0.5)
    cx, cy = np.average(xs, weights=weights), np.average(ys, weights=weights)
    sx, sy = _survey(*MARK, rotated)
    return float(np.hypot(cx - sx, cy - sy) / pixel_size)


def _fit(tmp_path: Path, rotated: bool) -> tuple[Path, GcpFit]:
    frame, folder = _frame(tmp_path)
    control = read_control_file(_gcp_list(folder, rotated), "gcp_list.txt")
    pairs = pairs_for_image(control.points, "IMG_0001.tif")
    return frame, fit_gcps(pairs, order=1, crs="EPSG:25832")


def test_marked_pixel_lands_on_its_surveyed_coordinate(tmp_path: Path) -> None:
    frame, fit = _fit(tmp_path, rotated=False)
    assert fit.rmse_r < 1e-6  # the GCPs follow the affine exactly
    out = warp_with_fit(frame, tmp_path / "warped.tif", fit)
    assert out.resolution == pytest.approx(0.25)
    sx, sy = _survey(*MARK, rotated=False)
    near = [(sx + dx, sy + dy) for dx in (-0.1, 0.1) for dy in (-0.1, 0.1)]  # ±0.4 px around it
    with rasterio.open(out.path) as ds:
        values = [float(v[0]) for v in ds.sample(near)]
    # the output pixel centred on the surveyed coordinate holds the whole mark (not half a pixel off)
    assert values == pytest.approx([1000.0] * 4, abs=1e-3)
    assert _centroid_error_px(Path(out.path), False, 0.25) < 0.1


def test_marked_pixel_on_a_rotated_frame(tmp_path: Path) -> None:
    frame, fit = _fit(tmp_path, rotated=True)
    size = float(np.hypot(0.30, 0.05))
    out = warp_with_fit(frame, tmp_path / "warped.tif", fit, resolution=size / 4)
    error = _centroid_error_px(Path(out.path), True, size)
    assert error < 0.1, f"mark {error:.3f} source px from its surveyed coordinate"


@pytest.mark.skipif(GDALWARP is None, reason="gdal-bin not installed")
def test_gdalwarp_agrees_through_to_gdal(tmp_path: Path) -> None:
    """gdalwarp -order 1 with the file's pixels converted by to_gdal puts the mark on the same spot."""
    frame, folder = _frame(tmp_path)
    control = read_control_file(_gcp_list(folder, rotated=True), "gcp_list.txt")
    gcps = []
    for p in control.points:
        col, row = to_gdal(p.observations[0].col, p.observations[0].row)
        gcps.append(GroundControlPoint(row=row, col=col, x=p.x, y=p.y, id=p.name))
    src = tmp_path / "with_gcps.tif"
    shutil.copy(frame, src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(src, "r+") as ds:
            ds.gcps = (gcps, "EPSG:25832")
    size = float(np.hypot(0.30, 0.05))
    out = tmp_path / "gdal.tif"
    res = repr(size / 4)
    subprocess.run(
        [
            str(GDALWARP),
            "-q",
            "-order",
            "1",
            "-et",
            "0",
            "-r",
            "bilinear",
            "-tr",
            res,
            res,
            str(src),
            str(out),
        ],
        check=True,
    )
    assert _centroid_error_px(out, True, size) < 0.1
