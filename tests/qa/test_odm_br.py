"""odm_br: the GCP orthophoto and the EXIF-only orthophoto measured against the 19 surveyed targets.

No file of the dataset holds pixel observations of the targets *on the orthophotos*: every
observation (gcp_list*.txt, qgis/qgis53xx.txt) is on a raw frame, and both orthophoto
PNGs are QGIS map exports with the surveyed points drawn as symbols at their surveyed
coordinates (hiding the painted targets). The targets are therefore measured on each
orthophoto by transferring their raw-frame observations with image matching
(``qa.transfer``) from the four QGIS exports of raw frames (qgis/gcp_53xx.png, whose world
files map raw-frame pixel coordinates), with symbols and labels masked out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from flights.control import read_control_file
from flights.models import ControlPoint
from qa.measure import measure_product, pixel_to_world
from qa.precision import accuracy, tolerance_for, verdict
from qa.transfer import annotation_mask, features, transfer_points

CRS = "EPSG:32722"
RAW_PICTURES = ("5350", "5352", "5355", "5356")


def _rgb(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return np.moveaxis(src.read((1, 2, 3)), 0, -1)


def _picture_affine(pgw: Path) -> Affine:
    """Raw-frame pixel (col, row) -> pixel index of the QGIS export (y of QGIS = -row)."""
    a, _, _, d, e, f = (float(v) for v in pgw.read_text().split())
    return ~Affine(a, 0, e, 0, d, f) * Affine.scale(1, -1)


@pytest.fixture(scope="module")
def targets(data_dir: Path) -> list[ControlPoint]:
    root = data_dir / "odm_br" / "odm_gcp_br"
    parsed = read_control_file(root / "gcp_list_floatxy_raw.txt", "gcp_list_floatxy_raw.txt", role="check")
    refs = {}
    for n in RAW_PICTURES:
        rgb = _rgb(root / "qgis" / f"gcp_{n}.png")
        refs[f"IMG_{n}.JPG"] = (
            features(rgb, annotation_mask(rgb)),
            _picture_affine(root / "qgis" / f"gcp_{n}.pgw"),
        )
    points = list(parsed.points)
    for ortho in (data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png", root / "qgis" / "ortho_exif_nogcp.png"):
        rgb = _rgb(ortho)
        points = transfer_points(points, refs, features(rgb, annotation_mask(rgb)), ortho.name)
    return points


def test_nineteen_surveyed_targets(targets: list[ControlPoint]) -> None:
    assert len(targets) == 19
    assert {p.name for p in targets} == {f"HV{i:02d}" for i in range(1, 20)}
    assert all(p.role == "check" for p in targets)


def test_symbols_in_the_exports_sit_on_the_survey(data_dir: Path) -> None:
    """Why the exports' symbols cannot serve as observations: they are drawn at the surveyed positions."""
    path = data_dir / "odm_br" / "odm_gcp_br" / "qgis" / "ortho_exif_nogcp.png"
    with rasterio.open(path) as src:
        transform = src.transform
    rgb = _rgb(path).astype(int)
    violet = (rgb[..., 2] > 180) & (rgb[..., 0] < 150) & (rgb[..., 2] - rgb[..., 1] > 60)
    rows, cols = np.nonzero(violet[300:320, 430:460])  # HV08's symbol
    x, y = pixel_to_world(transform, cols.mean() + 430, rows.mean() + 300)
    assert abs(x - 658521.058) < 0.3 and abs(y - 7166983.570) < 0.3


@pytest.mark.parametrize(
    ("ortho", "gsd", "min_measured", "expected_status"),
    [("odm_extra_gcp_br_ckeck.png", 0.1157, 17, "pass"), ("ortho_exif_nogcp.png", 0.2646, 14, "fail")],
)
def test_orthophoto_against_targets(
    data_dir: Path,
    targets: list[ControlPoint],
    ortho: str,
    gsd: float,
    min_measured: int,
    expected_status: str,
) -> None:
    path = next((data_dir / "odm_br").rglob(ortho))
    measured, missing = measure_product(targets, path, crs=CRS)
    assert len(measured) >= min_measured
    assert len(measured) + len(missing) == 19
    errors = [m.error for m in measured]
    tol = tolerance_for(gsd, "survey")
    acc = accuracy(errors, horizontal_class=tol.horizontal)
    status, message = verdict(acc, tol)
    assert acc.count_warning is not None  # fewer than 30 check points
    if expected_status == "pass":
        # the GCP orthophoto meets 2.5×GSD (0.29 m) on RMSE; measured 0.28 m over 18 targets
        assert acc.horizontal_class_met is True
        assert 0.1 < acc.rmse_r < tol.horizontal
        # HV03 (frame edge, one transfer) exceeds 3× the per-axis target: flagged as a blunder
        assert "RMSE_H" not in message
        assert set(acc.blunders) <= {"HV03"}
    else:
        # EXIF only: it fails 2.5×GSD (0.66 m) and reports its real error, metres-level
        assert status == "fail"
        assert acc.rmse_r > tol.horizontal
        assert 0.8 < acc.rmse_r < 2.0  # measured 1.22 m over 16 targets
        assert f"{acc.asprs_rmse_h:.3f}" in message


def test_targets_delivered_and_given_again_are_measured_once(
    data_dir: Path, targets: list[ControlPoint]
) -> None:
    """The same 19 targets as a delivered file and as --checkpoints: 19 measured, the ASPRS warning stays."""
    from flights.control_sets import PointSource, merge_sources

    path = data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png"
    twice = targets + targets
    doubled, _ = measure_product(twice, path, crs=CRS)
    assert len(doubled) >= 34  # counted twice, the count reaches the ASPRS minimum of 30
    assert accuracy([m.error for m in doubled]).count_warning is None
    merged = merge_sources(
        [
            PointSource("gcp_list_floatxy_raw.txt", "delivered", targets),
            PointSource("gcp_list_floatxy_raw.txt", "checkpoints", targets),
        ]
    )
    assert len(merged.check_points()) == 19
    measured, missing = measure_product(merged.check_points(), path, crs=CRS)
    assert len(measured) + len(missing) == 19 and len(measured) == len(doubled) // 2
    assert accuracy([m.error for m in measured]).count_warning == (
        f"{len(measured)} check points; ASPRS Edition 2 asks for at least 30"
    )
