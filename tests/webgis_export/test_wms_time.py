"""WMS 1.3.0 TIME (Annex C) against a layer's capture time: parsing, matching, capabilities."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest

from core.workspace import Workspace
from webgis_export.models import Layer
from webgis_export.ogc.capabilities import wms_capabilities
from webgis_export.ogc.exceptions import OgcError
from webgis_export.ogc.wms_time import check_time, dimension_default, dimension_extent, parse_time

WMS = "{http://www.opengis.net/wms}"
CAPTURE = datetime(2026, 2, 10, 5, 30, tzinfo=UTC)


@pytest.fixture
def ortho(published: tuple[Workspace, dict[str, Layer]]) -> Layer:
    layer = published[1]["orthophoto"]
    assert layer.time_start == CAPTURE and layer.time_end is None
    return layer


def _code(layer: Layer, value: str) -> str:
    with pytest.raises(OgcError) as info:
        check_time(layer, value)
    assert info.value.locator == "TIME" and value in info.value.message
    return info.value.code


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-10T05:30:00Z",
        "2026-02-10T05:30:00.000Z",
        "2026-02-10T06:30:00+01:00",
        "2026-02-10T05:30:00",  # no zone: UTC
        "2026-02-10T05:30Z",
        "2026-02-10",  # reduced precision: the whole day
        "2026-02",
        "2026",
        "2026-02-01/2026-02-28",
        "2026-02-01T00:00:00Z/2026-03-01T00:00:00Z/P1D",
        "2025-01-01,2026-02-10",  # a list: one member matches
    ],
)
def test_time_matching_the_capture_renders(ortho: Layer, value: str) -> None:
    check_time(ortho, value)  # no exception: the layer is drawn
    assert parse_time(value)  # and the value parses to at least one interval


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-10T05:31:00Z",
        "2026-02-11",
        "2025",
        "2026-03-01/2026-04-01",
        "2026-02-10T05:29:59Z",
        "current",
    ],
)
def test_valid_time_outside_the_extent_is_invalid_dimension_value(ortho: Layer, value: str) -> None:
    assert _code(ortho, value) == "InvalidDimensionValue"


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "2026-02-10T25:00Z",
        "2026-02-28/2026-02-01",
        "2026/2027/1D",
        ",",
        "10-02-2026",
    ],
)
def test_malformed_time_is_invalid_dimension_value(ortho: Layer, value: str) -> None:
    assert _code(ortho, value) == "InvalidDimensionValue"


def test_absent_time_uses_the_default(ortho: Layer) -> None:
    check_time(ortho, None)
    check_time(ortho, "")
    assert dimension_default(ortho) == "2026-02-10T05:30:00Z"


def test_long_flight_interval(ortho: Layer) -> None:
    flight = ortho.model_copy(update={"time_end": CAPTURE.replace(hour=9)})
    assert dimension_extent(flight) == "2026-02-10T05:30:00Z/2026-02-10T09:30:00Z"
    assert dimension_default(flight) == "2026-02-10T05:30:00Z"
    check_time(flight, "2026-02-10T07:00:00Z")
    check_time(flight, "2026-02-10T09:00:00Z/2026-02-10T12:00:00Z")
    assert _code(flight, "2026-02-10T09:31:00Z") == "InvalidDimensionValue"


def test_layer_without_time_ignores_time(ortho: Layer) -> None:
    timeless = ortho.model_copy(update={"time_start": None, "time_end": None})
    check_time(timeless, "1999-01-01")
    assert dimension_extent(timeless) is None
    assert _code(timeless, "not-a-time") == "InvalidDimensionValue"  # still malformed


def test_current_matches_only_an_extent_containing_now(ortho: Layer) -> None:
    check_time(ortho, "current", now=CAPTURE)
    with pytest.raises(OgcError):
        check_time(ortho, "current", now=CAPTURE.replace(year=2027))


def test_capabilities_dimension_is_consistent(published: tuple[Workspace, dict[str, Layer]]) -> None:
    _, layers = published
    root = ET.fromstring(wms_capabilities(list(layers.values()), "http://x"))
    for node in root.iter(f"{WMS}Layer"):
        name = node.findtext(f"{WMS}Name")
        if name is None:
            continue
        layer = next(layer for layer in layers.values() if layer.id == name)
        dims = node.findall(f"{WMS}Dimension")
        assert len(dims) == 1, name
        dim = dims[0]
        assert dim.get("name") == "time" and dim.get("units") == "ISO8601"
        assert (
            dim.get("nearestValue") == "0" and dim.get("multipleValues") == "0" and dim.get("current") == "0"
        )
        assert dim.text == dimension_extent(layer)
        default = dim.get("default")
        assert default is not None and default == dimension_default(layer)
        check_time(layer, default)  # the advertised default lies in the advertised extent
        check_time(layer, dim.text)
