"""``dronegis process FLIGHT``: georeference an ingested flight into products in the target CRS."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from flights.errors import DroneGisError, UsageError

STAGE_CHOICES = ("georeference", "rasters", "frames", "gcp", "mosaic", "layers")


@click.command()
@click.argument("flight")
@common_options
@click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="DEM (any CRS) for single frames; default: a plane at take-off elevation.",
)
@click.option("--target-crs", default=None, help="Output CRS (default: $DRONEGIS_TARGET_CRS or EPSG:25832).")
@click.option(
    "--transformation",
    default=None,
    help="PROJ pipeline or EPSG operation code from the rasters' CRS to the target CRS.",
)
@click.option(
    "--grids",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder with the DVR90 PROJ grids (default: $DRONEGIS_PROJ_GRIDS).",
)
@click.option(
    "--from",
    "from_stage",
    type=click.Choice(STAGE_CHOICES),
    default=None,
    help="Force this sub-stage and every later one (default: only what is out of date).",
)
@click.option(
    "--max-range",
    type=click.FloatRange(min=1.0),
    default=500.0,
    show_default=True,
    help="Horizontal metres at which rays at/above the horizon (or farther) are clipped.",
)
def process(
    flight: str,
    workspace: Path | None,
    as_json: bool,
    dem: Path | None,
    target_crs: str | None,
    transformation: str | None,
    grids: Path | None,
    from_stage: str | None,
    max_range: float,
) -> None:
    """Georeference FLIGHT: orthophotos/DSMs to COGs, single frames to footprints and COGs.

    Exit code 0 when products were written, 1 when the flight is unusable, 2 for usage errors.
    """
    from pipeline.process import dump, process_flight
    from pipeline.workspace import Workspace

    settings = settings_for(workspace)
    ws = Workspace.at(settings.workspace)

    def progress(done: int, total: int) -> None:
        echo_err(f"frames {done}/{total}")

    try:
        products = process_flight(
            ws,
            flight,
            dem=dem,
            target_crs=target_crs or settings.target_crs,
            transformation=transformation,
            grids=grids or settings.proj_grids,
            from_stage=from_stage,
            progress=progress,
            max_range=max_range,
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except DroneGisError as exc:
        echo_err(f"error: {exc}")
        if as_json:
            emit_json({"flight": flight, "ok": False, "error": str(exc), "products": []})
        sys.exit(1)
    if as_json:
        emit_json({"flight": flight, "ok": bool(products), "products": dump(products)})
    else:
        for p in products:
            gsd = f" GSD {p.gsd_m * 100:.1f} cm" if p.gsd_m else ""
            click.echo(f"{p.kind.value:15s} {p.path}{gsd}")
        skipped = next((p.properties.get("skipped") for p in products if p.kind.value == "footprints"), None)
        for s in skipped if isinstance(skipped, list) else []:
            click.echo(f"skipped        {s['file']}: {s['reason']}")
    sys.exit(0 if products else 1)
