"""``dronegis thermal``: thermal images to °C GeoTIFFs.

``dronegis thermal FILE...`` converts single files (one-off); ``dronegis thermal
--flight ID`` runs the thermal stage on an ingested flight of the workspace with the
given values as the flight's stored measurement parameters.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from pathlib import Path
from typing import Any

import click
import numpy as np

from core.errors import DroneGisError
from core.models import Frozen
from core.workspace import Workspace
from dronegis.cli.options import echo_err, emit_json, settings_for, thermal_options, workspace_option
from flights.exif import read_capture
from flights.models import Capture, FileKind, load_flight
from pipeline.models import ThermalOverrides
from pipeline.thermal.convert import convert_frame, distance_from_capture
from pipeline.thermal.frames import (
    DEFAULT_COMPRESSION,
    FRAME_COMPRESSIONS,
    commit_frames,
    run_frames,
    stage_thermal_frame,
)
from pipeline.thermal.stage import thermal_stage

log = logging.getLogger(__name__)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--flight", help="Run the thermal stage on this ingested flight instead of FILEs.")
@workspace_option
@thermal_options
@click.option(
    "--tiff-profile", help="Scale/offset profile for 16-bit TIFFs, e.g. centikelvin, duo-pro-r-high."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the <name>_celsius.tif files.",
)
@click.option(
    "--compress",
    "compression",
    type=click.Choice(list(FRAME_COMPRESSIONS)),
    default=DEFAULT_COMPRESSION,
    show_default=True,
    help="GeoTIFF compression: none (fastest) or zstd (lossless, half the size).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable result on stdout.")
def thermal(
    files: tuple[Path, ...],
    flight: str | None,
    workspace: Path | None,
    emissivity: float | None,
    reflected_temp: float | None,
    humidity: float | None,
    distance: float | None,
    air_temp: float | None,
    tiff_profile: str | None,
    out_dir: Path,
    compression: str,
    as_json: bool,
) -> None:
    """Convert FLIR / DJI thermal images or radiometric TIFFs to float32 °C GeoTIFFs.

    Values given here override those stored in each image. Without --distance, a
    frame's distance is its height above take-off (slant distance when oblique), else
    the image's own value. With --flight, the values are stored as the flight's
    measurement parameters (none given: the stored ones are reused). Exit 1 if any
    file failed.
    """
    request = ThermalRequest(
        files=files,
        flight=flight,
        workspace=workspace,
        emissivity=emissivity,
        reflected_temp=reflected_temp,
        humidity=humidity,
        distance=distance,
        air_temp=air_temp,
        tiff_profile=tiff_profile,
        out_dir=out_dir,
        compression=compression,
        as_json=as_json,
    )
    if bool(request.files) == bool(request.flight):
        raise click.UsageError("give either FILE... or --flight ID")
    overrides = request.overrides()
    if request.flight is not None:
        given = None if overrides.is_empty() else overrides
        _run_flight(request, settings_for(request.workspace).workspace, given)
        return
    _convert_files(request, overrides)


class ThermalRequest(Frozen):
    """The options of ``dronegis thermal`` (see the command's help)."""

    files: tuple[Path, ...] = ()
    flight: str | None = None
    workspace: Path | None = None
    emissivity: float | None = None
    reflected_temp: float | None = None
    humidity: float | None = None
    distance: float | None = None
    air_temp: float | None = None
    tiff_profile: str | None = None
    out_dir: Path
    compression: str = DEFAULT_COMPRESSION
    as_json: bool = False

    def overrides(self) -> ThermalOverrides:
        """The measurement parameters given on the command line.

        Raises:
            click.UsageError: a value is out of range.
        """
        try:
            return ThermalOverrides(
                emissivity=self.emissivity,
                reflected_temp_c=self.reflected_temp,
                relative_humidity_pct=self.humidity,
                object_distance_m=self.distance,
                atmospheric_temp_c=self.air_temp,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc


def _convert_files(request: ThermalRequest, overrides: ThermalOverrides) -> None:
    """Convert the files given on the command line; exit 1 when any failed."""
    out_dir, as_json = request.out_dir, request.as_json
    convert = functools.partial(_convert_one, overrides=overrides, request=request)
    results = run_frames(convert, request.files)  # files in parallel on threads; results in order
    try:
        commit_frames([r.pop("staged") for r in results if "staged" in r])  # one flush for every file
    except OSError as exc:
        echo_err(f"{out_dir}: FAILED to write the GeoTIFFs: {exc}")
        raise SystemExit(1) from exc
    failed = [r for r in results if not r["ok"]]
    if as_json:
        emit_json({"ok": not failed, "files": results})
    for r in results:
        if r["ok"]:
            echo_err(f"{r['file']}: {r['min_c']:.2f}…{r['max_c']:.2f} °C -> {r['output']}")
        else:
            echo_err(f"{r['file']}: FAILED: {r['error']}")
    if failed:
        raise SystemExit(1)


def _convert_one(path: Path, overrides: Any, request: ThermalRequest) -> dict[str, Any]:
    """Convert one file and stage its GeoTIFF (``staged``: the caller commits it); a failure is reported."""
    data = _read(path)  # read once: hashed for the capture record, then converted
    capture = _capture(path, data) if data is not None else None
    distance = distance_from_capture(capture) if capture is not None else None
    try:
        frame = convert_frame(path, overrides, frame_distance_m=distance, tiff_profile=request.tiff_profile,
                              data=data)  # fmt: skip
        dst, how = request.out_dir / f"{path.stem}_celsius.tif", request.compression
        staged = stage_thermal_frame(
            frame.celsius, dst, capture=capture, measurement=frame.measurement, compression=how
        )
    except (DroneGisError, OSError) as exc:
        message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
        return {"file": str(path), "ok": False, "error": message}
    return {
        "file": str(path),
        "ok": True,
        "output": str(dst),
        "width": int(frame.celsius.shape[1]),
        "height": int(frame.celsius.shape[0]),
        **_range(frame.celsius),
        "measurement": frame.measurement,
        "staged": staged,
    }


def _range(celsius: np.ndarray) -> dict[str, float]:
    """Min, max and mean °C of the finite pixels (NaN when none is).

    A frame without NaN (the usual case) is reduced in place; only a frame with NaN pixels
    pays for the copy of its finite ones.
    """
    low, high = celsius.min(), celsius.max()
    if np.isfinite(low) and np.isfinite(high):
        return {"min_c": float(low), "max_c": float(high), "mean_c": float(celsius.mean())}
    finite = celsius[np.isfinite(celsius)]
    if not finite.size:
        return {"min_c": math.nan, "max_c": math.nan, "mean_c": math.nan}
    return {"min_c": float(finite.min()), "max_c": float(finite.max()), "mean_c": float(finite.mean())}


def _read(path: Path) -> bytes | None:
    """The file's bytes; None when unreadable (the conversion then reports why)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _capture(path: Path, data: bytes) -> Capture | None:
    """Time, GPS and pose of the source (ingest's reader); None if it has none."""
    try:
        return read_capture(
            path,
            path.name,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            kind=FileKind.THERMAL_FRAME,
            data=data,  # a FLIR file's FFF block is parsed from these bytes once, for capture and pixels
        )
    except (DroneGisError, ImportError, OSError) as exc:
        log.warning("%s: time, GPS and pose not kept (metadata unreadable): %s", path, exc)
        return None


def _run_flight(request: ThermalRequest, root: Path, overrides: Any) -> None:
    """Run the thermal stage on the ingested flight ``request.flight``; exit 1 when any frame failed."""
    flight_id, as_json = str(request.flight), request.as_json
    ws = Workspace.at(root)
    flight_json = ws.flight_json(flight_id)
    if not flight_json.exists():
        raise click.UsageError(f"flight {flight_id!r} is not ingested in {ws.root} (no {flight_json})")
    try:
        result = thermal_stage(ws, load_flight(flight_json), overrides, compression=request.compression)
    except DroneGisError as exc:
        echo_err(f"{flight_id}: FAILED: {exc}")
        raise SystemExit(1) from exc
    if as_json:
        emit_json({
            "ok": not result.failed,
            "flight": flight_id,
            "overrides": result.overrides.model_dump(),
            "written": {k: str(v) for k, v in result.written.items()},
            "failed": result.failed,
            "record": str(ws.thermal_record(flight_id)),
        })  # fmt: skip
    echo_err(f"{flight_id}: {len(result.written)} thermal frame(s) written, {len(result.failed)} failed")
    for path, reason in result.failed.items():
        echo_err(f"{path}: FAILED: {reason}")
    if result.failed:
        raise SystemExit(1)
