"""People blurring in published frames (issue 16): OpenCV's HOG people detector on real street photos.

The Berlin photos (OpenSfM's test data, iPhone 4S at eye level) show pedestrians on the cathedral
steps; their centres were marked by hand on the 1632 x 1224 image. The detector finds most of them
(and, honestly, some columns and statues too); every box it finds is blurred so that no detail
survives there. On a nadir drone frame it finds nobody, which the docs say.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import rasterio
from affine import Affine

from core.workspace import Workspace
from pipeline.models import Product, ProductKind
from pipeline.rasters.cog import write_cog_array
from tests.webgis_export.published import CAPTURE, NOW
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.privacy.people import DETECTOR, blur_boxes, detect_people
from webgis_export.publish import publish

SIZE = (1632, 1224)
# Pedestrians of berlin/images/02.jpg at SIZE, marked by hand (x, y of the body's middle).
PEDESTRIANS = [(524, 1064), (916, 1044), (220, 944), (380, 944), (1390, 1090), (1456, 1074)]


def berlin(data_dir: Path, name: str = "02") -> np.ndarray:
    bgr = cv2.imread(str(data_dir / "opensfm_berlin" / "data" / "berlin" / "images" / f"{name}.jpg"))
    return cv2.cvtColor(cv2.resize(bgr, SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def laplacian_var(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F).var())


def test_hog_finds_the_pedestrians_and_the_blur_leaves_no_detail(data_dir: Path) -> None:
    rgb = berlin(data_dir)
    boxes = detect_people(rgb)
    covered = [
        any(b.x <= x < b.x + b.width and b.y <= y < b.y + b.height for b in boxes) for x, y in PEDESTRIANS
    ]
    assert sum(covered) >= 4, covered  # 5 of 6 on this photo with OpenCV 5.0
    blurred = blur_boxes(rgb, boxes)
    grey_before = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    grey_after = cv2.cvtColor(blurred, cv2.COLOR_RGB2GRAY)
    for box in boxes:
        window = np.s_[box.y : box.y + box.height, box.x : box.x + box.width]
        before, after = laplacian_var(grey_before[window]), laplacian_var(grey_after[window])
        assert after < 0.02 * before, (box, before, after)
        high_before = grey_before[window] - cv2.GaussianBlur(grey_before[window], (0, 0), 2.0)
        high_after = grey_after[window] - cv2.GaussianBlur(grey_after[window], (0, 0), 2.0)
        r = np.corrcoef(high_before.ravel().astype(float), high_after.ravel().astype(float) + 1e-6)[0, 1]
        assert abs(r) < 0.2, (box, r)
    outside = np.ones(rgb.shape[:2], bool)
    for box in boxes:
        gx, gy = int(box.width * 0.1), int(box.height * 0.1)
        outside[max(0, box.y - gy) : box.y + box.height + gy, max(0, box.x - gx) : box.x + box.width + gx] = (
            False
        )
    assert np.array_equal(rgb[outside], blurred[outside])


def test_nadir_drone_frame_finds_nobody(data_dir: Path) -> None:
    """A limit the docs state: a nadir frame from 40 m (Brighton Beach) gives the detector nothing."""
    bgr = cv2.imread(str(data_dir / "brighton_beach" / "images" / "DJI_0018.JPG"))
    rgb = cv2.cvtColor(cv2.resize(bgr, (2000, 1125), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    assert len(detect_people(rgb)) <= 2


def test_published_frame_is_blurred_and_the_detections_reported(tmp_path: Path, data_dir: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    flight = "people-test"
    rgb = berlin(data_dir)
    transform = Affine(0.01, 0, 560000.0, 0, -0.01, 6215600.0)
    path = ws.products(flight) / "frame.tif"
    write_cog_array(np.moveaxis(rgb, -1, 0), path, "ortho_jpeg", transform=transform, crs="EPSG:25832")
    product = Product(
        id=f"{flight}-frame-02", flight=flight, kind=ProductKind.RGB_FRAME,
        path=f"products/{flight}/frame.tif", crs="EPSG:25832",
        bounds=(560000.0, 6215587.76, 560016.32, 6215600.0), gsd_m=0.01, time_start=CAPTURE,
    )  # fmt: skip
    ws.products_json(flight).write_text(json.dumps([product.model_dump(mode="json")]), encoding="utf-8")
    (layer,) = publish(ws, flight, now=NOW, pyramids=False, privacy=PrivacyConfig(detect_people=True))
    assert layer.privacy is not None and layer.privacy.detector == DETECTOR
    assert layer.privacy.detections is not None and layer.privacy.detections >= 4
    with rasterio.open(path) as src:
        original = np.moveaxis(src.read(), 0, -1)
    with rasterio.open(ws.publish / layer.cog) as src:
        published = np.moveaxis(src.read(), 0, -1)
    x, y = PEDESTRIANS[1]
    window = np.s_[y - 40 : y + 40, x - 15 : x + 15]
    before = laplacian_var(cv2.cvtColor(original[window], cv2.COLOR_RGB2GRAY))
    after = laplacian_var(cv2.cvtColor(published[window], cv2.COLOR_RGB2GRAY))
    assert after < 0.02 * before
    item = json.loads((ws.publish / layer.stac_item).read_text(encoding="utf-8"))
    assert item["properties"]["dronegis:privacy"]["detections"] == layer.privacy.detections
