"""A thermal flight's buildings published and served: OGC API, WFS, WMS map, legend, feature info and cards.

The real Zenmuse XT R flight processed with footprints (tests/pipeline/buildings/thermal_flight.py)
is published (buildings internal, the rest public) and served by uvicorn in a subprocess on
127.0.0.1 (GDAL's WFS driver holds the GIL: a server thread of this process would hang); real
clients read it: owslib's OGC API – Features, GDAL's WFS driver through pyogrio, and HTTP for
WMS GetMap, GetLegendGraphic, GetFeatureInfo and the cards.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import httpx
import numpy as np
import pyogrio
import pytest
from owslib.ogcapi.features import Features
from PIL import Image
from svc_helpers import GIS, Service

from core.workspace import Workspace
from pipeline.frames import render as frames_module
from pipeline.products import load_products
from tests.pipeline.buildings.thermal_flight import FLIGHT, process_with_footprints
from webgis_export.publish import publish
from webgis_export.tms import get_tms
from webgis_export.vectors.gml import type_name

pytestmark = pytest.mark.slow  # a real flight processed, published and served (~30 s)
TOKEN = GIS
BUILDINGS = f"{FLIGHT}-buildings"
SPOTS = f"{FLIGHT}-hot-spots"
NOW = datetime(2026, 12, 6, tzinfo=UTC)
CLASS_RGB = {"A": (0x1A, 0x98, 0x50), "B": (0x91, 0xCF, 0x60), "C": (0xFE, 0xE0, 0x8B),
             "D": (0xFC, 0x8D, 0x59), "E": (0xD7, 0x30, 0x27)}  # fmt: skip


class Site(NamedTuple):
    url: str
    workspace: Workspace


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frames_module, "MAX_FRAME_PX", 1024)
        ws, _ = process_with_footprints(tmp_path_factory.mktemp("xt-site"), data_dir)
    publish(ws, FLIGHT, access="public", pyramids=False, now=NOW)
    publish(ws, BUILDINGS, access="internal", pyramids=False, now=NOW)
    with Service(ws.root, ws.root.parent / "service.log") as service:
        yield Site(service.url, ws)


def _wms(site: Site, **params: object) -> httpx.Response:
    base = {"SERVICE": "WMS", "VERSION": "1.3.0"}
    return httpx.get(f"{site.url}/wms", params={**base, **params}, timeout=30)


def _map_params(building: gpd.GeoSeries, layers: str) -> dict[str, object]:
    """A 200 px map in EPSG:3857 centred on a building's inside point, 60 m across."""
    x, y = building.to_crs(3857).iloc[0].representative_point().coords[0]
    return {"LAYERS": layers, "CRS": "EPSG:3857", "BBOX": f"{x - 30},{y - 30},{x + 30},{y + 30}",
            "WIDTH": 200, "HEIGHT": 200, "STYLES": ""}  # fmt: skip


def _published(site: Site) -> gpd.GeoDataFrame:
    return gpd.read_file(site.workspace.publish / "layers" / BUILDINGS / "features.gpkg")


def test_ogc_api_and_wfs_read_the_buildings(site: Site) -> None:
    source = gpd.read_file(site.workspace.buildings(FLIGHT) / "buildings.gpkg", layer="buildings")
    anonymous = Features(site.url + "/ogcapi")
    ids = {c["id"] for c in anonymous.collections()["collections"]}
    assert SPOTS in ids and BUILDINGS not in ids  # internal without a token
    # The token in the query string: owslib's API(headers=...) updates its module-level REQUEST_HEADERS,
    # so a header given here would be sent by every later owslib client of the test run.
    api = Features(f"{site.url}/ogcapi/?token={TOKEN}")
    collection = api.collection(BUILDINGS)
    assert collection["title"].startswith("Bygninger (varmetab)")
    items = api.collection_items(BUILDINGS, limit=50)
    assert len(items["features"]) == len(source) == 8
    by_id = {f["properties"]["id"]: f["properties"] for f in items["features"]}
    for row in source.itertuples():
        assert by_id[row.id]["rank"] == row.rank and by_id[row.id]["heat_class"] == row.heat_class
        assert by_id[row.id]["mean_c"] == pytest.approx(row.mean_c)
    wfs = f"WFS:{site.url}/wfs?token={TOKEN}"
    frame = pyogrio.read_dataframe(wfs, layer=f"dronegis:{type_name(BUILDINGS)}")
    assert len(frame) == 8 and sorted(frame["id"]) == sorted(source["id"])
    spots = pyogrio.read_dataframe(f"WFS:{site.url}/wfs", layer=f"dronegis:{type_name(SPOTS)}")
    assert len(spots) == len(
        gpd.read_file(site.workspace.buildings(FLIGHT) / "buildings.gpkg", layer="hot_spots")
    )


def test_wms_draws_buildings_by_class_with_a_legend(site: Site) -> None:
    buildings = _published(site)
    params = _map_params(buildings.geometry.iloc[[0]], BUILDINGS)
    anonymous = _wms(site, REQUEST="GetMap", FORMAT="image/png", TRANSPARENT="TRUE", **params)
    assert anonymous.status_code == 400  # an internal layer is unknown without a token
    answer = _wms(site, REQUEST="GetMap", FORMAT="image/png", TRANSPARENT="TRUE", token=TOKEN, **params)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    pixels = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))
    centre = pixels[100, 100]
    assert centre[3] > 0  # the building under the centre is drawn
    expected = np.array(CLASS_RGB[buildings["heat_class"].iloc[0]])
    assert np.abs(centre[:3].astype(int) - expected).max() <= 2  # its class colour
    legend = _wms(site, REQUEST="GetLegendGraphic", LAYER=BUILDINGS, FORMAT="image/png", token=TOKEN)
    assert legend.status_code == 200 and legend.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(legend.content)).convert("RGB")).reshape(-1, 3).astype(int)
    for rgb in CLASS_RGB.values():  # each class swatch: its fill (alpha 0xcc) over the white legend
        swatch = np.rint(np.array(rgb) * 0xCC / 255 + 255 * (1 - 0xCC / 255))
        assert (np.abs(image - swatch).max(axis=1) <= 2).sum() > 50
    spots = _wms(site, REQUEST="GetLegendGraphic", LAYER=SPOTS, FORMAT="image/png")
    assert spots.status_code == 200 and len(spots.content) > 200


