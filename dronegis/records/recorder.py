"""Recording reads in the access log, and keeping tokens out of every server log.

:class:`AccessRecorder` is ASGI middleware: after a successful response it works out which
published layers the request read (from the path and the OGC parameters: ``LAYERS``, ``LAYER``,
``QUERY_LAYERS``, ``TYPENAMES``, ``layer``, and the layer in tile, COG, feature, STAC and
thumbnail paths) and appends one entry when any of them is internal, is a single frame, or the
request is a download (COG, GeoPackage, features, thumbnail). The entry names the token's name
and role, never the token.

:class:`TokenRedactingFilter` rewrites ``token=…`` in log records (uvicorn's access log writes
the whole request line with its query string) to ``token=[redacted]``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import LayerNotFound
from dronegis.api.roles import principal_for
from dronegis.records.access import AccessBody, AccessLog
from dronegis.settings import Settings
from webgis_export.models import Layer
from webgis_export.vectors.models import VectorLayer

log = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"((?:^|[?&;\s])(?:token|access_token)=)[^&\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"
FRAME_KINDS = frozenset({"rgb_frame", "thermal_frame"})
#: path pattern -> action; group "layer" is the layer id.
PATHS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/tiles/(?P<layer>[^/]+)/"), "tile"),
    (re.compile(r"^/wmts/1\.0\.0/(?P<layer>[^/]+)/[^/]+/[^/]+/"), "GetTile"),
    (re.compile(r"^/layers/(?P<layer>[^/]+)/cog\.tif$"), "cog"),
    (re.compile(r"^/layers/(?P<layer>[^/]+)/features\.gpkg$"), "gpkg"),
    (re.compile(r"^/layers/(?P<layer>[^/]+)/thumbnails/"), "thumbnail"),
    (re.compile(r"^/legend/(?P<layer>[^/]+)\.png$"), "legend"),
    (re.compile(r"^/ogcapi/collections/(?P<layer>[^/]+)/items"), "features"),
    (re.compile(r"^/ogcapi/collections/(?P<layer>[^/]+)$"), "collection"),
    (re.compile(r"^/stac/.+/(?P<layer>[^/]+)/(?P=layer)\.json$"), "stac"),
)
DOWNLOADS = frozenset({"cog", "gpkg", "thumbnail", "features", "GetFeature"})
PARAMETERS = ("LAYERS", "LAYER", "QUERY_LAYERS", "TYPENAMES", "TYPENAME")


def redact_tokens(text: str) -> str:
    """``text`` with every ``token=…`` value replaced by ``[redacted]``."""
    return TOKEN_PATTERN.sub(lambda m: m.group(1) + REDACTED, text)


class TokenRedactingFilter(logging.Filter):
    """A logging filter that redacts tokens from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction() -> None:
    """Add the token filter to uvicorn's access and error loggers and to httpx's (idempotent)."""
    for name in ("uvicorn.access", "uvicorn.error", "httpx"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactingFilter) for f in logger.filters):
            logger.addFilter(TokenRedactingFilter())


def requested(path: str, query: dict[str, str]) -> tuple[str, list[str]]:
    """(action, layer ids) a request reads; ("", []) when it reads no layer."""
    for pattern, action in PATHS:
        match = pattern.match(path)
        if match:
            return action, [match.group("layer")]
    upper = {k.upper(): v for k, v in query.items()}
    if path in ("/wms", "/wmts", "/wfs"):
        action = upper.get("REQUEST", "")
        if action.lower() in ("getcapabilities", "describefeaturetype", ""):
            return "", []
        names = next((upper[p] for p in PARAMETERS if upper.get(p)), "")
        layers = [n.split(":")[-1] for n in re.split(r"[,()]+", names) if n.strip()]
        return action, layers
    if path == "/print.pdf" and query.get("layer"):
        return "print", [query["layer"]]
    return "", []


class AccessRecorder:
    """ASGI middleware appending reads of internal layers, raw frames and downloads to the access log."""

    def __init__(self, app: ASGIApp, *, settings: Settings, access_log: AccessLog) -> None:
        self.app = app
        self.settings = settings
        self.log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; record a successful read before its last byte is sent.

        So no client holds a complete answer whose read is not in the log. Whether a read is
        recorded is decided on the event loop (a path match and a look at the layer records,
        microseconds); only the append runs in a worker thread, so a public tile costs no thread
        hop.
        """
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            last = message["type"] == "http.response.body" and not message.get("more_body", False)
            if last and status and status[0] < 400:
                entry = self.safely_decide(scope, status[0])
                if entry is not None:
                    await anyio.to_thread.run_sync(self.safely_append, entry, scope)
            await send(message)

        await self.app(scope, receive, watch)

    def safely_decide(self, scope: Scope, status: int) -> AccessBody | None:
        """:meth:`entry`, reporting (never raising) a failure: the response is being sent."""
        try:
            return self.entry(scope, status)
        except Exception:
            log.exception("access log: cannot record %s", scope.get("path"))
            return None

    def safely_append(self, entry: AccessBody, scope: Scope) -> None:
        """Append ``entry`` to the log, reporting (never raising) a failure."""
        try:
            self.log.append(entry)
        except Exception:
            log.exception("access log: cannot record %s", scope.get("path"))

    def entry(self, scope: Scope, status: int) -> AccessBody | None:
        """The log entry of the request when it read an internal layer, a frame or a download, else None."""
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        action, ids = requested(str(scope.get("path", "")), query)
        if not ids:
            return None
        known = _published(scope, ids)
        read = [known[i] for i in ids if i in known]
        if not read:
            return None
        reasons = [
            "internal" if any(r["access"] == "internal" for r in read) else "",
            "frame" if any(r["kind"] in FRAME_KINDS for r in read) else "",
            "download" if action in DOWNLOADS else "",
        ]
        reason = ",".join(r for r in reasons if r)
        if not reason:
            return None
        name, role = self.caller(scope, query)
        client = scope.get("client")
        return AccessBody(
            at=datetime.now(UTC),
            who=name,
            role=role,
            action=action,
            layers=tuple(r["id"] for r in read),
            flights=tuple(sorted({r["flight"] for r in read})),
            reason=reason,
            method=str(scope.get("method")),
            path=str(scope.get("path")),
            client=str(client[0]) if client else None,
            status=status,
        )

    def caller(self, scope: Scope, query: dict[str, str]) -> tuple[str | None, str | None]:
        """The token's name and role (None, None for an anonymous caller)."""
        header = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"authorization"), None
        )
        principal = principal_for(self.settings, header, query.get("token"))
        return (principal.name, principal.role) if principal else (None, None)


def _published(scope: Scope, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Id -> access, kind, flight of the asked ids that are published (raster or vector) and not withheld.

    Only the asked ids are looked up: the request's decision costs the same with ten layers
    published or a thousand (the whole table per request was ~5 % of a tile's CPU).
    """
    store = scope["app"].state.layer_store
    found: dict[str, dict[str, Any]] = {}
    for layer_id in dict.fromkeys(ids):
        try:
            layer: Layer | VectorLayer | None = store.get(layer_id, internal=True)
        except LayerNotFound:
            layer = store.vectors.find(layer_id, internal=True)
        if layer is not None:
            found[layer_id] = {
                "id": layer.id,
                "access": layer.access,
                "kind": layer.kind.value,
                "flight": layer.flight,
            }
    return found
