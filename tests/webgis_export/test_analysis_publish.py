"""Publication of the analysis products of ``process`` (issues 13, 14) over a running service.

The two nature flights of tests/pipeline/test_process_analyses.py (the real odm_br orthophoto,
the later one shifted with a planted change) are published: the index rasters and the change map
as WMS layers with their diverging styles, legends and capture time (TIME), the change areas as an
OGC API collection and a WMS layer drawn by class; the STAC items validate.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from jsonschema import Draft7Validator
from owslib.ogcapi.features import Features
from owslib.wms import WebMapService
from PIL import Image

from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.settings import Settings
from pipeline.models import ProductKind
from pipeline.process import process_flight
from pipeline.run import ProcessConfig
from tests.pipeline.test_process_analyses import nature, survey  # noqa: F401 -- the module fixtures
from tests.webgis_export.published import live_server
from webgis_export.publish import load_layers, publish
from webgis_export.stac import validate_tree
from webgis_export.vectors.store import load_vector_layers


@pytest.fixture(scope="module")
def published(nature: dict[str, Path]) -> Workspace:  # noqa: F811
    ws = Workspace.at(nature["ws"])
    publish(ws, "may", access="public", pyramids=False)
    publish(ws, "june", access="public", pyramids=False)
    return ws


def test_index_change_and_areas_are_served(published: Workspace) -> None:
    layers = {layer.kind: layer for layer in load_layers(published) if layer.flight == "june"}
    index = next(
        layer
        for layer in load_layers(published)
        if layer.kind is ProductKind.VEGETATION_INDEX and layer.flight == "june"
    )
    assert index.style.colormap == "RdYlGn" and (index.style.vmin, index.style.vmax) == (-0.5, 0.5)
    change = layers[ProductKind.CHANGE_MAP]
    assert change.style.vmin == -change.style.vmax and change.time_start == index.time_start
    assert validate_tree(published.published_stac / "catalog.json") > 0
    with live_server(create_app(Settings(workspace=published.root))) as url:
        asked = {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}
        caps = httpx.get(f"{url}/wms", params=asked, timeout=30).text
        assert index.id in caps and 'name="time"' in caps
        assert "Vegetationsindeks ExG / Vegetation index ExG" in caps
        west, south, east, north = index.bounds_wgs84
        when = index.time_start.strftime("%Y-%m-%d") if index.time_start else ""
        for layer_id in (index.id, change.id):
            answer = httpx.get(f"{url}/wms", params={
                "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer_id, "STYLES": "",
                "CRS": "CRS:84", "BBOX": f"{west},{south},{east},{north}", "WIDTH": 256, "HEIGHT": 256,
                "FORMAT": "image/png", "TRANSPARENT": "TRUE", "TIME": when,
            }, timeout=60)  # fmt: skip
            assert answer.status_code == 200, answer.text
            image = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))
            assert image[..., 3].any() and len(np.unique(image[..., :3].reshape(-1, 3), axis=0)) > 20
        legend = httpx.get(f"{url}/wms", params={
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetLegendGraphic", "LAYER": index.id,
            "FORMAT": "image/png",
        }, timeout=30)  # fmt: skip
        assert legend.status_code == 200 and legend.content.startswith(b"\x89PNG")
        areas = next(c for c in load_vector_layers(published) if c.kind is ProductKind.CHANGE_AREAS)
        address = f"{url}/ogcapi/collections/{areas.id}/items"
        items = httpx.get(address, params={"f": "json"}, timeout=30).json()
        values = {f["properties"]["change"] for f in items["features"]}
        assert items["features"] and values <= {"gain", "loss"}
        assert all(f["properties"]["area_m2"] > 0 for f in items["features"])



def _png(url: str, **params: str) -> np.ndarray:
    base = {"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "STYLES": "", "CRS": "CRS:84",
            "WIDTH": "200", "HEIGHT": "120", "FORMAT": "image/png", "TRANSPARENT": "TRUE"}  # fmt: skip
    answer = httpx.get(f"{url}/wms", params={**base, **params}, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png", answer.text
    return np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))


def test_index_time_series_picks_the_flight_by_time(published: Workspace) -> None:
    """ExG of the place flown in May and June: one series layer, TIME selects the flight (owslib reads it)."""
    exg = {
        layer.flight: layer
        for layer in load_layers(published)
        if layer.kind is ProductKind.VEGETATION_INDEX and layer.style.title == "ExG"
    }
    series_id = f"{exg['may'].id}-series"
    with live_server(create_app(Settings(workspace=published.root))) as url:
        wms = WebMapService(f"{url}/wms", version="1.3.0", timeout=60)
        series = wms[series_id]
        assert "tidsserie" in series.title and "time series" in series.title
        assert len(series.timepositions) == 2 and series.defaulttimeposition == series.timepositions[-1]
        west, south, east, north = exg["june"].bounds_wgs84
        box = f"{west},{south},{east},{north}"
        for flight, day in (("may", "2026-05-10"), ("june", "2026-06-20")):
            chosen = _png(url, LAYERS=series_id, BBOX=box, TIME=day)
            np.testing.assert_array_equal(chosen, _png(url, LAYERS=exg[flight].id, BBOX=box))
        assert not np.array_equal(_png(url, LAYERS=series_id, BBOX=box, TIME="2026-05-10"),
                                  _png(url, LAYERS=series_id, BBOX=box))  # fmt: skip
        refused = httpx.get(f"{url}/wms", params={
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": series_id, "STYLES": "",
            "CRS": "CRS:84", "BBOX": box, "WIDTH": "10", "HEIGHT": "10", "FORMAT": "image/png",
            "TIME": "2026-05-11",
        }, timeout=30)  # fmt: skip
        assert "InvalidDimensionValue" in refused.text
        legend = httpx.get(f"{url}/wms", params={
            "SERVICE": "WMS", "REQUEST": "GetLegendGraphic", "LAYER": series_id, "FORMAT": "image/png",
        }, timeout=30)  # fmt: skip
        assert legend.status_code == 200 and legend.content.startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def volumes_published(survey: dict[str, Path]) -> Workspace:  # noqa: F811
    ws = Workspace.at(survey["ws"])
    process_flight(ws, "pile", ProcessConfig(volume_polygons=survey["polygons"], volume_rmse_v_m=0.05))
    publish(ws, "pile", access="public", pyramids=False)
    return ws


def test_volumes_and_cut_fill_are_served(volumes_published: Workspace) -> None:
    ws = volumes_published
    cutfill = next(layer for layer in load_layers(ws) if layer.kind is ProductKind.CUT_FILL)
    assert cutfill.style.colormap == "RdBu_r" and cutfill.style.vmin == -cutfill.style.vmax
    assert cutfill.style.unit == "m" and cutfill.title.startswith("Afgravning og opfyldning / Cut and fill")
    volumes = next(c for c in load_vector_layers(ws) if c.kind is ProductKind.VOLUMES)
    with live_server(create_app(Settings(workspace=ws.root))) as url:
        api = Features(f"{url}/ogcapi")
        items = api.collection_items(volumes.id, limit=10)
        (feature,) = items["features"]
        props = feature["properties"]
        assert props["id"] == "bunke" and props["balance"] == "cut" and props["net_m3"] > 0
        assert props["uncertainty95_m3"] > 0 and props["status"] == "ok"
        west, south, east, north = cutfill.bounds_wgs84
        box = f"{west},{south},{east},{north}"
        image = _png(url, LAYERS=f"{cutfill.id},{volumes.id}", STYLES=",", BBOX=box)
        assert image[..., 3].any()
        legend = httpx.get(f"{url}/wms", params={
            "SERVICE": "WMS", "REQUEST": "GetLegendGraphic", "LAYER": volumes.id, "FORMAT": "image/png",
        }, timeout=30)  # fmt: skip
        assert legend.status_code == 200 and legend.content.startswith(b"\x89PNG")


def test_stac_items_of_the_analyses_validate(
    published: Workspace, volumes_published: Workspace, data_dir: Path
) -> None:
    """Core schemas (pystac's, offline) and the projection extension's schema from the shared data."""
    projection = json.loads((data_dir / "stac-extensions/projection/v2.0.0/schema.json").read_text())
    kinds = ("vegetation_index", "change_map", "change_areas", "cut_fill", "volumes")
    seen = set()
    for ws in (published, volumes_published):
        assert validate_tree(ws.published_stac / "catalog.json") > 0
        for kind in kinds:
            for path in sorted((ws.published_stac / kind).rglob("*.json")):
                item = json.loads(path.read_text())
                if item.get("type") != "Feature":
                    continue
                seen.add(kind)
                assert item["properties"]["datetime"] or item["properties"]["start_datetime"]
                if any("projection" in e for e in item.get("stac_extensions", ())):
                    assert [e.message for e in Draft7Validator(projection).iter_errors(item)] == []
    assert seen == set(kinds)
