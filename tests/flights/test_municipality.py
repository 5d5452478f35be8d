"""The packaged Skanderborg boundary; what ingest flags against it (frames, rasters); declared dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from core.workspace import Workspace
from flights.aoi import DEFAULT_MUNICIPALITY, load_municipality
from flights.ingest import ingest_folder, load_flight
from flights.ingest_config import IngestConfig
from flights.models import Purpose
from flights.raster_time import declared_capture

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_packaged_boundary_is_skanderborg_from_dagi(data_dir: Path) -> None:
    """Small, 2D, KOMKODE 0746, and the same polygon as the DAGI source it was cut from."""
    assert DEFAULT_MUNICIPALITY.stat().st_size < 200_000
    doc = json.loads(DEFAULT_MUNICIPALITY.read_text(encoding="utf-8"))
    [feature] = doc["features"]
    assert feature["properties"] == {"KOMKODE": "0746", "KOMNAVN": "Skanderborg"}
    assert all(len(xy) == 2 for xy in feature["geometry"]["coordinates"][0])  # the dummy z is gone
    assert "Geodatastyrelsen" in (DEFAULT_MUNICIPALITY.parent / "README.md").read_text(encoding="utf-8")
    ours = load_municipality()
    source = load_municipality(data_dir / "dagi_neogeografen" / "geojson" / "kommuner.geojson", "0746")
    assert ours.symmetric_difference(source).area / source.area < 1e-6  # rounding to 7 decimals only
    west, south, east, north = ours.bounds
    assert (round(west, 3), round(south, 3), round(east, 3), round(north, 3)) == (
        9.633,
        55.954,
        10.093,
        56.217,
    )
    assert ours.covers(shapely.Point(9.93, 56.05))  # Skanderborg town
    assert not ours.covers(shapely.Point(10.2, 56.16))  # Aarhus


@pytest.mark.slow
def test_duluth_frames_flagged_outside_at_ingest(tmp_path: Path, data_dir: Path) -> None:
    """All 18 brighton_beach frames (Duluth, MN) are outside Skanderborg: each flagged, and the flight."""
    ws = Workspace.at(tmp_path / "ws")
    flight = ingest_folder(
        data_dir / "brighton_beach" / "images",
        IngestConfig(
            archive_dir=ws.archive("duluth"),
            quarantine_dir=ws.quarantine("duluth"),
            flight_id="duluth",
            purpose=Purpose.SURVEY,
            municipality=load_municipality(),
            camera_timezone="America/Chicago",
            now=NOW,
        ),
    )
    assert len(flight.captures) == 18
    assert all(any(p.code == "outside_municipality" for p in c.problems) for c in flight.captures)
    assert all(c.usable for c in flight.captures)  # a warning: the frames stay usable, publication waits
    [summary] = [p for p in flight.problems if p.code == "outside_municipality"]
    assert "18 of 18 frames" in summary.message and "uden for kommunen" in summary.message


def _raster(
    path: Path, origin: tuple[float, float], crs: str = "EPSG:25832", tags: dict[str, str] | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path, "w", driver="GTiff", width=32, height=32, count=3, dtype="uint8", crs=crs,
        transform=from_origin(*origin, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write(np.full((3, 32, 32), 90, dtype="uint8"))
        if tags:
            dst.update_tags(**tags)


def test_rasters_outside_and_undated_at_ingest_and_the_declared_date(tmp_path: Path) -> None:
    """A raster near Copenhagen is flagged outside; an undated one warns until --captured dates it."""
    ws = Workspace.at(tmp_path / "ws")
    folder = tmp_path / "delivery"
    _raster(folder / "inside" / "odm_orthophoto.tif", (557900, 6212000))
    _raster(folder / "far" / "odm_orthophoto.tif", (724000, 6175100))  # Copenhagen, in EPSG:25832

    def ingest(captured: str | None) -> None:
        ingest_folder(
            folder,
            IngestConfig(
                archive_dir=ws.archive("r"),
                quarantine_dir=ws.quarantine("r"),
                flight_id="r",
                municipality=load_municipality(),
                now=NOW,
                flight_json=ws.flight_json("r"),
                captured=declared_capture(captured, ZoneInfo("Europe/Copenhagen"), NOW) if captured else None,
            ),
        )

    ingest(None)
    flight = load_flight(ws.flight_json("r"))
    codes = {f.path: {p.code for p in f.problems} for f in flight.files}
    assert codes == {
        "far/odm_orthophoto.tif": {"outside_municipality", "raster_undated"},
        "inside/odm_orthophoto.tif": {"raster_undated"},
    }
    far = next(f for f in flight.files if f.path.startswith("far"))
    assert far.bounds_wgs84 is not None and 12.5 < far.bounds_wgs84[0] < 12.6
    assert "entirely outside" in next(p.message for p in far.problems if p.code == "outside_municipality")
    assert flight.captured is None
    ingest("2025-06-12")
    flight = load_flight(ws.flight_json("r"))
    assert flight.captured is not None and flight.captured.text == "2025-06-12"
    assert all("raster_undated" not in {p.code for p in f.problems} for f in flight.files)
    ingest(None)  # a re-ingest without --captured keeps the declaration
    assert load_flight(ws.flight_json("r")).captured == flight.captured
