"""Fixtures for the publishing tests: one flight published once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.workspace import Workspace
from tests.webgis_export.published import NOW, make_flight
from tests.webgis_export.vector_data import FLIGHT, vector_flight
from webgis_export.models import Layer
from webgis_export.publish import publish
from webgis_export.vectors.models import VectorLayer


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Workspace, dict[str, Layer]]:
    """A workspace with a flight published: orthophoto (public), thermal and DTM (internal)."""
    ws = Workspace.at(tmp_path_factory.mktemp("published") / "ws")
    products = make_flight(ws, data_dir)
    layers = {}
    for product in products:
        access = "public" if product.kind.value in ("orthophoto", "dtm") else "internal"
        for layer in publish(ws, product.id, access=access, now=NOW, pyramid_processes=1):  # type: ignore[arg-type]
            layers[layer.kind.value] = layer
    return ws, layers


@pytest.fixture(scope="session")
def vectors_published(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path
) -> tuple[Workspace, dict[str, VectorLayer]]:
    """A workspace with one flight's vector products published (buildings, hot spots, footprints; public)."""
    ws = Workspace.at(tmp_path_factory.mktemp("vectors") / "ws")
    vector_flight(ws, data_dir)
    layers = publish(ws, FLIGHT, access="public", now=NOW, pyramid_processes=1)
    return ws, {layer.kind.value: layer for layer in layers if isinstance(layer, VectorLayer)}
