"""How ``dronegis serve`` runs uvicorn: read deadlines, a connection cap and header limits (issue 18).

uvicorn closes an idle keep-alive connection, and answers 503 above ``limit_concurrency``
only once a request has arrived; a client that sends its request one byte per second, or
opens hundreds of connections and sends nothing, holds them for ever. :class:`GuardedH11Protocol`
adds what is missing, per connection:

- **header deadline**: the request line and headers must arrive within
  ``ServerLimits.header_timeout_s`` of the first byte (or of the connection): a trickle does not
  extend it; otherwise ``408 Request Timeout`` and the connection is closed;
- **body idle timeout**: while a request body is being read, a silence longer than
  ``body_idle_timeout_s`` closes the connection (the handler sees a disconnect);
- **connection cap**: above ``max_connections`` open connections a new one gets
  ``503 Service Unavailable`` at once and is closed (uvicorn's ``limit_concurrency`` then answers
  503 to requests above the same count of connections and tasks).

The header size is capped by h11 (``h11_max_incomplete_event_size``), idle keep-alive by
``timeout_keep_alive``. With ``--workers`` > 1 uvicorn starts the workers by import: their
header and body deadlines are the defaults of :class:`ServerLimits`, the rest follows the
settings. Upload bodies are bounded by ``DRONEGIS_MAX_UPLOAD_BYTES`` in the upload store.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import math
import os
from typing import Any

import uvicorn
from rasterio.warp import transform_bounds
from uvicorn.protocols.http.h11_impl import H11Protocol

from dronegis.settings import ServerLimits

_TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_BUSY_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\nretry-after: 5\r\n\r\n"
)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline, a body idle timeout and a connection cap."""

    limits = ServerLimits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse the connection above the cap, else start its watchdog."""
        super().connection_made(transport)
        self._waiting_since: float | None = self.loop.time()
        self._last_data = self.loop.time()
        self._request: object = self.cycle
        self._watchdog: asyncio.TimerHandle | None = None
        if len(self.connections) > self.limits.max_connections:
            transport.write(_BUSY_503)
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Note when bytes came and whether a new request's headers are awaited."""
        now = self.loop.time()
        self._last_data = now
        if self._waiting_since is None and self._between_requests():
            self._waiting_since = now
        super().data_received(data)
        if self.cycle is not self._request:  # headers complete: a new request began
            self._request = self.cycle
            self._waiting_since = None

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the watchdog."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        tick = max(0.05, min(self.limits.header_timeout_s, self.limits.body_idle_timeout_s) / 4)
        self._watchdog = self.loop.call_later(tick, self._check)

    def _check(self) -> None:
        self._watchdog = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        waiting = self._waiting_since
        if waiting is not None and self._between_requests() and now - waiting > self.limits.header_timeout_s:
            self.transport.write(_TIMEOUT_408)
            self.transport.close()
            return
        cycle = self.cycle
        reading_body = cycle is not None and not cycle.response_complete and cycle.more_body
        if reading_body and now - self._last_data > self.limits.body_idle_timeout_s:
            self.transport.close()
            return
        self._arm()


M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX``) in this process; False where it cannot.

    Every thread of uvicorn's pool that renders a map gets its own arena by default (up to 8 per
    core), and freed arenas keep their pages: the service's resident memory then grows with the
    number of threads that ever rendered, not with what it holds. Two arenas keep it flat.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc
        return False


#: A box in NAD83 / UTM zone 18N: to WGS84 PROJ wants a datum grid that is not installed.
PROBE = ("EPSG:26918", (500000.0, 4500000.0, 501000.0, 4501000.0))


def proj_network_warning() -> str | None:
    """A warning when PROJ may fetch missing grids from the network but cannot reach it; else None.

    With ``PROJ_NETWORK=ON`` (an operator's setting, or a library's: orthority sets it when imported)
    PROJ looks for transformation grids it lacks on its CDN; without internet such a transformation
    fails and GDAL's reprojected boxes come back infinite, so maps of data in those datums draw
    nothing. Checked once at start-up with a NAD83 box (the failure seen in the test runs).
    """
    if os.environ.get("PROJ_NETWORK", "").upper() not in ("ON", "YES", "TRUE", "1"):
        return None
    crs, box = PROBE
    if all(math.isfinite(v) for v in transform_bounds(crs, "EPSG:4326", *box)):
        return None
    return (
        "PROJ_NETWORK=ON, but PROJ cannot fetch the grids it lacks (no network?): "
        f"{crs} -> EPSG:4326 gave infinite coordinates, so layers in such datums would draw nothing; "
        "set PROJ_NETWORK=OFF, or install the grids (projsync) / give the server network access"
    )


def guarded_protocol(limits: ServerLimits) -> type[GuardedH11Protocol]:
    """A protocol class bound to ``limits`` (uvicorn takes a class and builds one per connection)."""
    return type("BoundGuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


def uvicorn_options(limits: ServerLimits) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run``/``uvicorn.Config`` that apply ``limits``."""
    return {
        "http": guarded_protocol(limits),
        "limit_concurrency": limits.max_connections + 1,  # uvicorn counts connections and tasks, >=
        "timeout_keep_alive": limits.keep_alive_s,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }


def server_config(app: Any, host: str, port: int, limits: ServerLimits, **extra: Any) -> uvicorn.Config:
    """A uvicorn config for ``app`` with the limits applied."""
    return uvicorn.Config(app, host=host, port=port, **uvicorn_options(limits), **extra)
