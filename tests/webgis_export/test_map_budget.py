"""The pixel budget of GetMap (issue 18): large maps queue, small ones pass, the budget always returns."""

from __future__ import annotations

import threading
import time

import pytest

from webgis_export.ogc.budget import MAP_PIXELS, PixelBudget
from webgis_export.ogc.capabilities import MAX_SIZE


def test_large_maps_wait_for_each_other_small_ones_pass() -> None:
    budget = PixelBudget(100)
    inside, most = [0], [0]
    lock = threading.Lock()

    def draw(pixels: int) -> None:
        share = min(pixels, budget.total)  # a map larger than the budget holds all of it
        with budget.hold(pixels):
            with lock:
                inside[0] += share
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= share

    threads = [threading.Thread(target=draw, args=(p,)) for p in (80, 80, 500, 10, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert 90 <= most[0] <= 100  # never two large maps at once; small ones beside a large one
    assert budget.free == budget.total == 100


def test_the_budget_returns_when_a_rendering_fails() -> None:
    budget = PixelBudget(10)
    with pytest.raises(RuntimeError), budget.hold(10):
        raise RuntimeError("render failed")
    assert budget.free == 10


def test_the_service_budget_is_two_maps_of_the_largest_size() -> None:
    assert MAP_PIXELS.total == 2 * MAX_SIZE * MAX_SIZE
