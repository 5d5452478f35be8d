"""GDAL's WMTS and WMS drivers and owslib read the demo's capabilities and fetch tiles and maps.

Pixels are compared with the server's own WMS GetMap of the same box and size (whose pixels
tests/dronegis/test_api_ogc.py compares with the COG itself).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import rasterio
from demo_site import RGB, THERMAL, TOKEN, DemoSite, rgba
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import from_bounds

from webgis_export.service import bounds_in
from webgis_export.tms import get_tms, zoom_for_gsd

pytestmark = [pytest.mark.network, pytest.mark.slow]
MATRIX_SETS = {"View1": "EPSG:25832", "WebMercatorQuad": "EPSG:3857"}


@pytest.fixture(autouse=True)
def gdal_without_cache() -> Iterator[None]:
    """GDAL's WMS/WMTS drivers keep a tile cache on disk; tiles must come from this server."""
    with rasterio.Env(GDAL_ENABLE_WMS_CACHE="NO", GDAL_HTTP_TIMEOUT="60"):
        yield


def _query(site: DemoSite, layer_id: str) -> str:
    return f"?token={TOKEN}" if site.layers[layer_id].access == "internal" else ""


def _centre_box(site: DemoSite, layer_id: str, crs: str, fraction: float = 0.4) -> tuple[float, ...]:
    """A square around the layer's centre, ``fraction`` of its smaller side, in ``crs``."""
    left, bottom, right, top = bounds_in(site.layers[layer_id].crs, site.layers[layer_id].bounds, crs)
    half = fraction * min(right - left, top - bottom) / 2
    x, y = (left + right) / 2, (bottom + top) / 2
    return (x - half, y - half, x + half, y + half)


@pytest.mark.parametrize("matrix_set", list(MATRIX_SETS))
@pytest.mark.parametrize("layer_id", [THERMAL, RGB])
def test_gdal_wmts_driver_reads_both_matrix_sets(demo_site: DemoSite, layer_id: str, matrix_set: str) -> None:
    crs = MATRIX_SETS[matrix_set]
    caps = f"{demo_site.url}/wmts/1.0.0/WMTSCapabilities.xml{_query(demo_site, layer_id)}"
    with rasterio.open(f"WMTS:{caps},layer={layer_id},tilematrixset={matrix_set}") as src:
        assert f"EPSG:{src.crs.to_epsg()}" == crs
        box = _centre_box(demo_site, layer_id, crs)
        # the layer's extent as GDAL read it from the capabilities, on its pixel grid
        layer = demo_site.layers[layer_id]
        expected_bounds = bounds_in(layer.crs, layer.bounds, crs)
        assert list(src.bounds) == pytest.approx(list(expected_bounds), abs=src.res[0])
        data = src.read(window=from_bounds(*box, src.transform), out_shape=(src.count, 128, 128))
    got = np.moveaxis(data, 0, -1)[..., :3].astype(int)
    expected = demo_site.getmap(layer_id, crs, box, (128, 128))
    assert (expected[..., 3] == 255).all()  # the box lies inside the layer
    assert len(np.unique(got.reshape(-1, 3), axis=0)) > 20  # real pixels
    assert np.abs(got - expected[..., :3].astype(int)).mean() < 6  # tiles resampled by GDAL, JPEG q85


def _drawable(site: DemoSite) -> set[str]:
    """The published vector layers with features: WMS and WMTS draw them."""
    return {layer_id for layer_id, layer in site.vectors.items() if layer.feature_count}


def test_gdal_wms_driver_reads_the_capabilities(demo_site: DemoSite) -> None:
    caps = f"WMS:{demo_site.url}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities&token={TOKEN}"
    with warnings.catch_warnings():  # the listing itself is a dataset without a geotransform
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(caps) as listing:
            subdatasets = listing.subdatasets
    names = {url.split("LAYERS=")[1].split("&")[0]: url for url in subdatasets if "LAYERS=" in url}
    # vector layers are drawn in WMS too, those with features (the demo's hot spots layer may be empty)
    assert set(names) == set(demo_site.layers) | _drawable(demo_site)
    url = names[THERMAL]
    assert "CRS=EPSG:25832" in url or "CRS=CRS:84" in url or "CRS=EPSG:4326" in url, url
    with rasterio.open(url) as src:
        assert src.count >= 3
        layer = demo_site.layers[THERMAL]
        box = bounds_in(layer.crs, _centre_box(demo_site, THERMAL, layer.crs), src.crs.to_string())
        data = src.read([1, 2, 3], window=from_bounds(*box, src.transform), out_shape=(3, 64, 64))
    assert len(np.unique(np.moveaxis(data, 0, -1).reshape(-1, 3), axis=0)) > 10


def test_owslib_reads_both_capabilities_and_fetches(demo_site: DemoSite) -> None:
    from owslib.wms import WebMapService
    from owslib.wmts import WebMapTileService

    headers = {"Authorization": f"Bearer {TOKEN}"}
    wmts = WebMapTileService(f"{demo_site.url}/wmts/1.0.0/WMTSCapabilities.xml", headers=headers)
    assert set(wmts.contents) == set(demo_site.layers) | _drawable(demo_site)  # vectors as tiles too
    assert {"View1", "WebMercatorQuad"} <= set(wmts.tilematrixsets)
    layer = demo_site.layers[THERMAL]
    west, south, east, north = layer.bounds_wgs84
    for matrix_set in MATRIX_SETS:
        z = zoom_for_gsd(matrix_set, layer.gsd_m, latitude=(south + north) / 2)
        tile = get_tms(matrix_set).tile((west + east) / 2, (south + north) / 2, z)
        got = rgba(
            wmts.gettile(
                layer=THERMAL,
                tilematrixset=matrix_set,
                tilematrix=str(z),
                row=tile.y,
                column=tile.x,
                format="image/png",
            ).read()
        )
        assert got.shape == (256, 256, 4) and (got[..., 3] > 0).mean() > 0.2, matrix_set
        bounds = get_tms(matrix_set).xy_bounds(tile)
        expected = demo_site.getmap(THERMAL, MATRIX_SETS[matrix_set], tuple(bounds), (256, 256))
        np.testing.assert_array_equal(got[..., 3] > 0, expected[..., 3] > 0)
    wms = WebMapService(f"{demo_site.url}/wms", version="1.3.0", headers=headers, timeout=60)
    assert set(wms.contents) == set(demo_site.layers) | _drawable(demo_site)
    box = _centre_box(demo_site, RGB, "EPSG:25832")
    image = wms.getmap(
        layers=[RGB],
        styles=[""],
        srs="EPSG:25832",
        bbox=box,
        size=(64, 64),
        format="image/png",
        transparent=True,
    )
    np.testing.assert_array_equal(rgba(image.read()), demo_site.getmap(RGB, "EPSG:25832", box, (64, 64)))
