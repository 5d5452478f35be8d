"""Load OGC layers in QGIS and render each to a PNG (run by the system ``/usr/bin/python3``).

Not a test module: :func:`tests.dronegis.qgis_client.render_in_qgis` runs it in a subprocess
with Debian's ``python3-qgis`` (offscreen), because QGIS's bindings belong to the system Python,
not to the project's venv. It imports nothing from the project.

Input (JSON on stdin)::

    {"out": "/dir", "profile": "/empty/dir", "jobs": [{"name": "...", "uri": "<QGIS wms provider URI>",
                              "crs": "EPSG:25832", "extent": [xmin, ymin, xmax, ymax],
                              "width": 512, "height": 512}]}

Output (JSON on stdout): per job ``valid``, ``error`` (the provider's message when the layer
is invalid), ``layer_crs``, ``layer_extent``, ``visible_extent`` (what was drawn, after QGIS
fitted the extent to the image's aspect), ``png`` and ``render_errors``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402 - the platform must be set before Qt loads
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsErrorMessage,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QSize, Qt


def _box(rect: QgsRectangle) -> list[float]:
    return [rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()]


def render(job: dict[str, Any], out: Path, messages: list[str]) -> dict[str, Any]:
    """Load one layer through the ``wms`` provider (WMS and WMTS) and draw it to ``out/<name>.png``."""
    messages.clear()
    layer = QgsRasterLayer(job["uri"], job["name"], "wms")
    result: dict[str, Any] = {"name": job["name"], "valid": layer.isValid()}
    if not layer.isValid():
        result["error"] = layer.error().message(QgsErrorMessage.Text)
        result["messages"] = list(messages)
        return result
    result["layer_crs"] = layer.crs().authid()
    result["layer_extent"] = _box(layer.extent())
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(job["crs"]))
    settings.setExtent(QgsRectangle(*job["extent"]))
    settings.setOutputSize(QSize(job["width"], job["height"]))
    settings.setBackgroundColor(Qt.transparent)
    settings.setOutputDpi(96)
    renderer = QgsMapRendererParallelJob(settings)
    renderer.start()
    renderer.waitForFinished()
    image = renderer.renderedImage()
    png = out / f"{job['name']}.png"
    image.save(str(png), "PNG")
    result["visible_extent"] = _box(settings.visibleExtent())
    result["png"] = str(png)
    result["render_errors"] = [f"{e.layerID}: {e.message}" for e in renderer.errors()]
    return result


def main() -> int:
    """Read the jobs from stdin, render them, print the results as JSON."""
    request = json.load(sys.stdin)
    out = Path(request["out"])
    out.mkdir(parents=True, exist_ok=True)
    # a fresh profile: QGIS caches capabilities on disk, and an old document must not answer
    app = QgsApplication([], False, request["profile"])
    app.initQgis()
    messages: list[str] = []  # QGIS's message log: the provider's reasons for an invalid layer
    QgsApplication.messageLog().messageReceived.connect(
        lambda text, tag, level: messages.append(f"{tag}: {text}")
    )
    try:
        results = [render(job, out, messages) for job in request["jobs"]]
    finally:
        app.exitQgis()
    json.dump({"qgis_version": Qgis.QGIS_VERSION, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
