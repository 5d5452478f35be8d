"""Times shown to people: Europe/Copenhagen, the municipality's zone.

Every time is stored in UTC (models, JSON, STAC); what a person reads — CLI text, HTML
pages and reports, the viewer's badges, freshness lists — is converted here, with the
zone's abbreviation (CET in winter, CEST in summer) so the reader never has to guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DISPLAY_ZONE = ZoneInfo("Europe/Copenhagen")


def local(value: datetime) -> datetime:
    """``value`` in Europe/Copenhagen (a naive value is taken as UTC, as every stored time is)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(DISPLAY_ZONE)


def local_date(value: datetime) -> date:
    """The calendar day of ``value`` in Copenhagen (23:30 UTC on 1 June is 2 June here)."""
    return local(value).date()


def local_text(value: datetime, *, seconds: bool = True) -> str:
    """``2016-06-23 23:31:59 CEST``: date, time and the zone's abbreviation."""
    stamp = local(value)
    return stamp.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
