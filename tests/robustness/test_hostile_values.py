"""Implausible values are problems of one file, never a crash: dates UTC cannot hold, bare-CR line ends."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hostile_flight import bare_cr_checkpoints, exif_date

from core.errors import ControlFileError
from flights.control import read_control_file
from flights.control_logs import parse_srt, read_mrk_text
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.sample import make_sample_flight

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EXIF_DATE = re.compile(rb"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "flight"
    make_sample_flight(folder)
    return folder


def _redate(path: Path, new: str, offset: bytes | None = None) -> None:
    jpeg = path.read_bytes()
    found = EXIF_DATE.search(jpeg)
    assert found is not None
    patched = exif_date(jpeg, found.group().decode(), new)
    if offset is not None:
        assert b"+02:00" in patched  # OffsetTime and OffsetTimeOriginal
        patched = patched.replace(b"+02:00", offset)
    path.write_bytes(patched)


def test_dates_utc_cannot_hold_are_a_metadata_problem(sample: Path, tmp_path: Path) -> None:
    src = tmp_path / "delivery"
    shutil.copytree(sample, src)
    _redate(src / "DJI_0001.JPG", "9999:12:31 23:59:59", b"-05:00")  # UTC would be year 10000
    _redate(src / "DJI_0002.JPG", "0001:01:01 00:00:00")  # +02:00: UTC would be year 0
    _redate(src / "DJI_0003.JPG", "9999:12:31 12:00:00")  # representable: only in the future
    ws = tmp_path / "ws"
    config = IngestConfig(
        archive_dir=ws / "archive" / "f", quarantine_dir=ws / "quarantine" / "f", flight_id="f", now=NOW
    )
    flight = ingest_folder(src, config)
    assert {e.path: e.status for e in flight.entries if e.path.endswith(".JPG")} == {
        f"DJI_000{i}{'_R' if i == 7 else ''}.JPG": "archived" for i in range(1, 8)
    }
    by_name = {c.path: c for c in flight.captures}
    for name, value in (("DJI_0001.JPG", "'9999:12:31 23:59:59'"), ("DJI_0002.JPG", "'0001:01:01 00:00:00'")):
        capture = by_name[name]
        assert capture.time_utc is None and capture.usable and capture.position is not None
        codes = {p.code: p.message for p in capture.problems}
        assert set(codes) == {"time_implausible"}, codes
        assert codes["time_implausible"].startswith(
            f"{name} has an implausible capture time (DateTimeOriginal {value}"
        )
    assert by_name["DJI_0003.JPG"].time_utc == datetime(9999, 12, 31, 10, 0, tzinfo=UTC)
    assert [p.code for p in by_name["DJI_0003.JPG"].problems] == ["time_in_future"]
    assert sum(c.usable for c in flight.captures) == 7


def test_a_checkpoint_csv_with_bare_cr_line_ends_is_read(tmp_path: Path) -> None:
    points = [("CHK1", 56.05, 9.93, 100.0), ("CHK2", 56.051, 9.931, 101.5)]
    parsed = read_control_file(bare_cr_checkpoints(tmp_path / "checkpoints.csv", points), "checkpoints.csv")
    assert parsed.format == "csv"
    assert [(p.name, p.x, p.y, p.z, p.role) for p in parsed.points] == [
        ("CHK1", 9.93, 56.05, 100.0, "check"),
        ("CHK2", 9.931, 56.051, 101.5, "check"),
    ]


def test_numbers_the_patterns_let_through_are_control_file_errors() -> None:
    """Found by the parser fuzzer: '1.2.3' matches the MRK and SRT number patterns but is no float."""
    mrk = "2\t296288.242869\t[2211]\t3,N\t0,E\t75,V\t47.64.36873208,Lat\t16.47592,Lon\t512.998,Ellh\t50,Q\n"
    with pytest.raises(ControlFileError, match=r"^f\.MRK line 1: not an MRK event \(could not convert"):
        read_mrk_text(mrk, "f.MRK")
    srt = "1\n00:00:00,000 --> 00:00:01,000\nF/2.8, GPS (-82.66.69, 27.7716, 10), D 2.80m\n"
    with pytest.raises(ControlFileError, match=r"^v\.SRT: subtitle block '1': could not convert"):
        parse_srt(srt, "v.SRT")
