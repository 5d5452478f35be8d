"""Real clients read the feature services on 127.0.0.1: GDAL's OAPIF and WFS drivers (pyogrio, GDAL 3.12),
Debian's ogrinfo/ogr2ogr (GDAL 3.6) and QGIS 3.22 (python3-qgis, offscreen).

Feature counts, attributes and coordinates are compared with the published GeoPackages read by
geopandas. The demo's footprints and photo points — written by the real ``process`` stage — are
read the same way.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from demo_site import TOKEN, DemoSite
from qgis_client import require_qgis, vectors_in_qgis
from svc_helpers import GIS
from vector_site import BUILDINGS, HOT_SPOTS, KEYS, VectorSite

pytestmark = [pytest.mark.network, pytest.mark.slow]
DEMO_FLIGHT = "skanderborg-demo"


def assert_same(got: gpd.GeoDataFrame, path: Path, key: str) -> None:
    """``got`` holds the features of the GeoPackage at ``path``: same count, attributes and geometry."""
    expected = gpd.read_file(path).sort_values(key).reset_index(drop=True)
    got = got.sort_values(key).reset_index(drop=True)
    assert len(got) == len(expected) > 0
    for column in (c for c in expected.columns if c != "geometry"):
        want, have = expected[column], got[column]
        if pd.api.types.is_numeric_dtype(want):
            assert np.allclose(have.astype(float), want.astype(float), equal_nan=True), column
        elif pd.api.types.is_datetime64_any_dtype(want):
            assert (pd.to_datetime(have, utc=True) == want.dt.tz_localize("UTC")).all(), column
        else:  # GML has no empty string apart from null: compare text with '' as null
            assert have.replace("", None).tolist() == want.replace("", None).tolist(), column
    shapes = got.to_crs(expected.crs).geometry.values
    assert shapely.equals_exact(shapes, expected.geometry.values, 1e-6).all()


def test_gdal_oapif_driver_lists_and_reads_the_collections(vector_site: VectorSite) -> None:
    url = f"OAPIF:{vector_site.url}/ogcapi"
    assert {str(name) for name, _ in pyogrio.list_layers(url)} == vector_site.public
    with_token = f"{url}?token={GIS}"
    assert {str(name) for name, _ in pyogrio.list_layers(with_token)} == set(vector_site.layers)
    for layer_id, layer in vector_site.layers.items():
        info = pyogrio.read_info(with_token, layer=layer_id, force_feature_count=True)
        assert info["features"] == layer.feature_count
        assert info["crs"] == "EPSG:25832"  # GDAL reads storageCrs and asks for it (Part 2)
        frame = pyogrio.read_dataframe(with_token, layer=layer_id)
        assert_same(frame, vector_site.gpkg(layer_id), KEYS[layer_id])


def test_gdal_wfs_driver_lists_and_reads_the_feature_types(vector_site: VectorSite) -> None:
    url = f"WFS:{vector_site.url}/wfs"
    names = {vector_site.type_name(i): i for i in vector_site.layers}
    public = {name for name, i in names.items() if i in vector_site.public}
    assert {str(name) for name, _ in pyogrio.list_layers(url)} == public
    with_token = f"WFS:{vector_site.url}/wfs?token={GIS}"
    assert {str(name) for name, _ in pyogrio.list_layers(with_token)} == set(names)
    for name, layer_id in names.items():
        info = pyogrio.read_info(with_token, layer=name, force_feature_count=True)
        assert info["features"] == vector_site.layers[layer_id].feature_count and info["crs"] == "EPSG:25832"
        frame = pyogrio.read_dataframe(with_token, layer=name).drop(columns="gml_id")
        assert_same(frame, vector_site.gpkg(layer_id), KEYS[layer_id])


def _ogrinfo(source: str) -> dict[str, int]:
    """Layer name → feature count as Debian's ogrinfo (GDAL 3.6) reports them."""
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", source], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = re.findall(r"^Layer name: (.+)$", done.stdout, re.M)
    counts = [int(n) for n in re.findall(r"^Feature Count: (\d+)$", done.stdout, re.M)]
    return dict(zip(names, counts, strict=True))


