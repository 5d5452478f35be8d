"""Check points delivered with the flight *and* given to QA count once (odm_br, the real folder).

odm_br's folder holds 19 painted targets (HV01–HV19) in five ODM files; only
``odm_gcp_br/gcp_list_chk_raw.txt`` marks its 15 as check points (``chk`` in the file name).
Before the merge, passing a check-point file again with ``--checkpoints`` counted every target
twice (15 + 19 = 34 ≥ 30: the ASPRS count warning disappeared).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.models import Purpose
from qa.checkpoints import checkpoints_check, gather_checkpoints
from qa.inputs import load_flight

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def odm_br(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The real odm_br folder, unchanged, ingested as flight ``odm-br``."""
    ws = Workspace.at(tmp_path_factory.mktemp("odm_br") / "ws")
    ingest_folder(
        data_dir / "odm_br",
        IngestConfig(
            archive_dir=ws.archive("odm-br"),
            quarantine_dir=ws.quarantine("odm-br"),
            flight_id="odm-br",
            purpose=Purpose.SURVEY,
            now=NOW,
            flight_json=ws.flight_json("odm-br"),
        ),
    )
    return ws


def _qa(ws: Workspace, checkpoints: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        [
            "qa",
            "odm-br",
            "-w",
            str(ws.root),
            "--json",
            "--checkpoints",
            str(checkpoints),
            "--now",
            "2025-01-02",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    (check,) = [c for c in report["checks"] if c["id"] == "checkpoints"]
    assert isinstance(check, dict)
    return check


def test_delivered_and_passed_again_count_once(odm_br: Workspace, data_dir: Path) -> None:
    check = _qa(odm_br, data_dir / "odm_br" / "odm_gcp_br" / "gcp_list_chk_raw.txt")
    figures = check["figures"]
    assert figures["unique"] == 15  # was 30: every target counted twice
    sources = {(s["file"], s["origin"]): s for s in figures["sources"]}
    assert sources[("odm_gcp_br/gcp_list_chk_raw.txt", "delivered")]["check_points"] == 15
    given = sources[("gcp_list_chk_raw.txt", "checkpoints")]
    assert given["check_points"] == 15 and given["check_duplicates"] == 15
    assert check["status"] == "warn"
    assert "15 check points; ASPRS Edition 2 asks for at least 30" in check["message"]


def test_all_nineteen_targets_passed_with_checkpoints(odm_br: Workspace, data_dir: Path) -> None:
    """The 19 targets of gcp_list_floatxy_raw.txt given to QA: 15 already delivered as check points."""
    check = _qa(odm_br, data_dir / "odm_br" / "odm_gcp_br" / "gcp_list_floatxy_raw.txt")
    figures = check["figures"]
    assert figures["unique"] == 19 and sorted(figures["names"]) == [f"HV{i:02d}" for i in range(1, 20)]
    given = [s for s in figures["sources"] if s["origin"] == "checkpoints"][0]
    assert given["check_points"] == 19 and given["check_duplicates"] == 15
    message = check["message"]
    assert "19 unique check points" in message
    assert "odm_gcp_br/gcp_list_chk_raw.txt (delivered): 15, of which 0 duplicates" in message
    assert "gcp_list_floatxy_raw.txt (given to QA): 19, of which 15 duplicates" in message
    assert "19 check points; ASPRS Edition 2 asks for at least 30" in message
    # the six targets of the top-level gcp_list.txt (ODM's GCPs) are named: not independent of its ortho
    assert "gcp_list.txt: 6" in message and figures["also_gcp"]["HV01"]


def test_without_extra_file_the_delivered_check_points_count(odm_br: Workspace) -> None:
    merged = gather_checkpoints(load_flight(odm_br, "odm-br"), None)
    result = checkpoints_check(merged)
    assert result.figures["unique"] == 15 and result.status == "warn"


def test_conflicting_extra_file_is_named(odm_br: Workspace, tmp_path: Path) -> None:
    """A check-point file putting HV04 1 m away from the delivered survey: a conflict, not a merge."""
    bad = tmp_path / "resurvey_chk.txt"
    bad.write_text("EPSG:32722\n658552.074 7166993.038 891.713 2189 145 IMG_5350.JPG HV04\n")
    result = checkpoints_check(gather_checkpoints(load_flight(odm_br, "odm-br"), bad))
    assert result.status == "warn" and result.figures["unique"] == 14
    assert "'HV04'" in result.message and "odm_gcp_br/gcp_list_chk_raw.txt" in result.message
    assert "resurvey_chk.txt" in result.message and "1.000 m apart" in result.message
