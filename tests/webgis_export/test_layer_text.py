"""What people read about a layer: titles told apart, accuracy in words, never passed unmeasured."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from layer_factory import RY_WGS84, make_layer

from pipeline.models import Accuracy, AccuracySource, Evidence, HeightDatum, Product, ProductKind
from pipeline.models.accuracy import NSSDA_H95
from qa.models import CheckResult, QAReport
from webgis_export.layer_text import accuracy_line, accuracy_text, areas, describe_layers, unique_titles
from webgis_export.models import Approval, QAFinding
from webgis_export.places import locality_of, postal_districts
from webgis_export.qa_findings import accuracy_of, evidence_of, findings_of

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_title_is_purpose_place_and_date() -> None:
    layer = make_layer("a", "f1", site="Skanderborg Rådhus")
    assert unique_titles([layer], "da") == {"a": "Termografi, Skanderborg Rådhus, 3. dec. 2026"}
    assert unique_titles([layer], "en") == {"a": "Thermography, Skanderborg Rådhus, 3 Dec 2026"}


def test_without_a_site_name_the_postal_district_names_the_place() -> None:
    here, ry = make_layer("a", "f1"), make_layer("b", "f2", bounds_wgs84=RY_WGS84)
    titles = unique_titles([here, ry], "da")
    assert titles == {"a": "Termografi, Skanderborg, 3. dec. 2026", "b": "Termografi, Ry, 3. dec. 2026"}
    shown = describe_layers([here, ry], "da", NOW)
    assert shown["a"].place == "8660 Skanderborg" and "postdistrikt" in (shown["a"].place_source or "")


def test_titles_of_two_flights_always_differ() -> None:
    """Same place and day: the local time tells them apart; the same minute too: the flight id."""
    evening = datetime(2026, 12, 3, 19, 45, tzinfo=UTC)
    a = make_layer("a", "night-1")
    b = make_layer("b", "night-2", time_start=evening, time_end=evening)
    c = make_layer("c", "night-3")  # same minute as a
    titles = unique_titles([a, b, c], "da")
    assert len(set(titles.values())) == 3
    assert titles["b"] == "Termografi, Skanderborg, 3. dec. 2026 kl. 20:45"  # 19:45 UTC = 20:45 CET
    assert titles["a"] == "Termografi, Skanderborg, 3. dec. 2026 kl. 06:30 (night-1)"
    frames = [
        make_layer("f1", "fl", ProductKind.RGB_FRAME, product_id="fl-frame-DJI_0002"),
        make_layer("f2", "fl", ProductKind.RGB_FRAME, product_id="fl-gcpframe-DJI_0002"),
    ]
    assert unique_titles(frames, "en") == {
        "f1": "Single photo DJI_0002, Skanderborg, 3 Dec 2026",
        "f2": "Single photo DJI_0002, fitted to GCPs, Skanderborg, 3 Dec 2026",
    }


def _measured(n: int = 0, n_z: int = 0, **figures: float) -> Accuracy:
    return Accuracy(source=AccuracySource.CHECK_POINTS, evidence=Evidence.MEASURED, n=n, n_z=n_z, **figures)


def test_measured_accuracy_in_words_and_numbers() -> None:
    rmse = 0.14 / NSSDA_H95  # REFERENCE.md §1.4: NSSDA 95 % = 1.7308 × RMSE_r
    layer = make_layer(
        "a",
        "f",
        kind=ProductKind.ORTHOPHOTO,
        accuracy=_measured(18, rmse_h_m=rmse, nssda_h95_m=NSSDA_H95 * rmse),
    )
    words = accuracy_text(layer, "da")
    assert words.known and words.text == "±14 cm (95 %), målt mod 18 kontrolpunkter"
    assert words.horizontal_95_m == pytest.approx(0.14) and words.caution is not None  # 18 < 20 points
    qa_nssda = make_layer("b", "f", accuracy=_measured(31, nssda_h95_m=0.052, rmse_h_m=0.01))
    assert accuracy_text(qa_nssda, "en").text == "±5.2 cm (95 %), measured against 31 check points"
    assert accuracy_text(qa_nssda, "en").caution is None
    estimated = make_layer(
        "c",
        "f",
        accuracy=Accuracy.from_fit(gcps=6, minimum=3, loo_rmse_r=0.05),
        accuracy_evidence="estimated",
    )
    assert accuracy_text(estimated, "da").text.startswith("ca. ±8,7 cm (95 %), anslået fra 6 GCP'er")
    dsm = make_layer(
        "d", "f", kind=ProductKind.DSM, accuracy=_measured(n_z=12, rmse_v_m=0.05, nssda_v95_m=0.098)
    )
    assert accuracy_text(dsm, "da").text == "højde ±9,8 cm (95 %), målt mod 12 kontrolpunkter"


def test_a_layer_without_measured_accuracy_is_never_passed() -> None:
    unmeasured = make_layer("a", "f", qa_status="pass", accuracy=None, accuracy_evidence="not measured")
    shown = describe_layers([unmeasured], "en", NOW)["a"]
    assert shown.accuracy.text == "accuracy not measured" and not shown.accuracy.known
    assert shown.qa.status == "unmeasured" and "pass" not in shown.qa.label.lower()
    danish = describe_layers([unmeasured], "da", NOW)["a"]
    assert danish.qa.label.startswith("præcision ikke målt") and "bestået" not in danish.qa.label
    measured = make_layer(
        "b", "f", qa_status="pass", accuracy=_measured(30, rmse_h_m=0.02, nssda_h95_m=0.035)
    )
    assert describe_layers([measured], "da", NOW)["b"].qa.status == "pass"


def test_qa_status_of_the_layer_with_its_reasons_and_the_approval() -> None:
    findings = (
        QAFinding(
            check="conditions.wind", status="fail", title="Wind speed", message="wind 8 m/s (limit 5 m/s)"
        ),
        QAFinding(
            check="precision.f-thermal_mosaic", status="skip", title="x", message="no check point on it"
        ),
    )
    layer = make_layer(
        "a",
        "f",
        qa_status="fail",
        qa_findings=findings,
        approval=Approval(by="gustav", reason="conditions logged on site; survey repeated in January"),
    )
    shown = describe_layers([layer], "da", NOW)["a"]
    assert shown.qa.status == "fail" and shown.qa.label == "ikke bestået"
    assert shown.qa.reasons == (
        "Vindhastighed: wind 8 m/s (limit 5 m/s)",
        "Præcision målt mod kontrolpunkter: no check point on it",
    )
    assert (
        shown.approval
        == "Godkendt til publicering af gustav: conditions logged on site; survey repeated in January"
    )


def test_freshness_now_and_the_height_datum() -> None:
    thermal = make_layer("a", "f")  # heating season: valid until 30 September after
    shown = describe_layers([thermal], "da", NOW)["a"]
    assert shown.freshness == "aktuel, gyldig til 30. sep. 2027" and shown.age == "3 dage gammel"
    late = describe_layers([thermal], "en", datetime(2027, 10, 2, tzinfo=UTC))["a"]
    assert late.freshness_status == "stale" and late.freshness == "out of date since 30 Sept 2027"
    dsm = make_layer("d", "f", kind=ProductKind.DSM, height_datum=HeightDatum.ELLIPSOIDAL)
    assert describe_layers([dsm], "da", NOW)["d"].datum.startswith("ellipsoidehøjder (ETRS89) – ikke koter")
    undated = make_layer("u", "f", time_start=None, time_end=None, captured_before=NOW)
    shown_undated = describe_layers([undated], "da", NOW)["u"]
    assert (
        shown_undated.flown.startswith("fløjet før 6. dec. 2026")
        and shown_undated.freshness_status == "unknown"
    )


def test_areas_join_overlapping_footprints() -> None:
    a, b, far = make_layer("a", "f1"), make_layer("b", "f2"), make_layer("c", "f3", bounds_wgs84=RY_WGS84)
    assert areas([a, b, far]) == {"a": "a", "b": "a", "c": "c"}


def test_postal_districts_are_those_of_the_municipality() -> None:
    labels = [d.label for d in postal_districts()]
    assert labels == [
        "8362 Hørning",
        "8464 Galten",
        "8471 Sabro",
        "8660 Skanderborg",
        "8670 Låsby",
        "8680 Ry",
    ]
    assert locality_of((9.9286, 56.0494, 9.9297, 56.0499)) == "8660 Skanderborg"
    assert locality_of((12.56, 55.67, 12.57, 55.68)) is None  # Copenhagen: no guess


def test_findings_of_a_report_concern_the_product() -> None:
    def check(cid: str, status: str) -> CheckResult:
        return CheckResult(id=cid, title=cid, status=status, message=f"{cid} says {status}", reason="r")  # type: ignore[arg-type]

    report = QAReport(
        flight="f",
        created=NOW,
        status="fail",
        checks=(
            check("precision.f-ortho", "warn"),
            check("precision.f-other", "fail"),
            check("conditions.wind", "fail"),
            check("coverage.overlap", "warn"),
            check("image.blur", "pass"),
        ),
    )
    ortho = Product(
        id="f-ortho",
        flight="f",
        kind=ProductKind.ORTHOPHOTO,
        path="x.tif",
        crs="EPSG:25832",
        bounds=(0, 0, 1, 1),
    )
    assert [f.check for f in findings_of(ortho, report)] == ["precision.f-ortho", "coverage.overlap"]
    mosaic = ortho.model_copy(update={"id": "f-mosaic", "kind": ProductKind.THERMAL_MOSAIC})
    assert [f.check for f in findings_of(mosaic, report)] == ["conditions.wind", "coverage.overlap"]


def test_the_layer_carries_qas_statement_else_the_products_estimate() -> None:
    """QA's measured statement (QAReport.accuracy) wins over a product's GCP estimate (Product.accuracy)."""
    measured = _measured(31, rmse_h_m=0.03, nssda_h95_m=0.0519, nssda_v95_m=0.081)
    report = QAReport(flight="f", created=NOW, status="pass", accuracy={"f-ortho": measured})
    ortho = Product(id="f-ortho", flight="f", kind=ProductKind.ORTHOPHOTO, path="x.tif", crs="EPSG:25832",
                    bounds=(0, 0, 1, 1))  # fmt: skip
    assert accuracy_of(ortho, report) == measured
    assert evidence_of(ortho, report) == ("measured", None)
    estimate = Accuracy.from_fit(gcps=6, minimum=3, loo_rmse_r=0.05)
    fitted = ortho.model_copy(update={"accuracy": estimate})
    assert accuracy_of(fitted, report) == measured  # measured wins
    assert accuracy_of(fitted, QAReport(flight="f", created=NOW, status="pass")) == estimate
    assert accuracy_of(ortho, None) is None  # not measured
    layer = make_layer("e", "f", accuracy=estimate, accuracy_evidence="estimated")
    assert accuracy_text(layer, "en").text.startswith("about ±8.7 cm (95 %), estimated from 6 GCPs")
    assert accuracy_line(measured.figures()) == (
        "RMSE_H 0.03 m, NSSDA 95 % H 0.0519 m, NSSDA 95 % V 0.081 m, n 31, check_points (measured)"
    )