def test_debian_gdal_36_reads_both_services(vector_site: VectorSite, tmp_path: Path) -> None:
    expected = {i: layer.feature_count for i, layer in vector_site.layers.items()}
    assert _ogrinfo(f"OAPIF:{vector_site.url}/ogcapi?token={GIS}") == expected
    types = {vector_site.type_name(i): n for i, n in expected.items()}
    assert _ogrinfo(f"WFS:{vector_site.url}/wfs?token={GIS}") == types
    out = tmp_path / "buildings.gpkg"
    done = subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{vector_site.url}/ogcapi", BUILDINGS],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same(gpd.read_file(out).to_crs(25832), vector_site.gpkg(BUILDINGS), "id")


def _jobs(site: VectorSite) -> list[dict[str, Any]]:
    """QGIS provider URIs as its data source manager writes them; the token in the URL for internal layers."""
    jobs = []
    for layer_id in (BUILDINGS, HOT_SPOTS):
        token = f"?token={GIS}" if site.layers[layer_id].access == "internal" else ""
        oapif = f"url='{site.url}/ogcapi{token}' typename='{layer_id}'"
        wfs = f"url='{site.url}/wfs{token}' typename='{site.type_name(layer_id)}' version='2.0.0'"
        wfs += " srsname='EPSG:25832'"
        for service, provider, uri in (("oapif", "OAPIF", oapif), ("wfs", "WFS", wfs)):
            jobs.append(
                {"name": f"{layer_id}-{service}", "provider": provider, "uri": uri, "key": KEYS[layer_id]}
            )
    hidden = f"url='{site.url}/ogcapi' typename='{HOT_SPOTS}'"  # internal, asked for without a token
    jobs.append({"name": "hidden-oapif", "provider": "OAPIF", "uri": hidden, "key": KEYS[HOT_SPOTS]})
    return jobs


def test_qgis_loads_oapif_and_wfs_layers(
    vector_site: VectorSite, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("qgis-vectors")
    assert require_qgis(home).startswith("3.")
    results = vectors_in_qgis(_jobs(vector_site), home)
    for layer_id in (BUILDINGS, HOT_SPOTS):
        expected = gpd.read_file(vector_site.gpkg(layer_id))
        key = KEYS[layer_id]
        for service in ("oapif", "wfs"):
            result = results[f"{layer_id}-{service}"]
            assert result["valid"], result
            assert result["feature_count"] == result["features"] == len(expected), result
            assert set(expected.columns) - {"geometry"} <= set(result["fields"])
            assert result["keys"] == sorted(str(v) for v in expected[key])
        assert results[f"{layer_id}-wfs"]["crs"] == "EPSG:25832"
    assert not results["hidden-oapif"]["valid"]  # the internal collection does not exist without a token


def _by_place(geometries: Any) -> Any:
    """Geometries in the order of their centroids (x, then y): order-free comparison."""
    centroids = shapely.centroid(geometries)
    return geometries[np.lexsort((shapely.get_y(centroids), shapely.get_x(centroids)))]


def test_the_demo_publishes_its_footprints_and_photo_points(demo_site: DemoSite) -> None:
    ws = demo_site.workspace
    url = f"OAPIF:{demo_site.url}/ogcapi"
    public = {str(name) for name, _ in pyogrio.list_layers(url)}
    footprints, points = f"{DEMO_FLIGHT}-footprints", f"{DEMO_FLIGHT}-photo-points"
    assert footprints in public and points not in public  # photo points republished as internal
    for layer_id, path, layer in (
        (footprints, ws.footprints_gpkg(DEMO_FLIGHT), "footprints"),
        (points, ws.photo_points_gpkg(DEMO_FLIGHT), "photo_points"),
    ):
        written = gpd.read_file(path, layer=layer).to_crs(25832)  # what process wrote
        frame = pyogrio.read_dataframe(f"{url}?token={TOKEN}", layer=layer_id)
        assert len(frame) == len(written) > 0 and frame.crs.to_epsg() == 25832
        assert set(written.columns) - {"geometry"} <= set(frame.columns)
        got, want = _by_place(frame.geometry.values), _by_place(written.geometry.values)
        assert shapely.equals_exact(got, want, 1e-6).all()
