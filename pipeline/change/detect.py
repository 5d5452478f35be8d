"""Change areas from a difference raster, block by block (pure: arrays in, polygons and sums out).

The rule (documented in the outputs and the report):

- the difference is Δ = AFTER − BEFORE − bias, where both have data (bias: the median Δ over the
  whole overlap, when removed — a white-balance, calibration or vertical-datum offset between
  flights, not a change);
- Δ is smoothed with a Gaussian of σ = ``smooth_m`` that ignores missing pixels (normalised
  convolution), so single noisy pixels and sub-pixel misregistration along edges do not count;
- a pixel has changed when |smoothed Δ| ≥ the threshold: a **gain** (Δ > 0) or a **loss** (Δ < 0);
  the change area grows from such pixels into connected pixels of the same sign with |smoothed Δ|
  ≥ half the threshold (hysteresis, as in Canny's edge detector: the smoothing halves Δ at the
  border of an area, so the border is found where it is instead of shrinking the area);
- connected pixels of one sign (4-connectivity) form a change area; areas smaller than
  ``min_area_m2`` are dropped;
- each area reports its pixel count, area (pixels × pixel area), the mean and largest |Δ| of the
  *unsmoothed* Δ, and for DSMs the volume Σ Δh × pixel area (positive: fill, negative: cut).

Default thresholds (:data:`pipeline.change.models.DEFAULT_THRESHOLDS`): 0.08 ExG for orthophotos
(grass ≈ 0.10–0.20, bare soil and asphalt ≈ 0), 0.10 for index rasters, 0.30 m for DSMs (about
3 × the vertical noise of a drone DSM at 5–10 cm GSD).

Blocks are polygonised on their own; areas touching an inner block edge are merged with their
neighbours across the edge (same sign, shared edge) before the minimum area is applied.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import cv2
import numpy as np
from affine import Affine
from numpy.typing import NDArray
from rasterio.features import shapes
from shapely import STRtree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

F32 = NDArray[np.float32]
#: Share of the Gaussian weight that must come from pixels with data for a smoothed value to exist.
MIN_WEIGHT = 0.5
#: A change region grows from its seeds (|Δ| ≥ threshold) into connected pixels with |Δ| ≥ GROW × threshold.
GROW = 0.5


class Part(NamedTuple):
    """A connected change region inside one block, with the sums needed after merging."""

    sign: int
    geometry: BaseGeometry
    pixels: int
    total: float
    """Σ Δ (unsmoothed) over the region."""
    max_abs: float
    on_seam: bool
    """True when it touches an inner block edge (may continue in the next block)."""
    seeded: bool
    """True when it holds a pixel at or above the full threshold."""


class Area(NamedTuple):
    """A merged change area."""

    sign: int
    geometry: BaseGeometry
    pixels: int
    total: float
    max_abs: float


def halo(sigma_px: float) -> int:
    """Pixels read around a block so that smoothing at its edge equals smoothing of the whole raster."""
    return math.ceil(3 * sigma_px) if sigma_px > 0 else 0


def smooth(delta: F32, sigma_px: float) -> F32:
    """Gaussian smoothing that ignores NaN (normalised convolution); NaN where too little data."""
    if sigma_px <= 0:
        return delta.copy()
    valid = np.isfinite(delta)
    weight = cv2.GaussianBlur(valid.astype(np.float32), (0, 0), sigma_px, borderType=cv2.BORDER_CONSTANT)
    total = cv2.GaussianBlur(
        np.where(valid, delta, 0).astype(np.float32), (0, 0), sigma_px, borderType=cv2.BORDER_CONSTANT
    )
    out = np.full(delta.shape, np.nan, dtype=np.float32)
    ok = valid & (weight >= MIN_WEIGHT)
    out[ok] = total[ok] / weight[ok]
    return out


def classify(smoothed: F32, threshold: float) -> NDArray[np.int8]:
    """Per pixel: ±2 where |smoothed Δ| ≥ threshold (a seed), ±1 where ≥ threshold / 2, else 0.

    The sign is the sign of Δ (+ gain, − loss); NaN is 0.
    """
    out = np.zeros(smoothed.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        out[smoothed >= threshold * GROW] = 1
        out[smoothed <= -threshold * GROW] = -1
        out[smoothed >= threshold] = 2
        out[smoothed <= -threshold] = -2
    return out


def block_parts(
    classes: NDArray[np.int8], delta: F32, transform: Affine, seams: tuple[bool, bool, bool, bool]
) -> list[Part]:
    """The connected change regions of one block: grown regions that hold a seed, or touch a seam.

    Args:
        classes: output of :func:`classify` for the block.
        delta: the unsmoothed Δ of the block (for the sums).
        transform: the block's affine.
        seams: whether the (left, top, right, bottom) edge of the block is an inner edge.
    """
    parts: list[Part] = []
    rows, cols = classes.shape
    values = np.nan_to_num(delta, nan=0.0).astype(np.float64)
    for sign in (1, -1):
        mask = (classes * sign > 0).astype(np.uint8)
        if not mask.any():
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4, ltype=cv2.CV_32S)
        flat: NDArray[np.intp] = np.asarray(labels, dtype=np.intp).ravel()
        sums = np.bincount(flat, weights=values.ravel(), minlength=count)
        seeds = np.bincount(flat, weights=(classes.ravel() * sign == 2), minlength=count) > 0
        maxima = np.zeros(count)
        np.maximum.at(maxima, flat, np.abs(values).ravel())
        geoms: dict[int, list[BaseGeometry]] = {}
        for geom, label in shapes(labels, mask=mask.astype(bool), transform=transform, connectivity=4):
            geoms.setdefault(int(label), []).append(shape(geom))
        for label, pieces in geoms.items():
            x, y, w, h, n = (int(v) for v in stats[label])
            touches = (
                seams[0] and x == 0,
                seams[1] and y == 0,
                seams[2] and x + w == cols,
                seams[3] and y + h == rows,
            )
            if not (seeds[label] or any(touches)):
                continue
            geometry = pieces[0] if len(pieces) == 1 else unary_union(pieces)
            parts.append(
                Part(
                    sign,
                    geometry,
                    n,
                    float(sums[label]),
                    float(maxima[label]),
                    any(touches),
                    bool(seeds[label]),
                )
            )
    return parts


def merge(parts: Iterable[Part]) -> list[Area]:
    """Join parts that continue across block edges (same sign, sharing an edge) into areas."""
    done: list[Area] = []
    seam: list[Part] = []
    for part in parts:
        if part.on_seam:
            seam.append(part)
        elif part.seeded:
            done.append(Area(part.sign, part.geometry, part.pixels, part.total, part.max_abs))
    if not seam:
        return done
    parent = list(range(len(seam)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree = STRtree([p.geometry for p in seam])
    left, right = tree.query([p.geometry for p in seam], predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if (
            i < j
            and seam[i].sign == seam[j].sign
            and seam[i].geometry.intersection(seam[j].geometry).length > 0
        ):
            parent[root(j)] = root(i)
    groups: dict[int, list[Part]] = {}
    for i, part in enumerate(seam):
        groups.setdefault(root(i), []).append(part)
    for members in groups.values():
        if not any(m.seeded for m in members):
            continue
        geometry = members[0].geometry if len(members) == 1 else unary_union([m.geometry for m in members])
        done.append(
            Area(
                members[0].sign,
                geometry,
                sum(m.pixels for m in members),
                sum(m.total for m in members),
                max(m.max_abs for m in members),
            )
        )
    return done
