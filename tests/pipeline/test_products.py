"""The one reader of products.json: typed products, and a clear error for a key the model does not know."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ProductsFileError
from core.workspace import Workspace
from pipeline.models import Product, ProductKind, Skipped, VectorInfo
from pipeline.products import load_products, product_id, read_products, write_products
from webgis_export.publish import resolve_products


def _footprints(flight: str = "f") -> Product:
    return Product(
        id=product_id(flight, "footprints"),
        flight=flight,
        kind=ProductKind.FOOTPRINTS,
        path=f"products/{flight}/footprints.gpkg",
        crs="EPSG:25832",
        bounds=(0.0, 0.0, 1.0, 1.0),
        vector=VectorInfo(layer="footprints", count=1, skipped=(Skipped(file="a.jpg", reason="no yaw"),)),
    )


def test_round_trip(workspace: Workspace) -> None:
    write_products(workspace, "f", [_footprints()])
    assert load_products(workspace, "f") == [_footprints()]
    assert load_products(workspace, "nothing") == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"properties": {"layer": "footprints"}}, "unknown key 'properties'"),  # the old bag
        ({"vector": {"layer": "footprints", "cuont": 1}}, "unknown key 'vector.cuont'"),  # a misspelling
        ({"kind": "orthofoto"}, "kind: Input should be"),
        ({"georef": {"method": "teleport"}}, "georef"),
    ],
)
def test_unknown_or_misspelt_key_names_the_file_and_the_key(
    workspace: Workspace, change: dict[str, object], expected: str
) -> None:
    path = workspace.products_json("f")
    path.parent.mkdir(parents=True)
    doc = {**_footprints().model_dump(mode="json"), **change}
    path.write_text(json.dumps([_footprints("g").model_dump(mode="json"), doc]))
    with pytest.raises(ProductsFileError) as error:
        read_products(path)
    message = str(error.value)
    assert str(path) in message and "product 1 (f-footprints)" in message and expected in message
    with pytest.raises(ProductsFileError, match="unknown key|Input should be|georef"):  # publication, too
        resolve_products(workspace, "f")


def test_missing_key_and_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "products.json"
    doc = _footprints().model_dump(mode="json")
    del doc["crs"]
    path.write_text(json.dumps([doc]))
    with pytest.raises(ProductsFileError, match="key 'crs' is missing"):
        read_products(path)
    path.write_text('{"products": []}')
    with pytest.raises(ProductsFileError, match="expected a list of products, found dict"):
        read_products(path)
    path.write_text("[")
    with pytest.raises(ProductsFileError, match="not JSON"):
        read_products(path)


def test_one_id_rule() -> None:
    assert product_id("f", "thermal-mosaic") == "f-thermal-mosaic"
    assert product_id("f", "frame", "DJI_0001.JPG") == "f-frame-DJI_0001"
    assert product_id("f", "frame", "100MEDIA/DJI_0001.JPG") == "f-frame-100MEDIA-DJI_0001"
    assert product_id("f", "dsm", "dsm.tif") == "f-dsm-dsm"  # a delivered raster: its file name
