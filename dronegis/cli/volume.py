"""``dronegis volume DSM --polygons FILE``: cut, fill and net volume per polygon, with uncertainty.

The product's vertical accuracy comes from ``--rmse-v``/``--bias-v``, else from a QA
report (``--qa-report``, or ``qa/<flight>/report.json`` when the DSM lies in the
workspace's ``products/<flight>/``): the vertical check's ASPRS RMSE_V and its mean
error (the bias). Exit code 0 when every polygon was measured, 1 when some could not
be (their records say why) or the input is unusable, 2 for usage errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from core.errors import DroneGisError
from core.workspace import Workspace
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for
from pipeline.volumes import BaseMethod, VerticalError, VolumeConfig, VolumeRun, run_volumes
from qa.models import QAReport

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_METRES = click.FloatRange(0.0)


def _vertical_checks(report: Path) -> dict[str, dict[str, Any]]:
    """The checks of a QA report that measured a vertical accuracy (id → figures)."""
    try:
        parsed = QAReport.model_validate_json(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(
            f"QA report {report} cannot be read: {exc}", param_hint="--qa-report"
        ) from exc
    return {c.id: dict(c.figures) for c in parsed.checks if c.status != "skip" and "rmse_z" in c.figures}


def error_from_report(report: Path, check: str | None, correlation: float | None) -> VerticalError:
    """The vertical error of the DSM from a QA report: ASPRS RMSE_V, bias = mean error.

    Raises:
        click.BadParameter: no vertical check, or several and ``check`` does not name one.
    """
    checks = _vertical_checks(report)
    if check is not None and check not in checks:
        raise click.BadParameter(
            f"QA report {report} has no vertical check {check!r} (has: {', '.join(checks) or 'none'})",
            param_hint="--qa-check",
        )
    if check is None and len(checks) != 1:
        found = ", ".join(checks) or "none"
        raise click.BadParameter(
            f"QA report {report} has {len(checks)} vertical checks ({found}); name one with --qa-check",
            param_hint="--qa-report",
        )
    name = check or next(iter(checks))
    figures = checks[name]
    rmse = float(figures.get("asprs_rmse_v") or figures["rmse_z"])
    return VerticalError.from_rmse(
        rmse,
        bias_m=float(figures.get("mean_z") or 0.0),
        source=f"QA report {report}, check {name}",
        points=int(figures["n"]) if "n" in figures else None,
        correlation_range_m=correlation,
    )


def workspace_report(dsm: Path, root: Path) -> Path | None:
    """``qa/<flight>/report.json`` if ``dsm`` lies in the workspace's ``products/<flight>/`` and it exists."""
    ws = Workspace.at(root)
    try:
        relative = dsm.resolve().relative_to(ws.root / "products")
    except ValueError:
        return None
    report = ws.qa_report_json(relative.parts[0]) if len(relative.parts) > 1 else None
    return report if report is not None and report.exists() else None


def _dsm_error(options: dict[str, Any], dsm: Path, workspace: Path) -> VerticalError:
    correlation = options["correlation_range"]
    if options["rmse_v"] is not None:
        return VerticalError.from_rmse(
            options["rmse_v"],
            bias_m=options["bias_v"] or 0.0,
            source="--rmse-v",
            correlation_range_m=correlation,
        )
    if options["bias_v"] is not None:
        raise click.UsageError("--bias-v needs --rmse-v (the bias is part of the RMSE)")
    report = options["qa_report"] or workspace_report(dsm, workspace)
    if report is None:
        return VerticalError(correlation_range_m=correlation)
    return error_from_report(report, options["qa_check"], correlation)


def _base_error(options: dict[str, Any]) -> VerticalError:
    if options["base_rmse_v"] is None:
        if options["base_bias_v"] is not None:
            raise click.UsageError("--base-bias-v needs --base-rmse-v")
        return VerticalError()
    return VerticalError.from_rmse(
        options["base_rmse_v"], bias_m=options["base_bias_v"] or 0.0, source="--base-rmse-v"
    )


