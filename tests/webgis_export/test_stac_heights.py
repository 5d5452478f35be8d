"""A DVR90 DTM published: compound CRS in the COG and ``proj:code``, the datum decision in STAC.

The STAC item is checked against the official projection v2 JSON Schema (the copy under
the shared data's ``stac-extensions``) and the COG is read by the tile/point code the OGC
services use, so a compound CRS (EPSG:7416) does not break serving.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from jsonschema import Draft7Validator
from rasterio.crs import CRS
from rio_tiler.io import Reader

from pipeline.models import HeightDatum, ProductKind
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog
from webgis_export.layerbuild import LayerOptions, layer_folder_build
from webgis_export.render import read_point, read_tile
from webgis_export.stac import build_catalog, item_for, validate_tree, write_catalog
from webgis_export.tms import get_tms

MALSTROEM = Path("dk_malstroem/tests/data/dtm.tif")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def dvr90_layer(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """The real Danish DTM processed with the grids (geoid test: DVR90) and built as a layer."""
    root = tmp_path_factory.mktemp("pub")
    product = reproject_to_cog(
        data_dir / MALSTROEM,
        root / "dtm.tif",
        ReprojectConfig(kind=ProductKind.DTM, grids=data_dir / "proj_grids", flight="h1"),
    )
    assert product.height_datum is HeightDatum.DVR90
    options = LayerOptions(access="internal", published_at=NOW, pyramids=False)
    layer = layer_folder_build(product, root / "dtm.tif", root / "layers" / "h1-dtm", options)
    return layer, root


def test_stac_item_carries_the_vertical_crs(dvr90_layer: tuple[object, Path], data_dir: Path) -> None:
    layer, root = dvr90_layer
    assert layer.crs == "EPSG:7416"  # type: ignore[attr-defined]
    with rasterio.open(root / "layers" / "h1-dtm" / "cog.tif") as cog:
        transform = tuple(cog.transform)
    item = item_for(layer, cog_href="../../layers/h1-dtm/cog.tif", transform=transform)  # type: ignore[arg-type]
    props = item.to_dict()["properties"]
    assert props["proj:code"] == "EPSG:7416"
    assert props["dronegis:height_datum"] == "DVR90 (EPSG:5799)"
    vertical = props["dronegis:vertical_datum"]
    assert vertical["datum"] == "DVR90 (EPSG:5799)" and vertical["source"] == "geoid_test"
    assert vertical["vertical_crs"] == "EPSG:5799" and vertical["geoid_n_m"] == pytest.approx(36.09, abs=0.01)
    schema = json.loads((data_dir / "stac-extensions/projection/v2.0.0/schema.json").read_text())
    assert [e.message for e in Draft7Validator(schema).iter_errors(item.to_dict())] == []
    catalog_json = write_catalog(build_catalog([item]), root / "stac")
    assert validate_tree(catalog_json) >= 3


def test_compound_crs_cog_serves_like_the_plain_one(dvr90_layer: tuple[object, Path], data_dir: Path) -> None:
    _, root = dvr90_layer
    cog = root / "layers" / "h1-dtm" / "cog.tif"
    tms = get_tms("WebMercatorQuad")
    with Reader(str(cog), tms=tms) as ours, Reader(str(data_dir / MALSTROEM), tms=tms) as plain:
        assert ours.dataset.crs.to_epsg() == 7416
        x, y = tms.xy(12.5437, 55.8179)
        tile = tms.tile(12.5437, 55.8179, 12)
        a, b = read_tile(ours, tile.z, tile.x, tile.y), read_tile(plain, tile.z, tile.x, tile.y)
        assert a is not None and b is not None and a.mask.any()
        assert np.array_equal(a.array.filled(0), b.array.filled(0))
        value = read_point(ours, x, y, CRS.from_epsg(3857))[0]
        assert value is not None and value == read_point(plain, x, y, CRS.from_epsg(3857))[0]
    with rasterio.open(cog) as ds:
        assert ds.tags()["DRONEGIS_HEIGHT_DATUM"] == "DVR90 (EPSG:5799)"
