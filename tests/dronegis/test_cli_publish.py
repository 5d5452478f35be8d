from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from core.workspace import Workspace
from dronegis.cli.main import cli
from flights.sample import make_sample_flight
from tests.webgis_export.published import make_flight
from webgis_export.layer_text import base_title
from webgis_export.models import Layer

REASON = "test: malstroem's DTM lies near Copenhagen, outside Skanderborg"


def test_publish_and_unpublish_commands(tmp_path: Path, data_dir: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    make_flight(ws, data_dir, flight="cli")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "publish",
            "cli-dtm",
            "--workspace",
            str(ws.root),
            "--access",
            "public",
            "--title",
            "Terræn",
            "--site",
            "Amager Fælled",
            "--no-pyramids",
            "--json",
            "--allow-outside-area",
            REASON,
        ],
    )
    assert result.exit_code == 0, result.output
    [layer] = json.loads(result.stdout)
    assert layer["id"] == "cli-dtm" and layer["title"] == "Terræn" and layer["access"] == "public"
    assert layer["overrides"] == {"outside_area": REASON}
    assert layer["site"] == "Amager Fælled" and layer["locality"] is None  # Copenhagen: no district of ours
    assert (ws.layers_json).exists() and (ws.published_layer("cli-dtm") / "cog.tif").exists()

    result = runner.invoke(cli, ["unpublish", "cli-dtm", "--workspace", str(ws.root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"unpublished": "cli-dtm"}
    assert json.loads(ws.layers_json.read_text()) == []


def test_publish_unknown_target_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["publish", "nothing", "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "nothing" in result.stderr


def test_unpublish_unknown_layer_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["unpublish", "ghost", "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 1 and "ghost" in result.stderr


def test_publish_bad_access_is_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["publish", "x", "--access", "secret", "--workspace", str(tmp_path)])
    assert result.exit_code == 2


def test_serve_help() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "127.0.0.1" in result.output


def test_the_site_given_at_ingest_names_the_published_layers(tmp_path: Path, data_dir: Path) -> None:
    sample = tmp_path / "delivery"
    make_sample_flight(sample)
    ws = Workspace.at(tmp_path / "ws")
    runner = CliRunner()
    ingest = ["ingest", str(sample), "-w", str(ws.root), "--flight-id", "cli", "--site", "Skanderborg Rådhus"]
    assert runner.invoke(cli, [*ingest, "--purpose", "bygningsinspektion"]).exit_code == 0
    make_flight(ws, data_dir, flight="cli")
    args = ["publish", "cli-dtm", "--workspace", str(ws.root), "--no-pyramids", "--json"]
    result = runner.invoke(cli, [*args, "--allow-outside-area", REASON])
    assert result.exit_code == 0, result.output
    [layer] = json.loads(result.stdout)
    assert layer["site"] == "Skanderborg Rådhus"
    assert base_title(Layer.model_validate(layer), "da").split(", ")[1] == "Skanderborg Rådhus"
    result = runner.invoke(cli, [*args, "--allow-outside-area", REASON, "--site", "Amager Fælled"])
    assert json.loads(result.stdout)[0]["site"] == "Amager Fælled"  # a name given at publication wins
