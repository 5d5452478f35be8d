"""Render lanes (issue 18/20): bounded renders in flight, bulk maps first come first served at a lower
priority, and the WMS routes choose the lane by the map's size."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient

from webgis_export.ogc import wms
from webgis_export.ogc.exceptions import OgcResponse
from webgis_export.ogc.lanes import BULK_PIXELS, SWITCH_INTERVAL_S, RenderLanes, map_lane


def test_getmaps_above_1024_squared_are_bulk_everything_else_interactive() -> None:
    assert map_lane("GetMap", "1024", "1024") == "interactive"
    assert map_lane("getmap", "1025", "1024") == "bulk"
    assert map_lane("GetMap", "4096", "4096") == "bulk"
    assert map_lane("GetFeatureInfo", "4096", "4096") == "interactive"
    assert map_lane("GetCapabilities", None, None) == "interactive"
    assert map_lane("GetMap", "wide", "1") == "interactive"  # refused later with its own error
    assert BULK_PIXELS == 1024 * 1024


def test_bulk_maps_run_two_at_a_time_in_the_order_asked() -> None:
    lanes = RenderLanes(interactive=2, bulk=2)
    started: list[int] = []
    running, most = [0], [0]
    lock = threading.Lock()

    def draw(n: int) -> int:
        with lock:
            started.append(n)
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return n

    async def ask() -> list[int]:
        return await asyncio.gather(*(lanes.run("bulk", lambda n=n: draw(n)) for n in range(8)))

    try:
        assert asyncio.run(ask()) == list(range(8))
    finally:
        lanes.close()
    assert most[0] == 2
    assert started[:2] == [0, 1] or started[:2] == [1, 0]
    assert sorted(started[2:4]) == [2, 3] and sorted(started[6:]) == [6, 7]


def test_a_failing_render_raises_in_the_caller_and_the_lane_goes_on() -> None:
    lanes = RenderLanes(interactive=1, bulk=1)

    def fail() -> int:
        raise RuntimeError("render failed")

    async def ask() -> int:
        with pytest.raises(RuntimeError, match="render failed"):
            await lanes.run("interactive", fail)
        return await lanes.run("interactive", lambda: 7)

    try:
        assert asyncio.run(ask()) == 7
    finally:
        lanes.close()
    assert sys.getswitchinterval() <= SWITCH_INTERVAL_S  # the serving process hands the GIL over sooner


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_bulk_threads_run_at_a_lower_priority_than_the_others() -> None:
    lanes = RenderLanes(interactive=1, bulk=1, bulk_nice=5)

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        bulk = lanes.bulk.submit(nice).result(10)
        interactive = lanes.interactive.submit(nice).result(10)
    finally:
        lanes.close()
    assert bulk == min(interactive + 5, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == interactive  # only that thread


def test_wms_routes_draw_large_maps_in_the_bulk_lane(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn_on: list[str] = []

    def fake_get_map(params: object, store: object, internal: bool) -> OgcResponse:
        drawn_on.append(threading.current_thread().name)
        return OgcResponse(b"map", "image/png")

    monkeypatch.setattr(wms, "get_map", fake_get_map)
    base = "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=x&STYLES=&CRS=EPSG:25832&BBOX=0,0,1,1"
    for side in (256, 1024, 2048, 4096):
        answer = client.get(f"{base}&WIDTH={side}&HEIGHT={side}&FORMAT=image/png")
        assert answer.status_code == 200 and answer.content == b"map"
    assert [name.split("_")[0] for name in drawn_on] == ["render", "render", "render-bulk", "render-bulk"]
    capabilities = client.get("/wms?SERVICE=WMS&REQUEST=GetCapabilities")
    assert capabilities.status_code == 200 and b"WMS_Capabilities" in capabilities.content
