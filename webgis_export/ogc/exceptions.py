"""OGC service exceptions (WMS 1.3.0 ServiceExceptionReport, OWS 1.1 ExceptionReport, OGC API JSON).

WMS 1.3.0 codes: InvalidFormat, InvalidCRS, LayerNotDefined, StyleNotDefined,
LayerNotQueryable, InvalidPoint, CurrentUpdateSequence, InvalidUpdateSequence,
MissingDimensionValue, InvalidDimensionValue, OperationNotSupported; plus the
OWS-style MissingParameterValue / InvalidParameterValue that servers commonly use.
WMS exceptions are sent with HTTP 400. WMTS (OWS Common 1.1) codes and HTTP statuses:
MissingParameterValue 400,
InvalidParameterValue 400, OperationNotSupported 501, TileOutOfRange 400,
VersionNegotiationFailed 400, NoApplicableCode 500; a missing tile is 404. WFS 2.0.0 answers
the same OWS 1.1 report (``version="2.0.0"``) with the same statuses. OGC API – Features
answers ``{"code": …, "description": …}`` (OGC API Common's exception) with 400, or 404 for a
collection or feature that does not exist (``NotFound``).
"""

from __future__ import annotations

import json
from typing import Literal, NamedTuple
from xml.sax.saxutils import escape, quoteattr

from core.errors import (
    DroneGisError,
    ExportError,
    LayerNotFound,
    OperationNotSupported,
    UsageError,
    http_status,
)

Service = Literal["WMS", "WMTS", "WFS", "OAPIF"]

#: The branch of the error tree an OGC exception code stands for; its HTTP status is that branch's in
#: the one map, :data:`core.errors.HTTP_STATUS`. Every other code is a client error (UsageError, 400).
CODE_ERRORS: dict[str, type[DroneGisError]] = {
    "LayerNotDefined": LayerNotFound,
    "NotFound": LayerNotFound,
    "OperationNotSupported": OperationNotSupported,
    "NoApplicableCode": DroneGisError,
}
WMS_EXCEPTION_TYPE = "text/xml"
WMTS_EXCEPTION_TYPE = "application/xml"
OWS_VERSIONS: dict[Service, str] = {"WMTS": "1.1.0", "WFS": "2.0.0"}


class OgcResponse(NamedTuple):
    """Body, media type and HTTP status of an OGC answer."""

    body: bytes
    media_type: str
    status: int = 200
    headers: dict[str, str] | None = None


class OgcError(ExportError):
    """A request an OGC service must answer with a service exception."""

    def __init__(self, code: str, message: str, locator: str | None = None, service: Service = "WMS") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.locator = locator
        self.service = service

    @property
    def status(self) -> int:
        """The HTTP status: the error tree's (OWS Common's table) for WMTS, WFS and OGC API; 400 for WMS.

        WMS 1.3.0 does not define HTTP statuses. 400 is what owslib (and GDAL) turn
        into a service exception carrying the report's text.
        """
        if self.service == "WMS":
            return 500 if self.code == "NoApplicableCode" else 400
        return http_status(CODE_ERRORS.get(self.code, UsageError))

    def response(self) -> OgcResponse:
        """The exception document of the service that raised it."""
        if self.service == "OAPIF":
            body = json.dumps({"code": self.code, "description": self.message}, ensure_ascii=False)
            return OgcResponse(body.encode(), "application/json", self.status)
        if self.service in OWS_VERSIONS:
            return OgcResponse(wmts_exception_xml(self), WMTS_EXCEPTION_TYPE, self.status)
        return OgcResponse(wms_exception_xml(self), WMS_EXCEPTION_TYPE, self.status)


def wms_exception_xml(error: OgcError) -> bytes:
    """A WMS 1.3.0 ServiceExceptionReport."""
    locator = f" locator={quoteattr(error.locator)}" if error.locator else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/ogc '
        'http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">\n'
        f"  <ServiceException code={quoteattr(error.code)}{locator}>"
        f"{escape(error.message)}</ServiceException>\n"
        "</ServiceExceptionReport>\n"
    ).encode()


def wmts_exception_xml(error: OgcError) -> bytes:
    """An OWS 1.1 ExceptionReport (WMTS 1.0.0, and WFS 2.0.0 with ``version="2.0.0"``)."""
    locator = f" locator={quoteattr(error.locator)}" if error.locator else ""
    version = OWS_VERSIONS.get(error.service, "1.1.0")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" '
        f'version="{version}" xml:lang="en">\n'
        f"  <ows:Exception exceptionCode={quoteattr(error.code)}{locator}>\n"
        f"    <ows:ExceptionText>{escape(error.message)}</ows:ExceptionText>\n"
        "  </ows:Exception>\n"
        "</ows:ExceptionReport>\n"
    ).encode()


class Params:
    """Case-insensitive OGC KVP parameters (names are case-insensitive, values are not)."""

    def __init__(self, items: dict[str, str], service: Service) -> None:
        self._items = {k.upper(): v for k, v in items.items()}
        self.service = service

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name``, or ``default``."""
        return self._items.get(name.upper(), default)

    def require(self, name: str) -> str:
        """The value of ``name``; a MissingParameterValue exception when absent or empty."""
        value = self._items.get(name.upper())
        if value is None or (value == "" and name.upper() != "STYLES"):
            raise OgcError("MissingParameterValue", f"parameter {name} is required", name, self.service)
        return value

    def integer(self, name: str, code: str = "InvalidParameterValue") -> int:
        """An integer parameter."""
        value = self.require(name)
        try:
            return int(value)
        except ValueError:
            raise OgcError(code, f"{name}={value!r} is not an integer", name, self.service) from None
