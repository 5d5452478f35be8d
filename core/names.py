"""File names any file system can hold, and text that any writer can encode.

A delivered name may be up to ``NAME_MAX`` (255) bytes, and need not be UTF-8 (an old FAT tool
writes ``billede_æøå.JPG`` in Latin-1). Python keeps such bytes as lone surrogates
(``os.fsdecode``), which no UTF-8 writer, JSON encoder or C library accepts. The rules here:

- :func:`printable` turns text holding such surrogates into plain UTF-8 text, the bytes shown as
  ``\\xNN`` escapes (as :mod:`flights.scan` names the files) — for messages, reasons and logs;
- :func:`fit_name` / :func:`fit_path` give the name a copy or a product is stored under: the name
  itself when it fits in ``NAME_MAX`` bytes, else a shortened stem with a hash of the whole name and
  the suffix kept (``<stem…>~<16 hex>.JPG``), so a derived name (``<stem>_celsius.tif``, a
  temporary ``.<name>.<random>.dronegis-tmp``) never exceeds the limit and two long names never
  meet.

Example:
    >>> printable("billede_\\udce6.JPG")
    'billede_\\\\xe6.JPG'
    >>> fit_name("a.tif")
    'a.tif'
    >>> len(fit_name("L" * 300 + ".JPG").encode())
    255
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

NAME_MAX = 255
#: Suffixes longer than this are not kept whole when a name is shortened.
MAX_SUFFIX = 16
HASH_CHARS = 16


def printable(text: str) -> str:
    """``text`` with every surrogate-escaped byte (a name that was not UTF-8) shown as ``\\xNN``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def fit_name(name: str, limit: int = NAME_MAX) -> str:
    """``name`` when it fits in ``limit`` bytes (UTF-8), else a shortened name that does.

    The shortened name keeps as much of the stem as fits, then ``~`` and 16 hex digits of the
    sha256 of the whole name, then the suffix (when it is short), so it is unique and still
    opens with the right program.
    """
    name = printable(name)
    raw = name.encode("utf-8")
    if len(raw) <= limit:
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix.encode("utf-8")) > MAX_SUFFIX:
        suffix = ""
    tag = "~" + hashlib.sha256(raw).hexdigest()[:HASH_CHARS] + suffix
    room = max(0, limit - len(tag.encode("utf-8")))
    stem = name[: len(name) - len(suffix)] if suffix else name
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return cut + tag


def fit_path(relpath: str) -> str:
    """``relpath`` (POSIX) with every component passed through :func:`fit_name`."""
    parts = PurePosixPath(relpath).parts
    fitted = [fit_name(part) for part in parts]
    return relpath if fitted == list(parts) else "/".join(fitted)
