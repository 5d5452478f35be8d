"""``dronegis buildings`` on the synthetic scene: text and JSON output, exit codes, bad rasters."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dronegis.cli.main import cli
from tests.pipeline.buildings.scene import scene_array, write_footprints, write_raster


def test_buildings_command_json_and_text(tmp_path: Path) -> None:
    footprints = write_footprints(tmp_path / "roofs.gpkg", "EPSG:3044")
    thermal = write_raster(tmp_path / "celsius.tif", scene_array())
    out = tmp_path / "out"
    args = ["buildings", str(footprints), "--thermal", str(thermal), "--air-temp", "0", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--json", "--date-flown", "2026-01-15", "--no-cards"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["flight"]["date_flown"] == "2026-01-15" and doc["flight"]["air_temp_c"] == 0.0
    first = min(doc["buildings"], key=lambda b: b["rank"] or 99)
    assert (first["id"], first["heat_class"]) == ("R3", "D")
    assert (out / "buildings.gpkg").exists() and not (out / "cards").exists()
    text = CliRunner().invoke(cli, [*args, "--id-field", "id_lokalId"])
    assert text.exit_code == 0, text.output
    assert "6 bygninger" in text.stdout and "6 buildings" in text.stdout
    assert text.stdout.splitlines()[1].split()[:3] == ["1", "D", "R3"]
    assert (out / "cards" / "index.html").exists()


def test_buildings_command_refuses_a_kelvin_raster(tmp_path: Path) -> None:
    footprints = write_footprints(tmp_path / "roofs.gpkg")
    kelvin = write_raster(tmp_path / "kelvin.tif", scene_array(273.15))
    result = CliRunner().invoke(
        cli, ["buildings", str(footprints), "--thermal", str(kelvin), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "kelvin.tif" in result.output and "look like kelvin" in result.output
