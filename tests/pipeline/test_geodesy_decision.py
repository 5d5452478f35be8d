"""The vertical datum of delivered DSMs/DTMs (pipeline.geodesy.decision), issue 10.

The real Danish DTM (dk_malstroem, EPSG:25832, 16 m, DVR90 heights) is delivered three ways:
as it is, re-tagged with the compound CRS EPSG:7416, and converted to ETRS89 ellipsoidal
heights with pyproj + the DVR90 grids (independently of our code) and declared so. Each
product must equal the DVR90 DTM within 1 cm.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio

from core.errors import EllipsoidalHeightWarning, HeightDatumWarning
from pipeline.geodesy.decision import GeoidTest, decide, file_vertical, plan_heights
from pipeline.models import DatumSource, HeightDatum, ProductKind
from pipeline.rasters.reproject import ReprojectConfig, reproject_to_cog
from tests.samples import ellipsoidal_copy

MALSTROEM = Path("dk_malstroem/tests/data/dtm.tif")


@pytest.fixture(scope="module")
def deliveries(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The DVR90 DTM as delivered: plain EPSG:25832, tagged EPSG:7416, and ellipsoidal (pyproj + grids)."""
    folder = tmp_path_factory.mktemp("deliveries")
    src = data_dir / MALSTROEM
    with rasterio.open(src) as ds:
        profile, heights = ds.profile, ds.read(1)
    with rasterio.open(folder / "dtm_7416.tif", "w", **(profile | {"crs": "EPSG:7416"})) as out:
        out.write(heights, 1)
    return {
        "plain": src,
        "epsg7416": folder / "dtm_7416.tif",
        "ellipsoidal": ellipsoidal_copy(src, folder / "dtm_ellipsoidal.tif", data_dir / "proj_grids"),
    }


def _max_difference(product: Path, reference: Path) -> float:
    with rasterio.open(product) as out, rasterio.open(reference) as ref:
        a, b = out.read(1, masked=True), ref.read(1, masked=True)
        assert (a.mask == b.mask).all() and out.transform == ref.transform
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def _gdal_vertical(path: Path) -> str:
    """The vertical CRS of ``path`` as Debian's gdalinfo (GDAL 3.6, not our rasterio) reads it."""
    info = json.loads(subprocess.run(["gdalinfo", "-json", str(path)], capture_output=True, check=True,
                                     text=True, timeout=60).stdout)  # fmt: skip
    return str(info["coordinateSystem"]["wkt"])


@pytest.mark.parametrize(
    ("case", "declared", "source"),
    [
        ("plain", None, DatumSource.GEOID_TEST),
        ("epsg7416", None, DatumSource.FILE_CRS),
        ("ellipsoidal", HeightDatum.ELLIPSOIDAL, DatumSource.DECLARATION),
    ],
)
def test_three_deliveries_equal_the_dvr90_dtm(
    deliveries: dict[str, Path],
    data_dir: Path,
    tmp_path: Path,
    case: str,
    declared: HeightDatum | None,
    source: DatumSource,
) -> None:
    dst = tmp_path / f"{case}.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeightDatumWarning)
        product = reproject_to_cog(
            deliveries[case],
            dst,
            ReprojectConfig(kind=ProductKind.DTM, grids=data_dir / "proj_grids", declared_datum=declared),
        )
    assert product.datum is not None
    assert product.height_datum is HeightDatum.DVR90 and product.datum.source is source
    assert _max_difference(dst, data_dir / MALSTROEM) < 0.01
    assert (product.datum.conversion is not None) is (case == "ellipsoidal")
    # The DVR90 geoid height at the centre (12.54 E, 55.82 N), as PROJ gives it for EPSG:7416 -> 3D.
    assert product.datum.geoid_n_m == pytest.approx(36.0915, abs=0.001)
    with rasterio.open(dst) as cog:
        assert cog.crs.to_epsg() == 7416 and cog.tags()["DRONEGIS_HEIGHT_DATUM_SOURCE"] == source.value
    wkt = _gdal_vertical(dst)
    assert 'VERTCRS["DVR90 height"' in wkt and 'ID["EPSG",5799]' in wkt
    assert product.crs == "EPSG:25832" and product.datum.crs == "EPSG:7416"


def test_undeclared_without_grids_is_unknown(deliveries: dict[str, Path], tmp_path: Path) -> None:
    """No grid: no geoid test; a plain EPSG:25832 DTM is unknown, unchanged, never labelled DVR90."""
    for case in ("plain", "ellipsoidal"):
        dst = tmp_path / f"{case}.tif"
        product = reproject_to_cog(deliveries[case], dst, ReprojectConfig(kind=ProductKind.DTM))
        assert product.datum is not None and product.height_datum is HeightDatum.UNKNOWN
        assert product.datum.source is DatumSource.DEFAULT and product.datum.geoid_n_m is None
        assert _max_difference(dst, deliveries[case]) == 0.0
        with rasterio.open(dst) as cog:
            assert cog.crs.to_epsg() == 25832 and cog.tags()["DRONEGIS_HEIGHT_DATUM"] == "unknown"
    with pytest.warns(EllipsoidalHeightWarning, match="heights stay ellipsoidal"):
        declared = reproject_to_cog(
            deliveries["ellipsoidal"],
            tmp_path / "e.tif",
            ReprojectConfig(kind=ProductKind.DTM, declared_datum=HeightDatum.ELLIPSOIDAL),
        )
    assert declared.height_datum is HeightDatum.ELLIPSOIDAL and declared.datum is not None
    assert declared.datum.vertical_crs == "EPSG:4937" and declared.datum.crs == "EPSG:25832"


