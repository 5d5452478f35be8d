"""``dronegis process FLIGHT``: georeference an ingested flight into products in the target CRS.

Thermal measurement parameters (``--emissivity``, ``--reflected-temp``, ``--humidity``,
``--air-temp``, ``--distance``, as in ``dronegis thermal``) and ``--thermal-params FILE``
(TOML or JSON with the same keys, optionally under a ``[thermal]`` table; options win over
the file) become the flight's stored overrides; without any, the stored ones are reused.

``--scheduler ADDRESS`` (or ``DRONEGIS_DASK_SCHEDULER``) runs the frames as tasks on a Dask
cluster (workers must see the workspace at the same path); ``--workers N`` uses a local
pool of N processes; the default processes the frames here. The products are the same.

``--footprints FILE`` (or ``DRONEGIS_FOOTPRINTS``) adds the ``buildings`` sub-stage: heat loss per
building over the flight's thermal mosaic or frames (``pipeline.buildings.flight``), with
``--id-field`` naming the building id and the air temperature from ``--conditions FILE``, the
conditions logged over the API, or ``--air-temp``; and the ``roofs`` sub-stage: roof planes per building
on each DSM of the flight (``pipeline.roofs.flight``), heights above terrain with its DTM.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import Field

from core.errors import DroneGisError, QAError, UsageError
from core.models import Frozen
from core.workspace import Workspace
from dronegis.cli.heights import render_decisions
from dronegis.cli.options import common_options, echo_err, emit_json, settings_for, thermal_options
from dronegis.cli.volume import error_from_report
from pipeline.executors import executor_for
from pipeline.models import Product, Skipped, ThermalOverrides
from pipeline.process import process_flight
from pipeline.products import load_skipped
from pipeline.run import STAGES, ProcessConfig
from pipeline.volumes import BaseMethod
from qa.conditions import logged_air_temp

STAGE_CHOICES = ("georeference", *STAGES)
# --thermal-params keys (CLI spelling, "-" or "_") -> ThermalOverrides fields; the fields work too.
THERMAL_KEYS = {
    "emissivity": "emissivity",
    "reflected_temp": "reflected_temp_c",
    "humidity": "relative_humidity_pct",
    "air_temp": "atmospheric_temp_c",
    "distance": "object_distance_m",
}


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
@thermal_options
@click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://host:8786): one task per frame on that cluster "
    "(default: $DRONEGIS_DASK_SCHEDULER).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local processes for the frames without --scheduler (1: in this process).",
)
@click.option(
    "--thermal-params",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TOML or JSON file with the flight's thermal parameters (keys as the options above).",
)
@click.option(
    "--footprints",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Building footprints (any vector file and CRS): heat loss per building over the thermal "
    "products, roof planes on the DSMs (default: $DRONEGIS_FOOTPRINTS).",
)
@click.option(
    "--id-field", default=None, help="Footprint attribute holding the building id (default: found)."
)
@click.option(
    "--conditions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Logged thermography conditions (TOML/JSON, as dronegis qa --conditions): the air "
    "temperature for the buildings (default: the ones logged over the API, else --air-temp).",
)
@click.option(
    "--volume-polygons",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Polygons (any vector file and CRS) whose cut/fill is measured on each DSM of the flight; "
    "the uncertainty takes RMSE_V of the flight's QA report when there is one.",
)
@click.option(
    "--volume-base",
    type=click.Choice([m.value for m in BaseMethod]),
    default=BaseMethod.PLANE.value,
    show_default=True,
    help="Base of the volumes (surface: the raster --volume-base-dem).",
)
@click.option(
    "--volume-base-dem",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Base surface raster (DTM or an earlier DSM) for --volume-base surface.",
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
    emissivity: float | None,
    reflected_temp: float | None,
    humidity: float | None,
    air_temp: float | None,
    distance: float | None,
    scheduler: str | None,
    workers: int,
    thermal_params: Path | None,
    footprints: Path | None,
    id_field: str | None,
    conditions: Path | None,
    volume_polygons: Path | None,
    volume_base: str,
    volume_base_dem: Path | None,
) -> None:
    """Georeference FLIGHT: orthophotos/DSMs to COGs, single frames to footprints and COGs.

    Thermal parameters given here (or in --thermal-params) are stored for the flight and
    recompute its thermal products; without them the stored ones are reused.
    Exit code 0 when products were written, 1 when the flight is unusable, 2 for usage errors.
    """
    request = ProcessRequest(
        flight=flight,
        workspace=workspace,
        as_json=as_json,
        dem=dem,
        target_crs=target_crs,
        transformation=transformation,
        grids=grids,
        from_stage=from_stage,
        max_range=max_range,
        thermal={
            key: value
            for key, value in (
                ("emissivity", emissivity),
                ("reflected_temp", reflected_temp),
                ("humidity", humidity),
                ("air_temp", air_temp),
                ("distance", distance),
            )
            if value is not None
        },
        scheduler=scheduler,
        workers=workers,
        thermal_params=thermal_params,
        footprints=footprints,
        id_field=id_field,
        conditions=conditions,
        volume_polygons=volume_polygons,
        volume_base=volume_base,
        volume_base_dem=volume_base_dem,
    )
    sys.exit(run_process(request))


class ProcessRequest(Frozen):
    """Everything ``dronegis process`` was asked: the flight and its options (the thermal ones as given)."""

    flight: str
    workspace: Path | None = None
    as_json: bool = False
    dem: Path | None = None
    target_crs: str | None = None
    transformation: str | None = None
    grids: Path | None = None
    from_stage: str | None = None
    max_range: float = 500.0
    thermal: dict[str, float] = Field(default_factory=dict, description="option name -> value")
    scheduler: str | None = None
    workers: int = 1
    thermal_params: Path | None = None
    footprints: Path | None = None
    id_field: str | None = None
    conditions: Path | None = None
    volume_polygons: Path | None = None
    volume_base: str = "plane"
    volume_base_dem: Path | None = None


def run_process(request: ProcessRequest) -> int:
    """Process the flight as asked and print the products; the exit code (0 written, 1 unusable).

    Raises:
        click.UsageError: a bad option value, thermal parameter or stage.
    """
    overrides = thermal_overrides(request.thermal_params, request.thermal)
    settings = settings_for(request.workspace)
    workspace = Workspace.at(settings.workspace)
    try:
        air_temp = logged_air_temp(request.conditions, workspace.qa_conditions(request.flight))
    except QAError as exc:
        raise click.UsageError(str(exc)) from exc
    config = ProcessConfig(
        dem=request.dem,
        target_crs=request.target_crs or settings.target_crs,
        transformation=request.transformation,
        grids=request.grids or settings.proj_grids,
        from_stage=request.from_stage,
        max_range=request.max_range,
        thermal_overrides=overrides,
        footprints=request.footprints or settings.footprints,
        footprints_id_field=request.id_field or settings.footprints_id_field,
        air_temp_c=air_temp,
        **volume_options(request, workspace),
    )

    def progress(done: int, total: int) -> None:
        echo_err(f"frames {done}/{total}")

    try:
        executor = executor_for(request.scheduler or settings.dask_scheduler, workers=request.workers)
    except DroneGisError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        products = process_flight(workspace, request.flight, config, progress=progress, executor=executor)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except DroneGisError as exc:
        echo_err(f"error: {exc}")
        if request.as_json:
            emit_json({"flight": request.flight, "ok": False, "error": str(exc), "products": []})
        return 1
    finally:
        executor.close()
    _report(request, products, load_skipped(workspace, request.flight))
    return 0 if products else 1


def _report(request: ProcessRequest, products: tuple[Product, ...], skipped: Sequence[Skipped]) -> None:
    """Print the products (JSON, or one line each), what every sub-stage skipped and the height decisions."""
    if request.as_json:
        emit_json(
            {
                "flight": request.flight,
                "ok": bool(products),
                "products": [p.model_dump(mode="json") for p in products],
                "skipped": [s.model_dump(mode="json") for s in skipped],
            }
        )
        return
    for p in products:
        gsd = f" GSD {p.gsd_m * 100:.1f} cm" if p.gsd_m else ""
        click.echo(f"{p.kind.value:15s} {p.path}{gsd}")
    for p in products:
        if p.kind.value in ("buildings", "hot_spots", "roof_planes") and p.vector is not None:
            click.echo(f"{p.kind.value:15s} {p.vector.count} features (layer {p.vector.layer})")
    for s in skipped:
        click.echo(f"skipped        {s.file}: {s.reason}")
    for line in render_decisions([(p.path, p.datum) for p in products if p.datum is not None]):
        click.echo(line)


def volume_options(request: ProcessRequest, workspace: Workspace) -> dict[str, Any]:
    """The volumes sub-stage's ProcessConfig fields: polygons, base and the DSM's vertical error
    from the flight's QA report (ASPRS RMSE_V, bias = mean error); without one it stays unknown.

    Raises:
        click.UsageError: ``--volume-base surface`` without ``--volume-base-dem``.
    """
    if request.volume_polygons is None:
        return {}
    if request.volume_base == BaseMethod.SURFACE.value and request.volume_base_dem is None:
        raise click.UsageError("--volume-base surface needs --volume-base-dem FILE")
    options: dict[str, Any] = {
        "volume_polygons": request.volume_polygons.resolve(),
        "volume_base": request.volume_base,
        "volume_base_dem": request.volume_base_dem,
    }
    report = workspace.qa_report_json(request.flight)
    if not report.exists():
        echo_err(f"volumes: no QA report {report}; the DSM's vertical accuracy is unknown")
        return options
    try:
        error = error_from_report(report, None, None)
    except click.BadParameter as exc:
        echo_err(f"volumes: {exc.message}; the DSM's vertical accuracy is taken as unknown")
        return options
    return {
        **options,
        "volume_rmse_v_m": error.rmse_m,
        "volume_bias_v_m": error.bias_m,
        "volume_error_source": error.source,
    }


def thermal_overrides(params_file: Path | None, options: dict[str, float]) -> ThermalOverrides | None:
    """The flight's thermal overrides from ``--thermal-params`` and the options (which win).

    ``None`` when neither gives a value: the stored overrides are then reused.

    Raises:
        click.UsageError: unreadable file, unknown key, or a value out of range.
    """
    values: dict[str, Any] = _read_params(params_file) if params_file is not None else {}
    values.update({THERMAL_KEYS[k]: v for k, v in options.items()})
    if not values:
        return None
    try:
        return ThermalOverrides.model_validate(values)
    except ValueError as exc:
        where = f"{params_file}: " if params_file is not None else ""
        raise click.UsageError(f"{where}invalid thermal parameters: {exc}") from exc


def _read_params(path: Path) -> dict[str, Any]:
    """Keys of a TOML/JSON parameters file, as ThermalOverrides field names."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("thermal"), dict):
        data = data["thermal"]
    if not isinstance(data, dict):
        raise click.UsageError(f"{path}: expected a table of thermal parameters")
    fields = set(ThermalOverrides.model_fields)
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = THERMAL_KEYS.get(key.replace("-", "_"), key)
        if name not in fields:
            known = ", ".join(sorted({k.replace("_", "-") for k in THERMAL_KEYS} | fields))
            raise click.UsageError(f"{path}: unknown thermal parameter {key!r}; known: {known}")
        out[name] = value
    return out
