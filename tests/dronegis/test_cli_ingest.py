from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from dronegis.cli.main import cli
from flights.sample import make_sample_flight


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "Skanderborg Sø flyvning"
    make_sample_flight(folder)
    return folder


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_ingest_prints_the_pilot_summary(sample: Path, tmp_path: Path) -> None:
    result = invoke(
        "ingest", str(sample), "-w", str(tmp_path / "ws"), "--purpose", "survey", "--flight-id", "f1"
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Flight f1  (purpose: survey)" in out
    assert "rgb_frame 6" in out and "thermal_frame 1" in out
    assert "GSD:      8.57 cm/px" in out
    assert "RTK:      100% of frames fixed" in out
    assert "problems: none" in out
    assert "verdict:  usable: 7 of 7 frames" in out
    assert (tmp_path / "ws" / "archive" / "f1" / "manifest.json").is_file()
    assert (tmp_path / "ws" / "flights" / "f1.json").is_file()
    again = invoke("ingest", str(sample), "-w", str(tmp_path / "ws"), "--flight-id", "f1")
    assert again.exit_code == 0
    assert "re-ingest: nothing new, nothing copied" in again.stdout


def test_json_summary_on_stdout(sample: Path, tmp_path: Path) -> None:
    result = invoke("ingest", str(sample), "-w", str(tmp_path / "ws"), "--json", "--flight-id", "f2")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["flight_id"] == "f2" and doc["usable"] is True
    assert doc["kinds"]["rgb_frame"] == 6 and doc["frames"] == 7
    assert doc["gsd_cm"] == pytest.approx(8.571, abs=1e-3)


def test_default_flight_id_is_slug_and_oldest_file_date(sample: Path, tmp_path: Path) -> None:
    stamp = datetime(2025, 6, 12, 9, 0, tzinfo=UTC).timestamp()
    for path in sample.iterdir():
        os.utime(path, (stamp, stamp))
    result = invoke("ingest", str(sample), "-w", str(tmp_path / "ws"), "--json")
    assert json.loads(result.stdout)["flight_id"] == "skanderborg-soe-flyvning-20250612"


def test_problems_are_listed_per_file_and_nothing_usable_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "DJI_0001.JPG").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "empty.JPG").write_bytes(b"")
    result = invoke("ingest", str(folder), "-w", str(tmp_path / "ws"))
    assert result.exit_code == 1
    assert "empty.JPG" in result.stdout and "ERROR empty_file" in result.stdout
    assert "nothing usable" in result.stdout
    assert (tmp_path / "ws" / "quarantine").is_dir()


@pytest.mark.parametrize(
    "args",
    [
        ["--purpose", "sightseeing"],
        ["--flight-id", "../escape"],
        ["--blur-threshold", "sharp"],
        ["--aoi", "MISSING.geojson"],
    ],
)
def test_usage_errors_exit_2(sample: Path, tmp_path: Path, args: list[str]) -> None:
    result = invoke("ingest", str(sample), "-w", str(tmp_path / "ws"), *args)
    assert result.exit_code == 2


def test_missing_folder_and_bad_aoi_exit_2(tmp_path: Path, sample: Path) -> None:
    assert invoke("ingest", str(tmp_path / "nope"), "-w", str(tmp_path / "ws")).exit_code == 2
    bad = tmp_path / "aoi.geojson"
    bad.write_text("not geojson")
    result = invoke("ingest", str(sample), "-w", str(tmp_path / "ws"), "--aoi", str(bad))
    assert result.exit_code == 2
    assert "aoi.geojson" in result.stderr


