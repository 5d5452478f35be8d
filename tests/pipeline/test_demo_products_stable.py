"""The demo flight's products do not change while the house is rebuilt (issue 11).

The sample flight of ``dronegis demo`` (six RGB frames, one FLIR R-JPEG, GCPs and check points)
plus a delivered orthophoto (EPSG:32632, the identity path) and DSM (EPSG:4326, warped) goes
through ingest -> process with the demo's thermal parameters. Every product is hashed: raster
pixels with their mask, dtype, shape, transform and CRS (COGs, the °C grids of the thermal stage,
thumbnails), the features of every GeoPackage (sorted; geometry WKB and attributes), and the
product records without their kind-specific extras. The hashes were recorded on the tree before
the rework; a move that changes one byte of a product fails here. The sample's synthetic building
footprints (``flights.sample.SAMPLE_FOOTPRINTS``, as ``dronegis demo`` gives them) added the
buildings sub-stage's GeoPackage and its two records (hashed apart, so the earlier records' hash
stayed as recorded); no earlier hash changed.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin

from core.workspace import Workspace
from flights.sample import SAMPLE_FOOTPRINTS, make_sample_flight
from pipeline.executors import SerialExecutor
from pipeline.models import ThermalOverrides
from pipeline.process import process_flight
from pipeline.products import load_products
from pipeline.run import ProcessConfig
from tests.samples import ingest_into

FLIGHT = "demo"
DEMO_THERMAL = {  # dronegis.cli.demo.DEMO_THERMAL
    "emissivity": 0.93,
    "reflected_temp_c": -10.0,
    "atmospheric_temp_c": 2.0,
    "relative_humidity_pct": 80.0,
}
RECORD_FIELDS = (
    "id", "kind", "path", "crs", "bounds", "gsd_m", "time_start", "time_end", "source_files",
    "height_datum", "datum", "transformation", "units",
)  # fmt: skip

ANALYSES = ("buildings", "hot_spots")  # added with the sample's footprints (issue 12), hashed apart
EXPECTED: dict[str, str] = {
    "products.json records": "6551afe82134e3b325d82fbbdd227c908a473c1d5daad683f07aa902e922770b",
    "products.json analysis records": "11f3c8972ab481d7a0d192e4ebf8fdf8112bd417cef56d92aa19cee662b78d82",
    "buildings/buildings.gpkg": "449a0e8309278f7ad030a9d7d4ab004b6ea84fc4f3595c61f43d6bebc721ecd3",
    "footprints.gpkg": "89562c6a50bc98be77cc01923486ebd06063273f453c49e31001c481fbccd290",
    "frames/DJI_0001.tif": "148bd00c61f6f9f98a2bfdf683a7c8b0f144c6ffaf2a9ca53c238661a87dc862",
    "frames/DJI_0002.tif": "93a035107a9bcc7e03a4aa72ce0f6c95180dd2863bd85a0682542dc7f2a04823",
    "frames/DJI_0002_gcp.tif": "2c6ea81f576075d6cf16bebc160691f363df0a7cb2aa6724f41404912eb085c9",
    "frames/DJI_0003.tif": "aeeb0047f8fa8141d009be0b0a7fd4108736b501242a4cce71cdb9c4d0083126",
    "frames/DJI_0004.tif": "1f9412aed4c503eb0f8235ab9f315fb379402e91e9ecd8393a437d38051d17f8",
    "frames/DJI_0005.tif": "61012d186b1ad0c1514f6e1821705f187dedb72ddead53c2915e0429a8843545",
    "frames/DJI_0005_gcp.tif": "211b4667f1a5633d11ba1c4cfdf2f7f817070ec79d84c1d094cc894c9f2c4fa0",
    "frames/DJI_0006.tif": "6fc6b0db186574266dead47e587786dfc1a7f40f7c35498256eb1ba887bd0a9b",
    "frames/DJI_0007_R.tif": "6e3eafadb2869ee26b9ce3e0ff4608a85d34a0bbd841a6babe3e7e87492675b3",
    "photo_points.gpkg": "76a4361150320cc60f8e8318f84f7373d09c473dc5cfe93fb6c3c7d81a3cfbeb",
    "rasters/dsm.tif": "cea369cc95dc107d38d39f3ecde6c736cfc8c8a2266560fd0d8e18c7372b6b79",
    "rasters/odm_orthophoto.tif": "94ad560b3eb95fe0aea9b4fee595725c66825972a9280bb5ac3392983b36ba85",
    "thermal/DJI_0007_R_celsius.tif": "da7c46abec460458b374043b99023d416687303cd79b12925a909935a6cdfd11",
    "thermal_mosaic.tif": "3e3fb7cfe636501cb0ea73eb8846ad0b22c42294d3ca7089dc4eaa9544b6819f",
    "thumbnails/DJI_0001.jpg": "62bdd97e242d314155ede984610be82798d2fece15a936941201e183a7fe050e",
    "thumbnails/DJI_0002.jpg": "66f992edb8f51bae47e3554d68630f2c564f1028d224dc2d543ffd443847931f",
    "thumbnails/DJI_0003.jpg": "f105b68f32dc6b33b3a149faae4970517b180b457a04da2812c525611736f9ba",
    "thumbnails/DJI_0004.jpg": "4162f940e816cccce330fa22556a1636bcee4184a3671388624a80f0a1672612",
    "thumbnails/DJI_0005.jpg": "70827827bfacb69e2ce399804197b50a57ec4fc6ca2605de76a4d387e3f47db8",
    "thumbnails/DJI_0006.jpg": "931d1d1d2ca694c5f6eab492152befda8fe1246e9e34ea3d01fb7bb8c709a921",
    "thumbnails/DJI_0007_R.jpg": "8716ba70238c9cf0ff148a86be12c35beee40c0e1250ad453015c0c216e27ab1",
}


def _delivered_rasters(folder: Path) -> None:
    """A small RGBA orthophoto in EPSG:32632 and a float32 DSM in EPSG:4326 over the sample flight."""
    rng = np.random.default_rng(11)
    rgb = rng.integers(0, 255, (3, 120, 160), dtype=np.uint8)
    alpha = np.full((1, 120, 160), 255, np.uint8)
    alpha[:, :10, :] = 0
    ortho = {
        "driver": "GTiff", "width": 160, "height": 120, "count": 4, "dtype": "uint8",
        "crs": "EPSG:32632", "transform": from_origin(557_860.0, 6_212_040.0, 0.5, 0.5),
    }  # fmt: skip
    with rasterio.open(folder / "odm_orthophoto.tif", "w", **ortho) as dst:
        dst.write(np.concatenate([rgb, alpha]))
        dst.colorinterp = [*dst.colorinterp[:3], rasterio.enums.ColorInterp.alpha]
    yy, xx = np.mgrid[0:60, 0:80]
    heights = (60.0 + 0.05 * xx + 0.03 * yy + rng.normal(0, 0.2, (60, 80))).astype(np.float32)
    heights[:3, :3] = -9999.0
    dsm = {
        "driver": "GTiff", "width": 80, "height": 60, "count": 1, "dtype": "float32", "nodata": -9999.0,
        "crs": "EPSG:4326", "transform": from_origin(9.9910, 56.0440, 0.00001, 0.00001),
    }  # fmt: skip
    with rasterio.open(folder / "dsm.tif", "w", **dsm) as dst:
        dst.write(heights[None])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo flight processed serially from a fixed sample, with delivered rasters."""
    root = tmp_path_factory.mktemp("stable")
    folder = root / "delivery"
    make_sample_flight(folder)
    _delivered_rasters(folder)
    ws = Workspace.at(root / "ws")
    ingest_into(ws, folder, FLIGHT)
    process_flight(
        ws,
        FLIGHT,
        ProcessConfig(thermal_overrides=ThermalOverrides(**DEMO_THERMAL), footprints=SAMPLE_FOOTPRINTS),
        executor=SerialExecutor(),
    )
    return ws


