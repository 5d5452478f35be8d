"""The buildings' cards at publication: only the published features' cards, none showing a privacy zone.

The real XT R thermal flight with synthetic footprints (tests/pipeline/buildings/thermal_flight.py)
is published without zones (every building's card, no index), then re-masked and published anew
with a privacy zone over one
building (its feature dropped, its card withheld) and one zone 2 m beside another building (its
feature stays, but its card's 4 m crops would show the zone: withheld too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest

from pipeline.frames import render as frames_module
from tests.pipeline.buildings.thermal_flight import CRS, FLIGHT, process_with_footprints
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.privacy.remask import remask
from webgis_export.publish import publish

NOW = datetime(2026, 12, 6, tzinfo=UTC)
LAYER = f"{FLIGHT}-buildings"


def _cards(root: Path) -> set[str]:
    folder = root / "publish" / "layers" / LAYER / "cards"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_cards_follow_the_published_features(tmp_path: Path, data_dir: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frames_module, "MAX_FRAME_PX", 1024)
        ws, _ = process_with_footprints(tmp_path, data_dir)
    publish(ws, LAYER, access="public", pyramids=False, now=NOW)
    source = gpd.read_file(ws.buildings(FLIGHT) / "buildings.gpkg", layer="buildings")
    everything = _cards(ws.root)
    assert {f"{key}.html" for key in source["key"]} <= everything and "index.html" not in everything
    assert {f"{key}_thermal.png" for key in source["key"]} <= everything
    inside, beside = source.geometry.iloc[0], source.geometry.iloc[1]
    near = beside.buffer(2.0).difference(beside.buffer(1.0))  # a ring 1-2 m around building 1
    zones = gpd.GeoDataFrame(geometry=[inside.buffer(0.5), near], crs=CRS).to_crs("EPSG:4326")
    zones.to_file(tmp_path / "zones.geojson", driver="GeoJSON")
    config = PrivacyConfig(zones=tmp_path / "zones.geojson")
    remask(ws, config, now=NOW)  # the published layer re-masked under the new zones
    _check(ws.root, source)
    publish(ws, LAYER, access="public", pyramids=False, now=NOW, privacy=config)  # published anew under them
    _check(ws.root, source)


def _check(root: Path, source: gpd.GeoDataFrame) -> None:
    """Building 0 dropped with its card, building 1 kept without its card, the others with theirs."""
    published = gpd.read_file(root / "publish" / "layers" / LAYER / "features.gpkg")
    assert source["key"].iloc[0] not in set(published["key"])  # its feature dropped
    assert source["key"].iloc[1] in set(published["key"])  # its feature kept (the zone is beside it)
    left = _cards(root)
    withheld = {f"{source['key'].iloc[i]}{part}" for i in (0, 1) for part in (".html", "_thermal.png")}
    assert not withheld & left
    assert {f"{key}.html" for key in source["key"].iloc[2:]} <= left
