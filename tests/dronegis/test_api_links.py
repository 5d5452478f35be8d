"""Every link of ``/layers`` and of the STAC catalog resolves; COGs are served with HTTP range requests.

The STAC catalog holds the vector layers too (the demo's footprints, and its photo points as an
internal layer), with the GeoPackage and the OGC API items as assets.
"""

from __future__ import annotations

import hashlib
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import numpy as np
import pytest
import rasterio
from demo_site import RGB, THERMAL, TOKEN, DemoSite

from webgis_export.tms import get_tms, zoom_for_gsd

pytestmark = [pytest.mark.network, pytest.mark.slow]
STAC_LINKS = ("root", "parent", "child", "item", "collection", "self")


def _tile_link(template: str, layer: dict[str, Any]) -> str:
    """An XYZ template filled with the tile at the layer's centre, at the level of its GSD."""
    tms_id = "View1" if "/View1/" in template else "WebMercatorQuad"
    west, south, east, north = layer["bounds_wgs84"]
    z = zoom_for_gsd(tms_id, layer["gsd_m"], latitude=(south + north) / 2)
    tile = get_tms(tms_id).tile((west + east) / 2, (south + north) / 2, z)
    return template.replace("{z}", str(tile.z)).replace("{x}", str(tile.x)).replace("{y}", str(tile.y))


def _get(client: httpx.Client, url: str) -> httpx.Response:
    """GET ``url``; a COG is asked for its first kilobyte only (206)."""
    headers = {"Range": "bytes=0-1023"} if urlsplit(url).path.endswith(".tif") else {}
    return client.get(url, headers=headers)


def crawl_layers(client: httpx.Client, site: DemoSite) -> list[tuple[str, int]]:
    """(URL, status) of every link of every visible layer (XYZ templates filled in)."""
    statuses = []
    for layer in client.get(f"{site.url}/layers").json():
        for name, link in layer["links"].items():
            url = _tile_link(link, layer) if name.startswith("xyz") else link
            statuses.append((url, _get(client, url).status_code))
    return statuses


