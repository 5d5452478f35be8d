"""Render lanes: what bounds the service's renders in flight, and serves map users before bulk maps.

A closed loop of many clients sharing two cores is what the service meets under load. When every
request renders on its own thread of a 40-thread pool, a 256 px tile shares the CPU with forty
others and waits behind each 4096 x 4096 GetMap in flight; every thread also opens its own GDAL
datasets and malloc arena, so memory grows with the number of threads that ever rendered.
Renders therefore run in two fixed pools of threads:

- **interactive** (tiles, GetFeatureInfo, capabilities, maps up to :data:`BULK_PIXELS`): a few
  threads (two per core), first come first served;
- **bulk** (GetMaps above :data:`BULK_PIXELS`, e.g. a 4096 x 4096 export): ``bulk`` threads at a
  lower CPU priority (a higher nice value of those threads only), first come first served — a
  bulk map waits behind the bulk maps asked before it, never behind a stream of smaller ones.

At most ``interactive + bulk`` renders are in flight, whatever the number of connections; the
requests waiting for a lane hold no thread (the route awaits the lane's future). The memory
bound of the former pixel budget (two 4096² maps at once) is the bulk lane's two threads.

The event loop (HTTP in and out) and the render threads share the GIL: with Python's default
switch interval of 5 ms the loop waits up to 5 ms for each hand-over while a render thread runs
Python code. :data:`SWITCH_INTERVAL_S` (0.5 ms) cut the tile benchmark's p95 from 49-54 to
42-44 ms and raised its rate by 6 % (wrk, 500 tiles at concurrency 8, two rounds each).
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

Lane = Literal["interactive", "bulk"]
T = TypeVar("T")

#: GetMaps with more pixels than a 1024 x 1024 map render in the bulk lane.
BULK_PIXELS = 1024 * 1024
#: Nice value added to the bulk lane's threads (Linux: per thread; elsewhere nothing).
BULK_NICE = 5
#: The interpreter's thread switch interval in a serving process (Python's default: 0.005 s).
SWITCH_INTERVAL_S = 0.0005


def lower_thread_priority(increment: int = BULK_NICE) -> bool:
    """Raise the calling thread's nice value by ``increment``; False where the system cannot."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
    except (AttributeError, OSError):  # no per-thread priorities (not Linux) or not permitted
        return False
    return True


class RenderLanes:
    """The two render pools of one service process (which also gets :data:`SWITCH_INTERVAL_S`).

    Args:
        interactive: threads of the interactive lane (default two per core, at least 2).
        bulk: threads of the bulk lane.
        bulk_nice: nice increment of the bulk threads (0: same priority).
    """

    def __init__(self, interactive: int | None = None, bulk: int = 2, bulk_nice: int = BULK_NICE) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        threads = interactive or max(2, 2 * (os.cpu_count() or 1))
        self.interactive = ThreadPoolExecutor(threads, thread_name_prefix="render")
        initializer = functools.partial(lower_thread_priority, bulk_nice) if bulk_nice else None
        self.bulk = ThreadPoolExecutor(bulk, thread_name_prefix="render-bulk", initializer=initializer)

    def executor(self, lane: Lane) -> ThreadPoolExecutor:
        """The pool of ``lane``."""
        return self.bulk if lane == "bulk" else self.interactive

    async def run(self, lane: Lane, call: Callable[[], T]) -> T:
        """``call()`` on a thread of ``lane``; its exception, if any, is raised here."""
        return await asyncio.get_running_loop().run_in_executor(self.executor(lane), call)

    def close(self) -> None:
        """Stop both pools; renders not yet started are cancelled."""
        for pool in (self.interactive, self.bulk):
            pool.shutdown(wait=False, cancel_futures=True)


def map_lane(request: str | None, width: str | None, height: str | None) -> Lane:
    """The lane of a WMS request from its REQUEST, WIDTH and HEIGHT (bulk: a GetMap above BULK_PIXELS)."""
    if (request or "").lower() != "getmap":
        return "interactive"
    try:
        pixels = int(width or 0) * int(height or 0)
    except ValueError:
        return "interactive"  # the request is refused with its own error
    return "bulk" if pixels > BULK_PIXELS else "interactive"
