from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.atomic import TMP_SUFFIX
from core.errors import ArchiveError
from flights import hashcopy
from flights.archive import Archive
from flights.hashcopy import copy_hashed, hash_file
from flights.ingest_config import IngestConfig

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def _archive(tmp_path: Path) -> Archive:
    archive = Archive(tmp_path / "ws" / "archive" / "f1", tmp_path / "ws" / "quarantine" / "f1")
    archive.open()
    return archive


def test_copy_hashed_is_byte_identical_keeps_mtime_and_hashes_once(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    data = os.urandom(3 * (1 << 20) + 17)  # not a multiple of the buffer
    src.write_bytes(data)
    os.utime(src, ns=(1_600_000_000_000_000_000, 1_500_000_000_123_456_789))
    sha, size = copy_hashed(src, tmp_path / "dst.bin", buffer_size=1 << 20)
    assert (tmp_path / "dst.bin").read_bytes() == data
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert hash_file(src) == (sha, size)
    assert os.stat(tmp_path / "dst.bin").st_mtime_ns == 1_500_000_000_123_456_789


PIPE = hashcopy.PIPELINE_FROM


@pytest.mark.parametrize("size", [0, 1, PIPE - 1, PIPE, 5 * hashcopy.COPY_BLOCK + 3])
@pytest.mark.parametrize("kernel_copy", [True, False])
def test_copy_hashed_sizes_and_both_copy_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, kernel_copy: bool
) -> None:
    # inline and pipelined hashing (several COPY_BLOCKs, a short last block), and the
    # read/write fallback when copy_file_range is refused
    if not kernel_copy:

        def refused(*_args: object) -> int:
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", refused)
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    sha, n = copy_hashed(src, tmp_path / "dst.bin", buffer_size=1 << 16)
    assert (sha, n) == (hashlib.sha256(data).hexdigest(), size)
    assert (tmp_path / "dst.bin").read_bytes() == data


