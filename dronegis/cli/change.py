"""``dronegis change BEFORE AFTER``: co-registration, change map, change areas and figures per area.

BEFORE and AFTER are two orthophotos, index rasters or DSMs of one area (any CRS and
resolution: they meet on the coarser grid in the target CRS). AFTER is co-registered onto
BEFORE first; a shift beyond ``--max-shift`` or rasters that cannot be matched are refused.
Writes ``<name>_map.tif`` (COG), ``<name>_areas.gpkg``, ``<name>.json`` and the Danish/English
report ``<name>.html`` into ``--out``, plus a legend of the map. Exit code 0 on success, 1 for
unusable input (no overlap, no match, no data), 2 for usage errors.
"""

from __future__ import annotations

from pathlib import Path

import click

from core.atomic import atomic_write_bytes
from core.errors import DroneGisError, UsageError
from dronegis.cli.options import echo_err, emit_json
from pipeline.change import AlignSettings, ChangeConfig, ChangeKind, ChangeResult, detect_change
from pipeline.change.report import COLORMAP
from webgis_export.legend import legend_png
from webgis_export.models import Style

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def write_legend(result: ChangeResult) -> Path:
    """The map's diverging legend (±3 × threshold), drawn by the publishing floor's legend code."""
    limit = 3 * result.threshold
    style = Style(name="change", title="Δ", colormap=COLORMAP, vmin=-limit, vmax=limit, unit=result.unit)
    path = result.change_map.with_name(f"{result.change_map.stem}_legend.png")
    atomic_write_bytes(path, legend_png(style, "Ændring / change", label=f"Δ {result.value}"))
    return path


@click.command()
@click.argument("before", type=_FILE)
@click.argument("after", type=_FILE)
@click.option(
    "--polygons", type=_FILE, help="Area polygons (any vector format and CRS) for figures per area."
)
@click.option("--polygon-id", help="Id attribute of the polygons (default: the first known id field).")
@click.option(
    "--min-area",
    type=click.FloatRange(0.0),
    default=2.0,
    show_default=True,
    help="Smallest change area (m²).",
)
@click.option("--threshold", type=click.FloatRange(0.0, min_open=True),
              help="|Δ| at least this (default: 0.08 ExG orthophoto, 0.10 index, 0.30 m DSM).")  # fmt: skip
@click.option(
    "--kind",
    type=click.Choice([k.value for k in ChangeKind]),
    help="What the rasters hold (default: detected).",
)
@click.option("--index", default="ExG", show_default=True, help="Index compared between two orthophotos.")
@click.option(
    "--smooth",
    type=click.FloatRange(0.0),
    default=0.3,
    show_default=True,
    help="Gaussian σ (m) before the threshold.",
)
@click.option("--max-shift", type=click.FloatRange(0.0, min_open=True), default=10.0, show_default=True,
              help="Largest co-registration shift (m) that is corrected; more is refused.")  # fmt: skip
@click.option("--no-align", is_flag=True, help="Compare without co-registration.")
@click.option("--keep-bias", is_flag=True, help="Do not remove the median difference over the overlap.")
@click.option(
    "--target-crs", default="EPSG:25832", show_default=True, help="CRS of the outputs ('source': BEFORE's)."
)
@click.option("--before-crs", help="CRS of BEFORE when it has none (world file without .prj).")
@click.option("--after-crs", help="CRS of AFTER when it has none.")
@click.option("--name", default="change", show_default=True, help="Stem of the output files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Output folder.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable result on stdout.")
def change(before: Path, after: Path, **options: object) -> None:
    """Change between BEFORE and AFTER: map, areas above the threshold and minimum area, report."""
    config = _config(options)
    try:
        result = detect_change(before, after, config)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except (DroneGisError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    legend = write_legend(result)
    if options["as_json"]:
        payload = result.model_dump(mode="json")
        payload["legend"] = str(legend)
        emit_json(payload)
    al = result.alignment
    echo_err(
        f"co-registration: {al.model}, {al.dx_px:+.2f} / {al.dy_px:+.2f} px = "
        f"{al.dx_m:+.2f} m E / {al.dy_m:+.2f} m N (peak {al.peak:.2f}); bias {result.bias:+.3g} {result.unit}"
    )
    echo_err(
        f"{len(result.areas)} change areas ≥ {result.min_area_m2:g} m² with |Δ| ≥ {result.threshold:g}: "
        f"gain {result.gain_m2:.1f} m², loss {result.loss_m2:.1f} m² of {result.overlap_m2:.1f} m² overlap"
    )
    echo_err(f"-> {result.change_map}, {result.change_polygons}, {result.report_html}")


def _config(o: dict[str, object]) -> ChangeConfig:
    target = str(o["target_crs"])
    try:
        return ChangeConfig(
            out_dir=o["out_dir"], kind=o["kind"], index=o["index"], threshold=o["threshold"],
            min_area_m2=o["min_area"], smooth_m=o["smooth"], remove_bias=not o["keep_bias"],
            target_crs=None if target.lower() == "source" else target,
            before_crs=o["before_crs"], after_crs=o["after_crs"], polygons=o["polygons"],
            polygon_id=o["polygon_id"], name=o["name"],
            align=AlignSettings(enabled=not o["no_align"], max_shift_m=o["max_shift"]),
        )  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
