"""``dronegis remask`` (also ``dronegis publish --remask``): re-mask what is published under new zones."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.errors import DroneGisError
from core.i18n import LANGS, text
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from dronegis.settings import Settings
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.privacy.remask import remask as remask_layers


def run_remask(settings: Settings, as_json: bool) -> None:
    """Re-mask every layer published under other zones than ``settings.privacy_zones``; print what."""
    ws = Workspace.at(settings.workspace)
    config = PrivacyConfig(zones=settings.privacy_zones, detect_people=settings.privacy_detect_people)
    try:
        layers = remask_layers(ws, config)
    except DroneGisError as exc:
        echo_err(f"remask: {exc}")
        sys.exit(1)
    if as_json:
        emit_json([layer.model_dump(mode="json") for layer in layers])
    for layer in layers:
        echo_err(f"remasked {layer.id}")
    for lang in LANGS:
        echo_err(text("records.remasked", lang, count=len(layers)))


@click.command()
@common_options
def remask(workspace: Path | None, as_json: bool) -> None:
    """Publish again, masked under $DRONEGIS_PRIVACY_ZONES, every layer published under other zones.

    Until then the service withholds those layers. Exit code 1 when the zones cannot be read or a
    layer's product is gone.
    """
    run_remask(settings_for(workspace), as_json)
