"""The datum check of DSMs/DTMs (qa.heights); flows with real data: tests/dronegis/test_cli_heights.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.models import Datum, DatumSource, HeightDatum, Product, ProductKind
from qa.heights import datum_check
from qa.precision import tolerance_for

DTM = {"id": "f-dtm", "flight": "f", "kind": ProductKind.DTM, "path": "p.tif", "crs": "EPSG:25832",
       "bounds": (0.0, 0.0, 1.0, 1.0), "gsd_m": 16.0}  # fmt: skip


def decision(datum: HeightDatum, source: DatumSource, warnings: tuple[str, ...] = ()) -> Datum:
    return Datum(datum=datum, delivered=datum, source=source, geoid_n_m=39.567, warnings=warnings)


def test_dvr90_passes_and_reports_source_and_n() -> None:
    result = datum_check(Product(**DTM, datum=decision(HeightDatum.DVR90, DatumSource.FILE_CRS)))
    assert result.status == "pass" and result.id == "datum.f-dtm"
    assert result.figures["source"] == "file_crs" and result.figures["geoid_n_m"] == 39.567
    assert "39.57 m" in result.message and "the file's vertical CRS" in result.message


def test_unknown_contradicted_or_unrecorded_warn() -> None:
    unknown = datum_check(Product(**DTM, datum=decision(HeightDatum.UNKNOWN, DatumSource.DEFAULT)))
    assert unknown.status == "warn" and "not in DVR90" in unknown.message
    said = decision(
        HeightDatum.DVR90, DatumSource.FILE_CRS, ("dtm.tif: declared ellipsoidal, file says DVR90",)
    )
    contradicted = datum_check(Product(**DTM, datum=said))
    assert contradicted.status == "warn" and "dtm.tif: declared ellipsoidal" in contradicted.message
    legacy = datum_check(Product(**DTM, height_datum=HeightDatum.DVR90))  # made before decisions were stored
    assert legacy.status == "warn" and "not recorded" in legacy.message


def test_height_datum_follows_the_decision() -> None:
    product = Product(**DTM, datum=decision(HeightDatum.UNKNOWN, DatumSource.DEFAULT))
    assert product.height_datum is HeightDatum.UNKNOWN
    again = Product.model_validate(product.model_dump(mode="json"))
    assert again == product
    with pytest.raises(ValidationError, match="contradicts datum"):
        unknown = decision(HeightDatum.UNKNOWN, DatumSource.DEFAULT)
        Product(**DTM, height_datum=HeightDatum.DVR90, datum=unknown)


def test_vertical_tolerance_is_capped_for_coarse_grids() -> None:
    assert tolerance_for(16.0).vertical == 1.0 and "capped at 1 m" in tolerance_for(16.0).source
    assert tolerance_for(0.03, "survey").vertical == 0.12
