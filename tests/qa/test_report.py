"""QAReport: JSON schema round trip, overall status, self-contained HTML."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from shapely.geometry import box

from qa import plots
from qa.conditions import Gate
from qa.coverage import overlap_map
from qa.freshness import evaluate
from qa.models import QA_SCHEMA_VERSION, CheckResult, QAReport, overall_status
from qa.precision import PointError
from qa.report import build_report, read_report, render_html, write_report

NOW = datetime(2025, 2, 1, 12, tzinfo=UTC)
CHECKS = [
    CheckResult(id="a", title="A", status="pass", figures={"rmse": 0.1, "names": ["x", "y"]}, message="ok"),
    CheckResult(id="b", title="B <script>", status="warn", message="careful & <b>"),
    CheckResult.skipped("c", "C", "no check points"),
]


def _images() -> dict[str, bytes]:
    feet = {"a": box(0, 0, 60, 100), "b": box(40, 0, 100, 100)}
    errors = [PointError("P1", 0.1, -0.05, 0.2), PointError("P2", -0.03, 0.08, None)]
    return {
        "footprints": plots.footprints_plot(feet, box(0, 0, 100, 120), box(-50, -50, 500, 500)),
        "error_vectors": plots.error_vectors_plot([(10.0, 10.0, errors[0]), (50.0, 80.0, errors[1])]),
        "error_histogram": plots.error_histogram(errors),
        "overlap": plots.overlap_plot(overlap_map(feet, cell_m=2.0)),
        "thermal_histogram": plots.thermal_histogram({"t": np.random.default_rng(0).normal(5, 2, (20, 20))}),
        "freshness": plots.freshness_timeline(
            {"ortho": evaluate("orthophoto", datetime(2024, 6, 1, tzinfo=UTC), NOW)}, NOW
        ),
    }


def test_overall_status_never_counts_skip_as_pass() -> None:
    assert overall_status(["skip", "skip"]) == "skip"
    assert overall_status(["pass", "skip"]) == "pass"
    assert overall_status(["pass", "warn", "skip"]) == "warn"
    assert overall_status(["fail", "warn"]) == "fail"
    with pytest.raises(ValidationError, match="without a reason"):
        CheckResult(id="x", title="X", status="skip")


def test_gate_fields_must_agree() -> None:
    with pytest.raises(ValidationError, match="contradicts"):
        QAReport(
            flight="F",
            created=NOW,
            status="pass",
            thermal_gate_failed=True,
            thermal_publication_blocked=False,
        )


def test_json_round_trip_and_schema_version(tmp_path: Path) -> None:
    report = build_report(
        "F1",
        CHECKS,
        created=NOW,
        figures={"precision.x.rmse_h_m": 0.12},
        thermal_gate=Gate(failed=True, reason="wind 8 m/s", override="approved"),
    )
    written = write_report(report, tmp_path, _images())
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["schema_version"] == QA_SCHEMA_VERSION
    assert data["status"] == "warn"
    assert data["thermal_publication_blocked"] is False and data["thermal_gate_override"] == "approved"
    again = read_report(tmp_path / "report.json")
    assert again == QAReport.model_validate(data) == written
    assert set(written.plots) == set(_images())


def test_html_is_self_contained(tmp_path: Path) -> None:
    report = build_report("F1", CHECKS, created=NOW, thermal_gate=Gate(failed=True, reason="ΔT 4 K"))
    write_report(report, tmp_path, _images())
    page = (tmp_path / "report.html").read_text()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "DATA", page)
    assert not re.search(r"(https?:)?//[a-z0-9]", text, re.IGNORECASE)  # no external URLs of any kind
    assert re.findall(r"(?:src|href)='([^']*)'", text) == ["DATA"] * 6
    assert not re.search(r"<(link|script)\b", page, re.IGNORECASE)
    assert page.count("data:image/png;base64,") == 6
    assert "SPÆRRET" in page and "ADVARSEL" in page and '<html lang="da">' in page  # Danish by default
    english = render_html(report, {}, "en")
    assert "BLOCKED" in english and "WARN" in english and '<html lang="en">' in english
    assert "B &lt;script&gt;" in page and "careful &amp; &lt;b&gt;" in page  # escaped
    assert not list(tmp_path.glob("*.dronegis-tmp"))


def test_report_json_validates_against_its_json_schema(tmp_path: Path) -> None:
    import jsonschema

    from qa.report import report_json_schema

    report = build_report("F1", CHECKS, created=NOW, thermal_gate=Gate(failed=True, reason="wind"))
    write_report(report, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    schema = report_json_schema()
    jsonschema.validate(data, schema)
    data["status"] = "excellent"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
