"""Publication of the roofs sub-stage's roof planes (issue 14) over a running service.

The opengeos flight of tests/pipeline/roofs/test_process_roofs.py (real LiDAR DSM/DTM, real
footprints) is processed with footprints and published: the ROOF_PLANES product becomes an OGC API
collection whose items are the GeoPackage's faces, and a WMS layer drawn by slope class with a
Danish-first legend.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pytest
from owslib.ogcapi.features import Features
from PIL import Image

from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.settings import Settings
from pipeline.models import ProductKind
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.run import ProcessConfig
from tests.pipeline.roofs.test_process_roofs import CRS, roofs_flight  # noqa: F401 -- the module fixture
from tests.webgis_export.published import live_server
from webgis_export.publish import publish
from webgis_export.vectors.build import ROOF_SLOPE_CLASSES
from webgis_export.vectors.legend import legend_entries
from webgis_export.vectors.render import colour
from webgis_export.vectors.store import load_vector_layers


@pytest.fixture(scope="module")
def roofs_published(roofs_flight: dict[str, Path]) -> Workspace:  # noqa: F811
    ws = Workspace.at(roofs_flight["ws"])
    process_flight(ws, "lidar", ProcessConfig(target_crs=CRS, footprints=roofs_flight["footprints"]))
    publish(ws, "lidar", access="public", pyramids=False)
    return ws


def test_roof_planes_are_served(roofs_published: Workspace) -> None:
    ws = roofs_published
    (layer,) = [c for c in load_vector_layers(ws) if c.kind is ProductKind.ROOF_PLANES]
    (product,) = [p for p in load_products(ws, "lidar") if p.kind is ProductKind.ROOF_PLANES]
    faces = gpd.read_file(ws.root / product.path, layer="roof_planes")
    assert layer.feature_count == len(faces) > 84 and layer.style.class_field == "slope_class"
    assert [label for label, _ in legend_entries(layer, "da")] == [
        "Fladt tag (under 10°)", "Lav hældning (10–25°)", "Hældning 25–45°", "Stejlt tag (45° og derover)",
    ]  # fmt: skip
    assert legend_entries(layer, "en")[0][0] == "Flat roof (under 10°)"
    with live_server(create_app(Settings(workspace=ws.root))) as url:
        api = Features(f"{url}/ogcapi")
        items = api.collection_items(layer.id, limit=1000)
        assert items["numberMatched"] == len(items["features"]) == len(faces)
        served = {
            (f["properties"]["building"], f["properties"]["plane"]): f["properties"]
            for f in items["features"]
        }
        for face in faces.itertuples():
            props = served[(face.building, face.plane)]
            assert props["area_m2"] == pytest.approx(face.area_m2)
            assert props["slope_deg"] == pytest.approx(face.slope_deg)
            assert props["slope_class"] == face.slope_class
        assert layer.bounds_wgs84 is not None
        west, south, east, north = layer.bounds_wgs84
        asked = {"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer.id, "STYLES": "",
                 "CRS": "CRS:84", "BBOX": f"{west},{south},{east},{north}", "WIDTH": "600", "HEIGHT": "480",
                 "FORMAT": "image/png", "TRANSPARENT": "TRUE"}  # fmt: skip
        answer = httpx.get(f"{url}/wms", params=asked, timeout=60)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png", answer.text
        image = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))
        drawn = {tuple(int(v) for v in px[:3]) for px in image.reshape(-1, 4) if px[3] > 0}
        for name in set(faces["slope_class"]):
            assert tuple(colour(ROOF_SLOPE_CLASSES[name])[:3]) in drawn, name  # each class in its colour
        legend = httpx.get(f"{url}/wms", params={
            "SERVICE": "WMS", "REQUEST": "GetLegendGraphic", "LAYER": layer.id, "FORMAT": "image/png",
        }, timeout=30)  # fmt: skip
        assert legend.status_code == 200 and legend.content.startswith(b"\x89PNG")