def test_workspace_inside_the_flight_folder_is_refused(sample: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "flight"
    shutil.copytree(sample, folder)
    before = sorted(p.name for p in folder.iterdir())
    result = invoke("ingest", str(folder), "-w", str(folder / "workspace"))
    assert result.exit_code == 2
    assert "never modified" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_progress_bar_on_stderr_for_long_folders(tmp_path: Path) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(30):
        (folder / f"note_{i:02d}.txt").write_text(str(i))
    result = invoke("ingest", str(folder), "-w", str(tmp_path / "ws"), "--json")
    assert "ingest" in result.stderr and "file" in result.stderr
    json.loads(result.stdout)  # stdout stays machine-readable


def test_demo_sample_and_ingest_steps(tmp_path: Path) -> None:
    # Only the first two demo steps (this issue's); later stages add their own steps and tests.
    from core.workspace import Workspace
    from dronegis.cli.demo import run_demo, step_ingest, step_sample

    ws = Workspace.at(tmp_path / "ws")
    steps = [("sample", step_sample), ("ingest", step_ingest)]
    ctx = run_demo(ws, steps, echo=False)
    assert ctx.ok
    assert ctx.results["sample"]["note"] == "generated"
    assert ctx.results["ingest"]["flight_id"] == "skanderborg-demo" and ctx.results["ingest"]["usable"]
    again = run_demo(ws, steps, echo=False)
    assert again.results["sample"]["note"] == "reused"
    assert again.results["ingest"]["nothing_new"] is True


@pytest.fixture(scope="module")
def brighton_0018(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    folder = tmp_path_factory.mktemp("tz") / "brighton"
    folder.mkdir()
    shutil.copy2(data_dir / "brighton_beach" / "images" / "DJI_0018.JPG", folder)
    return folder


def _capture_time(ws: Path, flight_id: str) -> tuple[str, str]:
    (capture,) = json.loads((ws / "flights" / f"{flight_id}.json").read_text())["captures"]
    return capture["time_utc"], capture["time_source"]


def test_camera_timezone_option_sets_the_assumed_zone(brighton_0018: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = invoke(
        "ingest",
        str(brighton_0018),
        "-w",
        str(ws),
        "--flight-id",
        "bb",
        "--camera-timezone",
        "America/Chicago",
    )
    assert result.exit_code == 0, result.output
    assert _capture_time(ws, "bb") == ("2016-06-23T21:31:59Z", "exif+assumed:America/Chicago")
    result = invoke("ingest", str(brighton_0018), "-w", str(ws), "--flight-id", "cph")
    assert result.exit_code == 0, result.output
    assert _capture_time(ws, "cph") == ("2016-06-23T14:31:59Z", "exif+assumed:Europe/Copenhagen")


def test_camera_timezone_from_the_environment(
    brighton_0018: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRONEGIS_CAMERA_TIMEZONE", "America/Chicago")
    ws = tmp_path / "ws"
    assert invoke("ingest", str(brighton_0018), "-w", str(ws), "--flight-id", "env").exit_code == 0
    assert _capture_time(ws, "env")[1] == "exif+assumed:America/Chicago"


@pytest.mark.parametrize("env", [None, "Mars/Olympus"])
def test_bad_camera_timezone_exits_2(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    args = ["ingest", str(sample), "-w", str(tmp_path / "ws")]
    if env is None:
        args += ["--camera-timezone", "Mars/Olympus"]
    else:
        monkeypatch.setenv("DRONEGIS_CAMERA_TIMEZONE", env)
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Mars/Olympus" in result.stderr and "--camera-timezone" in result.stderr
    assert not (tmp_path / "ws" / "archive").exists()


def test_danish_purposes_and_the_site_given_at_ingest(sample: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    args = ("ingest", str(sample), "-w", str(ws), "--flight-id", "f5", "--json")
    result = invoke(*args, "--purpose", "Naturovervågning", "--site", " Skanderborg Rådhus ")
    assert result.exit_code == 0, result.output
    flight = json.loads((ws / "flights" / "f5.json").read_text(encoding="utf-8"))
    assert (flight["purpose"], flight["site"]) == ("nature-monitoring", "Skanderborg Rådhus")
    assert invoke(*args, "--purpose", "opmåling").exit_code == 0  # a re-ingest keeps the site
    flight = json.loads((ws / "flights" / "f5.json").read_text(encoding="utf-8"))
    assert (flight["purpose"], flight["site"]) == ("survey", "Skanderborg Rådhus")
    wrong = invoke("ingest", str(sample), "-w", str(ws), "--purpose", "fotografering")
    assert wrong.exit_code == 2
    assert "'fotografering' is not a purpose; use one of building-inspection" in wrong.output
    assert "naturovervågning" in wrong.output


def test_a_flight_id_differing_only_in_case_is_refused(sample: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert invoke("ingest", str(sample), "-w", str(ws), "--flight-id", "Sø-1").exit_code == 2  # not ASCII
    assert invoke("ingest", str(sample), "-w", str(ws), "--flight-id", "Tag-1").exit_code == 0
    twin = invoke("ingest", str(sample), "-w", str(ws), "--flight-id", "tag-1")
    assert twin.exit_code == 2 and "flight 'Tag-1' exists (ids differ only in case)" in twin.output
    assert invoke("ingest", str(sample), "-w", str(ws), "--flight-id", "Tag-1").exit_code == 0  # a re-ingest
