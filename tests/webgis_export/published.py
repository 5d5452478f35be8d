"""Builders shared by the publishing and OGC tests: tiny products, a published workspace, a live server.

Imported as ``tests.webgis_export.published`` (the suite runs as ``python -m pytest`` from
the repository root).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles

from core.workspace import Workspace
from pipeline.models import HeightDatum, Product, ProductKind, ProductThermal, ThermalValue, View

ORIGIN = (560000.0, 6215600.0)
CAPTURE = datetime(2026, 2, 10, 5, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "gis-secret-token"


def blocky_rgb(size: int = 512, block: int = 16) -> np.ndarray:
    """RGB blocks of constant colour: robust to nearest-neighbour half-pixel differences."""
    rng = np.random.default_rng(7)
    cells = rng.integers(20, 235, size=(3, size // block, size // block)).astype(np.uint8)
    return np.repeat(np.repeat(cells, block, axis=1), block, axis=2)


def thermal_field(size: int = 256) -> np.ndarray:
    """A smooth temperature field in °C (−5 … 25) with a nodata corner."""
    yy, xx = np.mgrid[0:size, 0:size].astype("float32")
    field = -5.0 + 30.0 * (xx / (size - 1)) + 0.0 * yy
    field[:32, :32] = -9999.0
    return field[np.newaxis]


def write_cog(path: Path, data: np.ndarray, res: float, nodata: float | None = None) -> Path:
    """A valid deflate COG of ``data`` at ``res`` m in EPSG:25832 (via a temporary GTiff)."""
    tmp = path.with_suffix(".src.tif")
    profile = {
        "driver": "GTiff",
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "dtype": str(data.dtype),
        "crs": "EPSG:25832",
        "transform": from_origin(*ORIGIN, res, res),
        "nodata": nodata,
    }
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
    cog_translate(str(tmp), str(path), cog_profiles.get("deflate"), quiet=True, overview_resampling="nearest")
    tmp.unlink()
    return path


def make_flight(workspace: Workspace, data_dir: Path, flight: str = "f2026-02-10") -> list[Product]:
    """Products of one flight: RGB orthophoto (0.1 m), thermal mosaic (0.2 m), a real Danish DTM."""
    folder = workspace.products(flight)
    folder.mkdir(parents=True, exist_ok=True)
    write_cog(folder / "ortho.tif", blocky_rgb(), 0.1)
    write_cog(folder / "thermal.tif", thermal_field(), 0.2, nodata=-9999.0)
    shutil.copyfile(data_dir / "dk_malstroem" / "tests" / "data" / "dtm.tif", folder / "dtm.tif")
    common = {"flight": flight, "crs": "EPSG:25832", "bounds": (0.0, 0.0, 1.0, 1.0), "time_start": CAPTURE}
    products = [
        Product(
            id=f"{flight}-orthophoto",
            kind=ProductKind.ORTHOPHOTO,
            path=f"products/{flight}/ortho.tif",
            gsd_m=0.1,
            view=View(platform="dji-m300", instruments=("zenmuse-p1",)),
            **common,
        ),
        Product(
            id=f"{flight}-thermal",
            kind=ProductKind.THERMAL_MOSAIC,
            path=f"products/{flight}/thermal.tif",
            gsd_m=0.2,
            units="°C",
            thermal=ProductThermal(
                emissivity=ThermalValue(min=0.95, max=0.95, source="override"),
                reflected_temp_c=ThermalValue(min=-2.0, max=-2.0, source="override"),
            ),
            **common,
        ),
        Product(
            id=f"{flight}-dtm",
            kind=ProductKind.DTM,
            path=f"products/{flight}/dtm.tif",
            gsd_m=16.0,
            units="m",
            height_datum=HeightDatum.DVR90,
            **common,
        ),
    ]
    workspace.products_json(flight).write_text(
        json.dumps([p.model_dump(mode="json") for p in products]), encoding="utf-8"
    )
    return products


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(app: object, timeout: float = 20.0) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on 127.0.0.1; yield its base URL; stop it."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
