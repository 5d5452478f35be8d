"""Legal holds: a held flight is never deleted by retention nor erased (``dronegis hold``)."""

from __future__ import annotations

from datetime import datetime

from core.atomic import atomic_write_text
from core.errors import LegalHoldError
from core.workspace import Workspace
from dronegis.records.inventory import check_flight_id
from dronegis.records.models import HoldEvent, LegalHold


def read_hold(workspace: Workspace, flight: str) -> LegalHold | None:
    """The flight's hold record, or None when it never had one."""
    path = workspace.hold(flight)
    if not path.exists():
        return None
    return LegalHold.model_validate_json(path.read_text(encoding="utf-8"))


def is_held(workspace: Workspace, flight: str) -> str | None:
    """The reason of the flight's active hold, or None."""
    hold = read_hold(workspace, flight)
    return hold.reason if hold is not None and hold.active else None


def place_hold(workspace: Workspace, flight: str, *, reason: str, by: str, now: datetime) -> LegalHold:
    """Place (or renew) a legal hold on ``flight``."""
    old = read_hold(workspace, check_flight_id(flight))
    event = HoldEvent(action="hold", reason=reason, by=by, at=now)
    hold = LegalHold(flight=flight, active=True, reason=reason, events=(*(old.events if old else ()), event))
    atomic_write_text(workspace.hold(flight), hold.model_dump_json(indent=2) + "\n")
    return hold


def release_hold(workspace: Workspace, flight: str, *, reason: str, by: str, now: datetime) -> LegalHold:
    """Release the active hold of ``flight`` (the history stays).

    Raises:
        LegalHoldError: the flight has no active hold.
    """
    old = read_hold(workspace, check_flight_id(flight))
    if old is None or not old.active:
        raise LegalHoldError(
            f"flight {flight!r} has no active legal hold to release ({workspace.hold(flight)})"
        )
    event = HoldEvent(action="release", reason=reason, by=by, at=now)
    hold = LegalHold(flight=flight, active=False, reason=None, events=(*old.events, event))
    atomic_write_text(workspace.hold(flight), hold.model_dump_json(indent=2) + "\n")
    return hold
