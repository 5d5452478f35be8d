"""``dronegis roofs DSM --footprints FILE``: roof faces per building (true area, slope, aspect).

Exit code 0 when every footprint was measured, 1 when some could not be (their records
say why) or the input is unusable, 2 for usage errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from core.errors import DroneGisError
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from pipeline.roofs import RoofConfig, RoofRun, RoofSettings, run_roofs

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _summary(run: RoofRun) -> None:
    for b in run.buildings:
        if b.roof_area_m2 is None:
            click.echo(f"{b.id}: {b.status.value.upper()}: {'; '.join(b.problems)}")
            continue
        height = f", {b.height_m:.2f} m above terrain" if b.height_m is not None else ""
        slope = f"{b.dominant_slope_deg:.1f}°" if b.dominant_slope_deg is not None else "–"
        click.echo(
            f"{b.id}: roof {b.roof_area_m2:.1f} m² in {b.planes} face(s), dominant slope {slope}{height}"
            + (f"  [{b.status.value}: {'; '.join(b.problems)}]" if b.problems else "")
        )
    for kind, path in run.outputs.items():
        echo_err(f"wrote {kind}: {path}")


@click.command()
@click.argument("dsm", type=_FILE)
@click.option(
    "--footprints", required=True, type=_FILE, help="Building footprints (any vector format and CRS)."
)
@click.option(
    "--dtm", type=_FILE, default=None, help="Terrain model: height above terrain, ground cells left out."
)
@click.option(
    "--id-field", default=None, help="Footprint attribute used as the id (default: guessed, else #n)."
)
@click.option("--layer", default=None, help="Layer of a multi-layer footprint file.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Output folder."
)
@click.option("--out-crs", default="EPSG:25832", show_default=True, help="CRS of the GeoPackage.")
@click.option("--distance", type=click.FloatRange(0.0, min_open=True), default=0.15, show_default=True,
              help="Largest distance (m) of a cell from its face's plane.")  # fmt: skip
@click.option("--normal-angle", type=click.FloatRange(0.0, 90.0, min_open=True), default=20.0,
              show_default=True,
              help="Largest angle (°) between a cell's normal and its face's.")  # fmt: skip
@click.option("--min-plane-area", type=click.FloatRange(0.0, min_open=True), default=4.0, show_default=True,
              help="Smallest face (m²).")  # fmt: skip
@common_options
def roofs(dsm: Path, footprints: Path, workspace: Path | None, as_json: bool, **options: Any) -> None:
    """Roof faces of each footprint over DSM: true area, slope and aspect; per building totals.

    Writes roofs.gpkg (layers buildings, roof_planes), roofs.csv / roof_planes.csv (Danish Excel),
    English CSV twins, roofs.json and roofs.html into --out (default: ./roofs-<DSM name>).
    """
    tuning = RoofSettings(
        distance_m=options["distance"],
        normal_deg=options["normal_angle"],
        min_plane_area_m2=options["min_plane_area"],
    )
    try:
        config = RoofConfig(
            dsm=dsm,
            footprints=footprints,
            dtm=options["dtm"],
            layer=options["layer"],
            id_field=options["id_field"],
            out_dir=options["out_dir"] or Path(f"roofs-{dsm.stem}"),
            out_crs=options["out_crs"],
            settings=tuning,
            proj_grids=settings_for(workspace).proj_grids,
        )
        run = run_roofs(config)
    except DroneGisError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(json.loads(run.model_dump_json()))
    else:
        _summary(run)
    sys.exit(1 if any(b.status.value == "failed" for b in run.buildings) else 0)
