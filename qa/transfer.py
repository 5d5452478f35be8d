"""Transfer a pixel observation from a reference image onto a product by image matching.

When a check point was observed on source frames (or on any image) but not on the
product, its position on the product can be *measured* by matching the image content
around it: SIFT features near the observation, a RANSAC homography from the reference to
the product (locally the ground is a plane, REFERENCE.md §3.3), and the observation
pushed through it. The result depends only on the two images and the observation — not
on the surveyed coordinates nor on the georeferencing fit — so it is an independent
measurement of where the point landed on the product.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import cv2
import numpy as np
from affine import Affine

from flights.models import ControlPoint, PixelObservation

logger = logging.getLogger(__name__)

DEFAULT_RADIUS_PX = 250.0
DEFAULT_MIN_INLIERS = 15


class Located(NamedTuple):
    """Where an observation landed on the target image (pixel indices) and how well it matched."""

    col: float
    row: float
    inliers: int
    matches: int


def annotation_mask(rgb: np.ndarray, *, grow: int = 2) -> np.ndarray:
    """True where pixels look like map annotations (black labels, saturated marker symbols).

    Map screenshots (QGIS exports) carry labels and point symbols drawn over the image;
    features on them must not be matched. Returns a boolean mask of *usable* pixels.
    """
    r, g, b = (rgb[..., i].astype(np.int32) for i in range(3))
    dark = (r + g + b) < 90
    magenta = (r > 180) & (g < 140) & (b > 100)
    violet = (b > 150) & (r < 150) & (b - g > 50)
    red = (r > 150) & (g < 80) & (b < 60)
    bad = (dark | magenta | violet | red).astype(np.uint8)
    if grow:
        bad = np.asarray(cv2.dilate(bad, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)), dtype=np.uint8)
    usable: np.ndarray = bad == 0
    return usable


class Features(NamedTuple):
    """SIFT keypoint positions (N×2, pixel indices) and descriptors of one image."""

    points: np.ndarray
    descriptors: np.ndarray | None


def features(rgb: np.ndarray, usable: np.ndarray | None = None, *, n: int = 8000) -> Features:
    """SIFT features of an RGB (or grey) image, only where ``usable`` is True."""
    grey = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    mask = None if usable is None else usable.astype(np.uint8) * 255
    sift = cv2.SIFT_create(n)  # type: ignore[attr-defined]  # cv2 stubs lack SIFT_create
    keypoints, descriptors = sift.detectAndCompute(grey, mask)
    pts = np.array([k.pt for k in keypoints], dtype=np.float64).reshape(-1, 2)
    return Features(pts, descriptors)


def locate(
    reference: Features,
    col: float,
    row: float,
    target: Features,
    *,
    radius_px: float = DEFAULT_RADIUS_PX,
    min_inliers: int = DEFAULT_MIN_INLIERS,
    ratio: float = 0.75,
) -> Located | None:
    """Position on the target of the reference pixel (col, row), or None if matching is too weak.

    Args:
        reference: Features of the image the observation was made on.
        col: Observation column on the reference (pixel index).
        row: Observation row on the reference (pixel index).
        target: Features of the product image.
        radius_px: Only reference features this close to the observation are used.
        min_inliers: Fewer RANSAC inliers than this gives None.
        ratio: Lowe's ratio test threshold.
    """
    if reference.descriptors is None or target.descriptors is None or len(target.points) < 4:
        return None
    near = np.hypot(reference.points[:, 0] - col, reference.points[:, 1] - row) < radius_px
    if near.sum() < 4:
        return None
    pairs = cv2.BFMatcher().knnMatch(reference.descriptors[near], target.descriptors, k=2)
    src_idx = np.flatnonzero(near)
    good = [
        (src_idx[m.queryIdx], m.trainIdx)
        for m, *rest in pairs
        if rest and m.distance < ratio * rest[0].distance
    ]
    if len(good) < max(4, min_inliers):
        return None
    src = reference.points[[s for s, _ in good]]
    dst = target.points[[t for _, t in good]]
    cv2.setRNGSeed(0)
    h, inliers = cv2.findHomography(src.astype(np.float32), dst.astype(np.float32), cv2.RANSAC, 2.0)
    count = int(inliers.sum()) if inliers is not None else 0
    if h is None or count < min_inliers:
        return None
    p = h.astype(np.float64) @ np.array([col, row, 1.0])
    return Located(float(p[0] / p[2]), float(p[1] / p[2]), count, len(good))


def transfer_points(
    points: Sequence[ControlPoint],
    references: Mapping[str, tuple[Features, Affine]],
    target: Features,
    target_name: str,
    *,
    radius_px: float = DEFAULT_RADIUS_PX,
    min_inliers: int = DEFAULT_MIN_INLIERS,
) -> list[ControlPoint]:
    """Add observations on ``target_name`` to points observed on reference images.

    Args:
        points: Control points with observations on source images.
        references: Observation image name -> (features of a picture of that image, affine
            from observation pixel coordinates to that picture's pixel indices; identity
            when the picture is the image itself).
        target: Features of the product image.
        target_name: Image name the new observations carry (the product's file name).
        radius_px: Neighbourhood of the observation used for matching (reference picture pixels).
        min_inliers: Transfers with fewer RANSAC inliers are dropped.

    Returns:
        The points, each with one new observation per successful transfer (points without
        any successful transfer are returned unchanged).
    """
    out = []
    for point in points:
        new = []
        for obs in point.observations:
            ref = references.get(obs.image)
            if ref is None:
                continue
            features_, to_picture = ref
            col, row = to_picture * (obs.col, obs.row)
            hit = locate(features_, col, row, target, radius_px=radius_px, min_inliers=min_inliers)
            if hit is not None:
                new.append(PixelObservation(image=target_name, col=hit.col, row=hit.row))
                logger.debug("%s: %s -> %s (%d inliers)", point.name, obs.image, target_name, hit.inliers)
        out.append(
            point.model_copy(update={"observations": point.observations + tuple(new)}) if new else point
        )
    return out
