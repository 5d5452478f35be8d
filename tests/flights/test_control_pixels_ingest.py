"""Bad pixel coordinates in a delivered gcp_list: rejected or quarantined with the file, line and value.

- A pixel off its image (the frame's size is known): that observation is rejected with a warning,
  the rest of the file and the flight go on.
- A pixel that is no pixel of any image (1e300, inf, NaN): the file cannot be trusted and is
  quarantined with the line and the value; the rest of the flight goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.workspace import Workspace
from flights.archive import Archive
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import Flight, Purpose
from flights.sample import make_sample_flight
from pipeline.gcp.fit import pairs_for_image

NOW = datetime(2025, 7, 1, tzinfo=UTC)


def _ingest(folder: Path, ws: Workspace) -> Flight:
    return ingest_folder(
        folder,
        IngestConfig(
            archive_dir=ws.archive("p"),
            quarantine_dir=ws.quarantine("p"),
            flight_id="p",
            purpose=Purpose.SURVEY,
            now=NOW,
            flight_json=ws.flight_json("p"),
        ),
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    make_sample_flight(folder)
    return folder


def _delivery(sample: Path, tmp_path: Path, extra: dict[str, str]) -> Path:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for path in sample.iterdir():
        if path.name != "truth.json":
            (folder / path.name).write_bytes(path.read_bytes())
    for name, text in extra.items():
        (folder / name).write_text(text)
    return folder


def test_pixel_outside_its_image_is_rejected_the_rest_is_used(
    sample: Path, tmp_path: Path, workspace: Workspace
) -> None:
    lines = (sample / "gcp_list.txt").read_text().splitlines()
    gcp1 = next(line for line in lines if line.endswith("DJI_0002.JPG GCP1")).split()
    gcp1[3] = "5000.0"  # DJI_0002.JPG is 800 × 600 px
    bad = [
        *lines,
        " ".join(gcp1[:5] + ["DJI_0003.JPG", "GCP1"]),
        " ".join(gcp1[:3] + ["12", "-40", "DJI_0001.JPG"]),
    ]
    folder = _delivery(sample, tmp_path, {})
    (folder / "gcp_list.txt").write_text("\n".join(bad) + "\n")
    flight = _ingest(folder, workspace)
    entry = next(e for e in flight.entries if e.path == "gcp_list.txt")
    assert entry.status == "archived"  # the file is kept
    delivered = next(f for f in flight.files if f.path == "gcp_list.txt")
    (problem,) = [p for p in delivered.problems if p.code == "control_pixel_outside"]
    assert problem.severity == "warning"
    n = len(lines)
    assert (
        f"line {n + 1}: pixel (5000, " in problem.message
        and "on DJI_0003.JPG (800×600 px)" in problem.message
    )
    assert f"line {n + 2}: pixel (12, -40) on DJI_0001.JPG" in problem.message
    assert problem.message.startswith("gcp_list.txt: 2 pixelobservation(er) uden for billedet afvist")
    assert "2 pixel observation(s) outside their image rejected" in problem.message
    (control,) = [c for c in flight.control if c.path == "gcp_list.txt"]
    observed = {(o.image, o.line) for p in control.points for o in p.observations}
    assert ("DJI_0003.JPG", n + 1) not in observed and ("DJI_0001.JPG", n + 2) not in observed
    assert len(observed) == len(lines) - 1  # every good observation is still there
    assert len(pairs_for_image(control.points, "DJI_0002.JPG")) == 4  # the GCP fit of DJI_0002 goes on
    assert sum(c.usable for c in flight.captures) == 7


@pytest.mark.parametrize("value", ["1e300", "inf", "nan"])
def test_absurd_pixel_quarantines_the_file(
    sample: Path, tmp_path: Path, workspace: Workspace, value: str
) -> None:
    extra = f"EPSG:25832\n557870.0 6211988.0 100.0 {value} 300.0 DJI_0002.JPG GCP9\n"
    flight = _ingest(_delivery(sample, tmp_path, {"gcp_list_extra.txt": extra}), workspace)
    entry = next(e for e in flight.entries if e.path == "gcp_list_extra.txt")
    assert entry.status == "quarantined"
    archive = Archive(workspace.archive("p"), workspace.quarantine("p"))
    reason = archive.reason_path("gcp_list_extra.txt").read_text()
    assert "gcp_list_extra.txt line 2: pixel x" in reason and value in reason.lower()
    assert "gcp_list.txt" in {c.path for c in flight.control}  # the rest of the flight goes on
    assert sum(c.usable for c in flight.captures) == 7
