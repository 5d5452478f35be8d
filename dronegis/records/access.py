"""The access log: one JSON line per read, chained by sha256 so an edit shows.

Each line is ``{"seq", "prev", "body_sha256", "hash", "body"}``: ``body`` is what happened (when,
which token's name and role — never the token —, what was read, from where, and a random
``nonce``), ``body_sha256`` its digest over canonical JSON, and ``hash`` = sha256 of
``seq|prev|body_sha256``, ``prev`` the previous line's ``hash``. :func:`verify` recomputes the
chain: an edited body, a changed, removed or inserted line breaks it at that line.

Erasure of a flight replaces the bodies that name it by a redaction marker (the erasure record's
id); ``body_sha256`` stays, so the chain still verifies and the nonce keeps the removed body from
being guessed back from its digest. Cutting lines off the end cannot be seen by a chain alone:
``dronegis audit`` prints the head (count and last hash) to be kept elsewhere, and every retention
and erasure record carries the head of its time.

The service only appends (under ``flock`` so several workers keep one chain), off the event loop,
with a group commit to disk (:data:`SYNC_EVERY_S`); no route edits or deletes the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from core.atomic import atomic_write_text
from core.errors import AccessLogError
from core.models import Frozen

GENESIS = "0" * 64
#: Entries reach the disk (``fdatasync``) at most this long after they were appended (group commit:
#: an fsync per tile cost 4.3 ms; a power cut loses at most this much of the log, a crash nothing).
SYNC_EVERY_S = 1.0


class AccessBody(Frozen):
    """What one read was."""

    at: datetime
    who: str | None = Field(None, description="the token's name, never the token; None: anonymous")
    role: str | None = None
    action: str = Field(description="GetMap, GetTile, tile, cog, features, stac, thumbnail, …")
    layers: tuple[str, ...] = ()
    flights: tuple[str, ...] = ()
    reason: str = Field(description="internal, frame, download")
    method: str = "GET"
    path: str = Field(description="the request path, without the query string")
    client: str | None = None
    status: int = 200
    nonce: str = Field(default_factory=lambda: secrets.token_hex(8))


class Head(Frozen):
    """The end of the chain: how many lines and the last hash."""

    count: int
    hash: str


def canonical(body: dict[str, Any]) -> bytes:
    """Canonical JSON of a body (sorted keys, no spaces, UTF-8)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def link(seq: int, prev: str, body_sha256: str) -> str:
    """The chain hash of a line."""
    return hashlib.sha256(f"{seq}|{prev}|{body_sha256}".encode()).hexdigest()


class AccessLog:
    """Appends to and reads ``records/access.log``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._synced = 0.0

    def append(self, body: AccessBody) -> Head:
        """Append one entry (chained to the last one, whoever wrote it); the new head."""
        doc = body.model_dump(mode="json")
        digest = hashlib.sha256(canonical(doc)).hexdigest()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                head = _tail_head(handle)
                seq = head.count + 1
                line = {"seq": seq, "prev": head.hash, "body_sha256": digest, "body": doc}
                line["hash"] = link(seq, head.hash, digest)
                handle.seek(0, os.SEEK_END)
                handle.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
                handle.flush()  # in the page cache: survives a crash of the service
                if time.monotonic() - self._synced >= SYNC_EVERY_S:  # group commit: a power cut loses < 1 s
                    os.fdatasync(handle.fileno())
                    self._synced = time.monotonic()
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return Head(count=seq, hash=str(line["hash"]))

    def lines(self) -> Iterator[dict[str, Any]]:
        """Every line as stored (a missing log has none)."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as handle:
            for number, text in enumerate(handle, 1):
                try:
                    yield json.loads(text)
                except ValueError as exc:
                    raise AccessLogError(f"{self.path} line {number} is not JSON: {exc}") from exc

    def head(self) -> Head:
        """Count and last hash of the chain."""
        if not self.path.exists():
            return Head(count=0, hash=GENESIS)
        with open(self.path, "rb") as handle:
            return _tail_head(handle)

    def redact(self, names: Callable[[dict[str, Any]], bool], marker: str) -> list[int]:
        """Replace the bodies ``names`` picks by ``{"redacted": marker, "at": …}``; the lines redacted.

        The file is rewritten atomically under the lock (the chain is unchanged: ``body_sha256``
        stays). Used by erasure only.
        """
        if not self.path.exists():
            return []
        with self._lock, open(self.path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                out, done = [], []
                for line in self.lines():
                    body = line.get("body", {})
                    if "redacted" not in body and names(body):
                        line["body"] = {"redacted": marker, "at": body.get("at")}
                        done.append(int(line["seq"]))
                    out.append(json.dumps(line, ensure_ascii=False))
                if done:
                    atomic_write_text(self.path, "\n".join(out) + "\n")
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return done


def _tail_head(handle: Any) -> Head:
    """The head from the last line of an open log (reads only its end)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return Head(count=0, hash=GENESIS)
    step = 4096
    while True:
        start = max(0, size - step)
        handle.seek(start)
        chunk = handle.read(size - start)
        lines = chunk.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or start == 0:
            last = json.loads(lines[-1])
            return Head(count=int(last["seq"]), hash=str(last["hash"]))
        step *= 4


class Verdict(Frozen):
    """The result of checking the chain."""

    ok: bool
    count: int
    head: str
    redacted: int = 0
    problems: tuple[str, ...] = ()


def verify(log: AccessLog) -> Verdict:
    """Recompute the chain; every line where it breaks is named."""
    prev, count, redacted, problems = GENESIS, 0, 0, []
    for line in log.lines():
        count += 1
        seq, body = line.get("seq"), line.get("body", {})
        if seq != count:
            problems.append(f"line {count}: seq {seq!r}, expected {count} (a line was removed or inserted)")
        if line.get("prev") != prev:
            problems.append(f"line {count}: prev does not match the hash of line {count - 1}")
        if "redacted" in body:
            redacted += 1
        elif hashlib.sha256(canonical(body)).hexdigest() != line.get("body_sha256"):
            problems.append(f"line {count}: the body was changed (its sha256 differs)")
        if link(int(seq or 0), str(line.get("prev")), str(line.get("body_sha256"))) != line.get("hash"):
            problems.append(f"line {count}: hash does not match seq, prev and body_sha256")
        prev = str(line.get("hash"))
    return Verdict(ok=not problems, count=count, head=prev, redacted=redacted, problems=tuple(problems))


def unaccounted_redactions(log: AccessLog, erasures: Path) -> list[str]:
    """Redacted lines no erasure record accounts for (a redaction marker is no licence to hide a line)."""
    listed: dict[str, set[int]] = {}
    for path in erasures.glob("*.json") if erasures.exists() else []:
        if path.name.endswith(".journal.json"):
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        listed[f"erasure {doc.get('id')}"] = {int(n) for n in doc.get("access_log_redacted", [])}
    problems = []
    for line in log.lines():
        marker = line.get("body", {}).get("redacted")
        if marker is not None and int(line.get("seq", 0)) not in listed.get(str(marker), set()):
            problems.append(f"line {line.get('seq')}: redacted as {marker!r}, but no erasure record lists it")
    return problems
