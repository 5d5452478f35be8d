"""Publishing vector products (webgis_export.vectors): the published copy, its metadata, STAC, gates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from core.errors import ExportError, PublicationRefused
from core.workspace import Workspace
from flights.aoi import DEFAULT_MUNICIPALITY
from pipeline.models import Product, ProductKind, VectorInfo
from pipeline.products import read_products
from qa.models import CheckResult, QAReport
from tests.webgis_export.vector_data import CAPTURE, FLIGHT, vector_flight
from webgis_export.gates import PublishGates
from webgis_export.ogc.oapif import Links, collection
from webgis_export.publish import load_layers, publish, unpublish
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.store import load_vector_layers

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def flight(vectors_published: tuple[Workspace, dict[str, VectorLayer]]) -> tuple[Workspace, list[Product]]:
    ws, _ = vectors_published
    return ws, read_products(ws.products_json(FLIGHT))


@pytest.fixture(scope="module")
def published(vectors_published: tuple[Workspace, dict[str, VectorLayer]]) -> dict[str, VectorLayer]:
    return vectors_published[1]


def _source(ws: Workspace, product: Product) -> gpd.GeoDataFrame:
    assert product.vector is not None
    return gpd.read_file(ws.root / product.path, layer=product.vector.layer)


def test_a_flight_publishes_every_vector_product(
    flight: tuple[Workspace, list[Product]], published: dict[str, VectorLayer]
) -> None:
    ws, products = flight
    assert set(published) == {"buildings", "hot_spots", "footprints"}
    assert {layer.id for layer in load_vector_layers(ws)} == {p.id.lower() for p in products}
    assert load_layers(ws) == []  # no raster product in this flight
    for product in products:
        layer = published[product.kind.value]
        source = _source(ws, product)
        copy = gpd.read_file(ws.publish / layer.gpkg, layer=layer.table)
        assert layer.feature_count == len(source) == len(copy) and len(source) > 0
        assert copy.crs.to_epsg() == 25832 and layer.crs == "EPSG:25832"
        assert shapely.equals_exact(copy.geometry.values, source.to_crs(25832).geometry.values, 1e-6).all()
        names = [f.name for f in layer.fields]
        assert names == [c for c in source.columns if c != "geometry"]
        assert (layer.time_start, layer.flight, layer.product_id) == (CAPTURE, FLIGHT, product.id)
        assert layer.bounds == pytest.approx(tuple(copy.total_bounds))
        to_wgs84 = Transformer.from_crs(25832, 4326, always_xy=True)
        west, south, east, north = to_wgs84.transform_bounds(*copy.total_bounds)
        assert layer.bounds_wgs84 == pytest.approx((west, south, east, north), abs=1e-7)


def test_attributes_and_times_survive_publication(
    flight: tuple[Workspace, list[Product]], published: dict[str, VectorLayer]
) -> None:
    ws, products = flight
    buildings = published["buildings"]
    source = _source(ws, products[0]).drop(columns="geometry")
    copy = gpd.read_file(ws.publish / buildings.gpkg).drop(columns="geometry")
    pd.testing.assert_frame_equal(copy, source, check_dtype=False)
    assert buildings.style.class_field == "heat_class"  # drawn by heat class in WMS
    footprints = published["footprints"]
    assert footprints.time_field == "time" and footprints.field("time") is not None
    times = gpd.read_file(ws.publish / footprints.gpkg)["time"]
    expected = [CAPTURE + timedelta(minutes=i) for i in range(6)]
    assert [t.to_pydatetime().replace(tzinfo=UTC) for t in times] == expected


def test_stac_items_and_the_catalog(
    flight: tuple[Workspace, list[Product]], published: dict[str, VectorLayer]
) -> None:
    ws, _ = flight
    for kind, layer in published.items():
        path = ws.publish / layer.stac_item
        item = json.loads(path.read_text(encoding="utf-8"))
        assert item["collection"] == kind and item["id"] == layer.id
        assert item["properties"]["datetime"] is not None or item["properties"]["start_datetime"]
        assert item["properties"]["dronegis:feature_count"] == layer.feature_count
        assert item["properties"]["dronegis:access"] == "public"
        gpkg = (path.parent / item["assets"]["data"]["href"]).resolve()
        assert gpkg == (ws.publish / layer.gpkg).resolve() and gpkg.is_file()
        assert item["assets"]["features"]["href"] == f"../../../ogcapi/collections/{layer.id}/items"
    footprints = json.loads((ws.publish / published["footprints"].stac_item).read_text(encoding="utf-8"))
    assert footprints["properties"]["datetime"] == "2026-02-10T05:30:00Z"  # a 5-minute flight: its start


def test_title_access_and_unpublish(tmp_path: Path, data_dir: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    vector_flight(ws, data_dir)
    (spots,) = publish(ws, f"{FLIGHT}-hot-spots", access="internal", title="Varmepletter", now=NOW)
    assert isinstance(spots, VectorLayer) and (spots.access, spots.title) == ("internal", "Varmepletter")
    assert spots.feature_count == 1  # the planted leak
    gone = unpublish(ws, spots.id)
    assert gone.id == spots.id and load_vector_layers(ws) == []
    assert not (ws.publish / spots.gpkg).exists() and not (ws.publish / spots.stac_item).exists()


def _product(ws: Workspace, name: str, frame: gpd.GeoDataFrame | None, **vector: object) -> Product:
    path = ws.products("f") / f"{name}.gpkg"
    path.parent.mkdir(parents=True, exist_ok=True)
    if frame is not None:
        frame.to_file(path, driver="GPKG", layer=name, engine="pyogrio")
    product = Product(
        id=f"f-{name}",
        flight="f",
        kind=ProductKind.CHANGE_AREAS,
        path=path.relative_to(ws.root).as_posix(),
        crs="EPSG:25832",
        bounds=(0, 0, 1, 1),
        time_start=CAPTURE,
        vector=VectorInfo(**vector) if vector else None,  # type: ignore[arg-type]
    )
    ws.products_json("f").write_text(json.dumps([product.model_dump(mode="json")]), encoding="utf-8")
    return product


def test_a_layer_without_features_is_published_empty(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    empty = gpd.GeoDataFrame({"area_m2": pd.Series([], dtype="float64")}, geometry=[], crs="EPSG:25832")
    product = _product(ws, "nothing", empty, layer="nothing")
    (layer,) = publish(ws, product.id, now=NOW)
    assert isinstance(layer, VectorLayer)
    assert (layer.feature_count, layer.bounds, layer.bounds_wgs84) == (0, None, None)
    item = json.loads((ws.publish / layer.stac_item).read_text(encoding="utf-8"))
    assert item["geometry"] is None


@pytest.mark.parametrize("case", ["no file", "unknown layer", "two layers, none named", "no CRS"])
def test_bad_vector_products_are_refused_by_name(tmp_path: Path, case: str) -> None:
    ws = Workspace.at(tmp_path / "ws")
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(560000, 6215000, 560010, 6215010)], crs=25832)
    if case == "no file":
        product, expected = _product(ws, "gone", None, layer="gone"), "cannot read"
    elif case == "unknown layer":
        product, expected = _product(ws, "areas", frame, layer="other"), "has no layer 'other'"
    elif case == "two layers, none named":
        product = _product(ws, "areas", frame)
        frame.to_file(ws.root / product.path, driver="GPKG", layer="second", engine="pyogrio", mode="a")
        expected = "name one"
    else:
        with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio warns as it writes it
            product = _product(ws, "areas", frame.set_crs(None, allow_override=True), layer="areas")
        expected = "no CRS"
    with pytest.raises(ExportError, match=expected) as error:
        publish(ws, product.id, now=NOW)
    assert product.id in str(error.value)
    assert not ws.collections_json.exists()  # nothing published


def test_the_area_gate_holds_vectors_outside_the_municipality(tmp_path: Path, data_dir: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    vector_flight(ws, data_dir)  # the GeoDanmark tile 6173_632 lies near Horsens, outside Skanderborg
    with pytest.raises(PublicationRefused, match=f"{FLIGHT}-buildings"):
        publish(ws, f"{FLIGHT}-buildings", now=NOW, gates=PublishGates(area=DEFAULT_MUNICIPALITY))
    gates = PublishGates(area=DEFAULT_MUNICIPALITY, allow_outside="test of the gate")
    (layer,) = publish(ws, f"{FLIGHT}-buildings", now=NOW, gates=gates)
    assert layer.overrides == {"outside_area": "test of the gate"}


def test_qa_status_and_its_reasons_travel_with_the_collection(tmp_path: Path, data_dir: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    vector_flight(ws, data_dir)
    overlap = CheckResult(id="coverage.overlap", title="Overlap", status="warn", message="overlap 55 %")
    report = QAReport(flight=FLIGHT, created=NOW, status="warn", checks=(overlap,))
    ws.qa_report_json(FLIGHT).parent.mkdir(parents=True, exist_ok=True)
    ws.qa_report_json(FLIGHT).write_text(report.model_dump_json(), encoding="utf-8")
    (layer,) = publish(ws, f"{FLIGHT}-footprints", now=NOW)
    assert isinstance(layer, VectorLayer) and layer.qa_status == "warn"
    assert [(f.check, f.status, f.message) for f in layer.qa_findings] == [
        ("coverage.overlap", "warn", "overlap 55 %")
    ]
    doc = collection(layer, Links("http://x", None, "da"), "da")
    assert (
        doc["dronegis:qa_status"] == "warn" and doc["dronegis:qa_findings"][0]["check"] == "coverage.overlap"
    )
    assert "QA warn" in doc["description"] and "Billedomrids fra flyvning" in doc["description"]
    item = json.loads((ws.publish / layer.stac_item).read_text(encoding="utf-8"))
    assert item["properties"]["dronegis:qa_status"] == "warn"


def test_a_product_in_another_crs_is_published_in_it(tmp_path: Path) -> None:
    """A flight processed in UTM 43N (Kochi, where EPSG:25832 cannot project) keeps its CRS."""
    ws = Workspace.at(tmp_path / "ws")
    frames = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[shapely.box(0, 0, 40, 30), shapely.box(50, 0, 90, 30)], crs=32643
    )
    frames = frames.set_geometry(frames.translate(755_000, 1_105_000))
    product = _product(ws, "frames", frames, layer="frames").model_copy(update={"crs": "EPSG:32643"})
    ws.products_json("f").write_text(json.dumps([product.model_dump(mode="json")]), encoding="utf-8")
    (layer,) = publish(ws, product.id, now=NOW)
    assert isinstance(layer, VectorLayer) and layer.crs == "EPSG:32643"
    copy = gpd.read_file(ws.publish / layer.gpkg)
    assert (
        copy.crs.to_epsg() == 32643
        and shapely.equals_exact(copy.geometry.values, frames.geometry.values, 1e-6).all()
    )
    west, south, east, north = frames.to_crs(4326).total_bounds
    assert layer.bounds_wgs84 == pytest.approx((west, south, east, north), abs=1e-7) and 75 < west < 79
    assert collection(layer, Links("http://x", None, "en"), "en")["storageCrs"].endswith("/32643")


def test_a_single_photo_point_passes_the_area_gate(tmp_path: Path) -> None:
    """One frame, one photo point: a layer whose extent is a point (the e2e thermal flight has one)."""
    ws = Workspace.at(tmp_path / "ws")
    point = gpd.GeoDataFrame(
        {"image": ["DJI_0001.JPG"]}, geometry=[shapely.Point(560010, 6215590)], crs=25832
    )
    product = _product(ws, "points", point, layer="points")
    (layer,) = publish(ws, product.id, now=NOW, gates=PublishGates(area=DEFAULT_MUNICIPALITY))
    assert isinstance(layer, VectorLayer) and layer.bounds == (560010.0, 6215590.0, 560010.0, 6215590.0)
    lon, lat = Transformer.from_crs(25832, 4326, always_xy=True).transform(560010, 6215590)
    assert layer.bounds_wgs84 == pytest.approx((lon, lat, lon, lat), abs=1e-9)
