"""Retention: delete what the policy says has been kept long enough (``dronegis retention``).

A dry run lists every file past its term with what would happen and why; ``apply`` deletes the
files marked ``delete`` and appends a :class:`RetentionRun` (paths, sha256, sizes, terms, the
policy's checksum, the access log's head) to ``records/retention/<flight>.json`` *before* it
deletes, so a killed run leaves a record of at least what it removed and a rerun finishes.

Never deleted: anything of a flight under legal hold; a product file a published layer was made
from (a change of the privacy zones re-masks it from there); the archive manifest (it holds the
checksums), ``products.json`` and the flight record. Terms run from when the flight was flown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text
from core.i18n import both
from core.workspace import Workspace
from dronegis.catalog import ACTIVE_STATUSES, Catalog
from dronegis.records.access import AccessLog
from dronegis.records.holds import is_held
from dronegis.records.inventory import (
    flight_doc,
    flown_at,
    known_flights,
    product_paths,
    published,
    read_json,
)
from dronegis.records.models import RetentionItem, RetentionRun
from dronegis.records.policy import Policy, term_end
from flights.archive import MANIFEST, reasons_dir
from flights.hashcopy import hash_file

log = logging.getLogger(__name__)

KEPT_NAMES = frozenset({MANIFEST, "products.json"})


def _why(key: str, **params: object) -> str:
    texts = both(f"records.{key}", **params)
    return f"{texts['da']} / {texts['en']}"


def candidates(
    workspace: Workspace, flight: str, doc: dict[str, Any] | None
) -> Iterator[tuple[str, Path, str | None]]:
    """(category, file, sha256 if known) of every file of the flight retention may delete."""
    captures = {str(c.get("path")) for c in (doc or {}).get("captures", [])}
    manifest = read_json(workspace.manifest(flight)) or {}
    for entry in manifest.get("entries", []):
        path = workspace.archived_file(flight, str(entry.get("path")))
        if entry.get("status") == "archived" and path.is_file():
            yield ("raw_frames" if entry.get("path") in captures else "raw_files"), path, entry.get("sha256")
    uploads = workspace.upload(flight)  # the uploaded copies of the delivery, kept after ingest
    if uploads.exists():
        for path in sorted(p for p in uploads.rglob("*") if p.is_file()):
            rel = path.relative_to(uploads).as_posix()
            yield ("raw_frames" if rel in captures else "raw_files"), path, None
    for category, root in (
        ("quarantine", workspace.quarantine(flight)),
        ("quarantine", reasons_dir(workspace.quarantine(flight))),
        ("products", workspace.products(flight)),
        ("qa_reports", workspace.qa(flight)),
    ):
        if root.exists():
            for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name not in KEPT_NAMES):
                yield category, path, None


def _busy(workspace: Workspace, flight: str) -> bool:
    """True while a job of the flight is queued, running or waiting for approval."""
    if not workspace.catalog.exists():
        return False
    jobs = Catalog(workspace.catalog, readonly=True).jobs(flight)
    return bool(jobs) and jobs[-1].status in ACTIVE_STATUSES


def plan(workspace: Workspace, policy: Policy, now: datetime) -> list[RetentionItem]:
    """Every file past its term, each marked ``delete`` or ``keep`` with the reason (Danish / English)."""
    layers = published(workspace)
    items: list[RetentionItem] = []
    for flight in sorted(known_flights(workspace)):
        doc = flight_doc(workspace, flight)
        purpose = str((doc or {}).get("purpose") or "other")
        start = flown_at(doc, now)
        own = [d for d in layers if d.get("flight") == flight]
        paths = product_paths(workspace, flight)
        needed = {
            paths[str(d.get("product_id"))]: str(d.get("id"))
            for d in own
            if str(d.get("product_id")) in paths
        }
        hold = is_held(workspace, flight)
        for category, path, sha in candidates(workspace, flight, doc):
            term = policy.term(purpose, category)
            end = term_end(start, term)
            if term == "layer":
                if own or _busy(workspace, flight):
                    continue
                why = _why("retention_layer_gone", category=category)
            elif end is None or now < end:
                continue
            else:
                why = _why(
                    "retention_delete",
                    expired=end.date().isoformat(),
                    category=category,
                    term=term,
                    purpose=purpose,
                )
            rel = path.relative_to(workspace.root).as_posix()
            action = "delete"
            layer = needed.get(rel)
            if hold is not None:
                action, why = "keep", _why("retention_held", reason=hold)
            elif layer is not None:
                action, why = (
                    "keep",
                    _why("retention_needed", expired=(end or now).date().isoformat(), layer=layer),
                )
            digest, size = (sha, path.stat().st_size) if sha else hash_file(path)
            items.append(
                RetentionItem(
                    flight=flight, category=category, path=rel, sha256=digest, size=size,
                    term=term, expired=end, action=action, why=why,
                )
            )  # fmt: skip
    return items


def apply(workspace: Workspace, policy: Policy, items: list[RetentionItem], now: datetime) -> list[Path]:
    """Delete the items marked ``delete``, each flight's run recorded first; the records written."""
    written = []
    head = AccessLog(workspace.access_log).head().hash
    for flight in sorted({i.flight for i in items if i.action == "delete"}):
        gone = tuple(i for i in items if i.flight == flight and i.action == "delete")
        run = RetentionRun(
            at=now,
            now=now,
            policy=policy.source,
            policy_sha256=policy.sha256,
            deleted=gone,
            access_log_head=head,
        )
        record = workspace.retention_record(flight)
        runs = read_json(record) or []
        atomic_write_text(
            record, json.dumps([*runs, run.model_dump(mode="json")], indent=1, ensure_ascii=False) + "\n"
        )
        for item in gone:
            (workspace.root / item.path).unlink(missing_ok=True)
        log.info("retention: %d files of %s deleted", len(gone), flight)
        written.append(record)
    return written


def history(workspace: Workspace, flight: str) -> tuple[RetentionRun, ...]:
    """Every retention run recorded for a flight."""
    return tuple(RetentionRun.model_validate(d) for d in read_json(workspace.retention_record(flight)) or [])
