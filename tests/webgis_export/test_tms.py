from __future__ import annotations

import pytest

from core.errors import UsageError
from webgis_export.tms import get_tms, parse_matrix_id, view1, webmercator, zoom_for_gsd

# REFERENCE.md §7.4 table: level -> (resolution m/px, scale denominator)
VIEW1_TABLE = {0: (1638.4, 5851428.571), 4: (102.4, 365714.286), 7: (12.8, 45714.286), 13: (0.2, 714.286)}


@pytest.mark.parametrize(("z", "expected"), sorted(VIEW1_TABLE.items()))
def test_view1_matches_dataforsyningen_table(z: int, expected: tuple[float, float]) -> None:
    matrix = view1().matrix(z)
    assert matrix.cellSize == pytest.approx(expected[0], abs=1e-12)
    assert matrix.scaleDenominator == pytest.approx(expected[1], abs=1e-3)
    assert matrix.scaleDenominator == pytest.approx(matrix.cellSize / 0.00028)
    assert tuple(matrix.pointOfOrigin) == (120000.0, 6500000.0)
    assert (matrix.tileWidth, matrix.tileHeight) == (256, 256)
    assert (matrix.matrixWidth, matrix.matrixHeight) == (3 * 2**z, 2 * 2**z)
    assert matrix.id == str(z)


def test_view1_crs_extent_and_depth() -> None:
    tms = view1()
    assert tms.crs.to_epsg() == 25832
    assert tms.orderedAxes == ["E", "N"]
    assert tms.maxzoom >= 15  # 0.05 m for 5 cm drone orthophotos
    assert tms.matrix(15).cellSize == pytest.approx(0.05)


def test_view1_tile_index_rule() -> None:
    tms = view1()
    tile = tms._tile(560000.0, 6215500.0, 10)  # REFERENCE.md §7.3 col/row rule
    assert (tile.x, tile.y) == ((560000 - 120000) // 409.6, (6500000 - 6215500) // 409.6)


def test_webmercator_level0() -> None:
    matrix = webmercator().matrix(0)
    assert matrix.scaleDenominator == pytest.approx(559082264.028717)
    assert (matrix.matrixWidth, matrix.matrixHeight) == (1, 1)


@pytest.mark.parametrize(("text", "z"), [("7", 7), ("07", 7), ("L07", 7), ("L00", 0), ("15", 15)])
def test_parse_matrix_id(text: str, z: int) -> None:
    assert parse_matrix_id(text) == z


@pytest.mark.parametrize("text", ["", "x7", "L", "7.0", "-1"])
def test_parse_matrix_id_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="TileMatrix"):
        parse_matrix_id(text)


def test_zoom_for_gsd() -> None:
    assert zoom_for_gsd("View1", 0.05) == 15
    assert zoom_for_gsd("View1", 0.2) == 13
    assert zoom_for_gsd("View1", 16.0) == 7
    # WebMercatorQuad at 56°N: ground pixel at z20 is 0.149 m × cos 56° ≈ 0.083 m ≤ 0.1 m; z19 is 0.167 m
    assert zoom_for_gsd("WebMercatorQuad", 0.1, latitude=56.0) == 20


def test_unknown_tms() -> None:
    with pytest.raises(UsageError, match="NoSuchGrid"):
        get_tms("NoSuchGrid")
