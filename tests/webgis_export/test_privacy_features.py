"""Privacy zones over feature collections (issue 16): features touching a zone are dropped, footprints
clipped; the published GeoPackage, the OGC API items and WFS of a real service no longer show them."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import httpx
import pyogrio
import shapely
from shapely.geometry import Point, box

from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.settings import Settings, Token
from pipeline.models import Product, ProductKind, VectorInfo
from tests.webgis_export.published import CAPTURE, NOW, live_server
from tests.webgis_export.test_privacy_zones import ZONE_25832, zone_file
from webgis_export.privacy.gate import read_stamp
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.publish import publish

FLIGHT = "features-test"
TOKEN = "features-gis-token"


def products(ws: Workspace) -> None:
    folder = ws.products(FLIGHT)
    folder.mkdir(parents=True)
    zone = shapely.Polygon(ZONE_25832)
    points = [zone.centroid, Point(560005, 6215595), Point(560050, 6215560), Point(560020, 6215575.5)]
    gpd.GeoDataFrame(
        {"file": [f"DJI_{i:04d}.JPG" for i in range(len(points))]}, geometry=points, crs="EPSG:25832"
    ).to_file(folder / "photo_points.gpkg", layer="photo_points", engine="pyogrio")
    footprints = [box(560000, 6215560, 560020, 6215580), box(560040, 6215540, 560060, 6215560)]
    gpd.GeoDataFrame({"file": ["a", "b"]}, geometry=footprints, crs="EPSG:25832").to_file(
        folder / "footprints.gpkg", layer="footprints", engine="pyogrio"
    )
    common = {"flight": FLIGHT, "crs": "EPSG:25832", "bounds": (560000.0, 6215540.0, 560060.0, 6215600.0)}
    docs = [
        Product(id=f"{FLIGHT}-photo-points", kind=ProductKind.PHOTO_POINTS,
                path=f"products/{FLIGHT}/photo_points.gpkg", vector=VectorInfo(layer="photo_points"),
                time_start=CAPTURE, **common),
        Product(id=f"{FLIGHT}-footprints", kind=ProductKind.FOOTPRINTS,
                path=f"products/{FLIGHT}/footprints.gpkg", vector=VectorInfo(layer="footprints"),
                time_start=CAPTURE, **common),
    ]  # fmt: skip
    ws.products_json(FLIGHT).write_text(
        json.dumps([p.model_dump(mode="json") for p in docs]), encoding="utf-8"
    )


def test_points_in_zones_dropped_footprints_clipped_everywhere(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    products(ws)
    zones = zone_file(tmp_path / "zones.geojson")
    layers = {
        layer.kind.value: layer for layer in publish(ws, FLIGHT, now=NOW, privacy=PrivacyConfig(zones=zones))
    }
    area = gpd.read_file(zones).to_crs("EPSG:25832").geometry.iloc[0]
    points = pyogrio.read_dataframe(ws.publish / layers["photo_points"].gpkg)
    assert sorted(points["file"]) == ["DJI_0001.JPG", "DJI_0002.JPG"]  # the centroid and the edge point went
    assert not points.geometry.intersects(area).any() and layers["photo_points"].feature_count == 2
    footprints = pyogrio.read_dataframe(ws.publish / layers["footprints"].gpkg)
    assert (
        len(footprints) == 2 and footprints.geometry.intersection(area).area.max() < 1e-4
    )  # m², reprojection rounding
    assert (
        abs(
            footprints.geometry.area.sum()
            - (400 - box(560000, 6215560, 560020, 6215580).intersection(area).area + 400)
        )
        < 1e-3
    )
    stamp = read_stamp(ws.published_layer(layers["photo_points"].id))
    assert stamp.method == "drop" and stamp.masked_features == 2
    assert read_stamp(ws.published_layer(layers["footprints"].id)).method == "clip"
    settings = Settings(workspace=ws.root, tokens=(Token(token=TOKEN, role="gis"),), privacy_zones=zones)
    with live_server(create_app(settings)) as url:
        items = httpx.get(
            f"{url}/ogcapi/collections/{layers['photo_points'].id}/items",
            params={"f": "json", "token": TOKEN, "crs": "http://www.opengis.net/def/crs/EPSG/0/25832"},
            timeout=30,
        ).json()
        assert sorted(f["properties"]["file"] for f in items["features"]) == ["DJI_0001.JPG", "DJI_0002.JPG"]


def photo_flight(ws: Workspace, data_dir: Path) -> None:
    """Two frames (real photo pixels) with COGs and thumbnails: one over the zone, one 40 m away."""
    import cv2
    import numpy as np
    from affine import Affine

    from pipeline.rasters.cog import write_cog_array

    folder = ws.products(FLIGHT)
    bgr = cv2.imread(str(data_dir / "brighton_beach" / "images" / "DJI_0018.JPG"))
    small = cv2.resize(bgr, (400, 225), interpolation=cv2.INTER_AREA)
    rows = []
    for name, (x, y) in (("DJI_0001", (560010.0, 6215595.0)), ("DJI_0002", (560050.0, 6215560.0))):
        rgb = np.moveaxis(cv2.cvtColor(small, cv2.COLOR_BGR2RGB), -1, 0)
        transform = Affine(0.05, 0, x, 0, -0.05, y)
        write_cog_array(
            rgb, folder / "frames" / f"{name}.tif", "ortho_jpeg", transform=transform, crs="EPSG:25832"
        )
        (folder / "thumbnails").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / "thumbnails" / f"{name}.jpg"), small)
        rows.append({
            "file": f"{name}.JPG", "clipped_rays": 0, "thumbnail": f"products/{FLIGHT}/thumbnails/{name}.jpg",
            "cog": f"products/{FLIGHT}/frames/{name}.tif", "geometry": Point(x - 8, y + 3),
        })  # fmt: skip
    gpd.GeoDataFrame(rows, crs="EPSG:25832").to_file(folder / "photo_points.gpkg", layer="photo_points")
    product = Product(
        id=f"{FLIGHT}-photo-points", kind=ProductKind.PHOTO_POINTS, flight=FLIGHT, crs="EPSG:25832",
        path=f"products/{FLIGHT}/photo_points.gpkg", vector=VectorInfo(layer="photo_points"),
        time_start=CAPTURE, bounds=(560000.0, 6215540.0, 560070.0, 6215600.0),
    )  # fmt: skip
    ws.products_json(FLIGHT).write_text(json.dumps([product.model_dump(mode="json")]), encoding="utf-8")


def test_thumbnails_of_frames_showing_a_zone_are_withheld_others_served_to_token_holders(
    tmp_path: Path, data_dir: Path
) -> None:
    ws = Workspace.at(tmp_path / "ws")
    photo_flight(ws, data_dir)
    zones = zone_file(tmp_path / "zones.geojson")
    (layer,) = publish(ws, FLIGHT, access="public", now=NOW, privacy=PrivacyConfig(zones=zones))
    points = pyogrio.read_dataframe(ws.publish / layer.gpkg).set_index("file")
    assert points.loc["DJI_0001.JPG", "thumbnail"] is None  # its frame shows the zone: not published
    shown = points.loc["DJI_0002.JPG", "thumbnail"]
    assert shown == f"layers/{layer.id}/thumbnails/DJI_0002.jpg"
    assert sorted(p.name for p in (ws.published_layer(layer.id) / "thumbnails").iterdir()) == ["DJI_0002.jpg"]
    assert read_stamp(ws.published_layer(layer.id)).masked_features == 1
    settings = Settings(
        workspace=ws.root, tokens=(Token(token=TOKEN, role="gis", name="gis"),), privacy_zones=zones
    )
    original = (ws.products(FLIGHT) / "thumbnails" / "DJI_0002.jpg").read_bytes()
    with live_server(create_app(settings)) as url:
        address = f"{url}/{shown}"
        assert httpx.get(address, timeout=30).status_code == 404  # frames are internal by default
        answer = httpx.get(address, params={"token": TOKEN}, timeout=30)
        assert answer.status_code == 200 and answer.content == original
        assert (
            httpx.get(f"{url}/layers/{layer.id}/thumbnails/DJI_0001.jpg", params={"token": TOKEN}).status_code
            == 404
        )
    (entry,) = [json.loads(line) for line in ws.access_log.read_text(encoding="utf-8").splitlines()]
    assert entry["body"]["action"] == "thumbnail" and entry["body"]["layers"] == [layer.id]
    reason = "owner agreed"
    (layer,) = publish(
        ws, FLIGHT, access="public", now=NOW, privacy=PrivacyConfig(zones=zones, public_frames=reason)
    )
    assert layer.overrides["public_frames"] == reason
    with live_server(create_app(settings)) as url:
        assert httpx.get(f"{url}/{shown}", timeout=30).status_code == 200
