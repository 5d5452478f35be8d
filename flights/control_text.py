"""Text primitives shared by the control-file readers (:mod:`flights.control`, :mod:`flights.control_logs`).

Lines, numbers and heights as the readers see them; every error names the file and the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from core.errors import ControlFileError


class Line(NamedTuple):
    """One meaningful line of a text file: 1-based number and its fields."""

    number: int
    fields: list[str]
    text: str


def read_text(path: Path, relpath: str) -> str:
    """A control file's text: UTF-8 (with or without BOM), else Latin-1, with every line end made ``\n``.

    Raises:
        ControlFileError: the file cannot be read.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ControlFileError(f"{relpath}: cannot read control file ({exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    # old Mac tools and some GNSS exports end lines with a bare CR
    return text.replace("\r\n", "\n").replace("\r", "\n")


def meaningful_lines(text: str) -> Iterator[Line]:
    """Non-empty, non-comment lines with their 1-based numbers, split on blanks, commas and semicolons."""
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f for f in re.split(r"[\s,;]+", stripped) if f]
        yield Line(number, fields, stripped)


def is_number(token: str) -> bool:
    """True when ``token`` parses as a float."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def number(token: str, relpath: str, line: Line, what: str) -> float:
    """Parse a float or raise ``ControlFileError`` naming the file, line and field."""
    try:
        return float(token)
    except ValueError:
        raise ControlFileError(f"{relpath} line {line.number}: {what} {token!r} is not a number") from None


def optional_z(value: float) -> float | None:
    """A height, or None for NaN/inf."""
    return value if math.isfinite(value) else None
