"""Two ingests of the same flight never interleave: the second waits for the first's flock."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from core.atomic import TMP_SUFFIX
from core.errors import ArchiveError
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.ingest_lock import flight_lock, lock_path
from flights.sample import make_sample_flight

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WAITING = "is being ingested by another process"
BOUND = 120.0  # seconds: a bound against hangs, never a timing assertion


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lock") / "flight"
    make_sample_flight(folder)
    return folder


@contextmanager
def held(archive_dir: Path) -> Iterator[None]:
    """Hold the flight's lock the way another process would (own open file description)."""
    path = lock_path(archive_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def source_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_lock_file_lies_beside_the_archive_not_in_it(sample: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive" / "f"
    with flight_lock(archive, "f", timeout=0) as path:
        assert path == tmp_path / "archive" / "f.lock"
        with pytest.raises(ArchiveError, match=f"flight f {WAITING}"):
            with flight_lock(archive, "f", timeout=0):
                pass  # pragma: no cover - never entered
    with flight_lock(archive, "f", timeout=0):
        pass  # released on exit: taken again at once
    ingest_folder(
        sample, IngestConfig(archive_dir=archive, quarantine_dir=tmp_path / "q" / "f", flight_id="f", now=NOW)
    )
    assert "f.lock" not in source_files(archive)
    entries = json.loads((archive / "manifest.json").read_text())["entries"]
    assert all("lock" not in e["path"] for e in entries)


def test_busy_flight_fails_after_the_timeout(sample: Path, tmp_path: Path) -> None:
    archive = tmp_path / "a" / "f"
    with held(archive), pytest.raises(ArchiveError, match=f"flight busy {WAITING}") as err:
        ingest_folder(
            sample,
            IngestConfig(
                archive_dir=archive,
                quarantine_dir=tmp_path / "q",
                flight_id="busy",
                now=NOW,
                lock_timeout=0.3,
            ),
        )
    assert str(lock_path(archive)) in str(err.value)
    assert not (archive / "manifest.json").exists()


class _Signal(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if WAITING in record.getMessage():
            self.waiting.set()


def test_waiting_ingest_says_so_and_completes_after_release(sample: Path, tmp_path: Path) -> None:
    archive = tmp_path / "a" / "f"
    signal = _Signal()
    logger = logging.getLogger("flights.ingest_lock")
    logger.addHandler(signal)
    release = threading.Event()

    def holder() -> None:
        with held(archive):
            release.set()
            signal.waiting.wait(BOUND)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert release.wait(BOUND)
        flight = ingest_folder(
            sample, IngestConfig(archive_dir=archive, quarantine_dir=tmp_path / "q", flight_id="f", now=NOW)
        )
    finally:
        logger.removeHandler(signal)
        thread.join(BOUND)
    assert signal.waiting.is_set()
    assert {e.path for e in flight.entries} == source_files(sample)


def _collect(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def test_two_processes_racing_on_one_flight(sample: Path, tmp_path: Path) -> None:
    """Both CLI runs wait on the held lock, are released together, race; both finish cleanly."""
    ws = tmp_path / "ws"
    archive = ws / "archive" / "race"
    code = "from dronegis.cli.main import cli; cli()"
    args = [sys.executable, "-c", code, "ingest", str(sample), "-w", str(ws), "--flight-id", "race", "--json"]
    env = {**os.environ, "DRONEGIS_INGEST_LOCK_TIMEOUT": str(BOUND)}
    with held(archive):
        procs = [
            subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)
        ]
        readers, lines = [], []
        for p in procs:
            q: queue.Queue[str] = queue.Queue()
            assert p.stderr is not None
            t = threading.Thread(target=_collect, args=(p.stderr, q), daemon=True)
            t.start()
            readers.append(t)
            lines.append(q)
        for q in lines:  # both are now blocked on the lock at the same time
            while WAITING not in q.get(timeout=BOUND):
                pass
    outs = [p.communicate(timeout=BOUND)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    summaries = [json.loads(out) for out in outs]
    assert sorted(s["nothing_new"] for s in summaries) == [False, True]
    expected = source_files(sample)
    manifest = json.loads((archive / "manifest.json").read_text())
    listed = [e["path"] for e in manifest["entries"]]
    assert sorted(listed) == sorted(expected)  # every file exactly once
    assert {e["status"] for e in manifest["entries"]} == {"archived"}
    for e in manifest["entries"]:
        assert hashlib.sha256((archive / e["path"]).read_bytes()).hexdigest() == e["sha256"]
        assert (archive / e["path"]).read_bytes() == (sample / e["path"]).read_bytes()
    assert source_files(archive) - {"manifest.json"} == expected
    assert not [p for p in ws.rglob("*") if p.name.endswith(TMP_SUFFIX)]
