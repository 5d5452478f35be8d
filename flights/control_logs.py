"""Camera-event logs delivered with a flight: DJI/Autel ``.MRK`` timestamps and DJI ``.SRT`` telemetry.

Both become a ``ControlFile`` of camera positions (see :func:`flights.control.read_control_file`).
"""

from __future__ import annotations

import logging
import math
import re
from typing import NamedTuple

from core.errors import ControlFileError
from flights.control_text import Line, meaningful_lines, number, optional_z
from flights.models import ControlFile, ControlPoint

logger = logging.getLogger(__name__)

MRK_FIXED = 50


class MrkEvent(NamedTuple):
    """One camera event of a DJI/Autel ``.MRK`` timestamp file (WGS 84, ellipsoidal height)."""

    event: int
    gps_seconds: float
    gps_week: int | None
    offset_n_mm: float
    offset_e_mm: float
    offset_v_mm: float
    lat: float
    lon: float
    ellipsoid_height_m: float
    std_n_m: float
    std_e_m: float
    std_v_m: float
    quality: int

    @property
    def fixed(self) -> bool:
        """True when the event carries an RTK fixed solution (quality 50)."""
        return self.quality == MRK_FIXED


def read_mrk_text(text: str, relpath: str) -> tuple[MrkEvent, ...]:
    """Parse the events of a DJI/Autel ``.MRK`` timestamp file.

    Raises:
        ControlFileError: a line does not carry the ``lat,Lat lon,Lon h,Ellh ... Q`` fields.
    """
    events = []
    for line in meaningful_lines(text):
        try:
            events.append(_mrk_event(line, relpath))
        except ControlFileError:
            raise
        except (ValueError, OverflowError) as exc:  # "1.2.3,Lat", "inf,Q": what the patterns let through
            raise ControlFileError(f"{relpath} line {line.number}: not an MRK event ({exc})") from None
    if not events:
        raise ControlFileError(f"{relpath}: no MRK events")
    return tuple(events)


def _mrk_event(line: Line, relpath: str) -> MrkEvent:
    """One MRK line as an event (ValueError for a number Python cannot read)."""
    pairs = re.findall(r"(-?[\d.]+(?:[eE][-+]?\d+)?),\s*(Lat|Lon|Ellh|Q|N|E|V)\b", line.text)
    tagged = {key: value for value, key in pairs}
    missing = [k for k in ("Lat", "Lon", "Ellh") if k not in tagged]
    head = line.text.split()
    if missing or len(head) < 2:
        raise ControlFileError(f"{relpath} line {line.number}: MRK line lacks {missing or 'index'}")
    week = re.search(r"\[(\d+)\]", line.text)
    stds = re.search(r"Ellh\s+(-?[\d.]+),\s*(-?[\d.]+),\s*(-?[\d.]+)", line.text)
    std = [float(v) for v in stds.groups()] if stds else [math.nan] * 3
    return MrkEvent(
        event=int(number(head[0], relpath, line, "index")),
        gps_seconds=number(head[1], relpath, line, "GPS time"),
        gps_week=int(week.group(1)) if week else None,
        offset_n_mm=float(tagged.get("N", "nan")),
        offset_e_mm=float(tagged.get("E", "nan")),
        offset_v_mm=float(tagged.get("V", "nan")),
        lat=float(tagged["Lat"]),
        lon=float(tagged["Lon"]),
        ellipsoid_height_m=float(tagged["Ellh"]),
        std_n_m=std[0],
        std_e_m=std[1],
        std_v_m=std[2],
        quality=int(float(tagged.get("Q", "0"))),
    )


def mrk_control_file(events: tuple[MrkEvent, ...], relpath: str) -> ControlFile:
    """Camera positions of an MRK file as a ``ControlFile`` (EPSG:4979, names = event index).

    The RTK quality is not part of ``ControlPoint``; events that are not fixed get no survey
    standard deviations, so callers never mistake them for cm-level positions.
    """
    points = tuple(
        ControlPoint(
            name=str(e.event),
            x=e.lon,
            y=e.lat,
            z=e.ellipsoid_height_m,
            crs="EPSG:4979",
            survey_std_h_m=max(e.std_n_m, e.std_e_m) if e.fixed else None,
            survey_std_v_m=e.std_v_m if e.fixed else None,
        )
        for e in events
    )
    not_fixed = sum(not e.fixed for e in events)
    if not_fixed:
        logger.warning("%s: %d of %d MRK events are not RTK fixed", relpath, not_fixed, len(events))
    return ControlFile(path=relpath, format="mrk", crs="EPSG:4979", points=points)


_SRT_GPS = re.compile(r"GPS\s*\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)")
_SRT_TAGS = re.compile(r"\[(latitude|longitude|rel_alt|abs_alt|altitude)\s*:\s*(-?[\d.]+)")


def parse_srt(text: str, relpath: str) -> ControlFile:
    """DJI video telemetry (.SRT): one position per subtitle block, EPSG:4326."""
    points = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        if len(lines) < 3:
            continue
        try:
            points.append(_srt_point(lines, relpath))
        except ControlFileError:
            raise
        except (ValueError, OverflowError) as exc:  # "-82.66.0" passes the pattern, not float()
            raise ControlFileError(f"{relpath}: subtitle block {lines[0].strip()!r}: {exc}") from None
    if not points:
        raise ControlFileError(f"{relpath}: no SRT telemetry blocks")
    return ControlFile(path=relpath, format="srt", crs="EPSG:4326", points=tuple(points))


def _srt_point(lines: list[str], relpath: str) -> ControlPoint:
    """The position of one subtitle block (ValueError for a number Python cannot read)."""
    body = " ".join(lines[2:])
    gps = _SRT_GPS.search(body)
    tags: dict[str, str] = dict(_SRT_TAGS.findall(body))
    if gps:
        lon, lat, alt = (float(v) for v in gps.groups())
    elif "latitude" in tags and "longitude" in tags:
        lat, lon = float(tags["latitude"]), float(tags["longitude"])
        alt = float(tags.get("abs_alt", tags.get("altitude", "nan")))
    else:
        raise ControlFileError(f"{relpath}: subtitle block {lines[0].strip()!r} has no GPS position")
    return ControlPoint(name=lines[0].strip(), x=lon, y=lat, z=optional_z(alt), crs="EPSG:4326")
