from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rasterio
from rio_cogeo.cogeo import cog_validate

from core.errors import ExportError, LayerNotFound
from core.workspace import Workspace
from pipeline.models import Accuracy, AccuracySource, Evidence
from qa.models import QAReport
from tests.webgis_export.published import CAPTURE, NOW, make_flight
from webgis_export import layerbuild
from webgis_export import publish as publish_module
from webgis_export.models import Layer
from webgis_export.publish import load_layers, publish, unpublish
from webgis_export.stac import validate_tree

PYSTAC_SCHEMAS = Path(__import__("pystac").__file__).parent / "validation" / "jsonschemas"
STAC_BASE = "https://schemas.stacspec.org/v1.1.0"


def stac_validator_offline(path: Path) -> dict[str, object]:
    """Run stac-validator (core mode) with schema URLs mapped to pystac's bundled STAC 1.1.0 schemas."""
    args = [str(Path(sys.executable).parent / "stac-validator"), "validate", str(path), "--core"]
    for name in (
        "basics",
        "datetime",
        "instrument",
        "licensing",
        "provider",
        "bands",
        "common",
        "data-values",
        "item",
    ):
        args += [
            "-s",
            f"{STAC_BASE}/item-spec/json-schema/{name}.json",
            str(PYSTAC_SCHEMAS / f"stac-spec/v1.1.0/{name}.json"),
        ]
    for kind in ("catalog", "collection"):
        args += [
            "-s",
            f"{STAC_BASE}/{kind}-spec/json-schema/{kind}.json",
            str(PYSTAC_SCHEMAS / f"stac-spec/v1.1.0/{kind}.json"),
        ]
    for name in ("Feature", "Geometry"):
        args += [
            "-s",
            f"https://geojson.org/schema/{name}.json",
            str(PYSTAC_SCHEMAS / f"geojson/{name}.json"),
        ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(done.stdout[done.stdout.index("[") : done.stdout.rindex("]") + 1])[0]
    assert isinstance(report, dict)
    return report


def tree_snapshot(root: Path) -> dict[str, str]:
    """Path -> sha256 of every file below ``root``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_every_published_cog_is_valid(published: tuple[Workspace, dict[str, Layer]]) -> None:
    ws, layers = published
    assert set(layers) == {"orthophoto", "thermal_mosaic", "dtm"}
    for layer in layers.values():
        valid, errors, _ = cog_validate(str(ws.publish / layer.cog), quiet=True)
        assert valid, errors


def test_layers_json_round_trips(published: tuple[Workspace, dict[str, Layer]]) -> None:
    ws, layers = published
    assert {layer.id for layer in load_layers(ws)} == {layer.id for layer in layers.values()}
    thermal = layers["thermal_mosaic"]
    assert thermal.style.unit == "°C" and thermal.style.colormap == "inferno"
    assert thermal.access == "internal"
    assert thermal.thermal == {"emissivity": 0.95, "reflected_temp_c": -2.0}
    dtm = layers["dtm"]
    assert dtm.style.unit == "m" and dtm.height_datum.value.startswith("DVR90")
    assert dtm.freshness is not None
    assert layers["orthophoto"].style.is_rgb and layers["orthophoto"].tile_format == "jpeg"


def test_stac_catalog_valid_offline(published: tuple[Workspace, dict[str, Layer]]) -> None:
    ws, layers = published
    assert validate_tree(ws.published_stac / "catalog.json") == 1 + 3 + 3  # catalog, 3 collections, 3 items
    for path in sorted(ws.published_stac.rglob("*.json")):
        report = stac_validator_offline(path)
        assert report["valid_stac"] is True, report


def test_stac_item_fields(published: tuple[Workspace, dict[str, Layer]]) -> None:
    ws, layers = published
    ortho = layers["orthophoto"]
    item = json.loads((ws.publish / ortho.stac_item).read_text())
    props = item["properties"]
    assert props["datetime"] == CAPTURE.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert props["gsd"] == pytest.approx(0.1)
    assert props["proj:code"] == "EPSG:25832"
    assert props["proj:shape"] == [512, 512]
    assert props["proj:transform"][:3] == pytest.approx([0.1, 0.0, 560000.0])
    assert props["platform"] == "dji-m300" and props["instruments"] == ["zenmuse-p1"]
    assert props["dronegis:access"] == "public"
    west, south, east, north = item["bbox"]
    assert 9.9 < west < east < 10.1 and 56.0 < south < north < 56.1  # WGS84 lon/lat near Skanderborg
    asset = item["assets"]["data"]
    assert asset["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert (ws.publish / ortho.stac_item).parent.joinpath(asset["href"]).resolve() == (
        ws.publish / ortho.cog
    ).resolve()
    thermal = json.loads((ws.publish / layers["thermal_mosaic"].stac_item).read_text())["properties"]
    assert thermal["dronegis:thermal"]["emissivity"] == 0.95 and thermal["dronegis:unit"] == "°C"


def test_pyramids_in_wmts_rest_layout(published: tuple[Workspace, dict[str, Layer]]) -> None:
    ws, layers = published
    ortho = layers["orthophoto"]
    assert set(ortho.pyramids) == {"View1", "WebMercatorQuad"}
    low, high = ortho.pyramids["View1"]
    assert high == 14  # 0.1 m GSD -> View1 level 14 (0.1 m)
    tiles = sorted((ws.published_layer(ortho.id) / "default" / "View1").rglob("*.jpg"))
    assert tiles, "no View1 tiles"
    z, row, col = (
        int(p)
        for p in tiles[-1]
        .relative_to(ws.published_layer(ortho.id) / "default" / "View1")
        .with_suffix("")
        .parts
    )
    assert low <= z <= high and row > 0 and col > 0
    assert (ws.published_layer(ortho.id) / "legend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _thermal_flight(tmp_path: Path, data_dir: Path) -> tuple[Workspace, str]:
    ws = Workspace.at(tmp_path / "ws")
    products = make_flight(ws, data_dir, flight="night")
    return ws, next(p.id for p in products if p.kind.value == "thermal_mosaic")


MEASURED = Accuracy(
    source=AccuracySource.CHECK_POINTS, evidence=Evidence.MEASURED, n=12, rmse_h_m=0.042, nssda_h95_m=0.0727,
    ce90_m=0.0637, horizontal_class_m=0.25, horizontal_class_met=True, warnings=("12 check points < 30",),
)  # fmt: skip


def _write_qa(ws: Workspace, flight: str, *, blocked: bool) -> None:
    report = QAReport(
        flight=flight,
        created=NOW,
        status="warn",
        figures={"precision.night-orthophoto.rmse_h_m": 0.042, "precision.night-orthophoto.checkpoints": 12},
        accuracy={"night-orthophoto": MEASURED},
        thermal_gate_failed=blocked,
        thermal_gate_reason="wind 9 m/s above 5 m/s" if blocked else None,
        thermal_publication_blocked=blocked,
    )
    ws.qa(flight).mkdir(parents=True, exist_ok=True)
    (ws.qa(flight) / "report.json").write_text(report.model_dump_json(), encoding="utf-8")


def test_thermal_gate_blocks_unless_overridden(tmp_path: Path, data_dir: Path) -> None:
    ws, thermal_id = _thermal_flight(tmp_path, data_dir)
    _write_qa(ws, "night", blocked=True)
    with pytest.raises(ExportError, match="wind 9 m/s"):
        publish(ws, thermal_id, now=NOW, pyramids=False)
    assert not ws.layers_json.exists()
    layers = publish(
        ws, thermal_id, now=NOW, pyramids=False, override_gate="inspection ordered by the building office"
    )
    assert [layer.qa_status for layer in layers] == ["warn"]
    assert layers[0].qa_override == "inspection ordered by the building office"
    item = json.loads((ws.publish / layers[0].stac_item).read_text())
    assert item["properties"]["dronegis:qa_override"] == "inspection ordered by the building office"


def test_qa_accuracy_travels_with_the_layer(tmp_path: Path, data_dir: Path) -> None:
    ws, _ = _thermal_flight(tmp_path, data_dir)
    _write_qa(ws, "night", blocked=False)
    [layer] = publish(ws, "night-orthophoto", now=NOW, pyramids=False, title="Natfoto")
    assert layer.accuracy == MEASURED and layer.accuracy.class_met is True
    item = json.loads((ws.publish / layer.stac_item).read_text())
    assert item["properties"]["dronegis:accuracy"] == {
        **MEASURED.model_dump(mode="json", exclude_none=True),
        "class_met": True,
    }
    assert layer.title == "Natfoto" and layer.qa_status == "warn"


def test_failed_publish_leaves_previous_state(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, _ = _thermal_flight(tmp_path, data_dir)
    publish(ws, "night-orthophoto", now=NOW, pyramids=False, access="public")
    before = tree_snapshot(ws.publish)

    def broken(path: Path) -> None:
        raise ExportError(f"{path} is not a valid COG: injected failure")

    monkeypatch.setattr(layerbuild, "validate_cog_file", broken)
    with pytest.raises(ExportError, match="injected"):
        publish(ws, "night", now=datetime(2026, 3, 2, tzinfo=UTC), pyramids=False, access="internal")
    assert tree_snapshot(ws.publish) == before
    assert not list(ws.publish.glob(".staging-*"))


def test_failure_during_commit_rolls_back(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, _ = _thermal_flight(tmp_path, data_dir)
    publish(ws, "night-orthophoto", now=NOW, pyramids=False, access="public")
    before = tree_snapshot(ws.publish)

    def broken(path: Path, text: str) -> None:
        raise OSError(f"disk full writing {path}")

    monkeypatch.setattr(publish_module, "atomic_write_text", broken)
    with pytest.raises(OSError, match="disk full"):
        publish(
            ws, "night-orthophoto", now=datetime(2026, 3, 2, tzinfo=UTC), pyramids=False, access="internal"
        )
    assert tree_snapshot(ws.publish) == before


def test_republish_replaces_and_unpublish_removes(tmp_path: Path, data_dir: Path) -> None:
    ws, _ = _thermal_flight(tmp_path, data_dir)
    publish(ws, "night", now=NOW, pyramids=False)
    assert len(load_layers(ws)) == 3
    [again] = publish(ws, "night-dtm", now=NOW, pyramids=False, access="public")
    assert len(load_layers(ws)) == 3 and again.access == "public"
    gone = unpublish(ws, "night-dtm")
    assert gone.id == "night-dtm"
    assert {layer.id for layer in load_layers(ws)} == {"night-orthophoto", "night-thermal"}
    assert not ws.published_layer("night-dtm").exists()
    assert not list(ws.published_stac.rglob("night-dtm.json"))
    assert validate_tree(ws.published_stac / "catalog.json") == 1 + 2 + 2
    with pytest.raises(LayerNotFound):
        unpublish(ws, "night-dtm")


def test_unknown_target(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no-such-flight"):
        publish(Workspace.at(tmp_path / "ws"), "no-such-flight")


def test_published_dtm_pixels_equal_source(
    published: tuple[Workspace, dict[str, Layer]], data_dir: Path
) -> None:
    ws, layers = published
    with (
        rasterio.open(ws.publish / layers["dtm"].cog) as cog,
        rasterio.open(data_dir / "dk_malstroem" / "tests" / "data" / "dtm.tif") as src,
    ):
        assert cog.crs == src.crs and cog.transform == src.transform
        assert (cog.read(1) == src.read(1)).all()


def test_real_non_cog_products_in_foreign_crs(tmp_path: Path, data_dir: Path) -> None:
    """WebODM's RGBA orthophoto (UTM 15N, not a COG) and opengeos' DSM (UTM 18N) publish as valid COGs."""
    ws = Workspace.at(tmp_path / "ws")
    folder = ws.products("usa")
    folder.mkdir(parents=True)
    sources = {
        "orthophoto": data_dir / "webodm_fixtures" / "app" / "fixtures" / "orthophoto.tif",
        "dsm": data_dir / "opengeos_data" / "elevation" / "dsm.tif",
    }
    docs = []
    for kind, source in sources.items():
        target = folder / source.name
        target.write_bytes(source.read_bytes())
        with rasterio.open(target) as src:
            crs = src.crs.to_string()
        docs.append(
            {
                "id": f"usa-{kind}",
                "flight": "usa",
                "kind": kind,
                "path": f"products/usa/{source.name}",
                "crs": crs,
                "bounds": [0, 0, 1, 1],
                "time_start": CAPTURE.isoformat(),
                "units": "m" if kind == "dsm" else None,
            }
        )
    ws.products_json("usa").write_text(json.dumps(docs), encoding="utf-8")
    layers = {layer.kind.value: layer for layer in publish(ws, "usa", now=NOW, pyramid_processes=1)}
    ortho, dsm = layers["orthophoto"], layers["dsm"]
    assert ortho.crs == "EPSG:32615" and dsm.crs == "EPSG:26918"
    assert ortho.band_count == 3 and ortho.style.is_rgb  # RGBA -> RGB + internal mask (JPEG profile)
    assert dsm.style.colormap == "terrain" and dsm.style.unit == "m"
    for layer in layers.values():
        assert cog_validate(str(ws.publish / layer.cog), quiet=True)[0]
        assert -100 < layer.bounds_wgs84[0] < -70 and 35 < layer.bounds_wgs84[1] < 50
        assert "WebMercatorQuad" in layer.pyramids
        assert not list((ws.published_layer(layer.id) / "default" / "View1").rglob("*.*"))  # outside View1
        assert list((ws.published_layer(layer.id) / "default" / "WebMercatorQuad").rglob("*.*"))
    with rasterio.open(ws.publish / dsm.cog) as cog, rasterio.open(sources["dsm"]) as src:
        assert (cog.read(1, masked=True) == src.read(1, masked=True)).all()
    assert validate_tree(ws.published_stac / "catalog.json") == 1 + 2 + 2


def test_publish_nan_nodata_thermal_in_process(tmp_path: Path, data_dir: Path) -> None:
    """A thermal mosaic with NaN nodata (the pipeline's own) publishes in-process, warnings as errors."""
    import warnings

    import numpy as np

    from tests.webgis_export.published import thermal_field, write_cog

    ws = Workspace.at(tmp_path / "ws")
    products = make_flight(ws, data_dir)
    field = thermal_field()
    field[field == -9999.0] = np.nan
    cog = ws.root / products[1].path
    cog.unlink()
    write_cog(cog, field, 0.2, nodata=float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (layer,) = publish(ws, products[1].id, access="internal", now=NOW, pyramid_processes=1)
    assert layer.is_thermal and layer.pyramids and layer.nodata is not None and np.isnan(layer.nodata)
    tiles = list(ws.published_layer(layer.id).rglob("*.png"))
    assert tiles


@pytest.mark.slow
def test_publish_sample_flight_thermal_mosaic_in_process(tmp_path: Path) -> None:
    """The pipeline's NaN-nodata thermal mosaic (sample flight) publishes in-process, warnings as errors."""
    import warnings

    import numpy as np

    from flights.ingest import ingest_folder
    from flights.ingest_config import IngestConfig
    from flights.models import Purpose
    from flights.sample import make_sample_flight
    from pipeline.models import ProductKind
    from pipeline.process import process_flight

    ws = Workspace.at(tmp_path / "ws")
    make_sample_flight(tmp_path / "sample")
    ingest_folder(
        tmp_path / "sample",
        IngestConfig(
            archive_dir=ws.archive("S"),
            quarantine_dir=ws.quarantine("S"),
            flight_id="S",
            purpose=Purpose.SURVEY,
            now=NOW,
            flight_json=ws.flight_json("S"),
        ),
    )
    mosaic = next(p for p in process_flight(ws, "S") if p.kind == ProductKind.THERMAL_MOSAIC)
    with rasterio.open(ws.root / mosaic.path) as src:
        assert src.nodata is not None and np.isnan(src.nodata) and np.isnan(src.read(1)).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (layer,) = publish(ws, mosaic.id, access="public", now=NOW, pyramid_processes=1)
    assert layer.is_thermal and layer.pyramids
    assert list(ws.published_layer(layer.id).rglob("*.png"))
