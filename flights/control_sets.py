"""Control points from several sources merged into one point per surveyed target.

The same target often arrives more than once: a ``gcp_list.txt`` copied into sub-folders of
the delivery, a check-point file delivered in the flight folder *and* passed again with
``dronegis qa --checkpoints``, or uploaded with the flight through the API (uploads are
delivered files). Counting it twice inflates the number of check points (the ASPRS "at least
30" warning disappears) and weights a GCP twice in a fit.

Rules of :func:`merge_sources` (sources in order; the first source's coordinates are kept):

- Two points are the same target when they lie within ``tolerance_m`` of each other
  (horizontal, on the WGS 84 ellipsoid, whatever their CRS) and their names agree
  (case-insensitive) or one of them is a generated name (``gcp_<n>``, unnamed ODM lines).
  Their observations are pooled (identical ones kept once).
- A target that is a check point in any source stays a check point: it is never fitted
  (``MergedControl.gcp_in`` names the sources where it is a GCP).
- The same explicit name farther apart than ``tolerance_m`` is a :class:`Conflict`: the
  surveyed position is ambiguous, so the name is left out of the merged points and the
  conflict names both sources and the distance — never a silent merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from pydantic import Field
from pyproj import Geod, Transformer

from core.models import Frozen
from flights.control import is_generated_name
from flights.models import ControlFile, ControlPoint, PixelObservation

DUPLICATE_TOLERANCE_M = 0.05
"""Two surveys of one target agree within this horizontal distance (metres)."""

TARGET_FORMATS = frozenset({"odm_gcp_list", "named_coordinates", "csv"})
"""Control-file formats that list surveyed targets (the others list camera positions)."""

Origin = Literal["delivered", "checkpoints"]
_GEOD = Geod(ellps="WGS84")


class PointSource(NamedTuple):
    """One source of control points: its name in messages, where it came from, its points."""

    file: str
    origin: Origin
    points: Sequence[ControlPoint]


class SourceSummary(Frozen):
    """What one source contributed.

    Attributes:
        file: the source's name in messages.
        origin: delivered with the flight, or given to QA.
        points: points read from it.
        check_points: its check points.
        duplicates: its points whose target an earlier source already gave.
        check_duplicates: its check points that an earlier source already gave as check points.
        conflicts: its points whose name an earlier source gave at another position.
    """

    file: str
    origin: Origin
    points: int
    check_points: int
    duplicates: int
    check_duplicates: int
    conflicts: int


class Conflict(Frozen):
    """One name surveyed at two positions farther apart than the tolerance."""

    name: str
    first: str
    second: str
    distance_m: float
    message: str


class MergedControl(Frozen):
    """The merged points, what every source contributed, the conflicts.

    ``gcp_in`` maps each merged check point that some source lists as a GCP to those sources.
    """

    points: tuple[ControlPoint, ...] = ()
    sources: tuple[SourceSummary, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    gcp_in: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def check_points(self) -> list[ControlPoint]:
        """The merged check points."""
        return [p for p in self.points if p.role == "check"]


def delivered_sources(control: Sequence[ControlFile]) -> list[PointSource]:
    """The flight's control files that list surveyed targets, as sources."""
    return [PointSource(cf.path, "delivered", cf.points) for cf in control if cf.format in TARGET_FORMATS]


class _Entry:
    """A merged point under construction: the kept point, its lon/lat, its sources."""

    def __init__(self, point: ControlPoint, lonlat: tuple[float, float], file: str) -> None:
        self.point = point
        self.lonlat = lonlat
        self.files = [file]
        self.gcp_in = [file] if point.role == "gcp" else []
        self.dropped = False


