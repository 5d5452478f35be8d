"""The demo's published layers served on 127.0.0.1: what the client tests (QGIS, GDAL, owslib, links) read.

``dronegis demo --no-serve`` runs every stage on the generated sample flight; two of its
products are then published again as ``internal`` (the thermal mosaic, alone in its STAC
collection, one RGB frame beside public ones, and the photo points — a vector layer beside the
public footprints), so access control is part of what the clients see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
from svc_helpers import GIS, REPO, Service

from core.workspace import Workspace
from webgis_export.models import Layer
from webgis_export.publish import load_layers, publish
from webgis_export.vectors.models import VectorLayer
from webgis_export.vectors.store import load_vector_layers

INTERNAL_PRODUCTS = (
    "skanderborg-demo-thermal-mosaic",
    "skanderborg-demo-frame-DJI_0006",
    "skanderborg-demo-photo-points",
)
THERMAL = "skanderborg-demo-thermal-mosaic"  # layer ids
RGB = "skanderborg-demo-frame-dji_0001"
TOKEN = GIS


@dataclass(frozen=True)
class DemoSite:
    """The running service and the layers it publishes."""

    service: Service
    workspace: Workspace
    layers: dict[str, Layer]
    vectors: dict[str, VectorLayer]

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return self.service.url

    def cog(self, layer_id: str) -> Path:
        """The published COG file of a layer."""
        return self.workspace.publish / self.layers[layer_id].cog

    def getmap(self, layer_id: str, crs: str, box: Sequence[float], size: tuple[int, int]) -> np.ndarray:
        """RGBA of the server's own WMS GetMap (transparent PNG): what a client should draw there."""
        params: dict[str, str | int] = {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": layer_id,
            "STYLES": "",
            "CRS": crs,
            "BBOX": ",".join(f"{v:.6f}" for v in box),
            "WIDTH": size[0],
            "HEIGHT": size[1],
            "FORMAT": "image/png",
            "TRANSPARENT": "TRUE",
            "token": TOKEN,
        }
        response = httpx.get(f"{self.url}/wms", params=params, timeout=120)
        assert response.headers["content-type"] == "image/png", response.text[:300]
        return rgba(response.content)


def rgba(body: bytes) -> np.ndarray:
    """RGBA pixels of a PNG or JPEG; images without alpha are opaque."""
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, body[:200]
    if image.shape[2] == 3:
        image = np.dstack((image, np.full(image.shape[:2], 255, np.uint8)))
    return image[..., [2, 1, 0, 3]]


def build_demo(root: Path) -> Workspace:
    """Run the demo into ``root`` and publish :data:`INTERNAL_PRODUCTS` as internal layers."""
    env = {**os.environ, "DRONEGIS_WORKSPACE": str(root)}
    env.pop("DRONEGIS_TOKENS", None)
    result = subprocess.run(
        [sys.executable, "-c", "from dronegis.cli.main import cli; cli()", "demo", "--no-serve", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dronegis demo failed: {result.stderr[-3000:]}")
    workspace = Workspace.at(root)
    for product in INTERNAL_PRODUCTS:
        publish(workspace, product, access="internal", pyramid_processes=1)
    return workspace


def demo_layers(workspace: Workspace) -> dict[str, Layer]:
    """The published raster layers by id."""
    return {layer.id: layer for layer in load_layers(workspace)}


def demo_vectors(workspace: Workspace) -> dict[str, VectorLayer]:
    """The published vector layers (footprints, photo points) by id."""
    return {layer.id: layer for layer in load_vector_layers(workspace)}
