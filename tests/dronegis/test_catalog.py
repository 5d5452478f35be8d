from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.errors import JobError, UnknownRecord
from core.workspace import Workspace
from dronegis.catalog import Catalog, JobStatus
from pipeline.models import Product, ProductKind


def _product(flight: str, name: str) -> Product:
    return Product(
        id=f"{flight}-{name}",
        flight=flight,
        kind=ProductKind.ORTHOPHOTO,
        path=f"products/{flight}/{name}.tif",
        crs="EPSG:25832",
        bounds=(0.0, 0.0, 1.0, 1.0),
    )


def test_catalog_is_wal_and_versioned(workspace: Workspace) -> None:
    Catalog(workspace.catalog)
    conn = sqlite3.connect(workspace.catalog)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"flights", "jobs", "products", "layers"} <= tables


def test_flight_and_job_lifecycle(workspace: Workspace) -> None:
    cat = Catalog(workspace.catalog)
    cat.upsert_flight("f1", purpose="survey", status="uploading", source="/x", meta={"title": "Roof"})
    assert cat.flight("f1").meta == {"title": "Roof"}
    job = cat.enqueue("f1", "ingest")
    assert (job.status, job.stage, job.attempts) == (JobStatus.QUEUED, "ingest", 0)
    assert cat.next_queued() == job
    running = cat.claim(job.id)
    assert running.status == JobStatus.RUNNING and running.attempts == 1 and running.started_at
    with pytest.raises(JobError, match="not queued"):
        cat.claim(job.id)
    cat.update_job(job.id, stage="process", done=3, total=10)
    assert (cat.job(job.id).done, cat.job(job.id).total) == (3, 10)
    requeued = cat.requeue_running()
    assert [j.id for j in requeued] == [job.id]
    again = cat.job(job.id)
    assert again.status == JobStatus.QUEUED and again.stage == "process"
    assert cat.claim(job.id).attempts == 2


def test_unknown_records_and_bad_columns(workspace: Workspace) -> None:
    cat = Catalog(workspace.catalog)
    with pytest.raises(UnknownRecord, match="no flight 'nope'"):
        cat.flight("nope")
    with pytest.raises(KeyError):
        cat.job(42)
    cat.upsert_flight("f", purpose="other", status="x")
    job = cat.enqueue("f", "qa")
    with pytest.raises(JobError, match="cannot set job columns"):
        cat.update_job(job.id, flight="evil")


def test_products_and_layers_replace_per_flight(workspace: Workspace) -> None:
    cat = Catalog(workspace.catalog)
    cat.record_products("a", [_product("a", "o1"), _product("a", "o2")])
    cat.record_products("b", [_product("b", "o1")])
    cat.record_products("a", [_product("a", "o3")])
    assert [p.id for p in cat.products("a")] == ["a-o3"]
    assert len(cat.products()) == 2
    cat.record_layers("a", [{"id": "a-o3", "title": "Ortho"}])
    assert cat.layers("a") == [{"id": "a-o3", "title": "Ortho"}]


def test_readonly_reader_sees_writer(workspace: Workspace) -> None:
    writer = Catalog(workspace.catalog)
    reader = Catalog(workspace.catalog, readonly=True)
    writer.upsert_flight("f", purpose="survey", status="queued")
    assert reader.flight("f").status == "queued"
    with pytest.raises(sqlite3.OperationalError):
        reader.upsert_flight("g", purpose="survey", status="queued")


def test_readonly_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="does not exist"):
        Catalog(tmp_path / "none.sqlite", readonly=True).flights()
