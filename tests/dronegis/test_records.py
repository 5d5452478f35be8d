"""Records on the demo flight (issue 16): retention with an injected clock, legal holds, erasure
(also SIGKILLed at each step and rerun), and the access log of a GetMap with a token."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from records_site import FLIGHT, GIS_TOKEN, build_demo, cli, copy_site, files_naming, uvicorn_service
from svc_helpers import REPO

from core.workspace import Workspace
from dronegis.catalog import Catalog
from dronegis.records.access import AccessLog, verify
from dronegis.records.inventory import flight_doc, flown_at, product_paths, published
from webgis_export.privacy.gate import PublicationGate
from webgis_export.publish import load_layers, publish
from webgis_export.service import LayerStore

pytestmark = [pytest.mark.slow]
POLICY = """
[default]
raw_frames = "forever"
raw_files = "forever"
quarantine = "forever"
products = "forever"
qa_reports = "layer"

[survey]
raw_frames = "90d"
products = "30d"
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("records-demo") / "ws")


@pytest.fixture
def site(demo: Path, tmp_path: Path) -> Path:
    return copy_site(demo, tmp_path / "ws")


def retention(root: Path, policy: Path, now: str, *extra: str) -> dict[str, object]:
    result = cli(root, "retention", "--policy", str(policy), "--now", now, "--json", *extra)
    return json.loads(result.stdout)


def test_retention_dry_run_apply_and_legal_hold(site: Path, tmp_path: Path) -> None:
    ws = Workspace.at(site)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    doc = flight_doc(ws, FLIGHT)
    assert doc is not None and doc["purpose"] == "survey"
    frames = sorted(str(c["path"]) for c in doc["captures"])
    manifest = {e["path"]: e["sha256"] for e in json.loads(ws.manifest(FLIGHT).read_text())["entries"]}
    flown = flown_at(doc, datetime.now(UTC))
    early = (flown + timedelta(days=20)).isoformat()
    assert retention(site, policy, early)["items"] == []  # nothing past its term yet
    later = (flown + timedelta(days=91)).isoformat()
    dry = retention(site, policy, later)
    items = dry["items"]
    assert isinstance(items, list)
    raw = [i for i in items if i["category"] == "raw_frames"]
    assert sorted(Path(i["path"]).name for i in raw) == frames and all(i["action"] == "delete" for i in raw)
    assert all(i["sha256"] == manifest[Path(i["path"]).name] for i in raw)
    needed = {product_paths(ws, FLIGHT)[str(d["product_id"])] for d in published(ws) if d["flight"] == FLIGHT}
    products = [i for i in items if i["category"] == "products"]
    assert {
        i["path"] for i in products if i["action"] == "keep"
    } == needed  # what published layers need stays
    assert all("lag" in i["why"] and "layer" in i["why"] for i in products if i["action"] == "keep")
    assert not [i for i in items if i["category"] not in ("raw_frames", "products")]  # control files, QA stay
    assert all((site / i["path"]).exists() for i in items)  # a dry run deletes nothing

    cli(site, "hold", FLIGHT, "--reason", "klagesag 2026-117", "--by", "jurist")
    held = retention(site, policy, later, "--apply")
    assert held["delete"] == 0 and all("klagesag 2026-117" in i["why"] for i in held["items"])
    assert all((site / i["path"]).exists() for i in items)
    assert (
        cli(site, "erase", FLIGHT, "--reason", "x", check=False).returncode == 1
    )  # a hold blocks erasure too

    cli(site, "hold", FLIGHT, "--release", "--reason", "sagen er afsluttet", "--by", "jurist")
    applied = retention(site, policy, later, "--apply")
    gone = [i for i in applied["items"] if i["action"] == "delete"]
    assert gone and all(not (site / i["path"]).exists() for i in gone)
    assert all((site / path).exists() for path in needed)
    assert ws.manifest(FLIGHT).exists() and (ws.archive(FLIGHT) / "gcp_list.txt").exists()
    record = json.loads(ws.retention_record(FLIGHT).read_text(encoding="utf-8"))
    assert {i["path"] for i in record[-1]["deleted"]} == {i["path"] for i in gone}
    assert retention(site, policy, later)["delete"] == 0  # a rerun finds nothing more

    store = LayerStore(ws, PublicationGate(ws, None))  # published layers still render
    for layer in store.layers():
        box = layer.bounds
        middle = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        from rasterio.crs import CRS

        crs = CRS.from_user_input(layer.crs)
        image = store.render(layer, (middle[0] - 2, middle[1] - 2, middle[0] + 2, middle[1] + 2), crs, 64, 64)
        assert image is not None and not image.empty, layer.id


