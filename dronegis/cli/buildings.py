"""``dronegis buildings``: heat loss per building from footprints and a °C raster."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from core.errors import DroneGisError
from core.models import Frozen
from dronegis.cli.options import echo_err, emit_json, json_option
from pipeline.buildings import BuildingsConfig, BuildingsReport, FlightConditions, buildings_stage
from pipeline.buildings.outputs import report_json

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("footprints", type=EXISTING_FILE)
@click.option("--thermal", "thermal", type=EXISTING_FILE, required=True, help="Single-band °C raster.")
@click.option("--id-field", default=None, help="Footprint attribute holding the building id.")
@click.option("--layer", default=None, help="Layer of the footprint file (GeoPackages with several).")
@click.option("--air-temp", type=float, default=None, help="Air temperature during the flight, °C.")
@click.option("--date-flown", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date of the flight.")
@click.option(
    "--view-angle", type=click.FloatRange(0, 90), default=None, help="Off-nadir view angle, degrees."
)
@click.option("--rgb", type=EXISTING_FILE, default=None, help="RGB orthophoto for the cards' crops.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("buildings"),
    show_default=True,
    help="Output folder.",
)
@click.option("--cards/--no-cards", default=True, show_default=True, help="Write a card per building.")
@json_option
def buildings(
    footprints: Path,
    thermal: Path,
    id_field: str | None,
    layer: str | None,
    air_temp: float | None,
    date_flown: datetime | None,
    view_angle: float | None,
    rgb: Path | None,
    out_dir: Path,
    cards: bool,
    as_json: bool,
) -> None:
    """Rank the buildings in FOOTPRINTS by heat loss seen in a °C raster (roof statistics, hot spots, cards).

    FOOTPRINTS is any vector file (GeoPackage, GeoJSON, Shapefile; GeoDanmark BYGNING or BBR
    exports) in any CRS. Writes buildings.gpkg (layers buildings and hot_spots, EPSG:25832),
    buildings.json and cards/ into --out.
    """
    request = BuildingsRequest(
        as_json=as_json,
        config=BuildingsConfig(
            footprints=footprints,
            thermal=thermal,
            out_dir=out_dir,
            rgb=rgb,
            id_field=id_field,
            layer=layer,
            flight=FlightConditions(
                date_flown=date_flown.date() if date_flown else None,
                air_temp_c=air_temp,
                view_angle_deg=view_angle,
            ),
            cards=cards,
        ),
    )
    try:
        report = buildings_stage(request.config)
    except DroneGisError as exc:
        raise click.ClickException(str(exc)) from exc
    if request.as_json:
        emit_json(report_json(report))
        return
    print_summary(report)


class BuildingsRequest(Frozen):
    """The options of ``dronegis buildings``: the stage's config and how to answer."""

    config: BuildingsConfig
    as_json: bool = False


def print_summary(report: BuildingsReport, top: int = 10) -> None:
    """The highest-ranked buildings and where the outputs are (Danish / English)."""
    ranked = sorted((b for b in report.buildings if b.rank is not None), key=lambda b: b.rank or 0)
    flagged = sum(b.reliability.value != "good" for b in report.buildings)
    click.echo(
        f"{len(report.buildings)} bygninger, {len(ranked)} rangeret, {flagged} med forbehold / "
        f"{len(report.buildings)} buildings, {len(ranked)} ranked, {flagged} flagged"
    )
    for b in ranked[:top]:
        score = f"{b.score_k:.2f}" if b.score_k is not None else "-"
        median = f"{b.stats.median:.2f}" if b.stats.median is not None else "-"
        click.echo(
            f"{b.rank:>4}  {b.heat_class}  {b.id:30} score {score:>6} K  median {median:>7} °C  "
            f"hot spots {len(b.hot_spots):>2}  {b.reliability.value}"
        )
    for name, path in report.outputs.items():
        echo_err(f"{name}: {path}")
