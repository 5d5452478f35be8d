"""Service jobs run the analyses the settings configure (issue 14): volumes and roofs in the process stage.

``DRONEGIS_VOLUME_POLYGONS`` / ``_VOLUME_BASE`` / ``_VOLUME_BASE_DEM`` and ``DRONEGIS_FOOTPRINTS``
become the job's options (:func:`dronegis.service.runner_options`), and the process stage builds
its :class:`~pipeline.run.ProcessConfig` from them: a real flight delivering the opengeos DSM/DTM
gets volume polygons with the configured base and roof planes.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from core.workspace import Workspace
from dronegis import service
from dronegis.jobs import JobContext
from dronegis.service import process_stage, runner_options
from dronegis.settings import Settings
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import Purpose
from pipeline.models import ProductKind

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key, value in env.items():
        monkeypatch.setenv(f"DRONEGIS_{key.upper()}", value)
    return Settings()


def test_settings_reach_the_process_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    polygons, dem = tmp_path / "piles.gpkg", tmp_path / "dtm.tif"
    settings = _settings(monkeypatch, workspace=str(tmp_path / "ws"), volume_polygons=str(polygons),
                         volume_base="surface", volume_base_dem=str(dem))  # fmt: skip
    seen: dict[str, Any] = {}

    def recorder(**kwargs: Any) -> tuple[()]:
        seen.update(kwargs)
        return ()

    monkeypatch.setattr(service, "process_flight", recorder)
    ctx = JobContext(workspace=Workspace.at(settings.workspace), flight="f", job_id=1,
                     options=runner_options(settings))  # fmt: skip
    process_stage(ctx, lambda done, total: None)
    config = seen["config"]
    assert (config.volume_polygons, config.volume_base, config.volume_base_dem) == (polygons, "surface", dem)
    # without the settings: no volumes, the default base
    ctx = JobContext(workspace=ctx.workspace, flight="f", job_id=2, options={"target_crs": "EPSG:25832"})
    process_stage(ctx, lambda done, total: None)
    assert seen["config"].volume_polygons is None and seen["config"].volume_base == "plane"


def test_service_process_stage_measures_volumes_and_roofs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    source = data_dir / "opengeos_data" / "elevation"
    folder = tmp_path / "delivery" / "odm_dem"
    folder.mkdir(parents=True)
    for name in ("dsm.tif", "dtm.tif"):
        shutil.copyfile(source / name, folder / name)
    piles = tmp_path / "piles.gpkg"
    gpd.read_file(source / "buildings.geojson").head(3).to_file(piles)  # three buildings as "piles"
    settings = _settings(monkeypatch, workspace=str(tmp_path / "ws"), target_crs="EPSG:26918",
                         volume_polygons=str(piles), volume_base="lowest",
                         footprints=str(source / "buildings.geojson"))  # fmt: skip
    ws = Workspace.at(settings.workspace)
    ingest_folder(
        tmp_path / "delivery",
        IngestConfig(archive_dir=ws.archive("f"), quarantine_dir=ws.quarantine("f"), flight_id="f",
                     purpose=Purpose.SURVEY, now=NOW, flight_json=ws.flight_json("f")),
    )  # fmt: skip
    ctx = JobContext(workspace=ws, flight="f", job_id=1, options=runner_options(settings))
    result = process_stage(ctx, lambda done, total: None)
    products = result.products or ()
    kinds = {p.kind for p in products}
    assert {ProductKind.VOLUMES, ProductKind.CUT_FILL, ProductKind.ROOF_PLANES} <= kinds, result.summary
    (volumes,) = [p for p in products if p.kind is ProductKind.VOLUMES]
    table = gpd.read_file(ws.root / volumes.path, layer="volumes")
    assert len(table) == 3 and set(table["base"]) == {"lowest"}
    assert (table["net_m3"] > 0).all()  # buildings stand above their lowest boundary cell
