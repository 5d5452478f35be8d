"""Named lists of real sample files in the shared data folder, and small shared test helpers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.workspace import Workspace

FLIR_RADIOMETRIC = [
    "thermal_parser/images/FLIR.jpg",
    "thermal_parser/images/FLIR_AX8.jpg",
    "thermal_parser/images/FLIR_B60.jpg",
    "thermal_parser/images/FLIR_E40.jpg",
    "thermal_parser/images/FLIR_T640.jpg",
    "thermal_parser/images/DJI_XT2.jpg",
    "thermal_parser/images/DJI_XTR.jpg",
    "flirpy/test/test_data/frame_000000.fff",
    "flirpy/test/test_data/frame_000000_le.fff",
    "thermimage/inst/extdata/IR_2412.jpg",
    "metadata_extractor_images/jpg/FLIR iPhone device.jpg",
]
# parsed like the others; SOURCES.md: probably not radiometric, so no temperature truth
FLIR_SAMPLES = [*FLIR_RADIOMETRIC, "metadata_extractor_images/jpg/FLIR Vue Pro 640.jpg"]


def ingest_into(ws: Workspace, folder: Path, flight: str) -> None:
    """Ingest ``folder`` as ``flight`` into the workspace with a fixed clock (2026-11-28 UTC)."""
    from datetime import UTC, datetime

    from flights.ingest import ingest_folder
    from flights.ingest_config import IngestConfig

    ingest_folder(
        folder,
        IngestConfig(
            archive_dir=ws.archive(flight),
            quarantine_dir=ws.quarantine(flight),
            flight_id=flight,
            now=datetime(2026, 11, 28, tzinfo=UTC),
            flight_json=ws.flight_json(flight),
        ),
    )


def ellipsoidal_copy(dvr90: Path, dst: Path, grids: Path) -> Path:
    """``dvr90`` (a DVR90 DSM/DTM in EPSG:25832) with its heights made ETRS89 ellipsoidal (float32).

    Independent of dronegis: pyproj's best operation EPSG:7416 -> EPSG:25832 3D with the
    DVR90 grids in ``grids``, evaluated at every valid pixel centre.
    """
    import os

    import numpy as np
    import pyproj
    import pyproj.datadir
    import rasterio
    from pyproj.transformer import TransformerGroup

    with rasterio.open(dvr90) as ds:
        heights, transform, nodata, profile = ds.read(1), ds.transform, ds.nodata, ds.profile
    if str(grids) not in pyproj.datadir.get_data_dir().split(os.pathsep):  # once, as register_grids does
        pyproj.datadir.append_data_dir(str(grids))
    group = TransformerGroup("EPSG:7416", pyproj.CRS("EPSG:25832").to_3d(), always_xy=True)
    if not group.best_available:
        raise RuntimeError(f"the DVR90 grid is not in {grids}")
    rows, cols = np.mgrid[0 : heights.shape[0], 0 : heights.shape[1]] + 0.5
    xs, ys = transform.c + transform.a * cols, transform.f + transform.e * rows
    valid = heights != nodata
    _, _, h = group.transformers[0].transform(xs[valid], ys[valid], heights[valid].astype(np.float64))
    out = heights.astype(np.float64)
    out[valid] = h
    with rasterio.open(dst, "w", **(profile | {"crs": "EPSG:25832", "dtype": "float32"})) as sink:
        sink.write(out.astype(np.float32), 1)
    return dst
