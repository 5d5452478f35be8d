"""One error -> HTTP status map (core.errors.HTTP_STATUS) for the JSON API and the OGC exception reports."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core import errors
from core.errors import HTTP_STATUS, DroneGisError, http_status
from dronegis.api.errors import install_error_handlers
from webgis_export.ogc.exceptions import OgcError

# The statuses the OGC services answered with before the map was shared (OWS Common 1.1 table 28
# for WMTS/WFS, OGC API - Features' 404 for a missing collection); unknown codes were 400.
OWS_STATUS = {
    "MissingParameterValue": 400,
    "InvalidParameterValue": 400,
    "OperationNotSupported": 501,
    "TileOutOfRange": 400,
    "VersionNegotiationFailed": 400,
    "InvalidFormat": 400,
    "InvalidCRS": 400,
    "LayerNotDefined": 404,
    "StyleNotDefined": 400,
    "InvalidPoint": 400,
    "LayerNotQueryable": 400,
    "InvalidDimensionValue": 400,
    "MissingDimensionValue": 400,
    "NotFound": 404,
    "NoApplicableCode": 500,
    "SomethingNew": 400,
}


@pytest.mark.parametrize(("code", "status"), sorted(OWS_STATUS.items()))
@pytest.mark.parametrize("service", ["WMTS", "WFS", "OAPIF"])
def test_ogc_statuses_come_from_the_one_map(code: str, status: int, service: str) -> None:
    error = OgcError(code, "message", service=service)  # type: ignore[arg-type]
    assert error.status == status
    assert error.response().status == status


@pytest.mark.parametrize("code", sorted(OWS_STATUS))
def test_wms_answers_400_except_no_applicable_code(code: str) -> None:
    assert OgcError(code, "message", service="WMS").status == (500 if code == "NoApplicableCode" else 400)


def test_every_error_class_finds_its_most_specific_status() -> None:
    tree = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, DroneGisError)]
    for cls in tree:
        listed = next(c for c in cls.__mro__ if c in HTTP_STATUS)
        assert http_status(cls) == HTTP_STATUS[listed], cls
    assert http_status(errors.UploadTooLarge("x")) == 413  # UploadError 400 is less specific
    assert http_status(errors.MetadataError("x")) == 422  # an IngestError
    assert http_status(errors.LayerNotFound("x")) == 404  # before ExportError's 409


def test_the_json_api_uses_the_same_map() -> None:
    app = FastAPI()
    install_error_handlers(app)
    raised: dict[str, DroneGisError] = {
        "upload": errors.UploadTooLarge("upload f.jpg exceeds 10 bytes"),
        "geocoder": errors.GeocoderError("geocoder answered 'x'"),
        "qa": errors.QAError("flight F: products.json is malformed"),
    }

    @app.get("/raise/{name}")
    def boom(name: str) -> None:
        raise raised[name]

    client = TestClient(app, raise_server_exceptions=False)
    for name, error in raised.items():
        answer = client.get(f"/raise/{name}")
        assert answer.status_code == http_status(error)
        assert answer.json()["detail"] == str(error)
