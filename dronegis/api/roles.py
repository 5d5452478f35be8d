"""Who is calling: tokens and roles for the job and upload routers, and app-state accessors.

Tokens come from ``Settings.tokens``. The JSON API (``/api/…``) takes them only as
``Authorization: Bearer <token>`` (:func:`require_api_roles`): a token in a URL ends up in
browser histories, proxies and logs. A ``token`` query parameter is accepted only where
the client cannot send headers (:func:`require_roles`): browser pages, their server-sent
events, and the GIS routes of :mod:`dronegis.api.auth` (WMS, WMTS, tiles, COG, features).
Both ways are declared as security schemes in the OpenAPI document (``bearer`` and
``token_query``). A dependency answers 401 without a valid token and 403 with a token of
another role.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NamedTuple

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from dronegis.settings import Role, Settings

if TYPE_CHECKING:
    from dronegis.jobs import JobRunner


BEARER = HTTPBearer(
    scheme_name="bearer",
    auto_error=False,
    description="API token as `Authorization: Bearer <token>` (the only way for the JSON API /api/…).",
)
QUERY_TOKEN = APIKeyQuery(
    name="token",
    scheme_name="token_query",
    auto_error=False,
    description="API token as `?token=<token>`, only for clients that cannot send headers: GIS clients "
    "(WMS, WMTS, tiles, COG, features), browser pages and their server-sent events. Not accepted by the "
    "JSON API. A token in a URL can end up in histories and proxy logs: prefer the header.",
)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
QueryToken = Annotated[str | None, Security(QUERY_TOKEN)]


class Principal(NamedTuple):
    """The caller: token name and role."""

    name: str
    role: Role


def settings_of(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def runner_of(request: Request) -> JobRunner:
    """The app's job runner (503 while the service is starting or stopping)."""
    runner: JobRunner | None = getattr(request.app.state, "runner", None)
    if runner is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the job runner is not running")
    return runner


def principal_for(settings: Settings, authorization: str | None, token: str | None) -> Principal | None:
    """The principal of a bearer header or token parameter, or None when neither is valid."""
    presented = token
    if authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    if not presented:
        return None
    for known in settings.tokens:
        if secrets.compare_digest(known.token.encode(), presented.encode()):
            return Principal(known.name or known.role, known.role)
    return None


def bearer_header(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The ``Authorization`` header value of bearer ``credentials`` (None without them)."""
    return f"Bearer {credentials.credentials}" if credentials else None


def _admit(who: Principal | None, roles: tuple[Role, ...]) -> Principal:
    if who is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if who.role not in roles:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"role {who.role!r} may not do this; needs one of {roles}"
        )
    return who


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting callers holding one of ``roles`` by bearer header or ``?token=`` (browsers)."""

    def dependency(request: Request, credentials: Bearer = None, token: QueryToken = None) -> Principal:
        return _admit(principal_for(settings_of(request), bearer_header(credentials), token), roles)

    return dependency


def require_api_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency of the JSON API: admits callers holding one of ``roles`` by the bearer header only."""

    def dependency(request: Request, credentials: Bearer = None) -> Principal:
        if credentials is None and request.query_params.get("token"):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the JSON API takes the token only as 'Authorization: Bearer <token>', not in the URL",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return _admit(principal_for(settings_of(request), bearer_header(credentials), None), roles)

    return dependency
