"""Who may see what: the ``current_role`` dependency for layers and OGC services.

Tokens and roles (pilot, gis, viewer) come from ``Settings.tokens``; a token is
presented as ``Authorization: Bearer <token>`` or as a ``token`` query parameter
(for GIS clients that cannot send headers: WMS, WMTS, tiles, COG, features; see
:mod:`dronegis.api.roles` for the security schemes). Public layers need no token; internal
layers are visible to every valid token and absent (not "forbidden") otherwise.
A presented token that is not valid is answered 401, so a misconfigured client
notices instead of silently seeing fewer layers.
"""

from __future__ import annotations

from typing import NamedTuple

from fastapi import HTTPException, Request, status

from dronegis.api.roles import Bearer, QueryToken, bearer_header, principal_for, settings_of
from dronegis.settings import Role


class Caller(NamedTuple):
    """The caller of an OGC or layer endpoint."""

    role: Role | None
    token: str | None
    token_in_query: bool

    @property
    def internal(self) -> bool:
        """True when the caller may see internal layers."""
        return self.role is not None


def caller_of(request: Request, credentials: Bearer = None, token: QueryToken = None) -> Caller:
    """The caller's role (None when anonymous) and how the token came.

    Raises:
        HTTPException: 401 when a presented token is not valid.
    """
    authorization = bearer_header(credentials)
    presented = bool(token) or authorization is not None
    principal = principal_for(settings_of(request), authorization, token)
    if presented and principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "the API token is not valid", headers={"WWW-Authenticate": "Bearer"}
        )
    return Caller(principal.role if principal else None, token, bool(token))


# The dependencies are coroutines: :func:`caller_of` neither blocks nor waits, and FastAPI would run a
# plain function on a worker thread, one thread hop more for every tile (issue 20).
async def current_caller(request: Request, credentials: Bearer = None, token: QueryToken = None) -> Caller:
    """FastAPI dependency: :func:`caller_of`."""
    return caller_of(request, credentials, token)


async def current_role(request: Request, credentials: Bearer = None, token: QueryToken = None) -> Role | None:
    """FastAPI dependency: the caller's role, or None for an anonymous caller."""
    return caller_of(request, credentials, token).role
