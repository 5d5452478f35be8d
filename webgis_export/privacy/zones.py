"""The privacy zones: read once per publication, reprojected per raster, fingerprinted.

Zones come from any vector file pyogrio reads, in any CRS, through the zonal room's polygon
reader (:func:`pipeline.zonal.read_polygons`). A feature that cannot be used (no geometry,
not a polygon) stops publication: a zone silently left out would publish what it protects.
The fingerprint is the sha256 of the zones' normalised geometries in EPSG:4326, so the same
zones saved in another format or CRS keep it, and any moved vertex changes it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import numpy as np
import shapely
from pydantic import ConfigDict
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from core.errors import PolygonLayerError, PrivacyZoneError
from core.models import Frozen
from pipeline.zonal import ProblemCode, read_polygons

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: Longest zone edge (degrees, ~7-11 m) before reprojection, so curved edges stay close.
SEGMENT_DEG = 1e-4
#: Vertices are rounded to this (degrees, ~0.1 mm) before fingerprinting.
PRECISION_DEG = 1e-9
UNUSABLE = frozenset({ProblemCode.EMPTY, ProblemCode.NOT_POLYGON})


class PrivacyZones(Frozen):
    """The zones of one file: their union in EPSG:4326 and its fingerprint."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    source: Path
    count: int
    fingerprint: str
    geometry: BaseGeometry

    def geometry_in(self, crs: str) -> BaseGeometry:
        """The zones in ``crs`` (its horizontal part for a compound CRS such as EPSG:7416)."""
        target = horizontal(crs)
        if target == CRS.from_user_input(WGS84):
            return self.geometry
        transformer = Transformer.from_crs(WGS84, target, always_xy=True)

        def move(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack((x, y))

        return shapely.transform(shapely.segmentize(self.geometry, SEGMENT_DEG), move)


def horizontal(crs: str) -> CRS:
    """The horizontal CRS of ``crs`` (the first part of a compound CRS)."""
    parsed = CRS.from_user_input(crs)
    return parsed.sub_crs_list[0] if parsed.is_compound else parsed


def load_zones(path: Path) -> PrivacyZones:
    """Read the zones of ``path``.

    Raises:
        PrivacyZoneError: the file cannot be read, has no CRS, holds no zone, or a feature
            that is not a usable polygon (named by position and id).
    """
    try:
        layer = read_polygons(path, crs=WGS84)
    except PolygonLayerError as exc:
        raise PrivacyZoneError(f"privacy zones {path}: {exc}") from exc
    for feature in layer.features:
        bad = [p.message for p in feature.problems if p.code in UNUSABLE]
        if bad or feature.geometry is None:
            reason = "; ".join(bad) or "no geometry"
            raise PrivacyZoneError(
                f"privacy zones {path}: feature {feature.index} (id {feature.id!r}) is not a usable polygon "
                f"({reason}); fix or remove it — publication stops rather than leave a zone unmasked"
            )
    geometries = [f.geometry for f in layer.features if f.geometry is not None]
    if not geometries:
        raise PrivacyZoneError(f"privacy zones {path}: the file holds no polygon")
    return PrivacyZones(
        source=path,
        count=len(geometries),
        fingerprint=fingerprint(geometries),
        geometry=shapely.union_all(geometries),
    )


def fingerprint(geometries: list[BaseGeometry]) -> str:
    """sha256 of the normalised, rounded geometries (EPSG:4326), independent of their order."""
    blobs = sorted(
        shapely.to_wkb(shapely.normalize(shapely.set_precision(g, PRECISION_DEG)), output_dimension=2)
        for g in geometries
    )
    digest = hashlib.sha256()
    for blob in blobs:
        digest.update(len(blob).to_bytes(8, "big") + blob)
    return digest.hexdigest()


class ZoneWatch:
    """The zones of a file as they are now, re-read only when the file changes (the service's view).

    :meth:`current` answers ``(fingerprint, error)``: the fingerprint of the zones (None when
    no file is configured), or the error that keeps them from being read — then every layer
    published with zones is withheld, because nobody can tell what the new zones cover.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._state: tuple[str | None, str | None] = (None, None)

    def current(self) -> tuple[str | None, str | None]:
        """(fingerprint, None) when the zones are readable, (None, message) when they are not."""
        if self.path is None:
            return None, None
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            return None, f"privacy zones {self.path} cannot be read: {exc.strerror or exc}"
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._state = (load_zones(self.path).fingerprint, None)
                except PrivacyZoneError as exc:
                    log.error("%s", exc)
                    self._state = (None, str(exc))
                self._stamp = stamp
            return self._state