def test_feature_info_links_the_card(site: Site) -> None:
    buildings = _published(site)
    params = _map_params(buildings.geometry.iloc[[0]], BUILDINGS)
    answer = _wms(site, REQUEST="GetFeatureInfo", QUERY_LAYERS=BUILDINGS, I=100, J=100,
                  INFO_FORMAT="application/json", token=TOKEN, **params)  # fmt: skip
    assert answer.status_code == 200
    (feature,) = [f for f in answer.json()["features"] if f["properties"]["layer"] == BUILDINGS]
    props = feature["properties"]
    assert props["attributes"]["id"] == buildings["id"].iloc[0]
    assert props["attributes"]["score_k"] == pytest.approx(buildings["score_k"].iloc[0])
    url = props["card_url"]
    assert url.startswith(f"{site.url}/layers/{BUILDINGS}/cards/") and f"token={TOKEN}" in url
    card = httpx.get(url, timeout=30)
    assert card.status_code == 200 and card.headers["content-type"].startswith("text/html")
    assert f"Bygning {buildings['id'].iloc[0]}" in card.text and "<section lang='en'>" in card.text
    image = card.text.split("src='")[1].split("'")[0]
    assert image.endswith(f"?token={TOKEN}")
    picture = httpx.get(f"{site.url}/layers/{BUILDINGS}/cards/{image}", timeout=30)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    anonymous = httpx.get(url.split("?")[0], timeout=30)
    assert anonymous.status_code == 404  # the card of an internal layer, like the layer itself
    assert httpx.get(f"{site.url}/layers/{BUILDINGS}/cards/..%2Fx.html?token={TOKEN}").status_code == 404


def test_stac_items_of_the_buildings(site: Site) -> None:
    mosaic = next(p for p in load_products(site.workspace, FLIGHT) if p.kind.value == "thermal_mosaic")
    items = {p.stem: p for p in (site.workspace.publish / "stac").rglob("*.json")}
    for layer_id, access, count in ((BUILDINGS, "internal", 8), (SPOTS, "public", None)):
        item = json.loads(items[layer_id].read_text(encoding="utf-8"))
        props = item["properties"]
        assert (props["dronegis:kind"], props["dronegis:access"]) == (
            layer_id.split("-", 1)[1].replace("-", "_"),
            access,
        )
        assert props["datetime"].startswith(mosaic.time_start.strftime("%Y-%m-%dT%H:%M:%S"))
        assert props["dronegis:freshness"] is not None  # rated as a thermal product (2018: stale)
        assert props["proj:code"] == "EPSG:31983" and {"data", "features"} <= set(item["assets"])
        if count is not None:
            assert props["dronegis:feature_count"] == count
    anonymous = httpx.get(f"{site.url}/stac/{items[BUILDINGS].relative_to(site.workspace.publish / 'stac')}")
    assert anonymous.status_code == 404  # the item of an internal layer needs a token


def test_wmts_tiles_capabilities_and_feature_info_of_the_buildings(site: Site) -> None:
    from owslib.wmts import WebMapTileService

    wmts = WebMapTileService(f"{site.url}/wmts/1.0.0/WMTSCapabilities.xml?token={TOKEN}")
    assert BUILDINGS in wmts.contents and SPOTS in wmts.contents
    assert BUILDINGS not in WebMapTileService(f"{site.url}/wmts/1.0.0/WMTSCapabilities.xml").contents
    buildings = _published(site)
    x, y = buildings.to_crs(3857).geometry.iloc[0].representative_point().coords[0]
    tms = get_tms("WebMercatorQuad")
    tile = tms.tile(*tms.lnglat(x, y), 21)
    left, bottom, right, top = tms.xy_bounds(tile)
    i, j = int((x - left) / (right - left) * 256), int((top - y) / (top - bottom) * 256)
    answer = wmts.gettile(layer=BUILDINGS, tilematrixset="WebMercatorQuad", tilematrix="21",
                          row=tile.y, column=tile.x, format="image/png")  # fmt: skip
    pixels = np.asarray(Image.open(io.BytesIO(answer.read())).convert("RGBA"))
    assert pixels[j, i, 3] > 0  # the building is drawn in its tile
    expected = np.array(CLASS_RGB[buildings["heat_class"].iloc[0]])
    assert np.abs(pixels[j, i, :3].astype(int) - expected).max() <= 2
    info = httpx.get(
        f"{site.url}/wmts/1.0.0/{BUILDINGS}/default/WebMercatorQuad/21/{tile.y}/{tile.x}/{j}/{i}.json",
        params={"token": TOKEN},
        timeout=30,
    )
    assert info.status_code == 200
    (feature,) = info.json()["features"]
    assert feature["properties"]["attributes"]["id"] == buildings["id"].iloc[0]
    assert httpx.get(feature["properties"]["card_url"], timeout=30).status_code == 200