def test_file_crs_decides_without_grids(deliveries: dict[str, Path], tmp_path: Path) -> None:
    product = reproject_to_cog(
        deliveries["epsg7416"], tmp_path / "d.tif", ReprojectConfig(kind=ProductKind.DTM)
    )
    assert product.height_datum is HeightDatum.DVR90 and product.datum is not None
    assert product.datum.source is DatumSource.FILE_CRS and product.datum.geoid_n_m is None


def test_ellipsoidal_undeclared_is_unknown_not_shifted(
    deliveries: dict[str, Path], data_dir: Path, tmp_path: Path
) -> None:
    """Ellipsoidal heights (all above N − 5 m) prove nothing: unknown, unconverted."""
    dst = tmp_path / "e.tif"
    product = reproject_to_cog(
        deliveries["ellipsoidal"], dst, ReprojectConfig(kind=ProductKind.DTM, grids=data_dir / "proj_grids")
    )
    assert product.height_datum is HeightDatum.UNKNOWN and product.datum is not None
    assert product.datum.share_below_geoid == 0.0 and product.datum.source is DatumSource.DEFAULT
    assert _max_difference(dst, deliveries["ellipsoidal"]) == 0.0


def test_declared_ellipsoidal_below_the_geoid_warns(
    deliveries: dict[str, Path], data_dir: Path, tmp_path: Path
) -> None:
    """Bad input: a DSM declared ellipsoidal whose heights lie below N − 5 m."""
    src = tmp_path / "dsm.tif"
    src.write_bytes(deliveries["plain"].read_bytes())
    with pytest.warns(HeightDatumWarning) as caught:
        product = reproject_to_cog(
            src,
            tmp_path / "out.tif",
            ReprojectConfig(
                kind=ProductKind.DSM, grids=data_dir / "proj_grids", declared_datum=HeightDatum.ELLIPSOIDAL
            ),
        )
    (message,) = [str(w.message) for w in caught if w.category is HeightDatumWarning]
    assert (
        str(src) in message
        and "cannot be ellipsoidal" in message
        and "kan ikke være ellipsoidehøjder" in message
    )
    assert product.height_datum is HeightDatum.UNKNOWN and product.datum is not None
    assert product.datum.warnings == (message,) and product.datum.conversion is None
    assert product.datum.share_below_geoid is not None and product.datum.share_below_geoid > 0.5
    assert _max_difference(tmp_path / "out.tif", src) == 0.0


def test_file_vertical() -> None:
    assert file_vertical("EPSG:7416") == (HeightDatum.DVR90, "EPSG:5799")
    assert file_vertical("EPSG:25832") == (None, None)
    assert file_vertical("EPSG:4937")[0] is HeightDatum.ELLIPSOIDAL
    assert file_vertical(pyproj.CRS("EPSG:25832").to_3d().to_wkt())[0] is HeightDatum.ELLIPSOIDAL
    assert file_vertical("EPSG:25832+3855") == (HeightDatum.UNKNOWN, "EPSG:3855")  # EGM2008: not converted


def test_decision_order() -> None:
    low, high, none = GeoidTest(40.0, 0.8), GeoidTest(40.0, 0.0), GeoidTest(None, None, "no grid")
    dvr90 = (HeightDatum.DVR90, "EPSG:5799")
    datum, source, _, problems = decide("a.tif", dvr90, HeightDatum.ELLIPSOIDAL, high)
    assert (datum, source) == (HeightDatum.DVR90, DatumSource.FILE_CRS)
    assert len(problems) == 1 and problems[0].startswith("a.tif: ") and "the file's CRS wins" in problems[0]
    assert decide("a.tif", (None, None), HeightDatum.UNKNOWN, low)[:2] == (
        HeightDatum.DVR90,
        DatumSource.GEOID_TEST,
    )
    assert decide("a.tif", (None, None), HeightDatum.DVR90, high)[:2] == (
        HeightDatum.DVR90,
        DatumSource.DECLARATION,
    )
    assert decide("a.tif", (None, None), None, high)[:2] == (HeightDatum.UNKNOWN, DatumSource.DEFAULT)
    assert decide("a.tif", (None, None), None, none)[:2] == (HeightDatum.UNKNOWN, DatumSource.DEFAULT)
    assert decide("a.tif", (None, None), HeightDatum.ELLIPSOIDAL, none)[0] is HeightDatum.ELLIPSOIDAL


def test_outside_the_grid_is_not_decided(data_dir: Path) -> None:
    """A US DSM (EPSG:26918): the geoid test cannot run there; the datum stays unknown."""
    dsm = data_dir / "opengeos_data/elevation/dsm.tif"
    plan = plan_heights(
        dsm, "EPSG:26918", target_crs="EPSG:26918", declared=None, grids=data_dir / "proj_grids"
    )
    assert plan.datum.datum is HeightDatum.UNKNOWN and plan.datum.geoid_n_m is None
    assert plan.datum.share_below_geoid is None and "outside the DVR90 grid" in plan.datum.note
