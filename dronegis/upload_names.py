"""Names of uploaded files: safe relative paths, within the file system's limits, decoded from any bytes.

A delivered name reaches the service as a URL path (PUT), a multipart ``filename`` or a
zip entry, as UTF-8 or as the bytes an old Windows/FAT tool wrote (Latin-1 ``æøå``, or
the DOS code page inside zips). Every name is decoded to text first
(:func:`decode_name`), then checked (:func:`safe_relative_path`): relative, inside the
flight folder, no control characters, every component at most ``NAME_MAX`` bytes in
UTF-8 and the whole at most ``PATH_MAX`` bytes — so that a refused name is answered
4xx before anything is written, never an ``OSError`` half-way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from core.errors import UploadError, UploadNotFound

FLIGHT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
NAME_MAX = 255
"""Most bytes of one path component (Linux ext4/xfs NAME_MAX)."""
PATH_MAX = 1024
"""Most bytes of a delivered relative path (UTF-8)."""
_DRIVE = re.compile(r"^[A-Za-z]:")


def check_flight_id(flight: str) -> str:
    """Return ``flight`` if it is a safe id (letters, digits, ``_``/``-``, at most 64)."""
    if not FLIGHT_ID.match(flight):
        raise UploadNotFound(
            f"flight id {short(flight)!r} is not allowed: use letters, digits, '_' and '-' (max 64)",
            key="flight.not_found",
            params={"flight": short(flight)},
        )
    return flight


def decode_name(raw: bytes, *, legacy: str = "latin-1") -> str:
    """A file name from its bytes: UTF-8 when they are valid UTF-8, else the ``legacy`` code page.

    Old Windows tools write Danish letters in Latin-1 (``billede_æøå.JPG`` as ``E6 F8 E5``)
    in URLs and forms, and in the DOS code page (cp850) inside zips.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(legacy)


def short(name: str, limit: int = 60) -> str:
    """``name`` for a message: at most ``limit`` characters, the middle elided."""
    return name if len(name) <= limit else f"{name[: limit // 2 - 1]}…{name[-(limit // 2 - 1) :]}"


def safe_relative_path(name: str) -> PurePosixPath:
    """A delivered file name as a safe relative POSIX path, or :class:`UploadError`.

    Refuses empty and absolute names, drive letters, ``..`` components, control characters,
    characters that cannot be stored (lone surrogates), components over ``NAME_MAX`` bytes
    and names over ``PATH_MAX`` bytes; backslashes count as separators (Windows tools).
    """
    shown = {"file": short(name)}
    if not name:
        raise UploadError("the file name is empty", key="upload.name_empty")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise UploadError(
            f"file name {short(name)!r} has control characters", key="upload.name_control", params=shown
        )
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UploadError(
            f"file name {short(name)!r} has characters that cannot be stored",
            key="upload.name_unstorable",
            params=shown,
        ) from exc
    if len(encoded) > PATH_MAX:
        raise UploadError(
            f"file name {short(name)!r} is {len(encoded)} bytes long; at most {PATH_MAX}",
            key="upload.name_too_long",
            params={**shown, "n": len(encoded), "max": PATH_MAX},
        )
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise UploadError(
            f"file name {short(name)!r} is absolute; send it relative to the flight folder",
            key="upload.name_absolute",
            params=shown,
        )
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise UploadError(
            f"file name {short(name)!r} leaves the flight folder", key="upload.name_outside", params=shown
        )
    for part in parts:
        size = len(part.encode("utf-8"))
        if size > NAME_MAX:
            raise UploadError(
                f"file name {short(name)!r}: the part {short(part, 40)!r} is {size} bytes long; "
                f"at most {NAME_MAX} per folder or file name",
                key="upload.name_part_too_long",
                params={**shown, "part": short(part, 40), "n": size, "max": NAME_MAX},
            )
    return PurePosixPath(*parts)


def tree_conflicts(paths: Iterable[PurePosixPath]) -> list[str]:
    """Names that cannot all be files at once: one is a folder of another (``a`` and ``a/b``), or repeated.

    Compared case-sensitively, as stored. Returns a sentence per conflict (empty when none).
    """
    seen: set[PurePosixPath] = set()
    found: list[str] = []
    for path in paths:
        if path in seen:
            found.append(f"{short(path.as_posix())} appears twice")
        seen.add(path)
    for path in seen:
        for parent in path.parents:
            if parent != PurePosixPath(".") and parent in seen:
                found.append(
                    f"{short(parent.as_posix())} is both a file and the folder of {short(path.as_posix())}"
                )
    return sorted(found)
