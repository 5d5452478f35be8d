"""The WMS 1.3.0 ``TIME`` dimension (Annex C) of layers whose extent is their capture time.

A layer advertises ``<Dimension name="time" units="ISO8601" default=D
nearestValue="0" multipleValues="0" current="0">EXTENT</Dimension>`` where
``EXTENT`` is the capture instant or the ``start/end`` interval of a long flight and
``D`` is the capture (start) time. A request is evaluated per layer:

* ``TIME`` absent → the default value, which always lies in the extent: render.
* A single value, a list (``t1,t2``) or an interval (``start/end[/period]``) that
  meets the extent → render. A value of reduced precision (``2026-02-10``,
  ``2026-02``, ``2026-02-10T05``; Annex C allows reduced precision) is read as the
  whole period it names, so ``TIME=2026-02-10`` matches a capture at 05:30 that day.
* A valid value outside the extent → ``InvalidDimensionValue`` (``nearestValue="0"``:
  the server does not substitute the nearest value).
* A malformed value → ``InvalidDimensionValue``.
* ``current`` is read as the present moment (``current="0"``: no layer is live); a
  past capture does not contain it, so it is answered with ``InvalidDimensionValue``.
* ``multipleValues="0"``: a layer is never drawn as a composite of several times. A
  list is accepted leniently when one of its members meets the capture, since a layer
  has exactly one capture to draw.

Layers without a time extent ignore ``TIME`` (a dimension not declared for a
layer is ignored).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import NamedTuple

from webgis_export.ogc.exceptions import OgcError
from webgis_export.vectors.models import Captured

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_VALUE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)
_PERIOD = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


class Span(NamedTuple):
    """A closed time interval in UTC (an instant has ``start == end``)."""

    start: datetime
    end: datetime

    def meets(self, other: Span) -> bool:
        """True when the two intervals share at least one instant."""
        return self.start <= other.end and other.start <= self.end


def layer_span(layer: Captured) -> Span | None:
    """The layer's time extent, or ``None`` when it has no time dimension."""
    start, end = layer.time_start, layer.time_end
    if start is None and end is None:
        return None
    first = _utc(start or end)  # type: ignore[arg-type]
    last = _utc(end or start)  # type: ignore[arg-type]
    return Span(min(first, last), max(first, last))


def dimension_extent(layer: Captured) -> str | None:
    """The ``<Dimension>`` extent text: the capture instant or ``start/end``."""
    span = layer_span(layer)
    if span is None:
        return None
    if span.start == span.end:
        return span.start.strftime(ISO_FORMAT)
    return f"{span.start.strftime(ISO_FORMAT)}/{span.end.strftime(ISO_FORMAT)}"


def dimension_default(layer: Captured) -> str | None:
    """The ``default`` attribute: the capture (start) time, which lies in the extent."""
    span = layer_span(layer)
    return span.start.strftime(ISO_FORMAT) if span is not None else None


def parse_time(value: str, now: datetime | None = None) -> list[Span]:
    """The intervals a WMS ``TIME`` parameter asks for.

    Raises:
        OgcError: ``InvalidDimensionValue`` when ``value`` is not an ISO 8601 value,
            list or ``start/end[/period]`` interval.
    """
    items = [item.strip() for item in value.split(",")]
    if not value.strip() or any(not item for item in items):
        raise _invalid(value, "empty value")
    spans = []
    for item in items:
        parts = item.split("/")
        if len(parts) == 1:
            spans.append(_value_span(parts[0], value, now))
        elif len(parts) in (2, 3):
            if len(parts) == 3 and not _PERIOD.match(parts[2]):
                raise _invalid(value, f"{parts[2]!r} is not an ISO 8601 period")
            first, last = _value_span(parts[0], value, now), _value_span(parts[1], value, now)
            if first.start > last.end:
                raise _invalid(value, "interval start is after its end")
            spans.append(Span(first.start, last.end))
        else:
            raise _invalid(value, f"{item!r} has more than start/end/period")
    return spans


def check_time(layer: Captured, value: str | None, now: datetime | None = None) -> None:
    """Validate a request's ``TIME`` against ``layer``'s extent (no-op when it has none).

    Raises:
        OgcError: ``InvalidDimensionValue`` for a malformed value or one outside the extent.
    """
    if value is None or value == "":
        return  # absent: the default value, the capture time, applies
    requested = parse_time(value, now)
    span = layer_span(layer)
    if span is None:
        return
    if not any(item.meets(span) for item in requested):
        raise OgcError(
            "InvalidDimensionValue",
            f"TIME={value!r} is outside layer {layer.id}'s time extent {dimension_extent(layer)}",
            "TIME",
        )


def _value_span(text: str, whole: str, now: datetime | None) -> Span:
    """The period a single ISO 8601 value of any precision names (UTC when no zone is given)."""
    if text.lower() == "current":
        moment = _utc(now or datetime.now(UTC))
        return Span(moment, moment)
    match = _VALUE.match(text)
    if match is None:
        raise _invalid(whole, f"{text!r} is not an ISO 8601 time")
    fields = match.groupdict()
    try:
        start = datetime(
            int(fields["year"]),
            int(fields["month"] or 1),
            int(fields["day"] or 1),
            int(fields["hour"] or 0),
            int(fields["minute"] or 0),
            int(fields["second"] or 0),
            int(float(fields["fraction"] or 0) * 1_000_000),
            tzinfo=_zone(fields["zone"]),
        )
    except ValueError as exc:
        raise _invalid(whole, f"{text!r}: {exc}") from None
    start = start.astimezone(UTC)
    return Span(start, _period_end(start, fields))


def _period_end(start: datetime, fields: dict[str, str | None]) -> datetime:
    """The last instant of the period a reduced-precision value names."""
    tick = timedelta(microseconds=1)
    if fields["month"] is None:
        return start.replace(year=start.year + 1) - tick
    if fields["day"] is None:
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return start.replace(year=year, month=month) - tick
    steps = (("hour", timedelta(days=1)), ("minute", timedelta(hours=1)), ("second", timedelta(minutes=1)))
    for name, step in steps:
        if fields[name] is None:
            return start + step - tick
    if fields["fraction"] is None:
        return start + timedelta(seconds=1) - tick
    return start


def _zone(text: str | None) -> tzinfo:
    if text is None or text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _invalid(value: str, why: str) -> OgcError:
    return OgcError("InvalidDimensionValue", f"TIME={value!r} is not valid: {why}", "TIME")
