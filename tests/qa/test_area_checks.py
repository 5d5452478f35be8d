"""QA's area checks: frames (footprints, or camera positions before processing) and products outside."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from core.workspace import Workspace
from flights.models import Capture, FileKind, Flight, Position
from pipeline.models import Product, ProductKind
from qa.run import run_qa

NOW = datetime(2025, 10, 1, 12, tzinfo=UTC)


def _write(ws: Workspace, flight: Flight, products: list[Product]) -> None:
    ws.flight_json(flight.id).parent.mkdir(parents=True, exist_ok=True)
    ws.flight_json(flight.id).write_text(flight.model_dump_json())
    ws.products(flight.id).mkdir(parents=True, exist_ok=True)
    ws.products_json(flight.id).write_text(json.dumps([p.model_dump(mode="json") for p in products]))


def test_frames_outside_by_position_before_any_product(workspace: Workspace) -> None:
    """Duluth positions, nothing georeferenced (refused in EPSG:25832): QA still flags every frame."""
    caps = tuple(
        Capture(
            path=f"DJI_00{i}.JPG", sha256="0", size=1, kind=FileKind.RGB_FRAME,
            position=Position(lat=46.8426, lon=-91.9946 + i * 1e-4),
        )
        for i in (18, 19)
    )  # fmt: skip
    _write(workspace, Flight(id="duluth", source="/x", ingested_at=NOW, captures=caps), [])
    report = run_qa(workspace, "duluth", now=NOW)
    check = report.check("coverage.outside_municipality")
    assert check.status == "fail" and check.figures["entirely_outside"] == ["DJI_0018.JPG", "DJI_0019.JPG"]
    assert report.status == "fail"  # the service publishes only a pass by itself


def test_products_outside_the_municipality(workspace: Workspace, tmp_path: Path) -> None:
    """An orthophoto inside Skanderborg passes; one near Copenhagen fails, one across the border warns."""
    origins = {"in": (557900.0, 6212000.0), "far": (724000.0, 6175100.0), "edge": (566000.0, 6212000.0)}
    products = []
    for name, (x, y) in origins.items():
        path = workspace.products("P") / f"{name}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        width = 4000 if name == "edge" else 20  # 2 km wide: crosses the eastern boundary (x 566742)
        with rasterio.open(
            path, "w", driver="GTiff", width=width, height=20, count=3, dtype="uint8", crs="EPSG:25832",
            transform=from_origin(x, y, 0.5, 0.5),
        ) as dst:  # fmt: skip
            dst.write(np.full((3, 20, width), 100, dtype="uint8"))
        products.append(
            Product(
                id=f"P-{name}",
                flight="P",
                kind=ProductKind.ORTHOPHOTO,
                path=f"products/P/{name}.tif",
                crs="EPSG:25832",
                bounds=(x, y - 10, x + width * 0.5, y),
                gsd_m=0.5,
                time_start=NOW,
            )  # fmt: skip
        )
    _write(workspace, Flight(id="P", source="/x", ingested_at=NOW), products)
    report = run_qa(workspace, "P", now=NOW)
    check = report.check("coverage.products_outside_municipality")
    assert check.status == "fail"
    assert check.figures["entirely_outside"] == ["P-far"] and check.figures["outside"] == ["P-far", "P-edge"]
