"""The thermal stage: every thermal frame of an ingested flight to a °C GeoTIFF in the workspace.

Per-flight measurement parameters (:class:`~pipeline.thermal.ThermalOverrides`) replace
the values stored in the images; they are kept in ``Workspace.thermal_overrides`` so a
rerun (and the ``process`` stage, which renders thermal frames from these rasters) uses
the same values. ``Workspace.thermal_record`` lists, per frame, the parameters actually
used and where each came from (file, override, frame height, default), for products and
the QA report. Each frame's object distance defaults to its height above take-off
(:func:`~pipeline.thermal_raster.distance_from_capture`).

The stage always rewrites the frames: a FLIR frame takes milliseconds, a DJI frame
well under a second, and stale rasters after changed parameters would be worse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from flights.atomic import atomic_write_text
from flights.errors import DroneGisError
from flights.models import FileKind, Flight
from pipeline.thermal import ThermalOverrides
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)


class ThermalStageResult(NamedTuple):
    """Rasters written (capture path -> raster path) and frames that failed (path -> reason)."""

    written: dict[str, Path]
    failed: dict[str, str]
    overrides: ThermalOverrides


def load_overrides(workspace: Workspace, flight: str) -> ThermalOverrides:
    """The flight's stored overrides, or none."""
    path = workspace.thermal_overrides(flight)
    if not path.exists():
        return ThermalOverrides()
    try:
        return ThermalOverrides.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DroneGisError(f"{path}: malformed thermal overrides: {exc}") from exc


def thermal_stage(
    workspace: Workspace,
    flight: Flight,
    overrides: ThermalOverrides | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ThermalStageResult:
    """Convert every usable thermal frame of ``flight`` to a °C GeoTIFF.

    Args:
        workspace: the workspace holding the flight's archive.
        flight: the ingested flight.
        overrides: new per-flight parameters (stored); ``None`` reuses the stored ones.
        progress: called with (done, total) after each frame.

    Returns:
        What was written and what failed; a failed frame does not stop the others.
    """
    from pipeline.thermal_raster import convert_frame, distance_from_capture, write_thermal_frame

    if overrides is None:
        overrides = load_overrides(workspace, flight.id)
    else:
        atomic_write_text(workspace.thermal_overrides(flight.id), overrides.model_dump_json(indent=2))
    captures = [c for c in flight.captures if c.kind == FileKind.THERMAL_FRAME and c.usable]
    written: dict[str, Path] = {}
    failed: dict[str, str] = {}
    record: dict[str, Any] = {}
    for i, capture in enumerate(captures, start=1):
        src = workspace.archived_file(flight.id, capture.path)
        try:
            frame = convert_frame(src, overrides, frame_distance_m=distance_from_capture(capture))
            dst = workspace.thermal_frame(flight.id, capture.path)
            write_thermal_frame(frame.celsius, dst, capture=capture, measurement=frame.measurement)
        except (DroneGisError, OSError) as exc:
            log.error("%s: thermal conversion failed: %s", capture.path, exc)
            failed[capture.path] = str(exc)
        else:
            written[capture.path] = dst
            record[capture.path] = frame.measurement
        if progress is not None:
            progress(i, len(captures))
    summary = {"overrides": overrides.model_dump(), "frames": record, "failed": failed}
    atomic_write_text(workspace.thermal_record(flight.id), json.dumps(summary, indent=2, default=str))
    return ThermalStageResult(written, failed, overrides)
