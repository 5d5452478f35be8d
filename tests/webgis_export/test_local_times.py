"""What people read about a layer's date (GetFeatureInfo HTML, /layers, the viewer) is in Copenhagen time."""

from __future__ import annotations

from datetime import UTC, datetime

from core.workspace import Workspace
from dronegis.api.ogc import layer_summary
from tests.webgis_export.published import CAPTURE, NOW
from webgis_export.models import Layer
from webgis_export.ogc.featureinfo import layer_info


def test_layer_dates_in_copenhagen(published: tuple[Workspace, dict[str, Layer]]) -> None:
    _, layers = published
    ortho = layers["orthophoto"]
    assert ortho.time_start == CAPTURE == datetime(2026, 2, 10, 5, 30, tzinfo=UTC)
    info = layer_info(ortho, [1.0, 2.0, 3.0])
    assert info["captured"] == "2026-02-10T05:30:00+00:00"  # machine-readable: UTC
    assert info["captured_local"] == "2026-02-10 06:30:00 CET"  # for people: Copenhagen
    summary = layer_summary(ortho, "http://127.0.0.1", NOW, None)
    assert summary["captured_local"] == "2026-02-10 06:30:00 CET" and summary["capture_start"].startswith(
        "2026-02-10T05:30"
    )
