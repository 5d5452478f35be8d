"""The zone assumed for capture times without an offset: default Copenhagen, or the one given."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.errors import UsageError
from flights.capture_time import camera_zone
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FRAME = "DJI_0018.JPG"


@pytest.fixture(scope="module")
def brighton_frame(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding brighton_beach's DJI_0018 (Duluth, USA; no zone in the file)."""
    src = data_dir / "brighton_beach" / "images" / FRAME
    folder = tmp_path_factory.mktemp("tz") / "brighton"
    folder.mkdir()
    shutil.copy2(src, folder / FRAME)
    return folder


def test_exiftool_shows_local_time_without_any_offset(brighton_frame: Path) -> None:
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool (libimage-exiftool-perl) is not installed")
    out = subprocess.run(
        [
            exiftool,
            "-j",
            "-DateTimeOriginal",
            "-OffsetTime*",
            "-GPSDateStamp",
            "-GPSTimeStamp",
            "-XMP-drone-dji:UTCAtExposure",
            str(brighton_frame / FRAME),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    tags = json.loads(out)[0]
    assert tags["DateTimeOriginal"] == "2016:06:23 16:31:59"
    assert not {k for k in tags if k.startswith(("OffsetTime", "GPSDate", "GPSTime", "UTCAt"))}


def test_camera_zone_accepts_iana_names_and_refuses_others() -> None:
    assert camera_zone("America/Chicago") == ZoneInfo("America/Chicago")
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "x" * 300):
        with pytest.raises(UsageError, match="not an IANA zone"):
            camera_zone(bad)


def _capture_time(folder: Path, out: Path, **kw: object) -> tuple[datetime | None, str]:
    flight = ingest_folder(
        folder,
        IngestConfig(
            archive_dir=out / "a", quarantine_dir=out / "q", flight_id="tz", now=NOW, workers=1, **kw
        ),
    )
    (capture,) = flight.captures
    return capture.time_utc, capture.time_source


def test_default_zone_is_copenhagen(brighton_frame: Path, tmp_path: Path) -> None:
    time_utc, source = _capture_time(brighton_frame, tmp_path)
    assert time_utc == datetime(2016, 6, 23, 14, 31, 59, tzinfo=UTC)  # CEST, UTC+2
    assert source == "exif+assumed:Europe/Copenhagen"


@pytest.mark.parametrize("zone", ["America/Chicago", ZoneInfo("America/Chicago")])
def test_given_zone_is_used_and_named_as_assumed(brighton_frame: Path, tmp_path: Path, zone: object) -> None:
    time_utc, source = _capture_time(brighton_frame, tmp_path, camera_timezone=zone)
    assert time_utc == datetime(2016, 6, 23, 21, 31, 59, tzinfo=UTC)  # CDT, UTC-5
    assert source == "exif+assumed:America/Chicago"


def test_zone_does_not_override_a_recorded_offset(tmp_path: Path) -> None:
    from flights.sample import make_sample_flight

    folder = tmp_path / "sample"
    make_sample_flight(folder)
    default = ingest_folder(
        folder,
        IngestConfig(archive_dir=tmp_path / "a1", quarantine_dir=tmp_path / "q1", flight_id="s", now=NOW),
    )
    chicago = ingest_folder(
        folder,
        IngestConfig(
            archive_dir=tmp_path / "a2",
            quarantine_dir=tmp_path / "q2",
            flight_id="s",
            now=NOW,
            camera_timezone="America/Chicago",
        ),
    )
    before = {c.path: (c.time_utc, c.time_source) for c in default.captures}
    after = {c.path: (c.time_utc, c.time_source) for c in chicago.captures}
    recorded = {p: v for p, v in before.items() if "assumed" not in v[1]}
    assert recorded, before
    assert {p: after[p] for p in recorded} == recorded


def test_bad_zone_is_a_usage_error_before_anything_is_written(brighton_frame: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Mars/Olympus"):
        _capture_time(brighton_frame, tmp_path, camera_timezone="Mars/Olympus")
    assert not (tmp_path / "a").exists()