def crawl_stac(client: httpx.Client, site: DemoSite) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Status of every STAC document and asset reachable from the catalog, and the documents read."""
    start = f"{site.url}/stac/catalog.json"
    statuses: dict[str, int] = {}
    documents: dict[str, dict[str, Any]] = {}
    queue = deque([start])
    while queue:
        url = queue.popleft()
        if url in statuses:
            continue
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code != 200:
            continue
        doc = documents[url] = response.json()
        for link in doc.get("links", []):
            assert link["rel"] in STAC_LINKS, link
            queue.append(urljoin(url, link["href"]))
        for asset in doc.get("assets", {}).values():
            href = urljoin(url, asset["href"])
            statuses[href] = _get(client, href).status_code
    return statuses, documents


def _broken(statuses: dict[str, int] | list[tuple[str, int]]) -> dict[str, int]:
    pairs = statuses.items() if isinstance(statuses, dict) else statuses
    return {url: code for url, code in pairs if code not in (200, 206)}


def test_every_link_resolves_for_anonymous_callers(demo_site: DemoSite) -> None:
    with httpx.Client(timeout=60) as client:
        layer_links = crawl_layers(client, demo_site)
        stac_links, documents = crawl_stac(client, demo_site)
    assert _broken(layer_links) == {} and _broken(stac_links) == {}
    public = {i for i, layer in demo_site.layers.items() if layer.access == "public"}
    vectors = {i for i, layer in demo_site.vectors.items() if layer.access == "public"}
    items = {doc["id"] for doc in documents.values() if doc["type"] == "Feature"}
    assert items == public | vectors and len(public) >= 8 and vectors == {
        "skanderborg-demo-footprints",
        "skanderborg-demo-buildings",  # the demo's synthetic footprints over its thermal mosaic
        "skanderborg-demo-hot-spots",
    }
    collections = {doc["id"] for doc in documents.values() if doc["type"] == "Collection"}
    # thermal_mosaic and photo_points hold only an internal layer each
    assert collections == {"rgb_frame", "thermal_frame", "footprints", "buildings", "hot_spots"}
    assert len(layer_links) == 7 * len(public)  # legend, 2 XYZ, WMS, WMTS, STAC, COG
    hidden = {i for i in [*demo_site.layers, *demo_site.vectors] if i not in public | vectors}
    urls = [url for url, _ in layer_links] + list(stac_links)
    assert hidden and not any(h in url for h in hidden for url in urls)


def test_every_link_resolves_with_a_token(demo_site: DemoSite) -> None:
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        stac_links, documents = crawl_stac(client, demo_site)
    assert _broken(stac_links) == {}
    features = {doc["id"] for doc in documents.values() if doc["type"] == "Feature"}
    assert features == set(demo_site.layers) | set(demo_site.vectors)
    with httpx.Client(timeout=60) as client:  # the token in the query, as GIS clients send it
        layers = client.get(f"{demo_site.url}/layers", params={"token": TOKEN}).json()
        assert {layer["id"] for layer in layers} == set(demo_site.layers)
        for layer in layers:
            assert all(link.endswith(f"token={TOKEN}") for link in layer["links"].values()), layer["links"]
            for name, link in layer["links"].items():
                url = _tile_link(link, layer) if name.startswith("xyz") else link
                assert _get(client, url).status_code in (200, 206), url


def test_internal_documents_and_cogs_are_absent_without_a_token(demo_site: DemoSite) -> None:
    thermal = demo_site.layers[THERMAL]
    with httpx.Client(base_url=demo_site.url, timeout=60) as client:
        for path in (
            f"/{thermal.stac_item}",
            "/stac/thermal_mosaic/collection.json",
            f"/layers/{THERMAL}/cog.tif",
        ):
            assert client.get(path).status_code == 404, path
            assert client.get(path, params={"token": TOKEN}).status_code == 200, path
        assert client.get(f"/layers/{THERMAL}/cog.tif", params={"token": "wrong"}).status_code == 401


def test_layer_links_name_the_layers_own_documents(demo_site: DemoSite) -> None:
    layer = next(x for x in httpx.get(f"{demo_site.url}/layers", timeout=60).json() if x["id"] == RGB)
    item = httpx.get(layer["links"]["stac"], timeout=60).json()
    assert item["id"] == RGB and item["type"] == "Feature"
    asset = urljoin(layer["links"]["stac"], item["assets"]["data"]["href"])
    assert asset == layer["links"]["cog"]
    body = httpx.get(asset, timeout=60)
    assert body.status_code == 200 and body.headers["content-type"].startswith("image/tiff")
    assert hashlib.sha256(body.content).digest() == hashlib.sha256(demo_site.cog(RGB).read_bytes()).digest()


def test_cog_range_requests(demo_site: DemoSite) -> None:
    data = demo_site.cog(RGB).read_bytes()
    url = f"{demo_site.url}/layers/{RGB}/cog.tif"
    head = httpx.head(url, timeout=60)
    assert head.status_code == 200 and head.headers["accept-ranges"] == "bytes"
    assert int(head.headers["content-length"]) == len(data)
    for spec, start, end in (("100-4195", 100, 4195), ("-512", len(data) - 512, len(data) - 1)):
        part = httpx.get(url, headers={"Range": f"bytes={spec}"}, timeout=60)
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
        assert part.content == data[start : end + 1]
    beyond = httpx.get(url, headers={"Range": f"bytes={len(data) + 10}-"}, timeout=60)
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_gdal_vsicurl_reads_cogs_through_the_server(demo_site: DemoSite) -> None:
    env = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif"}
    for layer_id, options in ((RGB, {}), (THERMAL, {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {TOKEN}"})):
        with rasterio.open(demo_site.cog(layer_id)) as local:
            expected, overview = local.read(), local.read(out_shape=(local.count, 64, 64))
            profile = (local.crs, local.transform, local.overviews(1))
        url = f"/vsicurl/{demo_site.url}/layers/{layer_id}/cog.tif"
        with rasterio.Env(**env, **options), rasterio.open(url) as remote:
            assert (remote.crs, remote.transform, remote.overviews(1)) == profile
            np.testing.assert_array_equal(remote.read(out_shape=(remote.count, 64, 64)), overview)
            np.testing.assert_array_equal(remote.read(), expected)
    query = f"/vsicurl/{demo_site.url}/layers/{THERMAL}/cog.tif?token={TOKEN}"
    with rasterio.Env(**env), rasterio.open(query) as remote:
        assert remote.read(1).shape == (demo_site.layers[THERMAL].height, demo_site.layers[THERMAL].width)
