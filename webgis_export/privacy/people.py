"""Blurring people in published frames with OpenCV's HOG people detector (off by default).

The detector is OpenCV's own: the Dalal–Triggs histogram-of-oriented-gradients person model
(``cv2.HOGDescriptor_getDefaultPeopleDetector``, a linear SVM over a 64×128 window, trained on
upright pedestrians seen from the side), shipped inside the ``opencv-contrib-python-headless``
wheel from PyPI — no model is downloaded at run time.

Limits, honestly: it finds upright people seen from roughly eye level or a low oblique angle,
at least ~100 px tall. A nadir drone frame shows heads and shoulders from above, which it does
not know; at 2 cm GSD a person is ~25 px across. Expect it to miss most people in nadir survey
frames and to catch pedestrians in oblique frames. It is a second line behind the privacy zones
and the internal-by-default frames, never a guarantee. Licence plates are not detected: OpenCV 5
wheels ship no plate model and none is downloaded (see docs/DESIGN.md).

A found person is pixelated into blocks of an eighth of the box height and then Gaussian
blurred with a sigma of one block, over the box grown by 10 %.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import rasterio

from core.atomic import TMP_SUFFIX
from core.errors import PrivacyZoneError
from pipeline.rasters.cog import write_cog
from webgis_export.privacy.models import PrivacyStamp
from webgis_export.privacy.raster import MASKED_IMAGERY

log = logging.getLogger(__name__)

DETECTOR = "opencv-hog-people (Dalal-Triggs default people detector)"
MIN_SCORE = 0.5
NMS_OVERLAP = 0.4
GROW = 0.10


class Box(NamedTuple):
    """A detection: pixel box and SVM score."""

    x: int
    y: int
    width: int
    height: int
    score: float


def hog_detector() -> Any:
    """OpenCV's HOG descriptor with the default people SVM.

    Raises:
        PrivacyZoneError: this OpenCV build has no HOG (opencv-python-headless 5 dropped it; the
            contrib wheel has it).
    """
    if not hasattr(cv2, "HOGDescriptor"):
        raise PrivacyZoneError(
            f"people detection needs OpenCV's HOG people detector; cv2 {cv2.__version__} has none "
            "(install opencv-contrib-python-headless: bash scripts/setup.sh)"
        )
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]
    return hog


def detect_people(rgb: np.ndarray) -> list[Box]:
    """People in an (h, w, 3) uint8 image: HOG detections above :data:`MIN_SCORE`, overlaps merged."""
    rects, scores = hog_detector().detectMultiScale(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), winStride=(4, 4), padding=(8, 8), scale=1.05
    )
    if len(rects) == 0:
        return []
    weights = np.asarray(scores, dtype="float64").ravel()
    boxes = [[int(v) for v in r] for r in rects]
    keep = cv2.dnn.NMSBoxes(boxes, weights.tolist(), MIN_SCORE, NMS_OVERLAP)
    kept = [boxes[int(i)] for i in np.asarray(keep).ravel()]
    scores_kept = [float(weights[int(i)]) for i in np.asarray(keep).ravel()]
    return [Box(x, y, w, h, score) for (x, y, w, h), score in zip(kept, scores_kept, strict=True)]


def blur_boxes(rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """``rgb`` with every box (grown by 10 %) pixelated and heavily blurred. Pure."""
    out = rgb.copy()
    height, width = rgb.shape[:2]
    for box in boxes:
        gx, gy = int(box.width * GROW), int(box.height * GROW)
        x0, y0 = max(0, box.x - gx), max(0, box.y - gy)
        x1, y1 = min(width, box.x + box.width + gx), min(height, box.y + box.height + gy)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = out[y0:y1, x0:x1]
        block = max(4, (y1 - y0) // 8)
        small = cv2.resize(
            patch, (max(1, (x1 - x0) // block), max(1, (y1 - y0) // block)), interpolation=cv2.INTER_AREA
        )
        coarse = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (0, 0), sigmaX=float(block))
    return out


def blur_people_in_cog(cog: Path, stamp: PrivacyStamp) -> PrivacyStamp:
    """Detect and blur people in a staged RGB frame COG (rewritten losslessly when someone is found)."""
    with rasterio.open(cog) as src:
        data, valid, profile = src.read(), src.dataset_mask(), src.profile
    rgb = np.ascontiguousarray(np.moveaxis(data[:3], 0, -1))
    boxes = detect_people(rgb)
    log.info("privacy: %s: %d people detected", cog, len(boxes))
    if boxes:
        data[:3] = np.moveaxis(blur_boxes(rgb, boxes), -1, 0)
        _rewrite(cog, data, valid, profile)
    return stamp.model_copy(update={"detector": DETECTOR, "detections": len(boxes)})


def _rewrite(cog: Path, data: np.ndarray, valid: np.ndarray, profile: dict[str, object]) -> None:
    scratch = cog.with_name(f".{cog.name}.people{TMP_SUFFIX}")
    meta = {
        **profile,
        "driver": "GTiff",
        "compress": "ZSTD",
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
    }
    meta.pop("photometric", None)
    meta.pop("jpeg_quality", None)
    try:
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(scratch, "w", **meta) as dst:
            dst.write(data)
            dst.write_mask(valid)
        write_cog(scratch, cog, MASKED_IMAGERY)
    finally:
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()
