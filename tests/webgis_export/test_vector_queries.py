"""Reading published vector layers: paging, bbox, property and time filters, GeoJSON, GML 3.2.

Every figure is checked against an independent computation on the published GeoPackage with
geopandas/shapely/pyproj (not through webgis_export.vectors).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from lxml import etree
from pyproj import Transformer

from core.workspace import Workspace
from tests.webgis_export.vector_data import CAPTURE
from webgis_export.vectors import gml
from webgis_export.vectors.geojson import collection
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.query import FeatureQuery, by_id, select

Site = tuple[Workspace, dict[str, VectorLayer]]


def _frame(site: Site, kind: str) -> tuple[Path, VectorLayer, gpd.GeoDataFrame]:
    ws, layers = site
    layer = layers[kind]
    path = ws.publish / layer.gpkg
    return path, layer, gpd.read_file(path, layer=layer.table, fid_as_index=True)


def test_pages_walk_the_layer_in_id_order(vectors_published: Site) -> None:
    path, layer, frame = _frame(vectors_published, "buildings")
    seen: list[int] = []
    for offset in range(0, layer.feature_count + 3, 4):
        page = select(path, layer, FeatureQuery(limit=4, offset=offset))
        assert page.matched == len(frame)
        seen += page.fids.tolist()
    assert seen == sorted(frame.index.tolist())
    first = select(path, layer, FeatureQuery(limit=3, offset=2))
    names = [f.name for f in layer.fields]
    assert first.columns[names.index("id")].tolist() == frame["id"].iloc[2:5].tolist()


def test_bbox_in_crs84_and_in_utm(vectors_published: Site) -> None:
    path, layer, frame = _frame(vectors_published, "buildings")
    minx, miny, maxx, maxy = frame.total_bounds
    utm = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)  # the south-west quarter
    expected = sorted(frame.index[frame.intersects(shapely.box(*utm))].tolist())
    assert 0 < len(expected) < len(frame)
    page = select(path, layer, FeatureQuery(bbox=utm, bbox_crs="EPSG:25832", limit=100))
    assert page.fids.tolist() == expected and page.matched == len(expected)
    to_wgs84 = Transformer.from_crs(25832, 4326, always_xy=True)
    lon0, lat0 = to_wgs84.transform(utm[0] + 1, utm[1] + 1)
    lon1, lat1 = to_wgs84.transform(utm[2] - 1, utm[3] - 1)
    wgs_box = shapely.box(lon0, lat0, lon1, lat1)
    in_wgs84 = frame.to_crs("OGC:CRS84").intersects(wgs_box)
    page = select(path, layer, FeatureQuery(bbox=(lon0, lat0, lon1, lat1), limit=100))
    assert page.fids.tolist() == sorted(frame.index[in_wgs84].tolist())


def test_property_filters_and_time(vectors_published: Site) -> None:
    path, layer, frame = _frame(vectors_published, "buildings")
    cls = frame["heat_class"].iloc[0]
    page = select(path, layer, FeatureQuery(equals=(("heat_class", cls),), limit=100))
    assert page.fids.tolist() == sorted(frame.index[frame["heat_class"] == cls].tolist())
    count = int(frame["pixel_count"].iloc[3])
    page = select(path, layer, FeatureQuery(equals=(("pixel_count", count),), limit=100))
    assert page.fids.tolist() == sorted(frame.index[frame["pixel_count"] == count].tolist())
    quote = select(path, layer, FeatureQuery(equals=(("heat_class", "A' OR '1'='1"),), limit=100))
    assert quote.matched == 0  # a value is a value, never SQL
    path, layer, frames = _frame(vectors_published, "footprints")
    start, end = CAPTURE + timedelta(minutes=1), CAPTURE + timedelta(minutes=3)
    page = select(path, layer, FeatureQuery(interval=(start, end), limit=100))
    times = frames["time"].dt.tz_localize("UTC")
    assert (
        page.fids.tolist() == frames.index[(times >= start) & (times <= end)].tolist() and page.matched == 3
    )
    assert select(path, layer, FeatureQuery(interval=(end, None), limit=100)).matched == 3
    _, buildings, _ = _frame(vectors_published, "buildings")  # no per-feature time: the capture time counts
    bpath = vectors_published[0].publish / buildings.gpkg
    assert select(bpath, buildings, FeatureQuery(interval=(CAPTURE, CAPTURE), limit=1)).matched == 11
    assert select(bpath, buildings, FeatureQuery(interval=(None, CAPTURE - timedelta(days=1)))).matched == 0


def test_geojson_coordinates_in_both_crs(vectors_published: Site) -> None:
    path, layer, frame = _frame(vectors_published, "buildings")
    page = select(path, layer, FeatureQuery(limit=11))
    utm = json.loads(collection(page, layer, "EPSG:25832", {"numberMatched": page.matched}))
    lonlat = json.loads(collection(page, layer, "OGC:CRS84", {}))
    assert utm["numberMatched"] == 11 and len(utm["features"]) == 11
    to_wgs84 = Transformer.from_crs(25832, 4326, always_xy=True)
    for a, b in zip(utm["features"], lonlat["features"], strict=True):
        assert a["id"] == b["id"] and a["properties"] == b["properties"]
        source = frame.loc[a["id"]]
        expected = np.asarray(source.geometry.exterior.coords)[:, :2]
        assert np.allclose(np.asarray(a["geometry"]["coordinates"][0]), expected, atol=1e-6)
        lon, lat = to_wgs84.transform(expected[:, 0], expected[:, 1])
        assert np.allclose(
            np.asarray(b["geometry"]["coordinates"][0]), np.column_stack((lon, lat)), atol=1e-9
        )
        assert a["properties"]["id"] == source["id"] and a["properties"]["mean_c"] == pytest.approx(
            source["mean_c"]
        )
    assert by_id(path, layer, 99) is None and by_id(path, layer, 0) is None


def test_gml_32_is_valid_xml_with_its_schema(vectors_published: Site) -> None:
    path, layer, frame = _frame(vectors_published, "buildings")
    page = select(path, layer, FeatureQuery(limit=5, offset=2))
    body = gml.feature_collection(gml.members(page, layer, "EPSG:25832"), page.matched, 5, "http://x/schema")
    root = etree.fromstring(body)
    assert root.tag == f"{{{gml.WFS}}}FeatureCollection"
    assert (root.get("numberMatched"), root.get("numberReturned")) == ("11", "5")
    name = gml.type_name(layer.id)
    members = root.findall(f"{{{gml.WFS}}}member")
    ids = [m[0].get(f"{{{gml.GML}}}id") for m in members]
    assert ids == [f"{name}.{fid}" for fid in range(3, 8)]
    assert all(m[0].tag == f"{{{gml.NAMESPACE}}}{name}" for m in members)
    first = members[0][0]
    assert first.findtext(f"{{{gml.NAMESPACE}}}id") == frame.loc[3, "id"]
    poslist = first.find(f".//{{{gml.GML}}}posList")
    assert poslist is not None and poslist.getparent().getparent().getparent().get("srsName").endswith(
        "25832"
    )
    coords = np.array(poslist.text.split(), float).reshape(-1, 2)
    assert np.allclose(coords, np.asarray(frame.loc[3].geometry.exterior.coords)[:, :2], atol=1e-6)
    schema = etree.fromstring(gml.schema([(layer, layer.crs)]))
    xs = "{http://www.w3.org/2001/XMLSchema}"
    assert schema.get("targetNamespace") == gml.NAMESPACE
    assert [e.get("name") for e in schema.findall(f"{xs}element")] == [name]
    declared = [e.get("name") for e in schema.iter(f"{xs}element") if e.getparent().tag == f"{xs}sequence"]
    assert declared == ["geometryProperty", *[f.name for f in layer.fields]]
