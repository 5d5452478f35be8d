"""A service on 127.0.0.1 publishing one flight's vector products: what the feature-service tests read.

The buildings and hot spots come from the real buildings stage on GeoDanmark footprints, the
footprints are frame rectangles with capture times (tests/webgis_export/vector_data.py).
Buildings and footprints are public; the hot spots are internal, so access control is part of
every client's view.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from svc_helpers import Service

from core.workspace import Workspace
from tests.webgis_export.vector_data import FLIGHT, vector_flight
from webgis_export.publish import publish
from webgis_export.vectors.gml import type_name
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.store import load_vector_layers

BUILDINGS, HOT_SPOTS, FOOTPRINTS = f"{FLIGHT}-buildings", f"{FLIGHT}-hot-spots", f"{FLIGHT}-footprints"
KEYS = {BUILDINGS: "id", HOT_SPOTS: "building_key", FOOTPRINTS: "image"}  # an attribute unique per feature


@dataclass(frozen=True)
class VectorSite:
    """The running service and the vector layers it publishes (by id)."""

    service: Service
    workspace: Workspace
    layers: dict[str, VectorLayer]

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return self.service.url

    def gpkg(self, layer_id: str) -> Path:
        """The published GeoPackage of a layer."""
        return self.workspace.publish / self.layers[layer_id].gpkg

    def type_name(self, layer_id: str) -> str:
        """The WFS feature type of a layer, with its namespace prefix."""
        return f"dronegis:{type_name(layer_id)}"

    @property
    def public(self) -> set[str]:
        """Ids of the public layers."""
        return {i for i, layer in self.layers.items() if layer.access == "public"}


def build_vector_site(root: Path, data_dir: Path) -> Workspace:
    """The flight's products, published: buildings and footprints public, hot spots internal."""
    workspace = Workspace.at(root)
    vector_flight(workspace, data_dir)
    publish(workspace, FLIGHT, access="public", pyramid_processes=1)
    publish(workspace, HOT_SPOTS, access="internal", pyramid_processes=1)
    return workspace


def site_layers(workspace: Workspace) -> dict[str, VectorLayer]:
    """The published vector layers by id."""
    return {layer.id: layer for layer in load_vector_layers(workspace)}
