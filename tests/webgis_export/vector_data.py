"""Vector products for the publication and service tests, made with the real buildings stage.

The buildings and hot spots are what ``pipeline.buildings`` writes for the real GeoDanmark
footprints of ``dk_sdfi_dhmqc`` (EPSG:3044) over a °C raster made here (each roof uniform,
one 1 m² leak on roof 0, as in tests/pipeline/buildings); the footprints are six frame
rectangles next to them with ISO capture times one minute apart, written the way
``process`` writes its footprints (a text ``time`` column). Imported as
``tests.webgis_export.vector_data``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

from core.workspace import Workspace
from pipeline.buildings import BuildingsConfig, FlightConditions, buildings_stage
from pipeline.models import Product, ProductKind, VectorInfo

GEODANMARK = "dk_sdfi_dhmqc/demo/build_1km_6173_632.geojson"
FLIGHT = "f2026-02-10"
CAPTURE = datetime(2026, 2, 10, 5, 30, tzinfo=UTC)
RES = 0.1


def celsius_raster(footprints: gpd.GeoDataFrame, path: Path) -> Path:
    """A °C raster over the footprints (EPSG:25832): roof i at 6 + 0.5 i °C, a 1 m² leak on roof 0."""
    minx, miny, maxx, maxy = footprints.total_bounds
    x0, y0 = np.floor(minx) - 5 + 0.0037, np.ceil(maxy) + 5 + 0.0037
    width, height = int((np.ceil(maxx) + 5 - x0) / RES), int((y0 - np.floor(miny) + 5) / RES)
    transform = from_origin(x0, y0, RES, RES)
    temps = [6.0 + 0.5 * i for i in range(len(footprints))]
    data = rasterize(
        zip(footprints.geometry, temps, strict=True), out_shape=(height, width), transform=transform, fill=1.0
    ).astype("float32")
    leak = footprints.geometry.iloc[0].representative_point()
    col, row = int((leak.x - x0) / RES), int((y0 - leak.y) / RES)
    data[row : row + 10, col : col + 10] = temps[0] + 5.0
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32"}
    with rasterio.open(path, "w", **profile, crs="EPSG:25832", transform=transform) as dst:
        dst.write(data, 1)
    return path


def frame_footprints(near: gpd.GeoDataFrame, path: Path) -> Path:
    """Six 40 × 30 m frame footprints west of the buildings, captured a minute apart (text ISO times)."""
    minx, miny, _, maxy = near.total_bounds
    frames = [shapely.box(minx - 45 - 35 * i, miny, minx - 5 - 35 * i, miny + 30) for i in range(6)]
    times = [(CAPTURE + timedelta(minutes=i)).isoformat() for i in range(6)]
    frame = gpd.GeoDataFrame(
        {
            "image": [f"DJI_{i:04d}.JPG" for i in range(6)],
            "time": times,
            "gsd_m": [0.02 + 0.001 * i for i in range(6)],
        },
        geometry=frames,
        crs="EPSG:25832",
    )
    frame.to_file(path, driver="GPKG", layer="footprints", engine="pyogrio")
    return path


def vector_flight(workspace: Workspace, data_dir: Path, flight: str = FLIGHT) -> list[Product]:
    """Products of one flight: buildings and hot spots (real stage), footprints; products.json written."""
    folder = workspace.products(flight)
    folder.mkdir(parents=True, exist_ok=True)
    footprints = gpd.read_file(data_dir / GEODANMARK).to_crs("EPSG:25832")
    config = BuildingsConfig(
        footprints=data_dir / GEODANMARK,
        thermal=celsius_raster(footprints, folder / "celsius.tif"),
        out_dir=folder / "buildings",
        flight=FlightConditions(air_temp_c=2.0),
        cards=False,
    )
    report = buildings_stage(config)
    gpkg = report.outputs["geopackage"].relative_to(workspace.root).as_posix()
    frame_footprints(footprints, folder / "footprints.gpkg")
    common = {
        "flight": flight,
        "crs": "EPSG:25832",
        "bounds": tuple(footprints.total_bounds),
        "time_start": CAPTURE,
    }
    products = [
        Product(
            id=f"{flight}-buildings",
            kind=ProductKind.BUILDINGS,
            path=gpkg,
            vector=VectorInfo(layer="buildings", count=len(report.buildings)),
            **common,
        ),
        Product(
            id=f"{flight}-hot-spots",
            kind=ProductKind.HOT_SPOTS,
            path=gpkg,
            vector=VectorInfo(layer="hot_spots"),
            **common,
        ),
        Product(
            id=f"{flight}-footprints",
            kind=ProductKind.FOOTPRINTS,
            path=f"products/{flight}/footprints.gpkg",
            vector=VectorInfo(layer="footprints", count=6),
            **{**common, "time_end": CAPTURE + timedelta(minutes=5)},
        ),
    ]
    workspace.products_json(flight).write_text(
        json.dumps([p.model_dump(mode="json") for p in products]), encoding="utf-8"
    )
    return products
