"""Control files: ODM gcp_list.txt, check points, geo.txt, DJI/Autel .MRK, DJI .SRT, CSV lists.

``read_control_file(path, relpath)`` sniffs the format and returns a frozen ``ControlFile``;
anything malformed raises ``ControlFileError`` naming the file and the line.

Conventions of the returned points:

- ``x``/``y`` are easting/northing for projected CRSs and **longitude/latitude** for
  geographic ones (the order ODM files use; transform them with ``always_xy=True``).
- ``crs`` is ``EPSG:<code>`` when pyproj identifies the header, else the header's PROJ string.
- A missing or ``NaN`` z becomes ``None``; a ``NaN`` x or y is an error.
- Names starting with ``CHK`` (any case), and every point of a file whose name marks it as a
  check-point file (``chk``/``check`` in the file name), get ``role="check"``: never fitted.
- ODM lines without a point name are grouped by their coordinates and named ``gcp_<n>``
  (CSV rows without a name column ``point_<n>``); :func:`is_generated_name` tells them apart.
- Pixel coordinates name pixel centres ((0, 0) = centre of the first pixel, OpenSfM/ODM);
  see :mod:`flights.pixels`. A pixel coordinate that is not a finite number of at most
  ``MAX_PIXEL_COORDINATE`` pixels is an error naming the file, the line and the value.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from pathlib import Path
from typing import Literal, NamedTuple

from pyproj import CRS
from pyproj.exceptions import CRSError

from core.errors import ControlFileError
from flights.control_logs import mrk_control_file, parse_srt, read_mrk_text
from flights.control_text import Line, is_number, meaningful_lines, number, optional_z, read_text
from flights.models import ControlFile, ControlPoint, PixelObservation
from flights.pixels import MAX_PIXEL_COORDINATE

logger = logging.getLogger(__name__)

Role = Literal["gcp", "check"]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".png", ".dng", ".rjpeg")
_UTM_WORDS = re.compile(r"^\s*WGS\s*-?\s*84\s+UTM\s+(\d{1,2})\s*([NS])\s*$", re.IGNORECASE)
_CHECK_FILE = re.compile(r"(^|[^a-z])(chk|check)", re.IGNORECASE)
_GENERATED_NAME = re.compile(r"^(gcp|point)_\d+$")


def is_generated_name(name: str) -> bool:
    """True for the names this module gives unnamed points (``gcp_<n>``, ``point_<n>``)."""
    return bool(_GENERATED_NAME.match(name))


def read_control_file(path: Path, relpath: str, *, role: Role | None = None) -> ControlFile:
    """Parse a control file of any supported format.

    Args:
        path: the file on disk.
        relpath: the name used in messages and stored in ``ControlFile.path``.
        role: force every point to this role (default: from names and the file name).

    Returns:
        The parsed file.

    Raises:
        ControlFileError: unreadable, empty, unknown CRS or a malformed line (named).
    """
    text = read_text(path, relpath)
    suffix = Path(relpath).suffix.lower()
    if suffix == ".mrk":
        return mrk_control_file(read_mrk_text(text, relpath), relpath)
    if suffix == ".srt":
        return parse_srt(text, relpath)
    lines = list(meaningful_lines(text))
    if not lines:
        raise ControlFileError(f"{relpath}: no data lines")
    if _looks_like_csv_header(lines[0].text):
        try:
            parsed = _parse_csv(text, relpath)
        except csv.Error as exc:
            raise ControlFileError(f"{relpath}: not a readable CSV ({exc})") from exc
    else:
        parsed = _parse_with_header(lines, relpath)
    return _apply_roles(parsed, relpath, role)


def parse_crs(header: str, relpath: str, line: int = 1) -> tuple[str, CRS]:
    """Validate a control-file CRS header (``EPSG:xxxx``, PROJ string, ``WGS84 UTM 32N``).

    Returns:
        The normalised CRS string (``EPSG:<code>`` when identified) and the pyproj CRS.

    Raises:
        ControlFileError: pyproj does not know the CRS.
    """
    text = header.strip()
    if text[:1].isdigit() or text[:1] in "+-." and is_number(text.split()[0]):
        raise ControlFileError(
            f"{relpath} line {line}: the first line must be the CRS (EPSG:xxxx, a PROJ string or "
            f"'WGS84 UTM 32N'), got the data line {text!r}"
        )
    words = _UTM_WORDS.match(text)
    if words:
        zone, hemi = int(words.group(1)), words.group(2).upper()
        if not 1 <= zone <= 60:
            raise ControlFileError(f"{relpath} line {line}: UTM zone {zone} out of range in {text!r}")
        text = f"EPSG:{32600 + zone if hemi == 'N' else 32700 + zone}"
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        raise ControlFileError(f"{relpath} line {line}: unknown CRS {header.strip()!r} ({exc})") from exc
    code = crs.to_epsg()
    return (f"EPSG:{code}" if code else crs.to_proj4() or text), crs


def _finite_xy(x: float, y: float, relpath: str, line: Line) -> None:
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ControlFileError(f"{relpath} line {line.number}: coordinate is NaN/inf in {line.text!r}")


def _plausible_pixel(col: float, row: float, relpath: str, line: Line) -> None:
    """A pixel position must be finite and within ``MAX_PIXEL_COORDINATE`` of the image origin."""
    for what, value in (("pixel x", col), ("pixel y", row)):
        if not math.isfinite(value) or not -MAX_PIXEL_COORDINATE <= value <= MAX_PIXEL_COORDINATE:
            raise ControlFileError(
                f"{relpath} line {line.number}: {what} {value!r} er ingen pixelposition / "
                "is not a pixel position of any image "
                f"(must be finite, at most {MAX_PIXEL_COORDINATE:.0f} px) in {line.text!r}"
            )


class _Group(NamedTuple):
    name: str | None
    x: float
    y: float
    z: float | None
    observations: list[PixelObservation]
    std_h: float | None
    std_v: float | None


def _parse_with_header(lines: list[Line], relpath: str) -> ControlFile:
    crs_text, crs = parse_crs(lines[0].text, relpath, lines[0].number)
    data = lines[1:]
    if not data:
        raise ControlFileError(f"{relpath}: CRS header {crs_text} but no data lines")
    first = data[0].fields
    if Path(relpath).name.lower() == "geo.txt" or (first and first[0].lower().endswith(IMAGE_SUFFIXES)):
        groups, fmt = _parse_geo(data, relpath), "geo.txt"
    elif len(first) >= 6 and all(is_number(t) for t in first[:5]):
        groups, fmt = _parse_gcp_lines(data, relpath), "odm_gcp_list"
    elif len(first) == 3 and all(is_number(t) for t in first[:2]):
        groups, fmt = _parse_positions(data, relpath), "image_positions"
    elif len(first) >= 3 and not is_number(first[0]):
        groups, fmt = _parse_named_coordinates(data, relpath), "named_coordinates"
    else:
        raise ControlFileError(
            f"{relpath} line {data[0].number}: unrecognised control line {data[0].text!r} "
            "(expected 'x y z px py image [name]')"
        )
    for group in groups:
        _check_plausible(group, crs, relpath)
    return ControlFile(path=relpath, format=fmt, crs=crs_text, points=_points(groups, crs_text))


def _parse_gcp_lines(lines: list[Line], relpath: str) -> list[_Group]:
    groups: dict[tuple[float, float, float | None], _Group] = {}
    names: dict[str, tuple[float, float, float | None]] = {}
    for line in lines:
        f = line.fields
        if len(f) < 6:
            raise ControlFileError(
                f"{relpath} line {line.number}: expected 'x y z px py image [name]', got {line.text!r}"
            )
        x, y, z = (number(t, relpath, line, w) for t, w in zip(f[:3], ("x", "y", "z"), strict=True))
        col, row = number(f[3], relpath, line, "pixel x"), number(f[4], relpath, line, "pixel y")
        _finite_xy(x, y, relpath, line)
        _plausible_pixel(col, row, relpath, line)
        name = f[6] if len(f) > 6 else None
        key = (x, y, optional_z(z))
        if name is not None and names.setdefault(name, key) != key:
            raise ControlFileError(
                f"{relpath} line {line.number}: point {name!r} has coordinates {key[:2]} "
                f"but earlier {names[name][:2]}"
            )
        group = groups.get(key) or _Group(name, x, y, key[2], [], None, None)
        if group.name is None and name is not None:
            group = group._replace(name=name)
        group.observations.append(PixelObservation(image=f[5], col=col, row=row, line=line.number))
        groups[key] = group
    return list(groups.values())


def _parse_geo(lines: list[Line], relpath: str) -> list[_Group]:
    """ODM geo.txt: ``image x y [z] [yaw pitch roll] [horiz_acc vert_acc] [extras]``."""
    groups = []
    for line in lines:
        f = line.fields
        if len(f) < 3:
            raise ControlFileError(
                f"{relpath} line {line.number}: expected 'image x y [z] ...', got {line.text!r}"
            )
        x, y = number(f[1], relpath, line, "x"), number(f[2], relpath, line, "y")
        _finite_xy(x, y, relpath, line)
        z = optional_z(number(f[3], relpath, line, "z")) if len(f) > 3 else None
        std_h = number(f[7], relpath, line, "horizontal accuracy") if len(f) > 8 else None
        std_v = number(f[8], relpath, line, "vertical accuracy") if len(f) > 8 else None
        groups.append(_Group(f[0], x, y, z, [], std_h, std_v))
    return groups


def _parse_positions(lines: list[Line], relpath: str) -> list[_Group]:
    """``x y image`` camera positions (ODM test data ``cameras_*.txt``)."""
    groups = []
    for line in lines:
        f = line.fields
        if len(f) != 3:
            raise ControlFileError(f"{relpath} line {line.number}: expected 'x y image', got {line.text!r}")
        x, y = number(f[0], relpath, line, "x"), number(f[1], relpath, line, "y")
        _finite_xy(x, y, relpath, line)
        groups.append(_Group(f[2], x, y, None, [], None, None))
    return groups


def _parse_named_coordinates(lines: list[Line], relpath: str) -> list[_Group]:
    """``name x y [z]`` lists without pixel observations (e.g. COPR gcp_list_noimg.txt)."""
    groups = []
    for line in lines:
        f = line.fields
        if len(f) < 3:
            raise ControlFileError(
                f"{relpath} line {line.number}: expected 'name x y [z]', got {line.text!r}"
            )
        x, y = number(f[1], relpath, line, "x"), number(f[2], relpath, line, "y")
        _finite_xy(x, y, relpath, line)
        z = optional_z(number(f[3], relpath, line, "z")) if len(f) > 3 else None
        groups.append(_Group(f[0], x, y, z, [], None, None))
    return groups


def _check_plausible(group: _Group, crs: CRS, relpath: str) -> None:
    """Reject coordinates that cannot be in the CRS (swapped lat/lon, degrees in a projected CRS)."""
    if crs.is_geographic:
        if not (-180 <= group.x <= 180 and -90 <= group.y <= 90):
            raise ControlFileError(
                f"{relpath}: point {group.name or ''} ({group.x}, {group.y}) is not longitude/latitude "
                f"although the CRS {crs.name!r} is geographic"
            )
    elif abs(group.x) <= 180 and abs(group.y) <= 90 and crs.area_of_use is not None:
        raise ControlFileError(
            f"{relpath}: point {group.name or ''} ({group.x}, {group.y}) looks like degrees "
            f"but the CRS {crs.name!r} is projected"
        )


def _points(groups: list[_Group], crs_text: str) -> tuple[ControlPoint, ...]:
    points = []
    for n, g in enumerate(groups, start=1):
        points.append(
            ControlPoint(
                name=g.name or f"gcp_{n}",
                x=g.x,
                y=g.y,
                z=g.z,
                crs=crs_text,
                observations=tuple(g.observations),
                survey_std_h_m=g.std_h,
                survey_std_v_m=g.std_v,
            )
        )
    return tuple(points)


def _apply_roles(parsed: ControlFile, relpath: str, role: Role | None) -> ControlFile:
    check_file = bool(_CHECK_FILE.search(Path(relpath).stem))

    def role_of(point: ControlPoint) -> Role:
        if role is not None:
            return role
        return "check" if check_file or point.name.upper().startswith("CHK") else "gcp"

    points = tuple(p.model_copy(update={"role": role_of(p)}) for p in parsed.points)
    return parsed.model_copy(update={"points": points})


def _looks_like_csv_header(text: str) -> bool:
    lowered = text.lower()
    return any(k in lowered for k in ("lat", "northing", "easting")) and bool(re.search(r"[,;\t]", text))


_NAME_KEYS = ("name", "point name", "point", "id", "label")


def _parse_csv(text: str, relpath: str) -> ControlFile:
    """Surveyor CSV lists with a header: name + latitude/longitude (+ elevation)."""
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or ()}
    lat_key = next((fields[k] for k in fields if k in ("lat", "latitude")), None)
    lon_key = next((fields[k] for k in fields if k in ("lon", "long", "longitude")), None)
    if lat_key is None or lon_key is None:
        raise ControlFileError(
            f"{relpath} line 1: CSV header {list(fields)} has no latitude/longitude columns "
            "(easting/northing without a CRS cannot be used)"
        )
    name_key = next((fields[k] for k in _NAME_KEYS if k in fields), None)
    z_key = next((fields[k] for k in fields if k in ("elevation", "height", "z", "alt", "altitude")), None)
    points = []
    for n, row in enumerate(reader, start=2):
        line = Line(n, list(row.values()), str(row))
        lat = number(row[lat_key] or "", relpath, line, "latitude")
        lon = number(row[lon_key] or "", relpath, line, "longitude")
        _finite_xy(lon, lat, relpath, line)
        z = optional_z(number(row[z_key] or "nan", relpath, line, "z")) if z_key else None
        name = (row[name_key] or "").strip() if name_key else f"point_{n - 1}"
        points.append(_Group(name, lon, lat, z, [], None, None))
    crs_text, crs = parse_crs("EPSG:4326", relpath)
    for group in points:
        _check_plausible(group, crs, relpath)
    return ControlFile(path=relpath, format="csv", crs=crs_text, points=_points(points, crs_text))
