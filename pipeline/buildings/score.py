"""Reliability, comparable-roof reference, heat-loss score, rank and class (pure).

Score (K) = mean over the roof's valid cells of max(0, T − T_ref), computed from the roof's
histogram (bin centres, error ≤ half a bin). T_ref = median of the medians of the comparable
reliable roofs (same BBR use code when at least ``min_peers`` share it, else every reliable
roof). Rank 1 = highest score among the reliable roofs (good or limited); unreliable roofs
rank after every reliable one, by score. Ties break on the key, so a run is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

import numpy as np
from numpy.typing import NDArray

from pipeline.buildings.models import Building, Reliability, ReliabilityRule, ScoreRule
from pipeline.zonal import ZonalStats

CLASSES = "ABCDE"
Histogram = tuple[float, float, tuple[int, ...]]


def histogram_of(values: NDArray[np.floating], bin_k: float) -> Histogram | None:
    """Histogram of a roof's valid values with bins of ``bin_k`` aligned on multiples of it."""
    if values.size == 0:
        return None
    start = math.floor(float(values.min()) / bin_k) * bin_k
    bins = np.floor((values.astype(np.float64) - start) / bin_k).astype(np.int64)
    return start, bin_k, tuple(int(c) for c in np.bincount(bins))


def positive_excess(histogram: Histogram, reference: float) -> float:
    """Mean of max(0, T − reference) over the cells of a histogram (bin centres)."""
    start, width, counts = histogram
    counts_arr = np.asarray(counts, dtype=np.float64)
    centres = start + width * (np.arange(counts_arr.size) + 0.5)
    return float(np.sum(np.maximum(centres - reference, 0.0) * counts_arr) / counts_arr.sum())


def reliability_of(
    stats: ZonalStats,
    view_angle: float | None,
    reflective: bool,
    gate_passed: bool | None,
    rule: ReliabilityRule,
) -> tuple[Reliability, tuple[str, ...]]:
    """The reliability level of a roof and the reason codes behind it."""
    unreliable: list[str] = []
    limited: list[str] = []
    if stats.valid_count == 0:
        unreliable.append("no_data")
    elif stats.coverage < rule.unreliable_coverage:
        unreliable.append("low_coverage")
    elif stats.coverage < rule.limited_coverage:
        limited.append("partial_coverage")
    if 0 < stats.valid_count < rule.unreliable_pixels:
        unreliable.append("too_few_pixels")
    elif 0 < stats.valid_count < rule.limited_pixels:
        limited.append("few_pixels")
    if view_angle is not None and view_angle > rule.unreliable_view_angle_deg:
        unreliable.append("oblique_view")
    elif view_angle is not None and view_angle > rule.limited_view_angle_deg:
        limited.append("oblique_view")
    if reflective:
        unreliable.append("reflective_roof")
    if gate_passed is False:
        limited.append("conditions_gate_failed")
    if unreliable:
        return Reliability.UNRELIABLE, tuple(unreliable + limited)
    return (Reliability.LIMITED if limited else Reliability.GOOD), tuple(limited)


def peer_reference(buildings: Sequence[Building], rule: ScoreRule) -> dict[int, tuple[float, str]]:
    """T_ref and the peer group's name per building index (buildings without a median get none)."""
    medians = {b.index: b.stats.median for b in buildings if b.stats.median is not None}
    measured = [b for b in buildings if b.index in medians]
    reliable = [b for b in measured if b.reliability is not Reliability.UNRELIABLE] or measured
    if not reliable:
        return {}
    overall = float(median(medians[b.index] for b in reliable))
    by_use: dict[str, list[float]] = {}
    for b in reliable:
        if b.use_code is not None:
            by_use.setdefault(b.use_code, []).append(medians[b.index])
    found = {}
    for b in measured:
        group = by_use.get(b.use_code, []) if b.use_code is not None else []
        if len(group) >= rule.min_peers:
            found[b.index] = (float(median(group)), f"use {b.use_code} ({len(group)})")
        else:
            found[b.index] = (overall, f"all ({len(reliable)})")
    return found


def heat_class(score: float, rule: ScoreRule) -> str:
    """A … E by the score's place among the class limits."""
    return CLASSES[sum(score >= limit for limit in rule.class_limits_k)]


def rank_order(buildings: Sequence[Building]) -> dict[int, int]:
    """Rank per building index: reliable roofs first by score (highest = 1), then unreliable ones."""
    scored = [b for b in buildings if b.score_k is not None]
    ordered = sorted(
        scored, key=lambda b: (b.reliability is Reliability.UNRELIABLE, -(b.score_k or 0.0), b.key)
    )
    return {b.index: position for position, b in enumerate(ordered, start=1)}


def scored(buildings: Sequence[Building], air_temp: float | None, rule: ScoreRule) -> list[Building]:
    """The buildings with reference, excesses, score, class and rank filled in."""
    references = peer_reference(buildings, rule)
    updated = []
    for b in buildings:
        if b.index not in references or b.histogram is None or b.stats.median is None:
            updated.append(b)
            continue
        reference, group = references[b.index]
        score = positive_excess(b.histogram, reference)
        updated.append(
            b.model_copy(
                update={
                    "reference_c": reference,
                    "peer_group": group,
                    "excess_peers_k": b.stats.median - reference,
                    "excess_air_k": None if air_temp is None else b.stats.median - air_temp,
                    "score_k": score,
                    "heat_class": heat_class(score, rule),
                }
            )
        )
    ranks = rank_order(updated)
    return [b.model_copy(update={"rank": ranks.get(b.index)}) for b in updated]
