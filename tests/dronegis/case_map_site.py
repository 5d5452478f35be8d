"""A workspace for the case handler's map: two thermal flights over one roof, and an internal orthophoto.

- ``roof-jan`` and ``roof-feb``: thermal mosaics (300 × 200 px at 0.2 m, °C rising 0.05 °C per
  column from 10 °C in January, 12 °C in February) over the same roof, site "Skanderborg
  Rådhus", public. QA ran without any check point: every check passed, accuracy unknown — the
  layer must never read "passed".
- ``ortho-int``: an internal RGB orthophoto beside them, with accuracy measured at 31 check
  points (QA precision 2.1 cm RMSE), approved by the GIS team; invisible without a token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from core.workspace import Workspace
from dronegis.catalog import Catalog
from pipeline.models import Accuracy, AccuracySource, Evidence, Product, ProductKind
from qa.models import CheckResult
from qa.report import build_report, write_report
from webgis_export.models import Approval
from webgis_export.publish import publish

ORIGIN = (557850.0, 6212040.0)
PIXEL = 0.2
SITE = "Skanderborg Rådhus"
FLIGHTS = {
    "roof-jan": (datetime(2026, 1, 20, 5, 30, tzinfo=UTC), 10.0),
    "roof-feb": (datetime(2026, 2, 10, 4, 45, tzinfo=UTC), 12.0),
}
THERMAL = {flight: f"{flight}-thermal_mosaic" for flight in FLIGHTS}
ORTHO = "ortho-int-orthophoto"
NOW = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)


def celsius_at(flight: str, x: float) -> float:
    """The temperature the thermal layer of ``flight`` holds at easting ``x``."""
    return FLIGHTS[flight][1] + 0.05 * int((x - ORIGIN[0]) // PIXEL)


def _raster(path: Path, data: np.ndarray, dtype: str, nodata: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": dtype,
        "nodata": nodata,
        "crs": "EPSG:25832",
        "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)


def _product(ws: Workspace, flight: str, kind: ProductKind, when: datetime, data: np.ndarray) -> Product:
    path = ws.products(flight) / f"{kind.value}.tif"
    rgb = kind is ProductKind.ORTHOPHOTO
    _raster(path, data, "uint8" if rgb else "float32", None if rgb else -9999.0)
    height, width = data.shape[1:]
    product = Product(
        id=f"{flight}-{kind.value}",
        flight=flight,
        kind=kind,
        path=path.relative_to(ws.root).as_posix(),
        crs="EPSG:25832",
        bounds=(ORIGIN[0], ORIGIN[1] - height * PIXEL, ORIGIN[0] + width * PIXEL, ORIGIN[1]),
        gsd_m=PIXEL,
        time_start=when,
        time_end=when,
        units=None if rgb else "°C",
    )
    ws.products_json(flight).write_text("[" + product.model_dump_json() + "]", encoding="utf-8")
    return product


def _qa(
    ws: Workspace, flight: str, checks: list[CheckResult], accuracy: dict[str, Accuracy] | None = None
) -> None:
    report = build_report(flight, checks, created=NOW).model_copy(update={"accuracy": accuracy or {}})
    write_report(report, ws.qa(flight))


def _record(ws: Workspace, flight: str, product: Product, qa_status: str) -> None:
    catalog = Catalog(ws.catalog)
    catalog.upsert_flight(flight, purpose="building-inspection", status="published")
    job = catalog.enqueue(flight, "ingest")
    catalog.claim(job.id)
    catalog.update_job(job.id, stage="publish", status="done", done=1, total=1, qa_status=qa_status)
    catalog.record_products(flight, [product])


def build_site(root: Path) -> Workspace:
    """Publish the three layers (no pyramids: tiles come from the COGs)."""
    ws = Workspace.at(root)
    cols = np.arange(300, dtype="float32")
    for flight, (when, base) in FLIGHTS.items():
        data = np.broadcast_to(base + 0.05 * cols, (200, 300)).astype("float32")[None]
        product = _product(ws, flight, ProductKind.THERMAL_MOSAIC, when, data)
        ok = CheckResult(
            id="conditions.wind", title="Wind speed", status="pass", message="wind 2 m/s (limit 5 m/s)"
        )
        _qa(ws, flight, [ok])
        publish(ws, flight, access="public", site=SITE, pyramids=False, now=NOW)
        _record(ws, flight, product, "pass")
    rng = np.random.default_rng(7)
    rgb = rng.integers(60, 200, size=(3, 200, 300), dtype=np.uint8)
    ortho = _product(ws, "ortho-int", ProductKind.ORTHOPHOTO, datetime(2026, 2, 1, 11, 0, tzinfo=UTC), rgb)
    precision = CheckResult(
        id=f"precision.{ortho.id}",
        title="Check-point accuracy",
        status="pass",
        message="RMSE_H 0.021 m ≤ 0.5 m; 31 check points",
        figures={"nssda_h95": 0.021 * 1.7308, "n": 31},
    )
    measured = Accuracy(
        source=AccuracySource.CHECK_POINTS, evidence=Evidence.MEASURED, n=31, rmse_h_m=0.021,
        nssda_h95_m=0.021 * 1.7308, ce90_m=0.021 * 1.5175,
    )  # fmt: skip
    _qa(ws, "ortho-int", [precision], {ortho.id: measured})
    approval = Approval(by="gustav", reason="kontrolleret af GIS-teamet")
    publish(ws, "ortho-int", access="internal", pyramids=False, now=NOW, approval=approval)
    _record(ws, "ortho-int", ortho, "pass")
    return ws
