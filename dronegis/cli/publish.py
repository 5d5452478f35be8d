"""``dronegis publish FLIGHT|PRODUCT`` and ``dronegis unpublish LAYER``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.errors import DroneGisError, LayerNotFound
from core.models import Frozen
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from dronegis.cli.remask import run_remask
from dronegis.settings import Settings
from webgis_export.gates import PublishGates
from webgis_export.models import Layer
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.publish import publish as do_publish
from webgis_export.publish import unpublish as do_unpublish
from webgis_export.vectors.models import VectorLayer


@click.command()
@click.argument("target", required=False)
@common_options
@click.option(
    "--remask",
    is_flag=True,
    help="Re-mask every published layer under the current $DRONEGIS_PRIVACY_ZONES (no TARGET).",
)
@click.option(
    "--public-frames",
    default=None,
    metavar="REASON",
    help="Publish single frames as public too (default: frames are internal); the reason is recorded.",
)
@click.option(
    "--detect-people", is_flag=True, help="Blur people found by OpenCV's HOG detector in single frames."
)
@click.option(
    "--access",
    type=click.Choice(["public", "internal"]),
    default="internal",
    show_default=True,
    help="public: open to everyone; internal: needs an API token.",
)
@click.option("--title", default=None, help="Layer title (default: kind and flight).")
@click.option(
    "--site",
    default=None,
    help="Site name for people (e.g. 'Skanderborg Rådhus'): the place in the viewer's and the print's "
    "titles (default: the postal district the layer lies in).",
)
@click.option(
    "--override-thermal-gate",
    "override",
    default=None,
    metavar="REASON",
    help="Publish a thermal layer although its QA thermography gate failed; the reason is logged.",
)
@click.option(
    "--no-pyramids", is_flag=True, help="Skip the static tile pyramids (tiles are then rendered on demand)."
)
@click.option(
    "--allow-undated",
    default=None,
    metavar="REASON",
    help="Publish products whose capture date is unknown; the reason is recorded (STAC: datetime null, "
    "dronegis:capture_date unknown). Better: dronegis ingest --captured DATE, then dronegis process.",
)
@click.option(
    "--allow-outside-area",
    "allow_outside",
    default=None,
    metavar="REASON",
    help="Publish products lying outside the municipality ($DRONEGIS_MUNICIPALITY, default Skanderborg); "
    "the reason is recorded on the layer and in STAC.",
)
def publish(
    target: str | None,
    workspace: Path | None,
    as_json: bool,
    remask: bool,
    public_frames: str | None,
    detect_people: bool,
    access: str,
    title: str | None,
    site: str | None,
    override: str | None,
    no_pyramids: bool,
    allow_undated: str | None,
    allow_outside: str | None,
) -> None:
    """Publish every raster product of flight TARGET, or the product TARGET, as layers.

    Atomic: a failure leaves the published state as it was. Exit code 1 when the
    publication is refused (unknown target, blocked thermal layer, a product without capture
    date or outside the municipality, invalid COG/STAC).
    """
    request = PublishRequest(
        target=target,
        workspace=workspace,
        as_json=as_json,
        remask=remask,
        public_frames=public_frames,
        detect_people=detect_people,
        access=access,
        title=title,
        site=site,
        override=override,
        no_pyramids=no_pyramids,
        allow_undated=allow_undated,
        allow_outside=allow_outside,
    )
    settings = settings_for(request.workspace)
    if request.remask or not request.target:
        if not request.remask:
            raise click.UsageError("give a flight or product id, or --remask")
        run_remask(settings, request.as_json)
        return
    try:
        layers = _publish(request, request.target, settings)
    except DroneGisError as exc:
        echo_err(f"publish {request.target}: {exc}")
        sys.exit(1)
    if request.as_json:
        emit_json([layer.model_dump(mode="json") for layer in layers])
    for layer in layers:
        echo_err(
            f"published {layer.id} ({layer.kind.value}, {layer.access}, QA {layer.qa_status or 'not run'})"
        )


class PublishRequest(Frozen):
    """The options of ``dronegis publish`` (see the command's help)."""

    target: str | None
    workspace: Path | None = None
    as_json: bool = False
    remask: bool = False
    public_frames: str | None = None
    detect_people: bool = False
    access: str = "internal"
    title: str | None = None
    site: str | None = None
    override: str | None = None
    no_pyramids: bool = False
    allow_undated: str | None = None
    allow_outside: str | None = None


def _publish(request: PublishRequest, target: str, settings: Settings) -> list[Layer | VectorLayer]:
    """Publish ``target`` with the request's gates, overrides and privacy on top of the settings."""
    gates = PublishGates(
        area=settings.municipality,
        area_code=settings.municipality_code,
        allow_undated=request.allow_undated,
        allow_outside=request.allow_outside,
    )
    privacy = PrivacyConfig(
        zones=settings.privacy_zones,
        detect_people=request.detect_people or settings.privacy_detect_people,
        public_frames=request.public_frames,
    )
    return do_publish(
        Workspace.at(settings.workspace),
        target,
        access="public" if request.access == "public" else "internal",
        title=request.title,
        override_gate=request.override,
        pyramids=not request.no_pyramids,
        gates=gates,
        site=request.site,
        privacy=privacy,
    )


@click.command()
@click.argument("layer")
@common_options
def unpublish(layer: str, workspace: Path | None, as_json: bool) -> None:
    """Remove the published layer LAYER (COG, tiles, STAC item). Exit code 1 when unknown."""
    ws = Workspace.at(settings_for(workspace).workspace)
    try:
        gone = do_unpublish(ws, layer)
    except LayerNotFound as exc:
        echo_err(f"unpublish: {exc}")
        sys.exit(1)
    if as_json:
        emit_json({"unpublished": gone.id})
    echo_err(f"unpublished {gone.id}")
