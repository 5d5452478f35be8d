"""The full accuracy statement reaches the published layer: odm_br -> process -> qa -> publish -> serve.

The ODM orthophoto of odm_br (made with GCPs, EPSG:32722, PNG + world file) is delivered with the
survey of its 19 painted targets as check points. The targets are located on the orthophoto by
image matching from the dataset's QGIS exports of raw frames (as ``tests/qa/test_odm_br.py`` does: no
file of the dataset observes them on the orthophoto), written as a check-point file, and the CLI runs
every stage. The layer (layers.json), its STAC item, ``/layers`` and WMS GetFeatureInfo of the
running service carry RMSE_H, NSSDA 95 %, CE90, n and whether the class was met — the same numbers as
the QA report's precision check and its typed statement.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner
from pyproj import CRS
from svc_helpers import GIS, Service

from dronegis.cli.main import cli
from flights.control import read_control_file
from qa.transfer import annotation_mask, features, transfer_points
from webgis_export.models import Layer

ORTHO = "odm_extra_gcp_br_ckeck"
RAW_PICTURES = ("5350", "5352", "5355", "5356")
NOW = "2019-07-01T12:00:00+00:00"


def _rgb(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return np.moveaxis(src.read((1, 2, 3)), 0, -1)


def _check_points(data_dir: Path, dst: Path) -> int:
    """The targets located on the orthophoto, as a gcp_list check-point file; how many were located."""
    root = data_dir / "odm_br" / "odm_gcp_br"
    parsed = read_control_file(root / "gcp_list_floatxy_raw.txt", "gcp_list_floatxy_raw.txt", role="check")
    refs = {}
    for n in RAW_PICTURES:
        rgb = _rgb(root / "qgis" / f"gcp_{n}.png")
        a, _, _, d, e, f = (float(v) for v in (root / "qgis" / f"gcp_{n}.pgw").read_text().split())
        refs[f"IMG_{n}.JPG"] = (
            features(rgb, annotation_mask(rgb)),
            ~Affine(a, 0, e, 0, d, f) * Affine.scale(1, -1),
        )
    rgb = _rgb(data_dir / "odm_br" / f"{ORTHO}.png")
    points = transfer_points(list(parsed.points), refs, features(rgb, annotation_mask(rgb)), f"{ORTHO}.png")
    lines = ["EPSG:32722"]
    for point in points:
        for obs in (o for o in point.observations if o.image == f"{ORTHO}.png"):
            lines.append(f"{point.x} {point.y} {point.z} {obs.col} {obs.row} {ORTHO} {point.name}")
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def invoke(*args: str, codes: tuple[int, ...] = (0,)) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in codes, result.output
    return result.stdout


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Path, str]:
    """The workspace after ingest, process (EPSG:32722), QA with the check points, publish; the product id."""
    root = tmp_path_factory.mktemp("accuracy-e2e")
    delivery = root / "delivery"
    delivery.mkdir()
    for suffix in (".png", ".pgw"):
        (delivery / f"{ORTHO}{suffix}").write_bytes((data_dir / "odm_br" / f"{ORTHO}{suffix}").read_bytes())
    (delivery / f"{ORTHO}.prj").write_text(CRS.from_epsg(32722).to_wkt("WKT1_ESRI"), encoding="utf-8")
    checkpoints = root / "check_points.txt"
    assert _check_points(data_dir, checkpoints) >= 15
    ws = str(root / "ws")
    invoke(
        "ingest",
        str(delivery),
        "-w",
        ws,
        "--flight-id",
        "br",
        "--purpose",
        "survey",
        "--captured",
        "2019-06-01",
    )
    invoke("process", "br", "-w", ws, "--target-crs", "EPSG:32722")
    # QA fails the flight (a blunder at HV03, products outside Skanderborg) but measures the product
    invoke("qa", "br", "-w", ws, "--checkpoints", str(checkpoints), "--now", NOW, "--json", codes=(0, 1))
    invoke("publish", "br", "-w", ws, "--access", "public", "--no-pyramids",
           "--allow-outside-area", "odm_br test data, Brazil")  # fmt: skip
    return root / "ws", f"br-orthophoto-{ORTHO}"


def _qa(ws: Path, product: str) -> tuple[dict[str, object], dict[str, object]]:
    """The QA report's precision check figures of the product and its typed statement."""
    report = json.loads((ws / "qa" / "br" / "report.json").read_text(encoding="utf-8"))
    check = next(c for c in report["checks"] if c["id"] == f"precision.{product}")
    assert check["status"] != "skip"  # measured (a blunder at HV03 fails it, which the layer states)
    return check["figures"], report["accuracy"][product]


def _expect(figures: dict[str, object], statement: dict[str, object]) -> dict[str, object]:
    """What every published form must say: the QA check's numbers, one to one."""
    assert statement["rmse_h_m"] == figures["asprs_rmse_h"] and statement["n"] == figures["n"]
    return {
        "rmse_h_m": figures["asprs_rmse_h"],
        "nssda_h95_m": figures["nssda_h95"],
        "ce90_m": figures["ce90"],
        "n": figures["n"],
        "class_met": figures["horizontal_class_met"],
        "horizontal_class_m": figures["horizontal_class"],
        "source": "check_points",
        "evidence": "measured",
    }


def _subset(shown: dict[str, object], keys: dict[str, object]) -> dict[str, object]:
    return {k: shown.get(k) for k in keys}


def test_layer_stac_and_getfeatureinfo_carry_the_qa_statement(published: tuple[Path, str]) -> None:
    ws, product = published
    figures, statement = _qa(ws, product)
    expected = _expect(figures, statement)
    assert isinstance(expected["n"], int) and expected["n"] >= 15 and isinstance(expected["class_met"], bool)
    layers = [Layer.model_validate(d) for d in json.loads((ws / "publish" / "layers.json").read_text())]
    (layer,) = [layer for layer in layers if layer.product_id == product]
    assert layer.accuracy is not None and layer.accuracy_evidence == "measured"
    assert _subset(layer.accuracy.figures(), expected) == expected
    item = json.loads((ws / "publish" / layer.stac_item).read_text(encoding="utf-8"))
    assert _subset(item["properties"]["dronegis:accuracy"], expected) == expected
    with Service(ws, ws.parent / "service.log") as service:
        listed = httpx.get(f"{service.url}/layers", params={"token": GIS}, timeout=60).json()
        shown = next(entry for entry in listed if entry["id"] == layer.id)
        assert _subset(shown["accuracy"], expected) == expected
        west, south, east, north = layer.bounds_wgs84  # CRS:84: longitude first
        params: dict[str, str | int] = {
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetFeatureInfo", "LAYERS": layer.id,
            "QUERY_LAYERS": layer.id, "STYLES": "", "CRS": "CRS:84",
            "BBOX": f"{west},{south},{east},{north}", "WIDTH": 256, "HEIGHT": 256, "FORMAT": "image/png",
            "INFO_FORMAT": "application/json", "I": 128, "J": 128,
        }  # fmt: skip
        info = httpx.get(f"{service.url}/wms", params=params, timeout=60)
        assert info.status_code == 200, info.text[-600:]
        (feature,) = info.json()["features"]
        assert _subset(feature["properties"]["accuracy"], expected) == expected
        params["INFO_FORMAT"] = "text/plain"
        text = httpx.get(f"{service.url}/wms", params=params, timeout=60).text
        assert f"RMSE_H {expected['rmse_h_m']:.3g} m" in text and f"n {expected['n']}" in text
