"""QGIS 3.22 (Debian's python3-qgis, offscreen) loads the demo's layers by WMTS in View1 and
WebMercatorQuad and by WMS 1.3.0, and draws them where the server's own GetMap draws them.

The rendered PNGs are kept in test-artifacts/qgis/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from demo_site import RGB, THERMAL, TOKEN, DemoSite, rgba
from qgis_client import render_in_qgis, require_qgis
from svc_helpers import REPO

from webgis_export.service import bounds_in

pytestmark = [pytest.mark.network, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts" / "qgis"
SERVICES = {  # job suffix: (CRS the map is drawn in, WMTS matrix set or None for WMS)
    "wmts-view1": ("EPSG:25832", "View1"),
    "wmts-webmercatorquad": ("EPSG:3857", "WebMercatorQuad"),
    "wms": ("EPSG:25832", None),
}
WIDTH = 512


def _uri(site: DemoSite, layer_id: str, crs: str, matrix_set: str | None) -> str:
    """QGIS's ``wms`` provider URI, as QGIS's own data source manager writes it."""
    layer = site.layers[layer_id]
    token = f"?token={TOKEN}" if layer.access == "internal" else ""
    fmt = "image/jpeg" if layer.tile_format == "jpeg" else "image/png"
    if matrix_set is None:
        return f"crs={crs}&format=image/png&layers={layer_id}&styles=&url={site.url}/wms{token}"
    return (
        f"contextualWMSLegend=0&crs={crs}&dpiMode=7&format={fmt}&layers={layer_id}&styles=default"
        f"&tileMatrixSet={matrix_set}&url={site.url}/wmts/1.0.0/WMTSCapabilities.xml{token}"
    )


def _jobs(site: DemoSite) -> list[dict[str, Any]]:
    jobs = []
    for layer_id in (THERMAL, RGB):
        layer = site.layers[layer_id]
        for suffix, (crs, matrix_set) in SERVICES.items():
            left, bottom, right, top = bounds_in(layer.crs, layer.bounds, crs)
            pad = 0.1 * max(right - left, top - bottom)
            extent = [left - pad, bottom - pad, right + pad, top + pad]
            height = round(WIDTH * (extent[3] - extent[1]) / (extent[2] - extent[0]))
            jobs.append(
                {
                    "name": f"{layer_id}-{suffix}",
                    "uri": _uri(site, layer_id, crs, matrix_set),
                    "crs": crs,
                    "extent": extent,
                    "width": WIDTH,
                    "height": height,
                }
            )
    return jobs


@pytest.fixture(scope="module")
def rendered(demo_site: DemoSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    home = tmp_path_factory.mktemp("qgis-home")
    version = require_qgis(home)
    assert version.startswith("3."), version
    return render_in_qgis(_jobs(demo_site), ARTIFACTS, home)


@pytest.mark.parametrize("layer_id", [THERMAL, RGB])
@pytest.mark.parametrize("service", list(SERVICES))
def test_qgis_loads_and_draws(
    demo_site: DemoSite, rendered: dict[str, dict[str, Any]], layer_id: str, service: str
) -> None:
    result = rendered[f"{layer_id}-{service}"]
    assert result["valid"], result
    assert result["render_errors"] == []
    crs = SERVICES[service][0]
    layer = demo_site.layers[layer_id]
    assert result["layer_crs"] == crs
    # the layer's extent as QGIS read it from the capabilities
    assert result["layer_extent"] == pytest.approx(list(bounds_in(layer.crs, layer.bounds, crs)), abs=0.01)
    got = rgba(Path(result["png"]).read_bytes())
    height, width = got.shape[:2]
    assert width == WIDTH
    drawn = got[..., 3] > 0
    assert 0.3 < drawn.mean() < 0.95  # the layer with a margin of empty map around it
    assert len(np.unique(got[..., :3][drawn], axis=0)) > 50  # real pixels, not one colour
    expected = demo_site.getmap(layer_id, crs, result["visible_extent"], (width, height))
    wanted = expected[..., 3] > 0
    covered = (drawn & wanted).sum() / wanted.sum()
    assert covered > 0.97, f"{result['name']}: drawn in the wrong place ({covered:.3f} of the layer)"
    near = cv2.dilate(wanted.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # resampling blurs edges
    stray = (drawn & ~near).sum()
    # JPEG has no alpha: QGIS draws the white fill of edge tiles around a JPEG layer (PNG tiles are exact)
    assert stray == 0 or (layer.tile_format == "jpeg" and service != "wms"), f"{stray} px outside the layer"
    difference = np.abs(got[..., :3].astype(int) - expected[..., :3].astype(int))[drawn & wanted]
    assert difference.mean() < 6, f"{result['name']}: colours differ by {difference.mean():.1f}"
