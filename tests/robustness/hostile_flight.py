"""Builders of hostile deliveries: names and contents an adversary (or an old FAT tool) hands in.

Every builder writes beside good frames of the generated sample flight, so a test can check that
the bad file is reported and the rest of the flight still goes through.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

#: ``billede_æøå.JPG`` as old Windows/FAT tools write Danish letters: Latin-1 bytes, not UTF-8.
LATIN1_NAME = "billede_æøå.JPG".encode("latin-1")
#: A name of exactly NAME_MAX (255) bytes.
LONG_NAME = "L" * 251 + ".JPG"
SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2})


def raw_path(folder: Path, name: bytes) -> bytes:
    """The bytes path of ``name`` inside ``folder`` (names that are not UTF-8 stay bytes)."""
    return os.fsencode(folder) + b"/" + name


def write_raw(folder: Path, name: bytes, data: bytes) -> None:
    """Write ``data`` under a bytes file name."""
    with open(raw_path(folder, name), "wb") as handle:
        handle.write(data)


def with_tail(jpeg: bytes, tag: str) -> bytes:
    """The same image with a trailer after EOI: other bytes (another sha256), same pixels."""
    return jpeg + tag.encode()


def header_bomb(jpeg: bytes, width: int = 60_000, height: int = 60_000) -> bytes:
    """The JPEG with its frame header (SOF) claiming ``width`` x ``height`` pixels; file size unchanged."""
    pos = 2
    while pos < len(jpeg):
        marker = jpeg[pos + 1]
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        if marker in SOF_MARKERS:
            body = pos + 4
            return jpeg[: body + 1] + struct.pack(">HH", height, width) + jpeg[body + 5 :]
        pos += 2 + length
    raise AssertionError("no SOF segment")


def exif_date(jpeg: bytes, old: str, new: str) -> bytes:
    """The JPEG with every EXIF date ``old`` (``YYYY:MM:DD HH:MM:SS``) replaced by ``new`` (same length)."""
    assert len(old) == len(new)
    patched = jpeg.replace(old.encode(), new.encode())
    assert patched != jpeg, f"{old} not in the EXIF"
    return patched


def all_nan_dsm(path: Path, east: float, north: float) -> Path:
    """A georeferenced float32 DSM (EPSG:25832, 0.5 m) whose every pixel is NaN."""
    profile = {
        "driver": "GTiff",
        "width": 32,
        "height": 32,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(east, north, 0.5, 0.5),
        "nodata": float("nan"),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, 32, 32), np.nan, np.float32))
    return path


def bare_cr_checkpoints(path: Path, points: list[tuple[str, float, float, float]]) -> Path:
    """A surveyor's check-point CSV (name, latitude, longitude, elevation) with bare-CR line ends."""
    rows = ["name,latitude,longitude,elevation"]
    rows += [f"{name},{lat:.9f},{lon:.9f},{z:.3f}" for name, lat, lon, z in points]
    path.write_bytes(("\r".join(rows) + "\r").encode())
    return path
