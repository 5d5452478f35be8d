"""Words people read, Danish first and English: one message catalogue and its lookup.

Every text a person reads on a page, in a PDF or in an API error comes from
``core/messages.toml`` (next to this module): a table per area (``viewer``, ``qa``,
``print``, ``error`` …), one entry per message with a ``da`` and an ``en`` text::

    [viewer]
    layers = { da = "Lag", en = "Layers" }

Keys are dotted paths (``viewer.layers``); texts are ``str.format`` templates with
named fields (``{n} kontrolpunkter``). Danish is the default; English is chosen with
``?lang=en`` (:func:`lang_of`), or for the JSON API also by ``Accept-Language``
(:func:`accept_language`). Dates, numbers and sizes are formatted with Babel (CLDR
locale data: ``3. dec. 2026``, ``0,3`` and ``3,2 MB`` in Danish, ``3 Dec 2026``, ``0.3``
and ``3.2 MB`` in English), never by hand; a field whose name ends in ``_bytes`` is shown
as a size (:func:`size`).
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel.dates import format_date
from babel.numbers import format_decimal
from babel.units import format_unit

from core.errors import CatalogueError

Lang = Literal["da", "en"]
LANGS: tuple[Lang, ...] = ("da", "en")
DEFAULT_LANG: Lang = "da"
CATALOGUE = Path(__file__).with_name("messages.toml")
LOCALES: dict[Lang, str] = {"da": "da_DK", "en": "en_GB"}

Entry = dict[Lang, str]


def _flatten(table: dict[str, object], prefix: str, out: dict[str, Entry], source: Path) -> None:
    """Collect the leaves (tables of strings: exactly ``da`` and ``en``) under dotted keys."""
    for name, value in table.items():
        key = f"{prefix}{name}"
        if not isinstance(value, dict):
            raise CatalogueError(f"{source}: {key} is {value!r}, not a table")
        if value and all(isinstance(v, str) for v in value.values()):
            if set(value) != set(LANGS) or not all(value.values()):
                raise CatalogueError(
                    f"{source}: {key} must have a non-empty da and en text, has {sorted(value)}"
                )
            out[key] = {lang: str(value[lang]) for lang in LANGS}
        else:
            _flatten(value, f"{key}.", out, source)


@lru_cache(maxsize=4)
def catalogue(path: Path = CATALOGUE) -> dict[str, Entry]:
    """Every message, by dotted key (read once per process).

    Raises:
        CatalogueError: the file cannot be read, or an entry lacks Danish or English.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"message catalogue {path}: {exc}") from exc
    out: dict[str, Entry] = {}
    _flatten(data, "", out, path)
    return out


def lang_of(value: str | None) -> Lang:
    """The language asked for: ``en``/``en-GB``/``english`` → English, anything else Danish."""
    if value and value.strip().lower()[:2] == "en":
        return "en"
    return DEFAULT_LANG


def text(key: str, lang: Lang, /, **params: object) -> str:
    """The message ``key`` in ``lang``, its ``{fields}`` filled from ``params``.

    Raises:
        CatalogueError: unknown key, or a field the template needs is not given.
    """
    entry = catalogue().get(key)
    if entry is None:
        raise CatalogueError(f"message {key!r} is not in {CATALOGUE}")
    shown = {k: _shown(k, v, lang) for k, v in params.items()}
    try:
        return entry[lang].format(**shown)
    except (KeyError, IndexError, ValueError) as exc:
        raise CatalogueError(
            f"message {key!r} ({lang}) cannot be filled with {sorted(params)}: {exc}"
        ) from exc


def _shown(name: str, value: object, lang: Lang) -> object:
    """A template field as shown: a ``*_bytes`` count as a size, anything else as given."""
    return size(value, lang) if name.endswith("_bytes") and isinstance(value, int) else value


def both(key: str, /, **params: object) -> Entry:
    """The message in every language: ``{"da": …, "en": …}``."""
    return {lang: text(key, lang, **params) for lang in LANGS}


def section(prefix: str, lang: Lang) -> dict[str, str]:
    """Every message under ``prefix.`` in ``lang`` (unfilled templates), keyed by the rest of its key."""
    start = prefix.rstrip(".") + "."
    return {key[len(start) :]: entry[lang] for key, entry in catalogue().items() if key.startswith(start)}


def has(key: str) -> bool:
    """True when the catalogue holds ``key``."""
    return key in catalogue()


def accept_language(query: str | None, header: str | None) -> Lang:
    """The language of an API request: ``?lang=`` when given, else the best of ``Accept-Language``.

    Example: ``Accept-Language: en-GB,en;q=0.9,da;q=0.8`` → English; ``da, en;q=0.5`` or none → Danish.
    """
    if query:
        return lang_of(query)
    ranked: list[tuple[float, int, Lang]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, rest = item.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.strip().lower()[:2]
        if code in LANGS and quality > 0:
            ranked.append((-quality, position, lang_of(code)))
    return min(ranked)[2] if ranked else DEFAULT_LANG


def size(value: int, lang: Lang) -> str:
    """A byte count as people read it (decimal units): ``3,2 MB`` (da), ``3.2 MB`` (en), ``950 kB``."""
    units = (("digital-gigabyte", 10**9), ("digital-megabyte", 10**6), ("digital-kilobyte", 10**3))
    for unit, scale in units:
        if abs(value) >= scale:
            shown = format_unit(value / scale, unit, length="short", format="#,##0.#", locale=LOCALES[lang])
            return str(shown)
    return str(format_unit(value, "digital-byte", length="short", format="#,##0", locale=LOCALES[lang]))


def day(value: date, lang: Lang) -> str:
    """A calendar day as people write it: ``3. dec. 2026`` (da), ``3 Dec 2026`` (en)."""
    return str(format_date(value, format="medium", locale=LOCALES[lang]))


def number(value: float, lang: Lang, digits: int = 1) -> str:
    """``value`` rounded to at most ``digits`` decimals, with the language's decimal sign (``0,3``)."""
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return str(format_decimal(round(value, digits), format=pattern, locale=LOCALES[lang]))


def length(metres: float, lang: Lang) -> str:
    """A length for people: ``14 cm``, ``0,3 cm``, ``1,2 m``, ``2,4 km`` (no false precision)."""
    size = abs(metres)
    if size < 0.1:
        return f"{number(metres * 100, lang, 1)} cm"
    if size < 1.0:
        return f"{number(metres * 100, lang, 0)} cm"
    if size < 1000.0:
        return f"{number(metres, lang, 1)} m"
    return f"{number(metres / 1000.0, lang, 1)} km"
