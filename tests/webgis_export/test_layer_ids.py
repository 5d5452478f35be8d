"""Layer ids are unique case-insensitively (issue 18): frames DJI_0001.JPG and dji_0001.JPG both publish."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
import rasterio

from core.errors import ExportError
from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.settings import Settings, Token
from pipeline.models import Product, ProductKind
from tests.webgis_export.published import CAPTURE, NOW, TOKEN, blocky_rgb, live_server, write_cog
from webgis_export.layer_ids import unique_layer_ids
from webgis_export.publish import load_layers, publish

FLIGHT = "case"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from hostile_flight import all_nan_dsm  # noqa: E402


def _frame(ws: Workspace, product_id: str, name: str, shift: float) -> Product:
    path = write_cog(ws.products(FLIGHT) / name, blocky_rgb(128), 0.1)
    with rasterio.open(path) as src:
        bounds = tuple(src.bounds)
    return Product(
        id=product_id, flight=FLIGHT, kind=ProductKind.RGB_FRAME, path=f"products/{FLIGHT}/{name}",
        crs="EPSG:25832", bounds=bounds, gsd_m=0.1 + shift, time_start=CAPTURE,
    )  # fmt: skip


def test_ids_that_differ_only_in_case_get_distinct_layers(tmp_path: pytest.TempPathFactory) -> None:
    ws = Workspace.at(tmp_path / "ws")  # type: ignore[operator]
    ws.products(FLIGHT).mkdir(parents=True)
    upper = _frame(ws, "case-frame-DJI_0001", "upper.tif", 0.0)
    lower = _frame(ws, "case-frame-dji_0001", "lower.tif", 0.01)
    dotted = _frame(ws, "case-frame-dji.0001", "dotted.tif", 0.02)
    products = [lower, upper, dotted]
    ws.products_json(FLIGHT).write_text(json.dumps([p.model_dump(mode="json") for p in products]))
    ids = unique_layer_ids(products)
    assert ids["case-frame-DJI_0001"] == "case-frame-dji_0001"  # the first in sorted order keeps the plain id
    assert ids["case-frame-dji_0001"].startswith("case-frame-dji_0001-") and len(set(ids.values())) == 3
    assert unique_layer_ids(reversed(products)) == ids  # the order of the list does not matter
    published = publish(ws, FLIGHT, access="public", now=NOW, pyramids=False, pyramid_processes=1)
    assert sorted(layer.id for layer in published) == sorted(ids.values())
    again = publish(ws, "case-frame-dji_0001", access="public", now=NOW, pyramids=False)
    assert [layer.id for layer in again] == [ids["case-frame-dji_0001"]]  # one product alone: the same id
    layers = {layer.id: layer.product_id for layer in load_layers(ws)}
    assert layers == {v: k for k, v in ids.items()}
    settings = Settings(workspace=ws.root, tokens=(Token(token=TOKEN, role="gis", name="g"),))
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with live_server(create_app(settings)) as url:
        for layer_id in ids.values():
            answer = httpx.get(f"{url}/layers/{layer_id}/cog.tif", headers=bearer)
            assert answer.status_code == 200, layer_id  # frames are internal by default


def test_a_product_without_a_valid_pixel_is_skipped_not_the_flight(tmp_path: pytest.TempPathFactory) -> None:
    ws = Workspace.at(tmp_path / "ws")  # type: ignore[operator]
    ws.products(FLIGHT).mkdir(parents=True)
    good = _frame(ws, "case-orthophoto", "ortho.tif", 0.0).model_copy(update={"kind": ProductKind.ORTHOPHOTO})
    dsm_path = all_nan_dsm(ws.products(FLIGHT) / "dsm.tif", 560000.0, 6215600.0)
    with rasterio.open(dsm_path) as src:
        bounds = tuple(src.bounds)
    dsm = good.model_copy(
        update={
            "id": "case-dsm",
            "kind": ProductKind.DSM,
            "path": f"products/{FLIGHT}/dsm.tif",
            "bounds": bounds,
        }
    )
    ws.products_json(FLIGHT).write_text(json.dumps([p.model_dump(mode="json") for p in (good, dsm)]))
    published = publish(ws, FLIGHT, access="public", now=NOW, pyramids=False)
    assert [layer.id for layer in published] == ["case-orthophoto"]
    with pytest.raises(
        ExportError, match=r"nothing to publish: case-dsm: .*dsm\.tif has no valid pixel to style"
    ):
        publish(ws, "case-dsm", access="public", now=NOW, pyramids=False)
