from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from core.errors import ExportError
from core.workspace import Workspace
from pipeline.models import ProductKind
from webgis_export.models import Layer
from webgis_export.stac import build_catalog, item_for, validate_tree, write_catalog


def test_frame_item_has_view_fields_and_long_flight_interval(
    published: tuple[Workspace, dict[str, Layer]],
) -> None:
    _, layers = published
    thermal = layers["thermal_mosaic"]
    assert thermal.time_start is not None
    frame = thermal.model_copy(
        update={
            "kind": ProductKind.THERMAL_FRAME,
            "off_nadir_deg": 35.0,
            "azimuth_deg": 370.0,
            "time_end": thermal.time_start + timedelta(hours=3),
        }
    )
    item = item_for(frame, cog_href="../../../layers/x/cog.tif", transform=(0.2, 0, 560000, 0, -0.2, 6215600))
    props = item.to_dict()["properties"]
    assert props["view:off_nadir"] == 35.0 and props["view:azimuth"] == pytest.approx(10.0)
    assert props["datetime"] is None
    assert props["start_datetime"].startswith("2026-02-10T05:30") and props["end_datetime"].startswith(
        "2026-02-10T08:30"
    )
    assert any("view" in uri for uri in item.stac_extensions) and any(
        "projection" in uri for uri in item.stac_extensions
    )
    catalog = build_catalog([item])
    [collection] = list(catalog.get_children())
    assert collection.id == "thermal_frame"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("view:off_nadir", 95.0),
        ("view:azimuth", -1.0),
        ("proj:shape", [10]),
        ("proj:code", "25832"),
        ("gsd", 0),
    ],
)
def test_validate_tree_rejects_bad_extension_fields(
    published: tuple[Workspace, dict[str, Layer]], tmp_path: Path, field: str, value: object
) -> None:
    _, layers = published
    item = item_for(
        layers["thermal_mosaic"], cog_href="cog.tif", transform=(0.2, 0, 560000, 0, -0.2, 6215600)
    )
    catalog_json = write_catalog(build_catalog([item]), tmp_path / "stac")
    assert validate_tree(catalog_json) >= 3
    [item_path] = [
        p for p in (tmp_path / "stac").rglob("*.json") if json.loads(p.read_text())["type"] == "Feature"
    ]
    doc = json.loads(item_path.read_text())
    doc["properties"][field] = value
    item_path.write_text(json.dumps(doc))
    with pytest.raises(ExportError, match=field.split(":")[-1]):
        validate_tree(catalog_json)
