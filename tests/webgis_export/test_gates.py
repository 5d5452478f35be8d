"""Publication gates: undated → refused (or overridden, said so in STAC); outside the area → refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.errors import PublicationRefused
from core.workspace import Workspace
from flights.aoi import DEFAULT_MUNICIPALITY
from pipeline.models import Product
from tests.webgis_export.published import CAPTURE, NOW, make_flight
from webgis_export.gates import PublishGates
from webgis_export.publish import publish
from webgis_export.stac import UNKNOWN_START, validate_tree

INGESTED = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)


def _rewrite(ws: Workspace, flight: str, changes: dict[str, dict[str, object]]) -> list[Product]:
    """Apply ``changes`` (product kind -> field updates) to the flight's products.json."""
    products = [Product.model_validate(p) for p in json.loads(ws.products_json(flight).read_text())]
    products = [p.model_copy(update=changes.get(p.kind.value, {})) for p in products]
    ws.products_json(flight).write_text(json.dumps([p.model_dump(mode="json") for p in products]))
    return products


def _item(ws: Workspace, layer_id: str, kind: str) -> dict[str, object]:
    doc: dict[str, object] = json.loads(
        (ws.published_stac / kind / layer_id / f"{layer_id}.json").read_text()
    )
    return doc


@pytest.fixture
def flight(tmp_path: Path, data_dir: Path) -> Workspace:
    ws = Workspace.at(tmp_path / "ws")
    make_flight(ws, data_dir, flight="f")
    return ws


def test_undated_product_is_refused_naming_it(flight: Workspace) -> None:
    undated = {
        "time_start": None,
        "capture_time_source": "unknown",
        "captured_before": INGESTED,
    }
    _rewrite(flight, "f", {"orthophoto": undated})
    with pytest.raises(PublicationRefused) as refused:
        publish(flight, "f-orthophoto", now=NOW, pyramids=False)
    message = str(refused.value)
    assert (
        "f-orthophoto" in message and "capture date unknown" in message and "optagelsesdato ukendt" in message
    )
    assert "--captured" in message and "--allow-undated" in message
    assert not flight.layers_json.exists()  # nothing published


def test_undated_override_is_recorded_in_stac_never_as_publication_time(flight: Workspace) -> None:
    undated = {
        "time_start": None,
        "capture_time_source": "unknown",
        "captured_before": INGESTED,
    }
    _rewrite(flight, "f", {"orthophoto": undated})
    [layer] = publish(
        flight,
        "f-orthophoto",
        now=NOW,
        pyramids=False,
        gates=PublishGates(allow_undated="archive scan, date lost"),
    )
    assert layer.overrides == {"undated": "archive scan, date lost"} and layer.freshness == "unknown"
    props = _item(flight, layer.id, "orthophoto")["properties"]
    assert isinstance(props, dict)
    assert props["datetime"] is None  # STAC allows null with start/end; never the publication time
    assert props["start_datetime"] == UNKNOWN_START.isoformat().replace("+00:00", "Z")
    assert props["end_datetime"] == "2026-02-12T09:00:00Z"  # ingested then: flown before
    assert props["dronegis:capture_date"] == "unknown" and props["dronegis:capture_time_source"] == "unknown"
    assert props["dronegis:overrides"] == {"undated": "archive scan, date lost"}
    assert validate_tree(flight.published_stac / "catalog.json") == 3  # catalog, collection, item: valid


def test_declared_day_and_file_time_in_stac(flight: Workspace) -> None:
    day = {
        "time_start": datetime(2025, 6, 11, 22, tzinfo=UTC),
        "time_end": datetime(2025, 6, 12, 21, 59, 59, tzinfo=UTC),
        "capture_time_source": "declared: --captured 2025-06-12",
    }
    _rewrite(flight, "f", {"orthophoto": day})
    [layer] = publish(flight, "f-orthophoto", now=NOW, pyramids=False)
    props = _item(flight, layer.id, "orthophoto")["properties"]
    assert isinstance(props, dict)
    assert props["datetime"] == "2025-06-12T10:00:00Z"  # noon of the declared day in Copenhagen (CEST)
    assert (props["start_datetime"], props["end_datetime"]) == (
        "2025-06-11T22:00:00Z",
        "2025-06-12T21:59:59Z",
    )
    assert props["dronegis:capture_time_source"] == "declared: --captured 2025-06-12"
    [dtm] = publish(flight, "f-dtm", now=NOW, pyramids=False)  # dated by its product: CAPTURE
    dprops = _item(flight, dtm.id, "dtm")["properties"]
    assert isinstance(dprops, dict)
    assert dprops["datetime"] == CAPTURE.isoformat().replace("+00:00", "Z") != NOW.isoformat()
    assert NOW - CAPTURE > timedelta(days=1)


def test_area_gate_refuses_outside_and_records_the_override(flight: Workspace) -> None:
    """The malstroem DTM lies near Copenhagen: outside Skanderborg. The orthophoto lies inside."""
    gates = PublishGates(area=DEFAULT_MUNICIPALITY)
    [ortho] = publish(flight, "f-orthophoto", now=NOW, pyramids=False, gates=gates)
    assert ortho.overrides == {}
    with pytest.raises(PublicationRefused, match=r"f-dtm: ligger uden for kommunen / lies entirely outside"):
        publish(flight, "f-dtm", now=NOW, pyramids=False, gates=gates)
    reason = "Skanderborg's contractor flew for the neighbour municipality"
    [dtm] = publish(
        flight, "f-dtm", now=NOW, pyramids=False, gates=gates.model_copy(update={"allow_outside": reason})
    )
    assert dtm.overrides == {"outside_area": reason}
    props = _item(flight, dtm.id, "dtm")["properties"]
    assert isinstance(props, dict) and props["dronegis:overrides"] == {"outside_area": reason}