def merge_sources(
    sources: Sequence[PointSource], tolerance_m: float = DUPLICATE_TOLERANCE_M
) -> MergedControl:
    """Merge the points of ``sources`` (in order) into one point per target (module docstring)."""
    entries: list[_Entry] = []
    conflicts: list[Conflict] = []
    summaries = []
    lonlat = _LonLat()
    for source in sources:
        duplicates = check_duplicates = clashes = 0
        for point in source.points:
            where = lonlat(point)
            same, clash = _match(entries, point, where, tolerance_m)
            if clash is not None:
                clashes += 1
                clash.dropped = True
                conflicts.append(_conflict(point, clash, where, source.file))
            elif same is not None:
                duplicates += 1
                check_duplicates += int(point.role == "check" and same.point.role == "check")
                _absorb(same, point, source.file)
            else:
                entries.append(_Entry(point, where, source.file))
        summaries.append(
            SourceSummary(
                file=source.file,
                origin=source.origin,
                points=len(source.points),
                check_points=sum(p.role == "check" for p in source.points),
                duplicates=duplicates,
                check_duplicates=check_duplicates,
                conflicts=clashes,
            )
        )
    kept = [e for e in entries if not e.dropped]
    return MergedControl(
        points=tuple(e.point for e in kept),
        sources=tuple(summaries),
        conflicts=tuple(conflicts),
        gcp_in={
            e.point.name: tuple(dict.fromkeys(e.gcp_in)) for e in kept if e.point.role == "check" and e.gcp_in
        },
    )


class _LonLat:
    """Longitude/latitude of a point, with one transformer per CRS."""

    def __init__(self) -> None:
        self._transformers: dict[str, Transformer] = {}

    def __call__(self, point: ControlPoint) -> tuple[float, float]:
        transformer = self._transformers.get(point.crs)
        if transformer is None:
            transformer = Transformer.from_crs(point.crs, "EPSG:4326", always_xy=True)
            self._transformers[point.crs] = transformer
        lon, lat = transformer.transform(point.x, point.y)
        return float(lon), float(lat)


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    _, _, dist = _GEOD.inv(a[0], a[1], b[0], b[1])
    return float(dist)


def _same_name(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _match(
    entries: list[_Entry], point: ControlPoint, where: tuple[float, float], tolerance_m: float
) -> tuple[_Entry | None, _Entry | None]:
    """The entry this point duplicates, or the entry whose name it contradicts (conflict)."""
    generated = is_generated_name(point.name)
    for entry in entries:
        named_alike = _same_name(entry.point.name, point.name)
        close = _distance_m(entry.lonlat, where) <= tolerance_m
        if close and (named_alike or generated or is_generated_name(entry.point.name)):
            return entry, None
        if named_alike and not generated and not close:
            return None, entry
    return None, None


def _absorb(entry: _Entry, point: ControlPoint, file: str) -> None:
    """Pool a duplicate's observations into the entry; a check point anywhere stays a check point."""
    entry.files.append(file)
    if point.role == "gcp":
        entry.gcp_in.append(file)
    pooled = list(entry.point.observations)
    pooled += [o for o in point.observations if not any(_same_observation(o, k) for k in pooled)]
    update: dict[str, object] = {"observations": tuple(pooled)}
    if point.role == "check":
        update["role"] = "check"
    if is_generated_name(entry.point.name) and not is_generated_name(point.name):
        update["name"] = point.name
    entry.point = entry.point.model_copy(update=update)


def _same_observation(a: PixelObservation, b: PixelObservation) -> bool:
    return a.image.lower() == b.image.lower() and abs(a.col - b.col) < 1e-6 and abs(a.row - b.row) < 1e-6


def _conflict(point: ControlPoint, entry: _Entry, where: tuple[float, float], file: str) -> Conflict:
    distance = _distance_m(entry.lonlat, where)
    first = entry.files[0]
    message = (
        f"punkt {point.name!r} har to opmålte positioner / "
        f"point {point.name!r} is at ({entry.point.x}, {entry.point.y}) in {first} but at "
        f"({point.x}, {point.y}) in {file}, {distance:.3f} m apart: left out until the survey is corrected"
    )
    return Conflict(name=point.name, first=first, second=file, distance_m=distance, message=message)
