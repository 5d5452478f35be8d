"""The OpenAPI document of the service: unique operation ids, the security schemes explained.

FastAPI gives a route answering several methods (``GET`` and ``HEAD``) one operation id for
each; this document suffixes the repeats with the method (``upload_state`` and
``upload_state_head``) so that every operation id is unique, as OpenAPI requires and as
client generators and ``openapi-spec-validator`` expect. The bearer and query-token schemes
come from :mod:`dronegis.api.roles`; the description says where each is accepted.
"""

from __future__ import annotations

import warnings
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SECURITY_NOTE = """

**Tokens.** Send the API token as `Authorization: Bearer <token>` (scheme `bearer`). The JSON API
(`/api/…`) accepts nothing else. A `?token=<token>` query parameter (scheme `token_query`) is accepted
only where clients cannot send headers: GIS clients on WMS, WMTS, tiles, COG and feature routes, the
browser pages (`/flights/…`, `/viewer`) and the flight's server-sent events. Tokens in URLs end up in
histories and logs: prefer the header wherever the client allows it.
"""


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (built once): unique operation ids, the token rules in its description."""
    if app.openapi_schema:
        return app.openapi_schema
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
        doc = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=(app.description or "") + SECURITY_NOTE,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
        )
    seen: set[str] = set()
    for operations in doc.get("paths", {}).values():
        for method, operation in operations.items():
            operation_id = operation.get("operationId")
            if operation_id is None:
                continue
            if operation_id in seen:
                operation_id = operation["operationId"] = f"{operation_id}_{method}"
            seen.add(operation_id)
    app.openapi_schema = doc
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`openapi_document` at the app's ``openapi_url``."""
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
