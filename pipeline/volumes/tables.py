"""Tables of per-polygon figures: a GeoPackage and two CSV files (Danish and English).

CSV for tender documents
------------------------
Danish Excel opens a ``.csv`` with the list separator and decimal mark of the Danish
locale: ``;`` between fields and a decimal *comma* (``314,16``). A file written with
``,`` and ``.`` opens as one column, or with 314.16 read as text. The Danish file is
therefore written the Danish way — ``;``, decimal comma, no thousands separator, UTF-8
with a byte-order mark (Excel otherwise reads "m³" and "æøå" as Latin-1) — with Danish
column names that carry their units, rounded to what a tender quotes (m³ and m² to two
decimals, heights to three). The English file is for programs: ``,``, decimal point,
full precision, snake_case names with the unit as a suffix.

Both are written atomically; the GeoPackage is written to a temporary file beside its
target and renamed into place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from core.atomic import atomic_path, atomic_write_text

if TYPE_CHECKING:
    import geopandas as gpd

Cell = str | int | float | None


class Column(NamedTuple):
    """One column of a table: its Danish and English names, how to get its value, its rounding."""

    da: str
    """Danish header with the unit, e.g. ``Afgravning (m³)``."""
    en: str
    """English snake_case name with the unit as a suffix, e.g. ``cut_m3`` (also the GeoPackage field)."""
    value: Callable[[Any], Cell]
    decimals: int | None = None
    """Decimals in the Danish CSV; None for text and integers."""


def danish_number(value: Cell, decimals: int | None) -> str:
    """A value as Danish Excel reads it: decimal comma, no thousands separator, empty for None.

    Example:
        >>> danish_number(314.159, 2)
        '314,16'
    """
    if value is None:
        return ""
    if isinstance(value, float) and decimals is not None:
        return f"{value:.{decimals}f}".replace(".", ",")
    return str(value)


def display_number(value: float | None, decimals: int, danish: bool) -> str:
    """A number for people: thousands grouped, Danish with a narrow space and a decimal comma; "–" if missing.

    Example:
        >>> display_number(12345.678, 1, True), display_number(12345.678, 1, False)
        ('12\u202f345,7', '12,345.7')
    """
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",") if danish else text


def _csv_text(rows: Sequence[Sequence[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv_pair(dst_da: Path, dst_en: Path, columns: Sequence[Column], items: Sequence[Any]) -> None:
    """The Danish (``;``, decimal comma, BOM) and the English (``,``, full precision) CSV of ``items``."""
    values = [[c.value(item) for c in columns] for item in items]
    danish = [[c.da for c in columns]] + [
        [danish_number(v, c.decimals) for v, c in zip(row, columns, strict=True)] for row in values
    ]
    english = [[c.en for c in columns]] + [["" if v is None else str(v) for v in row] for row in values]
    atomic_write_text(dst_da, "\ufeff" + _csv_text(danish, ";"))
    atomic_write_text(dst_en, _csv_text(english, ","))


def attribute_table(columns: Sequence[Column], items: Sequence[Any]) -> dict[str, list[Cell]]:
    """Column name (English) → values, for a GeoDataFrame."""
    return {c.en: [c.value(item) for item in items] for c in columns}


def write_gpkg(dst: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write each GeoDataFrame as a layer of the GeoPackage ``dst``, atomically (all layers or none)."""
    with atomic_path(dst, suffix=".gpkg") as tmp:
        for number, (name, frame) in enumerate(layers.items()):
            frame.to_file(tmp, driver="GPKG", layer=name, mode="w" if number == 0 else "a", engine="pyogrio")
    return dst