def test_erase_the_demo_flight(site: Path) -> None:
    ws = Workspace.at(site)
    internal = next(layer for layer in load_layers(ws) if layer.kind.value == "thermal_mosaic")
    publish(ws, internal.product_id, access="internal", pyramid_processes=1)
    log = site.parent / "service.log"
    with uvicorn_service(site, log) as url:
        box = ",".join(str(v) for v in internal.bounds)
        getmap = {
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": internal.id, "STYLES": "",
            "CRS": internal.crs, "BBOX": box, "WIDTH": 64, "HEIGHT": 64, "FORMAT": "image/png",
            "token": GIS_TOKEN,
        }  # fmt: skip
        assert httpx.get(f"{url}/wms", params=getmap, timeout=60).status_code == 200
        tile = httpx.get(f"{url}/layers", timeout=30).json()[0]["links"]["xyz_view1"]
        erased = httpx.post(
            f"{url}/api/flights/{FLIGHT}/erase",
            json={"reason": "anmodning om sletning, sag 2026-42"},
            headers={"Authorization": f"Bearer {GIS_TOKEN}"},
            timeout=300,
        )
        assert erased.status_code == 200, erased.text
        record = erased.json()
        assert record["flight"] == FLIGHT and record["by"] == "gustav (gis)" and record["files"]
        assert all(len(f["sha256"]) == 64 for f in record["files"])
        assert record["access_log_redacted"]  # the GetMap above named the flight
        layers = httpx.get(f"{url}/layers", params={"token": GIS_TOKEN}, timeout=30).json()
        assert not [d for d in layers if d["flight"] == FLIGHT]
        for path in ("/wms?SERVICE=WMS&REQUEST=GetCapabilities", "/wmts/1.0.0/WMTSCapabilities.xml",
                     "/stac/catalog.json", "/ogcapi/collections?f=json"):  # fmt: skip
            body = httpx.get(f"{url}{path}", params={"token": GIS_TOKEN}, timeout=30).text
            assert FLIGHT not in body, path
        assert (
            httpx.get(f"{url}/layers/{internal.id}/cog.tif", params={"token": GIS_TOKEN}).status_code == 404
        )
        assert httpx.get(tile.format(z=10, x=0, y=0), timeout=30).status_code == 404
        stac_item = httpx.get(f"{url}/{internal.stac_item}", params={"token": GIS_TOKEN}, timeout=30)
        assert stac_item.status_code == 404
    assert files_naming(site, FLIGHT) == [f"records/erasures/{record['id']}.json"]
    assert [f.id for f in Catalog(ws.catalog).flights()] == []
    assert verify(AccessLog(ws.access_log)).ok
    assert GIS_TOKEN not in log.read_text(errors="replace")


STEPS = ("journal", "unpublished", "files", "catalog", "access-log")


@pytest.mark.parametrize("step", STEPS)
def test_sigkill_during_erasure_leaves_all_or_nothing_and_a_rerun_finishes(site: Path, step: str) -> None:
    ws = Workspace.at(site)
    ids = sorted(layer.id for layer in load_layers(ws) if layer.flight == FLIGHT)
    env = {**os.environ, "DRONEGIS_WORKSPACE": str(site)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", "erase", FLIGHT,
         "--reason", "test", "--step-pause", "3"],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip().endswith(f": {step}"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    store = LayerStore(ws, PublicationGate(ws, None))
    visible = sorted(layer.id for layer in store.layers() if layer.flight == FLIGHT)
    assert visible == [], f"killed after {step}: some of the flight is still served: {visible}"
    assert ids  # the flight had layers before
    for listed in load_layers(ws):  # what layers.json lists is whole
        assert (ws.published_layer(listed.id) / "cog.tif").exists()
    cli(site, "erase", FLIGHT, "--reason", "rerun")
    naming = files_naming(site, FLIGHT)
    assert (
        len(naming) == 1
        and naming[0].startswith("records/erasures/")
        and not naming[0].endswith(".journal.json")
    )


def test_access_log_records_getmap_of_internal_layer_and_redacts_the_token(site: Path) -> None:
    ws = Workspace.at(site)
    layer = next(layer for layer in load_layers(ws) if layer.kind.value == "thermal_mosaic")
    (internal,) = publish(ws, layer.product_id, access="internal", pyramid_processes=1)
    log = site.parent / "service.log"
    with uvicorn_service(site, log) as url:
        params = {
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": internal.id, "STYLES": "",
            "CRS": internal.crs, "BBOX": ",".join(str(v) for v in internal.bounds), "WIDTH": 64, "HEIGHT": 64,
            "FORMAT": "image/png", "token": GIS_TOKEN,
        }  # fmt: skip
        response = httpx.get(f"{url}/wms", params=params, timeout=60)
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        anonymous = httpx.get(
            f"{url}/wms", params={k: v for k, v in params.items() if k != "token"}, timeout=60
        )
        assert anonymous.status_code != 200 or "image" not in anonymous.headers["content-type"]
    text = ws.access_log.read_text(encoding="utf-8")
    assert GIS_TOKEN not in text
    (entry,) = [json.loads(line) for line in text.splitlines()]
    body = entry["body"]
    assert body["who"] == "gustav" and body["role"] == "gis" and body["action"] == "GetMap"
    assert body["layers"] == [internal.id] and body["flights"] == [FLIGHT] and "internal" in body["reason"]
    assert body["client"] == "127.0.0.1" and body["path"] == "/wms"
    served = log.read_text(errors="replace")
    assert "GET /wms?" in served and "token=[redacted]" in served and GIS_TOKEN not in served
    audit = cli(site, "audit", "--json")
    report = json.loads(audit.stdout)
    assert report["verdict"]["ok"] and report["verdict"]["count"] == 1
    lines = text.splitlines()
    tampered = json.loads(lines[0])
    tampered["body"]["who"] = "someone else"
    ws.access_log.write_text(json.dumps(tampered) + "\n", encoding="utf-8")
    broken = cli(site, "audit", "--json", check=False)
    assert broken.returncode == 1 and not json.loads(broken.stdout)["verdict"]["ok"]
    shutil.rmtree(site)
