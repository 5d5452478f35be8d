"""Observe check points on a product from their observations on the archived source frames.

Pilots and surveyors usually click targets on raw frames (ODM ``gcp_list.txt`` style), not
on the orthophoto. ``observe_on_product`` measures where those targets landed on the
product by image matching (``qa.transfer``): it never uses the surveyed coordinates or
the georeferencing fit. Images are decimated to ``max_side`` pixels for matching, and the
feature positions are scaled back, so observations stay in full-resolution pixel indices.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Sequence
from pathlib import Path

import cv2
import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

from flights.models import ControlPoint
from flights.pixels import inside, rescale
from qa.measure import observations_on, product_names
from qa.transfer import Features, features, transfer_points

logger = logging.getLogger(__name__)

DEFAULT_MAX_SIDE = 2000
RADIUS_SHARE = 0.2
"""Neighbourhood used for matching, as a share of the frame's long side."""


def _scaled(feats: Features, factor: float) -> Features:
    """Keypoints of a picture decimated by ``factor`` expressed in full-resolution pixel indices.

    OpenCV keypoints, like control files, put pixel centres on integers (``flights.pixels``).
    """
    col, row = rescale(feats.points[:, 0], feats.points[:, 1], 1 / factor, 1 / factor)
    return Features(np.column_stack([col, row]), feats.descriptors)


def stretched(values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """8-bit picture of ``values`` stretched between their 1st and 99th percentile (valid pixels).

    Frames and products go through the same stretch, so that a low-contrast frame (a flat,
    evenly lit scene) yields as many SIFT features as the product it is matched against.
    """
    arr = np.asarray(values, dtype=np.float64)
    mask = np.ones(arr.shape[-2:], dtype=bool) if valid is None else valid
    lo, hi = np.percentile(arr[..., mask], (1, 99)) if mask.any() else (0.0, 1.0)
    return np.clip((arr - lo) / max(float(hi - lo), 1e-9) * 255, 0, 255).astype(np.uint8)


def frame_features(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> tuple[Features, int] | None:
    """SIFT features of a source frame in its full-resolution pixel indices, and its long side.

    None when the frame cannot be decoded. A frame matched onto several products (its own
    frame product, its GCP-warped copy, an orthophoto) is read and described once.
    """
    stat = Path(path).stat()
    return _frame_features(str(path), stat.st_mtime_ns, stat.st_size, max_side)


@functools.lru_cache(maxsize=16)
def _frame_features(path: str, _mtime_ns: int, _size: int, max_side: int) -> tuple[Features, int] | None:
    grey = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if grey is None:
        return None
    width, side = grey.shape[1], max(grey.shape)
    factor = 1.0
    if side > max_side:
        grey = cv2.resize(grey, None, fx=max_side / side, fy=max_side / side, interpolation=cv2.INTER_AREA)
        factor = grey.shape[1] / width
    return _scaled(features(stretched(grey)), factor), side


def product_features(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> Features:
    """SIFT features of a product raster (bands 1–3 or 1, valid pixels only), in its pixel indices."""
    with rasterio.open(path) as src:
        wanted = min(1.0, max_side / max(src.width, src.height))
        shape = (max(1, round(src.height * wanted)), max(1, round(src.width * wanted)))
        bands = (1, 2, 3) if src.count >= 3 else (1,)
        data = src.read(bands, out_shape=(len(bands), *shape), masked=True)
        factor = shape[1] / src.width
    valid = ~np.ma.getmaskarray(data).any(axis=0)
    img = stretched(np.ma.filled(data, 0), valid)
    picture = np.moveaxis(img, 0, -1) if len(bands) == 3 else img[0]
    return _scaled(features(picture, valid), factor)


def _find(frames_dir: Path, name: str) -> Path | None:
    direct = frames_dir / name
    if direct.exists():
        return direct
    return next((p for p in frames_dir.rglob(Path(name).name) if p.is_file()), None)


def observe_on_product(
    points: Sequence[ControlPoint],
    product: Path,
    frames_dir: Path,
    *,
    product_id: str | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    sources: Collection[str] | None = None,
) -> list[ControlPoint]:
    """Check points with observations on ``product`` added by matching from their source frames.

    Points already observed on the product, GCPs and points without frame observations are
    returned unchanged. ``sources`` limits the frames matched from (a single-frame product
    shows only its own frame). A transfer that lands outside the product's valid pixels (the
    local homography extrapolated past the product's edge) is not an observation and is dropped.
    """
    names = product_names(product, product_id)
    todo = [p for p in points if p.role == "check" and not observations_on(p, names)]
    wanted = None if sources is None else {Path(s).name.lower() for s in sources}
    images = sorted(
        {
            o.image
            for p in todo
            for o in p.observations
            if wanted is None or Path(o.image).name.lower() in wanted
        }
    )
    if not images:
        return list(points)
    references: dict[str, tuple[Features, Affine]] = {}
    longest = 0
    for image in images:
        path = _find(frames_dir, image)
        found = frame_features(path, max_side) if path is not None else None
        if found is not None:
            references[image] = (found[0], Affine.identity())
            longest = max(longest, found[1])
    if not references:
        logger.info("no source frame of the check points found under %s", frames_dir)
        return list(points)
    target = product_features(product, max_side)
    radius = RADIUS_SHARE * longest
    moved = transfer_points(todo, references, target, product.name, radius_px=radius)
    kept = {p.name: p for p in _on_valid_pixels(moved, product)}
    return [kept.get(p.name, p) if p.role == "check" else p for p in points]


def _on_valid_pixels(points: Sequence[ControlPoint], product: Path) -> list[ControlPoint]:
    """The points with their observations on ``product`` that miss its valid pixels removed."""
    out = []
    with rasterio.open(product) as src:
        for point in points:
            keep = []
            for obs in point.observations:
                if obs.image == product.name:
                    c, r = (
                        min(max(round(obs.col), 0), src.width - 1),
                        min(max(round(obs.row), 0), src.height - 1),
                    )
                    if not (inside(obs.col, obs.row, src.width, src.height) and _valid(src, c, r)):
                        logger.info(
                            "%s: transferred off the valid pixels of %s; dropped", point.name, product.name
                        )
                        continue
                keep.append(obs)
            out.append(point.model_copy(update={"observations": tuple(keep)}))
    return out


def _valid(src: rasterio.io.DatasetReader, col: int, row: int) -> bool:
    """True when the dataset mask is set at the pixel (col, row)."""
    mask = src.dataset_mask(window=Window(col, row, 1, 1))
    return bool(mask[0, 0])
