"""Load vector layers in QGIS through its OAPIF and WFS providers (run by the system ``/usr/bin/python3``).

Not a test module: :func:`tests.dronegis.qgis_client.vectors_in_qgis` runs it in a subprocess with
Debian's ``python3-qgis`` (offscreen). It imports nothing from the project.

Input (JSON on stdin): ``{"profile": "/empty/dir", "jobs": [{"name": "...", "uri": "<provider URI>",
"provider": "OAPIF" | "WFS"}]}``. Output (JSON on stdout): per job ``valid``, ``error``,
``feature_count`` (what the provider reports), ``features`` (counted by iterating),
``crs``, ``fields`` and ``keys`` (the values of the job's ``key`` attribute, sorted, as text).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import Qgis, QgsApplication, QgsErrorMessage, QgsVectorLayer  # noqa: E402


def load(job: dict[str, Any], messages: list[str]) -> dict[str, Any]:
    """Load one layer, count its features, read their attributes."""
    messages.clear()
    layer = QgsVectorLayer(job["uri"], job["name"], job["provider"])
    result: dict[str, Any] = {"name": job["name"], "valid": layer.isValid()}
    if not layer.isValid():
        result["error"] = layer.error().message(QgsErrorMessage.Text)
        result["messages"] = list(messages)
        return result
    rows = []
    for feature in layer.getFeatures():
        rows.append({name: feature[name] for name in layer.fields().names()})
    result.update(
        feature_count=layer.featureCount(),
        features=len(rows),
        crs=layer.crs().authid(),
        fields=layer.fields().names(),
        keys=sorted(str(row.get(job["key"])) for row in rows),
    )
    return result


def main() -> int:
    """Read the jobs from stdin, load them, print the results as JSON."""
    request = json.load(sys.stdin)
    app = QgsApplication([], False, request["profile"])
    app.initQgis()
    messages: list[str] = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda text, tag, level: messages.append(f"{tag}: {text}")
    )
    try:
        results = [load(job, messages) for job in request["jobs"]]
    finally:
        app.exitQgis()
    json.dump({"qgis_version": Qgis.QGIS_VERSION, "results": results}, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
