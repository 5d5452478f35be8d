"""A real thermal flight with building footprints: the Zenmuse XT R frame of thermal_parser, processed.

The frame (FLIR core R-JPEG with EXIF GPS and DJI XMP pose, Minas Gerais) is ingested and
processed into EPSG:31983 (SIRGAS 2000 / UTM 23S). No footprint layer exists there, so eight
synthetic 12 m × 10 m footprints are drawn over cells of its real °C mosaic (seeded) and
written in EPSG:4326 (another CRS than the products'), one of them half off the mosaic's edge.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely

from core.workspace import Workspace
from pipeline.process import process_flight
from pipeline.run import ProcessConfig
from tests.samples import ingest_into

FLIGHT = "xt"
CRS = "EPSG:31983"
AIR_TEMP_C = 12.0
ID_FIELD = "bygning_id"


def ingest_xt(root: Path, data_dir: Path) -> Workspace:
    """The XT R frame ingested as flight ``xt`` into ``root/ws``."""
    folder = root / "delivery"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(data_dir / "thermal_parser" / "images" / "DJI_XTR.jpg", folder / "DJI_XTR.jpg")
    ws = Workspace.at(root / "ws")
    ingest_into(ws, folder, FLIGHT)
    return ws


def footprints_over(mosaic: Path, dst: Path, count: int = 8, seed: int = 1) -> Path:
    """``count`` rectangles centred on valid cells of ``mosaic`` (the last one on its edge), as GeoJSON."""
    with rasterio.open(mosaic) as ds:
        valid = ds.read_masks(1) > 0
        transform = ds.transform
    rows, cols = np.nonzero(valid)
    picks = np.random.default_rng(seed).choice(len(rows), count - 1, replace=False)
    centres = [transform * (cols[i] + 0.5, rows[i] + 0.5) for i in picks]
    edge_row = int(np.median(rows))
    edge_col = int(cols[rows == edge_row].max())
    centres.append(transform * (edge_col + 0.5, edge_row + 0.5))  # half of it beyond the mosaic
    boxes = [shapely.box(x - 6, y - 5, x + 6, y + 5) for x, y in centres]
    frame = gpd.GeoDataFrame({ID_FIELD: [f"B{i}" for i in range(count)]}, geometry=boxes, crs=CRS)
    frame.to_crs("EPSG:4326").to_file(dst, driver="GeoJSON")
    return dst


def process_with_footprints(root: Path, data_dir: Path) -> tuple[Workspace, Path]:
    """The flight processed once without, then with footprints drawn over its mosaic."""
    ws = ingest_xt(root, data_dir)
    process_flight(ws, FLIGHT, ProcessConfig(target_crs=CRS))
    footprints = footprints_over(ws.thermal_mosaic(FLIGHT), root / "footprints.geojson")
    config = ProcessConfig(
        target_crs=CRS, footprints=footprints, footprints_id_field=ID_FIELD, air_temp_c=AIR_TEMP_C
    )
    process_flight(ws, FLIGHT, config)
    return ws, footprints
