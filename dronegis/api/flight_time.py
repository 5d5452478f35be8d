"""The time options of an uploaded flight, checked when it is created (``POST /api/flights``).

- ``camera_timezone``: IANA zone of camera clocks that store no offset (ingest's
  ``--camera-timezone``).
- ``captured``: when the delivery was flown, for rasters whose files and frames carry no date
  (ingest's ``--captured``): a date (the whole day in the camera zone) or a date and time.

Both are validated here (422 with the reason) and stored as the flight's stage options;
the ingest stage parses ``captured`` again with the clock of its run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, status

from core.errors import UsageError
from flights.capture_time import camera_zone
from flights.raster_time import declared_capture

CAPTURED_HELP = (
    "when the delivery was flown, for rasters whose files and frames carry no date: a date (2025-06-12, "
    "the whole day in the camera zone) or a date and time (2025-06-12T10:30); dronegis ingest --captured"
)


def time_options(
    camera_timezone: str | None, captured: str | None, default_zone: str = "Europe/Copenhagen"
) -> dict[str, Any]:
    """``camera_timezone`` and ``captured`` as stage options, after checking them.

    ``default_zone`` only bounds a declared date for the future check; ingest uses the
    flight's zone (or the settings').

    Raises:
        HTTPException: 422 naming the value when the zone is unknown or the date unreadable or
            in the future.
    """
    options: dict[str, Any] = {}
    try:
        zone = camera_zone(camera_timezone or default_zone)
        if captured:
            declared_capture(captured, zone, datetime.now(UTC))
    except UsageError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if camera_timezone:
        options["camera_timezone"] = camera_timezone
    if captured:
        options["captured"] = captured
    return options
