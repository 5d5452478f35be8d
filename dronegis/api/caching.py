"""Caching headers that keep internal data out of shared caches.

What a response holds depends on who asks: a token holder sees internal layers and
collections (in lists, capabilities, items, tiles, STAC), an anonymous caller does not. So
every response varies on ``Authorization`` (``Vary: Authorization``), and every response to
a caller who presented a token — as a bearer header or a ``token`` query parameter — is
``Cache-Control: private``: a browser may keep it, a proxy or CDN may not (its ``public``
becomes ``private``; ``max-age`` and ``no-cache`` are kept). Anonymous responses never hold
internal data and keep their own caching.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def presents_token(scope: Scope) -> bool:
    """True when the request carries a bearer header or a ``token`` query parameter."""
    if any(name == b"authorization" for name, _ in scope.get("headers", [])):
        return True
    query = scope.get("query_string", b"").decode("latin-1")
    return any(name == "token" for name, _ in parse_qsl(query, keep_blank_values=True))


def private(cache_control: str | None) -> str:
    """``cache_control`` made private (``public`` dropped, other directives kept)."""
    directives = [d.strip() for d in (cache_control or "").split(",") if d.strip()]
    kept = [d for d in directives if d.lower() not in ("public", "private")]
    return ", ".join(["private", *kept])


class PrivateWhenAuthorized:
    """ASGI middleware: ``Vary: Authorization`` everywhere, ``Cache-Control: private`` for token holders."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; adjust the response's headers as they are sent."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = presents_token(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                vary = headers.get("vary", "")
                if "authorization" not in vary.lower():
                    headers["Vary"] = f"{vary}, Authorization" if vary else "Authorization"
                if token:
                    headers["Cache-Control"] = private(headers.get("cache-control"))
            await send(message)

        await self.app(scope, receive, send_with_headers)
