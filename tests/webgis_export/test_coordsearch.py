"""Coordinate search: what people type, read as EPSG:25832 or latitude/longitude, refusals with reasons."""

from __future__ import annotations

import pytest
from rasterio.warp import transform

from core.errors import UserInputError
from webgis_export.coordsearch import looks_like_coordinate, parse_coordinate
from webgis_export.print_map import round_scale, scale_bar_m, sheet


@pytest.mark.parametrize(
    "typed",
    [
        "557900 6212000",
        "6212000 557900",
        "Ø 557900 N 6212000",
        "E557900 N6212000",
        "557900,6212000",
        "557900; 6212000",
        "557900.0  6212000.0",
    ],
)
def test_east_north_in_any_common_spelling(typed: str) -> None:
    point = parse_coordinate(typed)
    assert point.read_as == "EPSG:25832" and (point.east, point.north) == (557900.0, 6212000.0)


@pytest.mark.parametrize(
    "typed",
    [
        "56,0497 9,9297",
        "56.0497, 9.9297",
        "9,9297 56,0497",
        "9.9297E 56.0497N",
        "N56.0497 E9.9297",
        "56°2'58.92\"N 9°55'46.92\"E",
    ],
)
def test_latitude_longitude_against_gdal(typed: str) -> None:
    point = parse_coordinate(typed)
    assert point.read_as == "EPSG:4326"
    assert (point.lat, point.lon) == pytest.approx((56.0497, 9.9297), abs=1e-6)
    (east,), (north,) = transform("EPSG:4326", "EPSG:25832", [9.9297], [56.0497])  # GDAL/OGR, not pyproj
    assert (point.east, point.north) == pytest.approx((east, north), abs=0.01)
    assert point.label("da").endswith("56,0497° N, 9,9297° Ø (WGS 84)")


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Adelgade 44", "search.not_numbers"),
        ("557900", "search.not_numbers"),
        ("56 9 3", "search.not_numbers"),
        ("200 6212000", "search.out_of_range"),
        ("40.7128 -74.0060", "search.outside_denmark"),
        ("1 2", "search.outside_denmark"),
    ],
)
def test_refusals_name_what_is_wrong(typed: str, key: str) -> None:
    with pytest.raises(UserInputError) as caught:
        parse_coordinate(typed)
    assert caught.value.key == key


def test_what_looks_like_a_coordinate() -> None:
    assert looks_like_coordinate("56,05 9,93") and looks_like_coordinate("Ø 557900 N 6212000")
    assert not looks_like_coordinate("Adelgade 44") and not looks_like_coordinate("")


def test_print_scale_is_round_and_exact() -> None:
    frame = (186.0, 150.0)  # mm
    assert round_scale((0.0, 0.0, 40.0, 30.0), frame) == 250  # 40 m on 186 mm needs 1:215
    assert round_scale((0.0, 0.0, 100.0, 10.0), frame) == 1000  # 1:538 → 1:1 000
    page = sheet((557860.0, 6212000.0, 557900.0, 6212030.0), frame, dpi=150)
    assert page.scale == 250 and page.width_px == 1098 and page.height_px == 886
    width_m = page.extent[2] - page.extent[0]
    assert width_m == pytest.approx(0.186 * 250) and (page.extent[0] + page.extent[2]) / 2 == 557880.0
    assert scale_bar_m(46.5) == 10.0 and scale_bar_m(930.0) == 200.0
    with pytest.raises(UserInputError) as caught:
        round_scale((0.0, 0.0, 300000.0, 300000.0), frame)
    assert caught.value.key == "print.too_large"
