"""OGC API – Features and WFS 2.0 over real HTTP on 127.0.0.1: documents, CRS, paging, errors, access.

Figures are compared with the published GeoPackages read by geopandas (not through the service).
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import cv2
import geopandas as gpd
import httpx
import numpy as np
import pytest
import shapely
from owslib.ogcapi.features import Features
from pyproj import Transformer
from svc_helpers import GIS
from vector_site import BUILDINGS, FOOTPRINTS, HOT_SPOTS, VectorSite

pytestmark = pytest.mark.network
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"
OWS = "{http://www.opengis.net/ows/1.1}"
WFS = "{http://www.opengis.net/wfs/2.0}"
BEARER = {"Authorization": f"Bearer {GIS}"}


def get(site: VectorSite, path: str, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    return httpx.get(f"{site.url}{path}", params=params, headers=headers, timeout=60)


def frame(site: VectorSite, layer_id: str) -> gpd.GeoDataFrame:
    return gpd.read_file(site.gpkg(layer_id), fid_as_index=True)


def test_landing_conformance_and_api(vector_site: VectorSite) -> None:
    landing = get(vector_site, "/ogcapi")
    assert landing.status_code == 200 and landing.headers["content-type"].startswith("application/json")
    rels = {link["rel"]: link for link in landing.json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    for rel in ("conformance", "data", "service-desc"):
        assert httpx.get(rels[rel]["href"], timeout=60).status_code == 200, rel
    api = httpx.get(rels["service-desc"]["href"], timeout=60)
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    paths = api.json()["paths"]
    for path in (
        "/ogcapi/collections/{collectionId}/items",
        "/ogcapi/collections/{collectionId}/items/{featureId}",
    ):
        assert path in paths
    limit = next(
        p
        for p in paths["/ogcapi/collections/{collectionId}/items"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 10_000
    classes = get(vector_site, "/ogcapi/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_collections_follow_the_callers_access(vector_site: VectorSite) -> None:
    anonymous = {c["id"] for c in get(vector_site, "/ogcapi/collections").json()["collections"]}
    assert anonymous == vector_site.public == {BUILDINGS, FOOTPRINTS}
    for headers, params in ((BEARER, {}), ({}, {"token": GIS})):
        doc = get(vector_site, "/ogcapi/collections", headers, **params).json()
        assert {c["id"] for c in doc["collections"]} == set(vector_site.layers)
    collection = get(vector_site, f"/ogcapi/collections/{BUILDINGS}").json()
    layer = vector_site.layers[BUILDINGS]
    assert collection["crs"] == [CRS84, UTM] and collection["storageCrs"] == UTM
    assert collection["extent"]["spatial"]["bbox"][0] == pytest.approx(list(layer.bounds_wgs84 or ()))
    assert collection["extent"]["temporal"]["interval"] == [["2026-02-10T05:30:00Z", "2026-02-10T05:30:00Z"]]
    assert collection["dronegis:feature_count"] == 11 and collection["dronegis:kind"] == "buildings"
    token_links = get(vector_site, "/ogcapi/collections", token=GIS).json()
    assert all(
        link["href"].endswith(f"token={GIS}") for c in token_links["collections"] for link in c["links"]
    )


def test_items_in_crs84_and_in_epsg_25832(vector_site: VectorSite) -> None:
    gpkg = frame(vector_site, BUILDINGS)
    default = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items", limit=20)
    assert default.headers["content-type"] == "application/geo+json"
    assert default.headers["content-crs"] == f"<{CRS84}>"
    utm = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items", limit=20, crs="EPSG:25832")
    assert utm.headers["content-crs"] == f"<{UTM}>"
    doc = utm.json()
    assert doc["numberMatched"] == doc["numberReturned"] == len(gpkg) == 11
    for feature in doc["features"]:
        ring = np.asarray(feature["geometry"]["coordinates"][0])
        assert np.allclose(
            ring, np.asarray(gpkg.loc[feature["id"]].geometry.exterior.coords)[:, :2], atol=1e-6
        )
        assert 500_000 < ring[0, 0] < 700_000 and 6_000_000 < ring[0, 1] < 6_500_000  # metres, not degrees
    first = default.json()["features"][0]
    lon, lat = Transformer.from_crs(25832, 4326, always_xy=True).transform(
        *gpkg.loc[first["id"]].geometry.exterior.coords[0][:2]
    )
    assert first["geometry"]["coordinates"][0][0] == pytest.approx([lon, lat], abs=1e-9)
    one = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items/5", crs=UTM)
    assert one.status_code == 200 and one.headers["content-crs"] == f"<{UTM}>"
    assert one.json()["properties"]["id"] == gpkg.loc[5, "id"]


def test_owslib_reads_items_with_bbox_and_paging(vector_site: VectorSite) -> None:
    api = Features(f"{vector_site.url}/ogcapi")
    assert {c["id"] for c in api.collections()["collections"]} == vector_site.public
    gpkg = frame(vector_site, BUILDINGS)
    minx, miny, maxx, maxy = gpkg.to_crs("OGC:CRS84").total_bounds
    box = [minx, miny, (minx + maxx) / 2, maxy]
    expected = sorted(gpkg.index[gpkg.to_crs("OGC:CRS84").intersects(shapely.box(*box))])
    assert 0 < len(expected) < len(gpkg)
    seen, offset = [], 0
    while True:
        page = api.collection_items(BUILDINGS, bbox=box, limit=3, offset=offset)
        assert page["numberMatched"] == len(expected)
        seen += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        offset += page["numberReturned"]
        assert f"offset={offset}" in nxt[0]["href"]
    assert seen == expected
    prev = next(link for link in page["links"] if link["rel"] == "prev")
    assert httpx.get(prev["href"], timeout=60).json()["features"][0]["id"] == expected[offset - 3]


def test_property_and_time_filters(vector_site: VectorSite) -> None:
    gpkg = frame(vector_site, BUILDINGS)
    cls = gpkg["heat_class"].iloc[0]
    doc = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items", heat_class=cls, limit=50).json()
    assert [f["id"] for f in doc["features"]] == sorted(gpkg.index[gpkg["heat_class"] == cls])
    times = get(vector_site, f"/ogcapi/collections/{FOOTPRINTS}/items", datetime="2026-02-10T05:31:00Z/..")
    assert times.json()["numberMatched"] == 5
    day = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items", datetime="2026-02-10")
    assert day.json()["numberMatched"] == 11
    queryables = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/queryables").json()
    assert "heat_class" in queryables["properties"] and queryables["type"] == "object"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/ogcapi/collections/nosuch", {}, 404),
        ("/ogcapi/collections/nosuch/items", {}, 404),
        (f"/ogcapi/collections/{BUILDINGS}/items/999", {}, 404),
        (f"/ogcapi/collections/{BUILDINGS}/items/abc", {}, 404),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"bbox": "1,2,3"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"bbox": "a,b,c,d"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"limit": "-1"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"limit": "ten"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"offset": "-5"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"crs": "EPSG:3857"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"bbox": "0,0,1,1", "bbox-crs": "EPSG:4258"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"no_such_property": "x"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"pixel_count": "many"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"datetime": "yesterday"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}/items", {"datetime": "2026-02-11/2026-02-10"}, 400),
        (f"/ogcapi/collections/{BUILDINGS}", {"f": "xml"}, 400),
        ("/ogcapi/collections", {"unknown": "1"}, 400),
    ],
)
def test_bad_input_gets_the_standards_answer(
    vector_site: VectorSite, path: str, params: dict[str, str], status: int
) -> None:
    response = get(vector_site, path, **params)
    assert response.status_code == status, response.text
    doc = response.json()
    assert doc["code"] == ("NotFound" if status == 404 else "InvalidParameterValue") and doc["description"]


def test_limit_above_the_maximum_is_capped(vector_site: VectorSite) -> None:
    doc = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items", limit=50_000).json()
    assert doc["numberReturned"] == 11
    assert not [link for link in doc["links"] if link["rel"] == "next"]


def test_html_pages_danish_first_english_on_request(vector_site: VectorSite) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = get(vector_site, "/ogcapi/collections", browser)
    assert page.headers["content-type"].startswith("text/html") and '<html lang="da">' in page.text
    assert "Datasæt" in page.text and "Bygninger (varmetab)" in page.text
    english = get(vector_site, "/ogcapi/collections", browser, lang="en")
    assert '<html lang="en">' in english.text and "Buildings (heat loss)" in english.text
    assert (
        get(vector_site, "/ogcapi/collections", browser, f="json").headers["content-type"]
        == "application/json"
    )
    items = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items", f="html", limit=4)
    assert "Viser 1–4 af 11" in items.text and "/static/ol/ol.js" in items.text
    gpkg = frame(vector_site, BUILDINGS)
    assert all(value in items.text for value in gpkg["id"].iloc[:4])
    one = get(vector_site, f"/ogcapi/collections/{BUILDINGS}/items/2", f="html", lang="en")
    assert "Properties" in one.text and gpkg.loc[2, "id"] in one.text


def test_wfs_get_feature_paging_crs_and_formats(vector_site: VectorSite) -> None:
    gpkg = frame(vector_site, BUILDINGS)
    base = {
        "SERVICE": "WFS",
        "VERSION": "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES": vector_site.type_name(BUILDINGS),
    }
    hits = ET.fromstring(get(vector_site, "/wfs", **base, RESULTTYPE="hits").content)
    assert (hits.get("numberMatched"), hits.get("numberReturned")) == ("11", "0")
    for srs in ("urn:ogc:def:crs:EPSG::25832", "http://www.opengis.net/def/crs/EPSG/0/25832", "EPSG:25832"):
        page = get(vector_site, "/wfs", **base, COUNT=4, STARTINDEX=3, SRSNAME=srs)
        assert page.headers["content-type"] == "application/gml+xml; version=3.2"
        root = ET.fromstring(page.content)
        members = root.findall(f"{WFS}member")
        assert root.get("numberMatched") == "11" and len(members) == 4
        ids = [m[0].get("{http://www.opengis.net/gml/3.2}id").rsplit(".", 1)[1] for m in members]
        assert ids == ["4", "5", "6", "7"]
    minx, miny, maxx, maxy = gpkg.total_bounds
    corner = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    expected = sorted(gpkg.index[gpkg.intersects(shapely.box(*corner))])
    bbox = ",".join(f"{v:.3f}" for v in corner) + ",urn:ogc:def:crs:EPSG::25832"
    doc = get(vector_site, "/wfs", **base, BBOX=bbox, OUTPUTFORMAT="application/json").json()
    assert [f["id"] for f in doc["features"]] == expected and doc["numberMatched"] == len(expected)
    south, west = gpkg.to_crs(4326).total_bounds[1], gpkg.to_crs(4326).total_bounds[0]
    latlon = f"{south - 1},{west - 1},{south + 1},{west + 1},urn:ogc:def:crs:EPSG::4326"  # latitude first
    around = ET.fromstring(get(vector_site, "/wfs", **base, BBOX=latlon, RESULTTYPE="hits").content)
    assert around.get("numberMatched") == "11"
    # the same numbers read latitude first lie in the tropics: nothing there
    swapped = f"{west - 1},{south - 1},{west + 1},{south + 1},urn:ogc:def:crs:EPSG::4326"
    nothing = ET.fromstring(get(vector_site, "/wfs", **base, BBOX=swapped, RESULTTYPE="hits").content)
    assert nothing.get("numberMatched") == "0"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"REQUEST": "GetFeature", "TYPENAMES": "dronegis:nosuch"}, 400, "InvalidParameterValue"),
        ({"REQUEST": "GetFeature"}, 400, "MissingParameterValue"),
        (
            {"REQUEST": "GetFeature", "TYPENAMES": "__B__", "SRSNAME": "EPSG:4326"},
            400,
            "InvalidParameterValue",
        ),
        ({"REQUEST": "GetFeature", "TYPENAMES": "__B__", "BBOX": "1,2,3"}, 400, "InvalidParameterValue"),
        ({"REQUEST": "GetFeature", "TYPENAMES": "__B__", "COUNT": "-1"}, 400, "InvalidParameterValue"),
        (
            {"REQUEST": "GetFeature", "TYPENAMES": "__B__", "OUTPUTFORMAT": "shape-zip"},
            400,
            "InvalidParameterValue",
        ),
        ({"REQUEST": "Transaction"}, 501, "OperationNotSupported"),
        ({"REQUEST": "GetCapabilities", "ACCEPTVERSIONS": "1.1.0"}, 400, "VersionNegotiationFailed"),
    ],
)
def test_wfs_errors_are_ows_exception_reports(
    vector_site: VectorSite, params: dict[str, str], status: int, code: str
) -> None:
    params = {k: v.replace("__B__", vector_site.type_name(BUILDINGS)) for k, v in params.items()}
    response = get(vector_site, "/wfs", SERVICE="WFS", VERSION="2.0.0", **params)
    assert response.status_code == status
    report = ET.fromstring(response.content)
    assert report.tag == f"{OWS}ExceptionReport" and report.get("version") == "2.0.0"
    assert report.find(f"{OWS}Exception").get("exceptionCode") == code  # type: ignore[union-attr]


def test_internal_collections_are_private_and_vary_on_authorization(vector_site: VectorSite) -> None:
    anonymous = get(vector_site, "/ogcapi/collections")
    assert "authorization" in anonymous.headers["vary"].lower()
    assert "private" not in anonymous.headers.get("cache-control", "")
    for headers, params in ((BEARER, {}), ({}, {"token": GIS})):
        for path in ("/ogcapi/collections", f"/ogcapi/collections/{HOT_SPOTS}/items", "/wfs"):
            extra = {"SERVICE": "WFS", "REQUEST": "GetCapabilities"} if path == "/wfs" else {}
            response = get(vector_site, path, headers, **params, **extra)
            assert response.status_code == 200, path
            assert response.headers["cache-control"].startswith("private"), path
            assert "authorization" in response.headers["vary"].lower()


def test_the_published_geopackage_is_served(vector_site: VectorSite) -> None:
    body = get(vector_site, f"/layers/{BUILDINGS}/features.gpkg")
    assert body.status_code == 200 and body.content == vector_site.gpkg(BUILDINGS).read_bytes()
    assert get(vector_site, f"/layers/{HOT_SPOTS}/features.gpkg").status_code == 404
    assert get(vector_site, f"/layers/{HOT_SPOTS}/features.gpkg", BEARER).status_code == 200


def _crawl(site: VectorSite, start: list[str], headers: dict[str, str]) -> dict[str, str]:
    """Bodies of every same-site page reachable from ``start`` through JSON links (depth-first)."""
    seen: dict[str, str] = {}
    todo = list(start)
    while todo:
        url = todo.pop()
        if url in seen or not url.startswith(site.url) or len(seen) > 400:
            continue
        response = httpx.get(url, headers=headers, timeout=60)
        seen[url] = response.text
        if response.headers.get("content-type", "").split(";")[0] in (
            "application/json",
            "application/geo+json",
        ):
            doc = response.json()
            found: list[dict[str, Any]] = list(doc.get("links", []))
            for inner in doc.get("collections", []):
                found += inner.get("links", [])
            todo += [
                link["href"] for link in found if "limit" not in link["href"] or "offset=0" in link["href"]
            ]
    return seen


def test_anonymous_callers_never_see_an_internal_collection(vector_site: VectorSite) -> None:
    hidden = [HOT_SPOTS, vector_site.type_name(HOT_SPOTS).split(":")[1]]
    u = vector_site.url
    pages = _crawl(vector_site, [f"{u}/ogcapi", f"{u}/ogcapi?f=html", f"{u}/ogcapi/collections?f=html"], {})
    documents = {
        "wfs capabilities": f"{u}/wfs?SERVICE=WFS&REQUEST=GetCapabilities",
        "wfs schema": f"{u}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType",
        "wms capabilities": f"{u}/wms?SERVICE=WMS&REQUEST=GetCapabilities",
        "stac catalog": f"{u}/stac/catalog.json",
        "stac collection": f"{u}/stac/buildings/collection.json",
        "layers": f"{u}/layers",
    }
    for url in documents.values():
        pages[url] = httpx.get(url, timeout=60).text
    assert len(pages) > 15
    leaks = {url: name for url, text in pages.items() for name in hidden if name in text}
    assert leaks == {}
    for path in (
        f"/ogcapi/collections/{HOT_SPOTS}",
        f"/ogcapi/collections/{HOT_SPOTS}?f=html",
        f"/ogcapi/collections/{HOT_SPOTS}/items",
        f"/ogcapi/collections/{HOT_SPOTS}/items/1",
        f"/ogcapi/collections/{HOT_SPOTS}/queryables",
        f"/{vector_site.layers[HOT_SPOTS].stac_item}",
    ):
        assert httpx.get(f"{u}{path}", timeout=60).status_code == 404, path
        assert httpx.get(f"{u}{path}", headers=BEARER, timeout=60).status_code == 200, path
    wfs = get(vector_site, "/wfs", SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES=hidden[1])
    assert wfs.status_code == 400 and HOT_SPOTS not in wfs.text
    with_token = _crawl(vector_site, [f"{u}/ogcapi/collections"], BEARER)
    assert any(HOT_SPOTS in text for text in with_token.values())


def test_wms_draws_vector_layers_and_reports_their_features(vector_site: VectorSite) -> None:
    gpkg = frame(vector_site, BUILDINGS)
    minx, miny, maxx, maxy = gpkg.total_bounds
    size, box = 400, (minx - 10, miny - 10, maxx + 10, maxy + 10)
    params = {
        "SERVICE": "WMS", "VERSION": "1.3.0", "STYLES": "", "CRS": "EPSG:25832",
        "BBOX": ",".join(f"{v:.3f}" for v in box), "WIDTH": size, "HEIGHT": size,
    }  # fmt: skip
    image = get(
        vector_site,
        "/wms",
        REQUEST="GetMap",
        LAYERS=BUILDINGS,
        FORMAT="image/png",
        TRANSPARENT="TRUE",
        **params,
    )
    rgba = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_UNCHANGED)
    fid = int(gpkg.area.idxmax())
    inside = gpkg.loc[fid].geometry.representative_point()
    i = int((inside.x - box[0]) / (box[2] - box[0]) * size)
    j = int((box[3] - inside.y) / (box[3] - box[1]) * size)
    assert rgba[j, i, 3] > 100  # the building's fill
    assert rgba[2, 2, 3] == 0  # the margin stays transparent
    info = get(
        vector_site, "/wms", REQUEST="GetFeatureInfo", LAYERS=BUILDINGS, QUERY_LAYERS=BUILDINGS,
        INFO_FORMAT="application/json", I=i, J=j, **params,
    ).json()  # fmt: skip
    (feature,) = info["features"]
    assert feature["properties"]["feature_id"] == fid
    attributes = feature["properties"]["attributes"]
    assert attributes["id"] == gpkg.loc[fid, "id"] and attributes["mean_c"] == pytest.approx(
        gpkg.loc[fid, "mean_c"]
    )
    assert shapely.geometry.shape(feature["geometry"]).equals_exact(gpkg.loc[fid].geometry, 1e-6)
    text = get(
        vector_site, "/wms", REQUEST="GetFeatureInfo", LAYERS=BUILDINGS, QUERY_LAYERS=BUILDINGS,
        INFO_FORMAT="text/plain", I=i, J=j, **params,
    ).text  # fmt: skip
    assert f"feature: {fid}" in text and gpkg.loc[fid, "id"] in text
    capabilities = get(vector_site, "/wms", SERVICE="WMS", REQUEST="GetCapabilities").text
    assert f"<Name>{BUILDINGS}</Name>" in capabilities and f"<Name>{HOT_SPOTS}</Name>" not in capabilities
    legend = get(
        vector_site, "/wms", REQUEST="GetLegendGraphic", LAYER=BUILDINGS, FORMAT="image/png", VERSION="1.3.0"
    )
    assert legend.headers["content-type"] == "image/png"
    assert info["crs"] == "EPSG:25832"