def _summary(run: VolumeRun) -> None:
    for p in run.polygons:
        if p.net_m3 is None or p.uncertainty is None:
            click.echo(f"{p.id}: {p.status.value.upper()}: {'; '.join(p.problems)}")
            continue
        click.echo(
            f"{p.id}: cut {p.cut_m3:.2f} m³, fill {p.fill_m3:.2f} m³, net {p.net_m3:.2f} ± "
            f"{p.uncertainty.total95_m3:.2f} m³ (95 %), area {p.area_2d_m2:.1f} m², coverage {p.coverage:.1%}"
            + (f"  [{p.status.value}: {'; '.join(p.problems)}]" if p.problems else "")
        )
    for kind, path in run.outputs.items():
        echo_err(f"wrote {kind}: {path}")


@click.command()
@click.argument("dsm", type=_FILE)
@click.option(
    "--polygons", required=True, type=_FILE, help="Polygons (GeoPackage, GeoJSON, Shapefile; any CRS)."
)
@click.option(
    "--base",
    type=click.Choice(["plane", "lowest", "average"]),
    default=None,
    help="Base from the polygon boundary (default plane; not with --base-dem).",
)
@click.option("--base-dem", type=_FILE, default=None, help="Base surface raster: a DTM or an earlier DSM.")
@click.option(
    "--id-field", default=None, help="Polygon attribute used as the id (default: guessed, else #n)."
)
@click.option("--layer", default=None, help="Layer of a multi-layer polygon file.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Output folder."
)
@click.option("--out-crs", default="EPSG:25832", show_default=True, help="CRS of the GeoPackage.")
@click.option(
    "--rmse-v", type=_METRES, default=None, help="Vertical RMSE of the DSM, m (else the QA report's)."
)
@click.option("--bias-v", type=float, default=None, help="Vertical bias (mean error) of the DSM, m.")
@click.option("--base-rmse-v", type=_METRES, default=None, help="Vertical RMSE of the base raster, m.")
@click.option("--base-bias-v", type=float, default=None, help="Vertical bias of the base raster, m.")
@click.option(
    "--correlation-range",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="Range (m) of spatially correlated DSM error (default: uncorrelated).",
)
@click.option("--qa-report", type=_FILE, default=None, help="QA report.json with the DSM's vertical check.")
@click.option("--qa-check", default=None, help="Id of the vertical check in the QA report (if several).")
@click.option(
    "--min-coverage",
    type=click.FloatRange(0.0, 1.0),
    default=0.95,
    show_default=True,
    help="Share of a polygon with DSM below which its status is partial.",
)
@click.option("--no-raster", is_flag=True, help="Do not write the cut/fill COG.")
@common_options
def volume(dsm: Path, polygons: Path, workspace: Path | None, as_json: bool, **options: Any) -> None:
    """Cut, fill and net volume of each polygon over DSM, with its uncertainty.

    Writes cutfill.tif (+ legend), volumes.gpkg, volumes.csv (Danish Excel: ';' and decimal comma),
    volumes_en.csv, volumes.json and volumes.html into --out (default: ./volumes-<DSM name>).
    """
    if options["base"] is not None and options["base_dem"] is not None:
        raise click.UsageError("--base and --base-dem exclude each other: a base raster is the base")
    settings = settings_for(workspace)
    method = BaseMethod.SURFACE if options["base_dem"] else BaseMethod(options["base"] or "plane")
    out_dir = options["out_dir"] or Path(f"volumes-{dsm.stem}")
    try:
        config = VolumeConfig(
            dsm=dsm,
            polygons=polygons,
            layer=options["layer"],
            id_field=options["id_field"],
            base=method,
            base_dem=options["base_dem"],
            out_dir=out_dir,
            out_crs=options["out_crs"],
            dsm_error=_dsm_error(options, dsm, settings.workspace),
            base_error=_base_error(options),
            proj_grids=settings.proj_grids,
            min_coverage=options["min_coverage"],
            write_raster=not options["no_raster"],
        )
        run = run_volumes(config)
    except DroneGisError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(json.loads(run.model_dump_json()))
    else:
        _summary(run)
    sys.exit(1 if run.failed else 0)
