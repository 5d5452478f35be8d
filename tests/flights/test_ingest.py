from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ingest_badinput import SPECIAL, build_bad_flight

from core.atomic import TMP_SUFFIX
from core.errors import FlightFileError
from flights.archive import Archive
from flights.ingest import Progress, ingest_folder, load_flight, summarize
from flights.ingest_config import IngestConfig
from flights.models import FileKind, Flight, Purpose
from flights.sample import make_sample_flight

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def tree_state(root: Path) -> dict[str, tuple[str, int, int]]:
    """(sha256 or link target, mtime_ns, mode) of every entry below ``root``, never following links."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            if path.is_symlink():
                ident = "-> " + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                ident = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                ident = "dir" if stat.S_ISDIR(st.st_mode) else "special"
            state[str(path.relative_to(root))] = (ident, st.st_mtime_ns, st.st_mode)
    return state


def run(source: Path, ws: Path, progress: Progress | None = None, **kw: Any) -> Flight:
    root = ws / "archive" / "f", ws / "quarantine" / "f"
    config = IngestConfig(archive_dir=root[0], quarantine_dir=root[1], flight_id="f", now=NOW, **kw)
    return ingest_folder(source, config, progress=progress)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "flight"
    make_sample_flight(folder)
    return folder


def test_sample_flight_ingests_cleanly(sample: Path, tmp_path: Path) -> None:
    before = tree_state(sample)
    flight = run(
        sample, tmp_path / "ws", purpose=Purpose.SURVEY, flight_json=tmp_path / "ws" / "flights" / "f.json"
    )
    assert tree_state(sample) == before  # the source is never modified
    s = summarize(flight)
    assert s.kinds == {"control": 2, "other": 1, "rgb_frame": 6, "thermal_frame": 1}
    assert (s.frames, s.usable_frames, s.archived, s.quarantined) == (7, 7, 10, 0)
    assert s.problems == {} and s.usable and not s.nothing_new
    assert s.gsd_cm == pytest.approx(60 / 700 * 100, abs=1e-3)
    assert s.rtk_fix_ratio == 1.0
    assert s.relative_altitude_m is not None and s.relative_altitude_m.min == 60.0
    assert s.time_start == datetime(2025, 6, 12, 8, 0, tzinfo=UTC)
    assert s.cameras == ("DJI FC-DEMO", "DJI XT2")
    assert len(flight.control) == 2
    assert {p.role for c in flight.control for p in c.points} == {"gcp", "check"}
    for entry in flight.entries:
        copy = tmp_path / "ws" / "archive" / "f" / entry.path
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == entry.sha256 == before[entry.path][0]
        assert stat.S_IMODE(copy.stat().st_mode) == 0o444
        assert copy.stat().st_mtime_ns == before[entry.path][1]
    assert load_flight(tmp_path / "ws" / "flights" / "f.json") == flight
    assert all(c.quality is not None for c in flight.frames(FileKind.RGB_FRAME))


def test_reingest_adds_nothing_and_says_so(sample: Path, tmp_path: Path) -> None:
    first = run(sample, tmp_path / "ws")
    archive = tmp_path / "ws" / "archive" / "f"
    state = tree_state(archive)
    second = run(sample, tmp_path / "ws")
    after = tree_state(archive)
    after.pop("manifest.json"), state.pop("manifest.json")
    assert after == state  # no file copied, renamed or touched
    assert second.entries == first.entries
    assert [p.code for p in second.problems] == ["nothing_new"]
    assert summarize(second).nothing_new


def test_a_new_file_is_added_on_reingest(sample: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(sample, src)
    run(src, tmp_path / "ws")
    (src / "notes.txt").write_text("pilot notes")
    flight = run(src, tmp_path / "ws")
    assert [p.code for p in flight.problems] == ["partly_archived"]
    assert "1 added" in flight.problems[0].message
    assert (tmp_path / "ws" / "archive" / "f" / "notes.txt").read_text() == "pilot notes"


def test_changed_file_is_never_overwritten(sample: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(sample, src)
    run(src, tmp_path / "ws")
    (src / "truth.json").write_text("{}")
    flight = run(src, tmp_path / "ws")
    codes = summarize(flight).problem_counts
    assert codes.get("archive_conflict") == 1
    assert (tmp_path / "ws" / "archive" / "f" / "truth.json").read_text() != "{}"
    sha = hashlib.sha256(b"{}").hexdigest()
    alt = f"truth.json.conflict-{sha[:12]}"
    entries = {e.path: e for e in flight.entries}
    assert entries["truth.json"].status == "archived" and entries["truth.json"].sha256 != sha
    assert entries[alt].status == "quarantined" and entries[alt].sha256 == sha  # the new bytes are kept too
    assert (tmp_path / "ws" / "quarantine" / "f" / alt).read_text() == "{}"
    again = run(src, tmp_path / "ws")
    assert {e.path: e for e in again.entries} == entries
    assert [p.code for p in again.problems] == ["nothing_new"]


def test_bad_input_is_quarantined_and_the_rest_goes_on(
    sample: Path, tmp_path: Path, make_raster: Callable[..., Path]
) -> None:
    src = tmp_path / "bad"
    expected = build_bad_flight(src, sample, make_raster)
    before = tree_state(src)
    flight = run(src, tmp_path / "ws", purpose=Purpose.SURVEY)
    assert tree_state(src) == before
    s = summarize(flight)
    status = {e.path: e.status for e in flight.entries}
    assert set(status) == set(expected) | set(SPECIAL)  # every entry is accounted for
    for rel, (want_status, want_code) in expected.items():
        assert status[rel] == want_status, rel
        got = [p.code for p in s.problems.get(rel, ())]
        if want_code == "*":
            assert got, rel
        elif want_code:
            assert want_code in got, (rel, got)
        if want_status == "quarantined":
            assert any(Path(rel).name in p.message for p in s.problems[rel]), (
                rel
            )  # the message names the file
    for rel, code in SPECIAL.items():
        assert status[rel] == "quarantined"
        assert [p.code for p in s.problems[rel]] == [code]
    _exactly_one_place(src, tmp_path / "ws", flight)
    good = {c.path for c in flight.captures if c.usable}
    assert {
        "DJI_0001.JPG",
        "DJI_0002.JPG",
        "DJI_0003.JPG",
        "billede æøå 01.JPG",
        "Ünïcødé ✈ frame.JPG",
    } <= good
    assert s.usable


def _exactly_one_place(src: Path, ws: Path, flight: Flight) -> None:
    archive, quarantine = ws / "archive" / "f", ws / "quarantine" / "f"
    reasons = Archive(archive, quarantine)
    for entry in flight.entries:
        in_archive = (
            archive / entry.path
        ).is_file() and entry.path != "manifest.json"  # ours, not the pilot's
        in_quarantine = reasons.reason_path(entry.path).is_file()
        assert in_archive != in_quarantine, entry.path
        if entry.status == "quarantined" and entry.sha256:
            data = (quarantine / entry.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry.sha256
            assert data == (src / entry.path).read_bytes()
    assert not list(ws.rglob(f"*{TMP_SUFFIX}"))


def test_unreadable_regular_file(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which reads chmod-000 files anyway: simulate the PermissionError open() raises.
    from flights import archive as archive_mod

    real = archive_mod.copy_hashed

    def copy_hashed(src: Path, dst: Path, **kw: int) -> tuple[str, int]:
        if src.name == "DJI_0004.JPG":
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst, **kw)

    monkeypatch.setattr(archive_mod, "copy_hashed", copy_hashed)
    flight = run(sample, tmp_path / "ws")
    s = summarize(flight)
    assert [p.code for p in s.problems["DJI_0004.JPG"]] == ["unreadable"]
    assert "Permission denied" in s.problems["DJI_0004.JPG"][0].message
    entry = next(e for e in flight.entries if e.path == "DJI_0004.JPG")
    assert entry.status == "quarantined" and entry.sha256 == ""
    archive = Archive(tmp_path / "ws" / "archive" / "f", tmp_path / "ws" / "quarantine" / "f")
    assert archive.reason_path("DJI_0004.JPG").read_text().startswith("DJI_0004.JPG\nunreadable: ")
    assert s.usable_frames == 6


def test_aoi_and_municipality(sample: Path, tmp_path: Path, data_dir: Path) -> None:
    kommuner = data_dir / "dagi_neogeografen" / "geojson" / "kommuner.geojson"
    far_aoi = data_dir / "drone_testdata_agung_1" / "aoi.geojson"  # Bali
    flight = run(sample, tmp_path / "ws", municipality=kommuner, aoi=far_aoi)
    s = summarize(flight)
    assert s.problem_counts == {"outside_aoi": 7}
    assert flight.aoi is not None and flight.aoi["type"] in ("Polygon", "MultiPolygon")


def test_progress_reports_every_file(sample: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    run(sample, tmp_path / "ws", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == 10 + 6  # 10 files, then the quality pass of 6 RGB frames
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.slow
def test_ten_thousand_small_files(tmp_path: Path) -> None:
    src = tmp_path / "many"
    for d in range(20):
        (src / f"d{d:02d}").mkdir(parents=True)
        for i in range(500):
            (src / f"d{d:02d}" / f"log_{i:03d}.txt").write_text(f"{d} {i}\n")
    flight = run(src, tmp_path / "ws")
    assert len(flight.entries) == 10_000
    assert all(e.status == "archived" for e in flight.entries)
    assert (tmp_path / "ws" / "archive" / "f" / "d19" / "log_499.txt").read_text() == "19 499\n"
    assert not summarize(flight).usable  # only "other" files: nothing a later stage can use


REAL = {
    # dataset: (kind counts that must hold, problem codes that must appear, usable)
    "brighton_beach": ({"rgb_frame": 18}, set(), True),
    "odm_data_seneca": ({"rgb_frame": 4}, set(), True),
    "drone_testdata_agung_1": ({"rgb_frame": 3}, {"blurry", "black_frame", "gimbal_missing"}, True),
    "thermal_parser": ({"thermal_frame": 19}, {"no_gps"}, True),
    "flirpy": ({"thermal_frame": 2}, {"no_gps"}, True),  # the drone FLIR Duo Pro R frame has GPS
    "odm_br": ({"orthophoto": 7, "control": 5}, {"raster_no_crs"}, True),
    "webodm_fixtures": (
        {"orthophoto": 1, "telemetry": 1, "rgb_frame": 2, "multispectral_frame": 1},
        {"control_error", "control_unknown_image"},
        True,
    ),
    "odm_test_gcp": ({"control": 8}, {"control_unknown_image"}, True),
    "odm_data_helenenschacht": ({"control": 2}, set(), True),
    "odm_data_copr": ({"rgb_frame": 4, "control": 3}, {"no_gps", "control_error"}, True),
    "opengeos_data": ({"dsm": 2, "dtm": 1}, set(), True),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_end_to_end(name: str, data_dir: Path, tmp_path: Path) -> None:
    source = data_dir / name  # read-only real data, ingested in place: it must stay untouched
    before = tree_state(source)
    flight = run(source, tmp_path / "ws", purpose=Purpose.SURVEY)
    assert tree_state(source) == before
    kinds, codes, usable = REAL[name]
    s = summarize(flight)
    for kind, count in kinds.items():
        assert s.kinds.get(kind) == count, (kind, s.kinds)
    assert codes <= set(s.problem_counts), s.problem_counts
    assert s.usable == usable
    assert len(flight.entries) == len(before) - sum(1 for v in before.values() if v[0] == "dir")
    _exactly_one_place(source, tmp_path / "ws", flight)
    if name == "drone_testdata_agung_1":
        blurry = {f for f, ps in s.problems.items() if any(p.code == "blurry" for p in ps)}
        black = {f for f, ps in s.problems.items() if any(p.code == "black_frame" for p in ps)}
        assert blurry == {"images/DJI_20251001132715_0396_D_POOR_SHARPNESS.JPG"}
        assert black == {
            "images/DJI_20251001213509_0003_D_LENS_CAP.JPG",
            "images/DJI_20251027143608_0008_D_LENS_CAP.JPG",
        }
    if name == "brighton_beach":
        assert s.problems == {} and s.usable_frames == 18
        assert s.gsd_cm == pytest.approx(1.71, abs=0.02)  # 40 m, 1.54 µm pitch, f 3.61 mm
        assert s.relative_altitude_m is not None and 39 < s.relative_altitude_m.min < 41
    if name == "webodm_fixtures":
        status = {e.path: e.status for e in flight.entries}
        assert status["app/fixtures/gcp_malformed.txt"] == "quarantined"
        # the MicaSense RedEdge band is its own kind: no mixed_cameras against the Canon RGB
        # frames, no 8-bit quality figures
        assert "mixed_cameras" not in s.problem_counts
        band = next(c for c in flight.captures if c.path.endswith("multispec.tif"))
        assert band.kind == FileKind.MULTISPECTRAL_FRAME and band.quality is None
        assert band.camera.model == "RedEdge-M" and status[band.path] == "archived"
    if name == "odm_data_copr":  # kite frames without GPS, observed in gcp_list.txt: usable through GCPs
        assert s.usable_frames == 4
        assert {p.severity for c in flight.captures for p in c.problems} == {"warning"}
    if name == "odm_data_helenenschacht":
        assert any(c.format.lower().startswith("mrk") or c.path.endswith(".mrk") for c in flight.control)


@pytest.mark.parametrize(
    ("height", "sensor_mm", "width_px", "focal_mm", "gsd_cm"),
    [
        (100.0, 13.2, 5472, 8.8, 2.741),  # REFERENCE §2.1/§2.4 worked example
        (100.0, 13.125, 4608, 15.4, 1.850),  # Pix4D example, REFERENCE §1.6
    ],
)
def test_nadir_gsd_from_sensor_width(
    height: float, sensor_mm: float, width_px: int, focal_mm: float, gsd_cm: float
) -> None:
    from flights.models import CameraInfo, Capture, Position
    from flights.summary import nadir_gsd_m

    cam = CameraInfo(width=width_px, sensor_width_mm=sensor_mm, focal_length_mm=focal_mm)
    c = Capture(
        path="a.JPG",
        sha256="",
        size=1,
        kind=FileKind.RGB_FRAME,
        position=Position(lat=56, lon=9.9, relative_altitude_m=height),
        camera=cam,
    )
    assert nadir_gsd_m(c) * 100 == pytest.approx(gsd_cm, abs=1e-3)
    by_pitch = c.model_copy(
        update={"camera": cam.model_copy(update={"pixel_pitch_um": sensor_mm / width_px * 1000})}
    )
    assert nadir_gsd_m(by_pitch) == pytest.approx(nadir_gsd_m(c))
    calibrated = c.model_copy(
        update={"camera": CameraInfo(calibrated_focal_px=focal_mm * width_px / sensor_mm)}
    )
    assert nadir_gsd_m(calibrated) == pytest.approx(nadir_gsd_m(c))
    assert nadir_gsd_m(c.model_copy(update={"position": Position(lat=56, lon=9.9)})) is None


def test_the_flight_reader_names_the_file(tmp_path: Path) -> None:
    missing, broken = tmp_path / "f1.json", tmp_path / "f2.json"
    broken.write_text('{"id": "f2", "captures": "not a list"}', encoding="utf-8")
    with pytest.raises(FlightFileError, match=r"f1\.json not found \(run dronegis ingest\)"):
        load_flight(missing)
    with pytest.raises(FlightFileError, match=r"(?s)f2\.json is malformed: .*captures"):
        load_flight(broken)
