"""Ingest never stops for one file: hostile names, names of ours, files that vanish or change.

Every test checks the promise on the real archive: each delivered file ends archived or
quarantined, the manifest's sha256 is that of the copy on disk, and the rest of the flight goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rasterio
from hostile_flight import LATIN1_NAME, LONG_NAME, all_nan_dsm, header_bomb, raw_path, with_tail, write_raw

from core.names import fit_path
from flights import archive as archive_module
from flights.archive import Archive
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import Flight
from flights.sample import make_sample_flight

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ESCAPED = "billede_\\xe6\\xf8\\xe5.JPG"  # how the manifest names the Latin-1 file


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "flight"
    make_sample_flight(folder)
    return folder


def _copy(sample: Path, tmp_path: Path) -> Path:
    src = tmp_path / "delivery"
    shutil.copytree(sample, src)
    return src


def _ingest(src: Path, ws: Path, workers: int = 2) -> Flight:
    config = IngestConfig(
        archive_dir=ws / "archive" / "f", quarantine_dir=ws / "quarantine" / "f", flight_id="f", now=NOW,
        workers=workers,
    )
    return ingest_folder(src, config)


def _archive(ws: Path) -> Archive:
    return Archive(ws / "archive" / "f", ws / "quarantine" / "f")


def _manifest_matches_disk(ws: Path) -> dict[str, str]:
    """Every manifest entry has its copy (or reason) on disk with that sha256; returns path -> status."""
    archive = _archive(ws)
    doc = json.loads(archive.manifest_path.read_text(encoding="utf-8"))
    status = {}
    for entry in doc["entries"]:
        path, sha = entry["path"], entry["sha256"]
        if entry["status"] == "archived":
            copy = archive.archived_path(path)
        else:
            copy = archive.quarantined_path(path)
            assert archive.reason_path(path).read_text(encoding="utf-8").startswith(path + "\n")
        if sha:
            assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha, path
        status[path] = entry["status"]
    on_disk = {p.relative_to(archive.root).as_posix() for p in archive.root.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == {fit_path(p) for p, s in status.items() if s == "archived"}
    return status


def test_latin1_names_are_read_from_bytes_and_reported_in_utf8(sample: Path, tmp_path: Path) -> None:
    src = _copy(sample, tmp_path)
    write_raw(src, LATIN1_NAME, with_tail((src / "DJI_0002.JPG").read_bytes(), "latin1"))
    write_raw(src, "ødelagt_ø.JPG".encode("latin-1"), b"\xff\xd8\xff\xe1 truncated")
    dsm = all_nan_dsm(tmp_path / "dsm.tif", 557850, 6212100)
    with rasterio.open(dsm, "r+") as ds:
        ds.write(ds.read() * 0 + 90.0)  # a valid DSM this time
    os.rename(dsm, raw_path(src, "højde_æ.tif".encode("latin-1")))
    flight = _ingest(src, tmp_path / "ws", workers=2)  # the decoder runs in worker processes
    frame = next(c for c in flight.captures if c.path == ESCAPED)
    assert frame.quality is not None and frame.quality.blur_score > 0  # decoded, from bytes
    assert [p.code for p in frame.problems] == ["name_not_utf8"]
    raster = next(f for f in flight.files if f.path == "h\\xf8jde_\\xe6.tif")
    assert raster.crs == "EPSG:25832"  # GDAL read a file whose name is not UTF-8
    status = _manifest_matches_disk(tmp_path / "ws")
    assert status[ESCAPED] == "archived" and status["\\xf8delagt_\\xf8.JPG"] == "quarantined"
    reason = _archive(tmp_path / "ws").reason_path("\\xf8delagt_\\xf8.JPG").read_text(encoding="utf-8")
    assert "truncated" in reason and "\\xf8delagt_\\xf8.JPG" in reason
    assert Flight.model_validate_json(flight.model_dump_json()) == flight  # plain UTF-8 JSON


def test_names_of_255_bytes_are_archived_and_quarantined(sample: Path, tmp_path: Path) -> None:
    src = _copy(sample, tmp_path)
    (src / LONG_NAME).write_bytes(with_tail((src / "DJI_0004.JPG").read_bytes(), "long"))
    broken = "B" * 251 + ".JPG"
    (src / broken).write_bytes(b"\xff\xd8\xff\xe1 truncated")
    latin = b"\xe6" * 200 + b".JPG"  # 204 bytes; escaped as \xe6 it would be 804
    write_raw(src, latin, with_tail((src / "DJI_0005.JPG").read_bytes(), "fat"))
    flight = _ingest(src, tmp_path / "ws")
    assert LONG_NAME in {c.path for c in flight.captures if c.usable}
    escaped = "\\xe6" * 200 + ".JPG"
    assert escaped in {c.path for c in flight.captures}
    stored = _archive(tmp_path / "ws").archived_path(escaped)
    assert len(stored.name.encode()) == 255 and stored.name.endswith(".JPG")
    status = _manifest_matches_disk(tmp_path / "ws")
    assert status[broken] == "quarantined" and status[LONG_NAME] == "archived"
    # a changed re-delivery of the long name: its conflict copy is quarantined too
    (src / LONG_NAME).write_bytes(with_tail((src / "DJI_0004.JPG").read_bytes(), "changed"))
    again = _ingest(src, tmp_path / "ws")
    assert "archive_conflict" in {p.code for f in again.files for p in f.problems if f.path == LONG_NAME}
    status = _manifest_matches_disk(tmp_path / "ws")
    assert any(p.startswith(LONG_NAME + ".conflict-") and s == "quarantined" for p, s in status.items())


def test_delivered_names_like_ours_are_never_swept_or_overwritten(sample: Path, tmp_path: Path) -> None:
    src = _copy(sample, tmp_path)
    delivered = {
        "flightlog.dronegis-tmp": b"log line 1\n",
        f".dg-{'0' * 32}.dronegis-tmp": b"a pilot's file\n",
        ".manifest.json.abc.dronegis-tmp": b"another\n",
        "X.JPG": b"\xff\xd8\xff\xe1 truncated",  # quarantined
        "X.JPG.reason.txt": b"the pilot's own notes\n",  # archived
        "Y.JPG": b"\xff\xd8\xff\xe1 also truncated",  # quarantined
        "Y.JPG.reason.txt": b"",  # empty: quarantined too, beside Y.JPG
    }
    for name, data in delivered.items():
        (src / name).write_bytes(data)
    ws = tmp_path / "ws"
    for _run in range(3):  # the second and third runs must sweep nothing and record the same bytes
        _ingest(src, ws)
        status = _manifest_matches_disk(ws)
        archive = _archive(ws)
        for name, data in delivered.items():
            archived = status[name] == "archived"
            copy = archive.archived_path(name) if archived else archive.quarantined_path(name)
            assert copy.read_bytes() == data, name
    assert status["X.JPG"] == status["Y.JPG"] == status["Y.JPG.reason.txt"] == "quarantined"
    assert status["X.JPG.reason.txt"] == status["flightlog.dronegis-tmp"] == "archived"


def test_a_reingest_from_a_folder_without_a_file_keeps_it(sample: Path, tmp_path: Path) -> None:
    src = _copy(sample, tmp_path)
    (src / "broken.JPG").write_bytes(b"\xff\xd8\xff\xe1 truncated")
    ws = tmp_path / "ws"
    first = _ingest(src, ws)
    (src / "DJI_0003.JPG").unlink()
    (src / "broken.JPG").unlink()
    second = _ingest(src, ws)
    assert {e.path: e for e in second.entries} == {e.path: e for e in first.entries}
    assert "DJI_0003.JPG" in {c.path for c in second.captures if c.usable}  # read again from the archive
    assert "kept_from_earlier" in {p.code for p in second.problems}
    _manifest_matches_disk(ws)


def test_a_file_a_killed_run_committed_stays_in_the_manifest(sample: Path, tmp_path: Path) -> None:
    src = _copy(sample, tmp_path)
    ws = tmp_path / "ws"
    _ingest(src, ws)
    archive = _archive(ws)
    orphan = archive.archived_path("late.txt")  # committed, then killed before the manifest
    orphan.write_bytes(b"committed by a killed run\n")
    flight = _ingest(src, ws)
    assert "late.txt" in {e.path for e in flight.entries}
    _manifest_matches_disk(ws)


def _growing(appends: int) -> object:
    """A copier that appends to the source after each of its first ``appends`` copies."""
    real = archive_module.copy_hashed
    calls = {"n": 0}

    def copy(src: Path, dst: Path, **kw: int) -> tuple[str, int]:
        result = real(src, dst, **kw)
        if Path(src).name == "growing.log" and calls["n"] < appends:
            calls["n"] += 1
            with open(src, "ab") as handle:
                handle.write(b"one more line\n")
        return result

    return copy


def test_a_file_that_changed_during_copy_is_copied_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _copy(sample, tmp_path)
    (src / "growing.log").write_bytes(b"first line\n" * 1000)
    monkeypatch.setattr(archive_module, "copy_hashed", _growing(appends=2))
    flight = _ingest(src, tmp_path / "ws")
    entry = next(e for e in flight.entries if e.path == "growing.log")
    assert entry.status == "archived"
    assert entry.sha256 == hashlib.sha256((src / "growing.log").read_bytes()).hexdigest()  # the final bytes
    _manifest_matches_disk(tmp_path / "ws")


def test_a_file_that_keeps_changing_is_quarantined(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _copy(sample, tmp_path)
    (src / "growing.log").write_bytes(b"first line\n" * 1000)
    monkeypatch.setattr(archive_module, "copy_hashed", _growing(appends=100))
    flight = _ingest(src, tmp_path / "ws")
    entry = next(e for e in flight.entries if e.path == "growing.log")
    assert entry.status == "quarantined" and entry.reason is not None
    assert entry.reason.startswith("changed_during_copy: growing.log changed during copy")
    assert len(flight.captures) == 7  # the rest of the flight goes on
    _manifest_matches_disk(tmp_path / "ws")


@pytest.mark.parametrize("side", [60_000, 24_000])
def test_a_header_bomb_is_quarantined_before_any_decode(sample: Path, tmp_path: Path, side: int) -> None:
    src = _copy(sample, tmp_path)
    (src / "DJI_0099.JPG").write_bytes(header_bomb((src / "DJI_0001.JPG").read_bytes(), side, side))
    flight = _ingest(src, tmp_path / "ws")
    entry = next(e for e in flight.entries if e.path == "DJI_0099.JPG")
    assert entry.status == "quarantined" and entry.reason is not None
    assert entry.reason.startswith("implausible_size: ")
    assert f"DJI_0099.JPG: the header announces {side}x{side} pixels" in entry.reason
    assert "limit 200 MPix" in entry.reason
    assert sum(c.usable for c in flight.captures) == 7
