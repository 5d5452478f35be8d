"""The demo's published layers served on 127.0.0.1: what the client tests (QGIS, GDAL, owslib, links) read.

``dronegis demo --no-serve`` runs every stage on the generated sample flight; two of its
products are then published again as ``internal`` (the thermal mosaic, alone in its STAC
collection, and one RGB frame, beside public ones), so access control is part of what the
clients see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from svc_helpers import GIS, REPO, Service

from core.workspace import Workspace
from webgis_export.models import Layer
from webgis_export.publish import load_layers, publish

INTERNAL_PRODUCTS = ("skanderborg-demo-thermal-mosaic", "skanderborg-demo-frame-DJI_0006")
THERMAL = "skanderborg-demo-thermal-mosaic"  # layer ids
RGB = "skanderborg-demo-frame-dji_0001"
TOKEN = GIS


@dataclass(frozen=True)
class DemoSite:
    """The running service and the layers it publishes."""

    service: Service
    workspace: Workspace
    layers: dict[str, Layer]

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return self.service.url

    def cog(self, layer_id: str) -> Path:
        """The published COG file of a layer."""
        return self.workspace.publish / self.layers[layer_id].cog


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
    """The published layers by id."""
    return {layer.id: layer for layer in load_layers(workspace)}
