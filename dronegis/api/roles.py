"""Who is calling: tokens and roles for the job and upload routers, and app-state accessors.

Tokens come from ``Settings.tokens`` (bearer header, or a ``token`` query parameter for
clients that cannot send headers). ``require_roles("pilot", "gis")`` is a FastAPI
dependency factory: 401 without a valid token, 403 with a token of another role.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NamedTuple

from fastapi import Header, HTTPException, Query, Request, status

from dronegis.settings import Role, Settings

if TYPE_CHECKING:
    from pipeline.jobs import JobRunner


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


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency that admits callers holding one of ``roles``."""

    def dependency(
        request: Request,
        authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
        token: Annotated[str | None, Query(description="API token (for clients without headers)")] = None,
    ) -> Principal:
        who = principal_for(settings_of(request), authorization, token)
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

    return dependency
