"""Which published layers the service must withhold, and why.

A layer is withheld (answered exactly like an unknown layer: 404, absent from capabilities,
``/layers``, STAC and the feature collections) when

- it was published under other privacy zones than the configured ones (its ``privacy.json``
  names another fingerprint, or none): its pixels may show what the zones now protect, until
  ``dronegis publish --remask`` re-masks it;
- the configured zones cannot be read: nobody can tell what they cover, so every layer is held;
- its flight is being erased (an erasure journal names it): from the journal's first write on,
  the whole flight is gone for every reader, so a SIGKILL mid-erasure never leaves half a flight
  published.

Checks are cheap: the zones file and the erasure folder are re-read only when their stat changes,
a layer's stamp once per publication (``layers.json`` and ``collections.json`` change with every
one).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import NamedTuple, Protocol

from core.workspace import Workspace
from webgis_export.privacy.models import STAMP_NAME, PrivacyStamp
from webgis_export.privacy.zones import ZoneWatch
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.store import VectorStore

log = logging.getLogger(__name__)

JOURNAL_SUFFIX = ".journal.json"


class Published(Protocol):
    """What the gate reads of a raster or vector layer."""

    @property
    def id(self) -> str:
        """The layer id."""

    @property
    def flight(self) -> str:
        """The flight it was published from."""


def read_stamp(folder: Path) -> PrivacyStamp:
    """The ``privacy.json`` of a published layer folder (a layer published before privacy: no zones)."""
    path = folder / STAMP_NAME
    if not path.exists():
        return PrivacyStamp()
    return PrivacyStamp.model_validate_json(path.read_text(encoding="utf-8"))


def flights_under_erasure(workspace: Workspace) -> frozenset[str]:
    """Flights named by an erasure journal (an erasure begun and not finished)."""
    folder = workspace.erasures
    if not folder.exists():
        return frozenset()
    flights = set()
    for journal in folder.glob(f"*{JOURNAL_SUFFIX}"):
        try:
            flights.add(str(json.loads(journal.read_text(encoding="utf-8"))["flight"]))
        except (OSError, ValueError, KeyError) as exc:
            log.error("erasure journal %s is unreadable (%s); run dronegis erase again", journal, exc)
    return frozenset(flights)


class PublicationGate:
    """The service's view of privacy: zones now, erasures under way, each layer's stamp."""

    def __init__(self, workspace: Workspace, zones: Path | None) -> None:
        self.workspace = workspace
        self.zones = ZoneWatch(zones)
        self._lock = threading.Lock()
        self._erasures: tuple[int | None, frozenset[str]] = (None, frozenset())
        self._stamps: dict[tuple[str, int, int], PrivacyStamp] = {}

    def erasing(self) -> frozenset[str]:
        """Flights whose erasure is under way (re-read when the erasure folder changes)."""
        try:
            mtime: int | None = self.workspace.erasures.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        with self._lock:
            if mtime != self._erasures[0]:
                self._erasures = (mtime, flights_under_erasure(self.workspace))
            return self._erasures[1]

    def version(self) -> tuple[int, int]:
        """The publication's version: every (re)publication rewrites both lists."""
        stamps = []
        for path in (self.workspace.layers_json, self.workspace.collections_json):
            try:
                stamps.append(path.stat().st_mtime_ns)
            except FileNotFoundError:
                stamps.append(0)
        return stamps[0], stamps[1]

    def snapshot(self) -> Snapshot:
        """The state to judge layers by now: erasures, zones and publication version, read once."""
        current, error = self.zones.current()
        return Snapshot(self, self.erasing(), current, error, self.version())

    def stamp(self, layer: Published, version: tuple[int, int]) -> PrivacyStamp:
        """The layer's privacy stamp (read once per publication version)."""
        key = (layer.id, *version)
        with self._lock:
            found = self._stamps.get(key)
        if found is None:
            found = read_stamp(self.workspace.published_layer(layer.id))
            with self._lock:
                if len(self._stamps) > 10_000:
                    self._stamps.clear()
                self._stamps[key] = found
        return found

    def withheld(self, layer: Published) -> str | None:
        """Why the layer is withheld now, or None when it may be served."""
        return self.snapshot().withheld(layer)

    def allows(self, layer: Published) -> bool:
        """True when the layer may be served."""
        return self.withheld(layer) is None


class Snapshot(NamedTuple):
    """The gate's state at one moment, to judge many layers with a few stats."""

    gate: PublicationGate
    erasing: frozenset[str]
    zones: str | None
    error: str | None
    version: tuple[int, int]

    def withheld(self, layer: Published) -> str | None:
        """Why the layer is withheld, or None when it may be served."""
        if layer.flight in self.erasing:
            return f"flight {layer.flight} is being erased"
        if self.error is not None:
            return self.error
        if self.gate.stamp(layer, self.version).zones != self.zones:
            return f"layer {layer.id} was published under other privacy zones; run dronegis publish --remask"
        return None

    def allows(self, layer: Published) -> bool:
        """True when the layer may be served."""
        return self.withheld(layer) is None


class GatedVectorStore(VectorStore):
    """The published vector layers, less those the gate withholds."""

    def __init__(self, workspace: Workspace, gate: PublicationGate) -> None:
        super().__init__(workspace)
        self.gate = gate

    def layers(self) -> list[VectorLayer]:
        """Every published vector layer the gate lets through."""
        snapshot = self.gate.snapshot()
        return [layer for layer in super().layers() if snapshot.allows(layer)]

    def find(self, layer_id: str, internal: bool) -> VectorLayer | None:
        """The visible layer ``layer_id``, or None (also when withheld)."""
        layer = super().find(layer_id, internal)
        if layer is None or not self.gate.allows(layer):
            return None
        return layer

    def withheld_ids(self) -> list[str]:
        """Ids of published vector layers the gate withholds."""
        snapshot = self.gate.snapshot()
        return [layer.id for layer in super().layers() if not snapshot.allows(layer)]
