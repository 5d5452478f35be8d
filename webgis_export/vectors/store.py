"""The published vector layers as the service sees them: ``publish/collections.json``.

:class:`VectorStore` re-reads the list when it changes (a publish or unpublish while the
server runs). Access control happens in the caller, as for raster layers: :meth:`visible`
and :meth:`get` take whether the caller may see internal layers, and an internal layer is
answered exactly like an unknown one.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from core.errors import LayerNotFound
from core.workspace import Workspace
from webgis_export.vectors.models import VectorLayer

log = logging.getLogger(__name__)


def load_vector_layers(workspace: Workspace) -> list[VectorLayer]:
    """Every published vector layer (empty when none was published)."""
    path = workspace.collections_json
    if not path.exists():
        return []
    return [VectorLayer.model_validate(doc) for doc in json.loads(path.read_text(encoding="utf-8"))]


class VectorStore:
    """Published vector layers of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._layers: dict[str, VectorLayer] = {}

    def _reload(self) -> None:
        path = self.workspace.collections_json
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            layers = load_vector_layers(self.workspace) if stamp != (0, 0) else []
            self._layers = {layer.id: layer for layer in layers}
            self._stamp = stamp
            log.info("loaded %d published vector layers from %s", len(layers), path)

    def layers(self) -> list[VectorLayer]:
        """Every published vector layer, in publication order."""
        self._reload()
        return list(self._layers.values())

    def visible(self, internal: bool) -> list[VectorLayer]:
        """Layers a caller may see: public ones, plus internal ones when ``internal``."""
        return [layer for layer in self.layers() if internal or layer.access == "public"]

    def find(self, layer_id: str, internal: bool) -> VectorLayer | None:
        """The visible layer ``layer_id``, or ``None``."""
        self._reload()
        layer = self._layers.get(layer_id)
        if layer is None or (layer.access == "internal" and not internal):
            return None
        return layer

    def get(self, layer_id: str, internal: bool) -> VectorLayer:
        """One visible layer.

        Raises:
            LayerNotFound: unknown id, or an internal layer without permission (the same answer).
        """
        layer = self.find(layer_id, internal)
        if layer is None:
            raise LayerNotFound(f"no feature collection {layer_id!r}")
        return layer

    def path(self, layer: VectorLayer) -> Path:
        """The layer's published GeoPackage."""
        return self.workspace.publish / layer.gpkg