def test_copy_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "b").write_bytes(b"b")
    with pytest.raises(ArchiveError, match="cannot create"):
        copy_hashed(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"b"


def test_stage_and_commit_archive_read_only(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    src = tmp_path / "DJI 0001 æ.JPG"
    src.write_bytes(b"jpeg bytes")
    staged = archive.stage(src, "sub/DJI 0001 æ.JPG")
    assert staged.tmp.name.endswith(TMP_SUFFIX)
    assert not archive.archived_path("sub/DJI 0001 æ.JPG").exists()  # nothing under the final name yet
    entry = archive.commit(staged)
    final = archive.archived_path("sub/DJI 0001 æ.JPG")
    assert final.read_bytes() == b"jpeg bytes"
    assert stat.S_IMODE(final.stat().st_mode) == 0o444
    assert entry.status == "archived" and entry.sha256 == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert not list(archive.root.rglob(f"*{TMP_SUFFIX}"))


def test_commit_with_reason_quarantines_beside_a_reason_file(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    src = tmp_path / "bad.JPG"
    src.write_bytes(b"broken")
    entry = archive.commit(archive.stage(src, "bad.JPG"), reason="metadata_error: bad.JPG is broken")
    assert entry.status == "quarantined"
    assert archive.quarantined_path("bad.JPG").read_bytes() == b"broken"
    assert archive.reason_path("bad.JPG").read_text() == "bad.JPG\nmetadata_error: bad.JPG is broken\n"
    assert archive.reason_path("bad.JPG").parent == tmp_path / "ws" / "quarantine" / "f1.reasons"
    assert not archive.archived_path("bad.JPG").exists()


def test_never_overwrites_an_archived_file(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    src = tmp_path / "a.JPG"
    src.write_bytes(b"one")
    archive.commit(archive.stage(src, "a.JPG"))
    os.chmod(src, 0o644)
    src.write_bytes(b"two")
    with pytest.raises(ArchiveError, match="never overwrites"):
        archive.commit(archive.stage(src, "a.JPG"))
    assert archive.archived_path("a.JPG").read_bytes() == b"one"
    assert not list(archive.root.rglob(f"*{TMP_SUFFIX}"))


def test_quarantine_unread_writes_only_a_reason(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    entry = archive.quarantine_unread("links/loop", "symlink_loop: links/loop is a symlink loop")
    assert entry.sha256 == "" and entry.size == 0 and entry.status == "quarantined"
    assert archive.reason_path("links/loop").read_text().startswith("links/loop\nsymlink_loop")
    assert not archive.quarantined_path("links/loop").exists()


def test_open_sweeps_temporaries_of_a_killed_run(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    (archive.staging / f"0123abcd{TMP_SUFFIX}").write_bytes(b"half")
    (archive.reasons / f".0123.txt.99{TMP_SUFFIX}").write_bytes(b"half")
    (archive.root / "sub").mkdir()
    delivered = archive.root / "sub" / f".x.JPG.1234{TMP_SUFFIX}"  # a delivered name: never swept
    delivered.write_bytes(b"pilot's")
    assert archive.open() == 2
    assert delivered.read_bytes() == b"pilot's"
    assert not list(archive.staging.iterdir()) and not list(archive.reasons.iterdir())


def test_existing_recognises_a_rename_without_manifest(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    src = tmp_path / "a.JPG"
    src.write_bytes(b"abc")
    archive.commit(archive.stage(src, "a.JPG"))
    found = archive.existing("a.JPG", {})
    assert found is not None and found.sha256 == hashlib.sha256(b"abc").hexdigest()
    assert archive.existing("b.JPG", {}) is None


def test_manifest_round_trip_and_corruption(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    src = tmp_path / "a.JPG"
    src.write_bytes(b"abc")
    entry = archive.commit(archive.stage(src, "a.JPG"))
    archive.write_manifest(flight_id="f1", source=str(tmp_path), entries=[entry], now=NOW)
    doc = json.loads(archive.manifest_path.read_text())
    assert doc["flight"] == "f1" and doc["entries"][0]["sha256"] == entry.sha256
    assert archive.load_manifest() == {"a.JPG": entry}
    archive.manifest_path.write_text("{not json")
    with pytest.raises(ArchiveError, match="manifest"):
        archive.load_manifest()


RUNNER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
src, ws = Path(sys.argv[1]), Path(sys.argv[2])
config = IngestConfig(archive_dir=ws / "a", quarantine_dir=ws / "q", flight_id="k",
                      now=datetime(2026, 1, 1, tzinfo=UTC), workers=2)
ingest_folder(src, config)
"""


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the ingest subprocess")
        time.sleep(0.002)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["first_temporary", "first_final_file"])
def test_killed_run_leaves_no_partial_file_and_the_next_run_completes(tmp_path: Path, moment: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    expected = {}
    for i in range(120):
        data = os.urandom(400_000)
        (src / f"f{i:03d}.bin").write_bytes(data)
        expected[f"f{i:03d}.bin"] = hashlib.sha256(data).hexdigest()
    ws = tmp_path / "ws"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(src), str(ws)], env=env)
    try:
        if moment == "first_temporary":
            _wait_for(lambda: (ws / "a.staging").exists() and any((ws / "a.staging").glob(f"*{TMP_SUFFIX}")))
        else:
            _wait_for(lambda: (ws / "a").exists() and any(p.suffix == ".bin" for p in (ws / "a").iterdir()))
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    if moment == "first_temporary":  # copying 48 MB takes far longer than the poll: really interrupted
        assert proc.returncode == -signal.SIGKILL
        assert not (ws / "a" / "manifest.json").exists()
    finals = [p for p in (ws / "a").iterdir() if p.suffix == ".bin"]
    for path in finals:  # whatever is under a final name is complete
        assert hashlib.sha256(path.read_bytes()).hexdigest() == expected[path.name]
    from flights.ingest import ingest_folder

    flight = ingest_folder(
        src, IngestConfig(archive_dir=ws / "a", quarantine_dir=ws / "q", flight_id="k", now=NOW, workers=2)
    )
    assert {e.path: e.sha256 for e in flight.entries} == expected
    assert all(e.status == "archived" for e in flight.entries)
    assert not list(ws.rglob(f"*{TMP_SUFFIX}"))
    for name, sha in expected.items():
        assert hashlib.sha256((ws / "a" / name).read_bytes()).hexdigest() == sha


@pytest.mark.parametrize("path", ["copy_file_range", "read_write_fallback"])
def test_a_full_disk_stops_the_ingest_instead_of_quarantining(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # A write error is the archive's fault, not the delivered file's: ingest must stop (and be rerun).
    from flights.ingest import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.JPG").write_bytes(b"\xff\xd8" + b"x" * 100)
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(TMP_SUFFIX):  # only the archive's staged copies
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    def full_range(src_fd: int, fd: int, count: int, *offsets: int | None) -> int:
        if path == "copy_file_range":
            raise OSError(28, "No space left on device")
        raise OSError(18, "Invalid cross-device link")  # refused: the read/write fallback runs

    monkeypatch.setattr(os, "write", full)
    monkeypatch.setattr(os, "copy_file_range", full_range)
    with pytest.raises(ArchiveError, match="No space left"):
        ingest_folder(
            src,
            IngestConfig(archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q", flight_id="f", now=NOW),
        )
    monkeypatch.undo()
    assert not Archive(tmp_path / "a", tmp_path / "q").reason_path("a.JPG").exists()
    assert not list((tmp_path / "a").rglob("*.JPG"))