def _raster_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # °C grids and thumbnails: pixel space
        ds = rasterio.open(path)
    with ds:
        digest.update(json.dumps([ds.dtypes, ds.shape, ds.count, tuple(ds.transform), str(ds.crs)]).encode())
        digest.update(np.ascontiguousarray(ds.read()).tobytes())
        digest.update(np.ascontiguousarray(ds.dataset_mask()).tobytes())
    return digest.hexdigest()


def _vector_hash(path: Path) -> str:
    digest = hashlib.sha256()
    for layer, _ in pyogrio.list_layers(path):
        meta, _, geometry, fields = pyogrio.raw.read(path, layer=layer)
        digest.update(json.dumps([layer, str(meta["crs"]), list(meta["fields"])]).encode())
        rows = sorted(
            (bytes(g), json.dumps([c[i] for c in fields], default=str)) for i, g in enumerate(geometry)
        )
        for wkb, attributes in rows:
            digest.update(wkb + attributes.encode())
    return digest.hexdigest()


def _record_hash(ws: Workspace, analyses: bool) -> str:
    """The records of the analyses' products (buildings), or of all the others."""
    products = sorted(
        (p for p in load_products(ws, FLIGHT) if (p.kind.value in ANALYSES) == analyses), key=lambda p: p.id
    )
    records = [p.model_dump(mode="json", include=set(RECORD_FIELDS)) for p in products]
    return hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()


def product_hashes(ws: Workspace) -> dict[str, str]:
    """Relative path -> hash of every raster and vector file under the flight's products, and the records."""
    folder = ws.products(FLIGHT)
    out = {
        "products.json records": _record_hash(ws, analyses=False),
        "products.json analysis records": _record_hash(ws, analyses=True),
    }
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix in (".tif", ".jpg"):
            out[rel] = _raster_hash(path)
        elif path.suffix == ".gpkg":
            out[rel] = _vector_hash(path)
    return out


def test_demo_products_are_unchanged(demo: Workspace) -> None:
    found = product_hashes(demo)
    assert found == EXPECTED, json.dumps(found, indent=1)


def test_every_kind_of_product_is_covered(demo: Workspace) -> None:
    kinds = {p.kind.value for p in load_products(demo, FLIGHT)}
    assert kinds == {
        "orthophoto", "dsm", "rgb_frame", "thermal_frame", "thermal_mosaic", "footprints", "photo_points",
        "buildings", "hot_spots",
    }  # fmt: skip
    assert datetime(2025, 6, 12, tzinfo=UTC) < min(
        p.time_start for p in load_products(demo, FLIGHT) if p.time_start
    )
