"""The thermal stage: every thermal frame of an ingested flight to a °C GeoTIFF in the workspace.

Per-flight measurement parameters (:class:`~pipeline.models.ThermalOverrides`) replace
the values stored in the images; they are kept in ``Workspace.thermal_overrides`` so a
rerun (and the ``process`` stage, which renders thermal frames from these rasters) uses
the same values. ``Workspace.thermal_record`` lists, per frame, the parameters actually
used and where each came from (file, override, frame height, default), for products and
the QA report. Each frame's object distance defaults to its height above take-off
(:func:`~pipeline.thermal.convert.distance_from_capture`), or the distances the caller
computed (the ``process`` stage's heights above a DEM).

By default the stage rewrites every frame (``dronegis thermal --flight``): a FLIR frame
takes milliseconds, a DJI frame well under a second, and stale rasters after changed
parameters would be worse. ``reuse=True`` (the ``process`` stage) keeps a frame whose
signature — file checksum, frame distance, the overrides and :data:`VERSION` — and
raster are unchanged since the last run; the signatures are kept in the record too.

Each frame to convert is one task (:func:`convert_thermal_frame` of a :class:`ThermalTask`)
on the caller's executor — a local pool or a Dask worker, or by default threads of this
process (:func:`~pipeline.thermal.frames.run_frames`); the task writes only its frame's
raster with the writer of ``dronegis thermal``, and this process writes the overrides and
the record. On this machine (threads, a local pool) the tasks stage their rasters and this
process makes them durable together (:func:`~pipeline.thermal.frames.commit_frames`: one
flush, one fsync per folder); a task on a Dask worker, maybe on another machine, makes its
own raster durable (:func:`~pipeline.thermal.frames.write_thermal_frame`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from core.atomic import atomic_write_text
from core.errors import DroneGisError
from core.models import Frozen
from core.workspace import Workspace
from flights.models import Capture, FileKind, Flight
from pipeline.executors import Executor
from pipeline.models.thermal import ThermalOverrides
from pipeline.thermal.convert import convert_frame, distance_from_capture
from pipeline.thermal.frames import (
    DEFAULT_COMPRESSION,
    StagedFrame,
    commit_frames,
    run_frames,
    stage_thermal_frame,
    write_thermal_frame,
)

log = logging.getLogger(__name__)
VERSION = "2"  # 2: DJI records in our parameter names
SAME_MACHINE = ("serial", "threads", "local")  # executors whose workers share this file system's cache


class ThermalTask(Frozen):
    """One thermal frame to convert (picklable; the workspace must be visible to the worker).

    Attributes:
        root: workspace root.
        flight: flight id.
        relpath: the frame's path in the flight folder.
        capture: the frame's capture record.
        overrides: the flight's measurement parameters.
        distance_m: the frame's object distance (None: the file's value).
        stage_only: write the raster to a temporary file for the caller to commit
            (:func:`~pipeline.thermal.frames.commit_frames`) instead of in place.
        compression: the raster's compression (``pipeline.thermal.frames.FRAME_COMPRESSIONS``).
    """

    root: str
    flight: str
    relpath: str
    capture: Capture
    overrides: ThermalOverrides
    distance_m: float | None = None
    stage_only: bool = False
    compression: str = DEFAULT_COMPRESSION


class ThermalFrameResult(Frozen):
    """The parameters one frame was converted with (JSON values), or why it failed.

    ``staged``: the temporary file holding the raster when the task only staged it.
    """

    relpath: str
    measurement: dict[str, Any] | None = None
    error: str | None = None
    staged: str | None = None


def convert_thermal_frame(task: ThermalTask) -> ThermalFrameResult:
    """Convert one thermal frame to its °C GeoTIFF (``Workspace.thermal_frame``); a failure is returned."""
    workspace = Workspace.at(task.root)
    src = workspace.archived_file(task.flight, task.relpath)
    dst = workspace.thermal_frame(task.flight, task.relpath)
    staged = None
    try:
        frame = convert_frame(src, task.overrides, frame_distance_m=task.distance_m)
        write = stage_thermal_frame if task.stage_only else write_thermal_frame
        capture, how = task.capture, task.compression
        written = write(frame.celsius, dst, capture=capture, measurement=frame.measurement, compression=how)
        staged = str(written.tmp) if isinstance(written, StagedFrame) else None
    except (DroneGisError, OSError) as exc:
        return ThermalFrameResult(relpath=task.relpath, error=str(exc))
    measurement = json.loads(json.dumps(frame.measurement, default=str))
    return ThermalFrameResult(relpath=task.relpath, measurement=measurement, staged=staged)


class ThermalStageResult(NamedTuple):
    """What the stage did, per capture path.

    ``written``: the °C raster of every converted frame (rewritten or reused);
    ``failed``: why a frame could not be converted; ``measurements``: the parameters
    each frame was converted with (and their sources); ``signatures``: what each raster
    was made from (changes whenever the file, its distance or the overrides change);
    ``reused``: frames kept from an earlier run.
    """

    written: dict[str, Path]
    failed: dict[str, str]
    overrides: ThermalOverrides
    measurements: dict[str, dict[str, Any]]
    signatures: dict[str, str]
    reused: tuple[str, ...]


def load_overrides(workspace: Workspace, flight: str) -> ThermalOverrides:
    """The flight's stored overrides, or none."""
    path = workspace.thermal_overrides(flight)
    if not path.exists():
        return ThermalOverrides()
    try:
        return ThermalOverrides.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DroneGisError(f"{path}: malformed thermal overrides: {exc}") from exc


def frame_signature(capture: Capture, overrides: ThermalOverrides, distance_m: float | None) -> str:
    """What a frame's °C raster depends on: file, frame distance, overrides, :data:`VERSION`."""
    text = json.dumps([VERSION, capture.sha256, distance_m, overrides.model_dump(mode="json")])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_record(workspace: Workspace, flight: str) -> dict[str, Any]:
    """The flight's measurements record (empty when missing or unreadable)."""
    path = workspace.thermal_record(flight)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def thermal_stage(
    workspace: Workspace,
    flight: Flight,
    overrides: ThermalOverrides | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    reuse: bool = False,
    distances: Mapping[str, float | None] | None = None,
    executor: Executor | None = None,
    compression: str = DEFAULT_COMPRESSION,
) -> ThermalStageResult:
    """Convert every usable thermal frame of ``flight`` to a °C GeoTIFF.

    Args:
        workspace: the workspace holding the flight's archive.
        flight: the ingested flight.
        overrides: new per-flight parameters (stored); ``None`` reuses the stored ones.
        progress: called with (done, total) as frames finish.
        reuse: keep frames whose signature and raster are unchanged since the last run.
        distances: capture path -> the frame's distance to the object (None: the file's
            value); frames not listed use ``distance_from_capture``.
        executor: where the frames are converted, one task each (default: threads of
            this process, as with the serial executor).
        compression: the rasters' compression, a name of
            :data:`~pipeline.thermal.frames.FRAME_COMPRESSIONS` (default none: the fastest
            write, see :mod:`pipeline.thermal.frames`).

    Returns:
        What was written and what failed; a failed frame does not stop the others.
    """
    if overrides is None:
        overrides = load_overrides(workspace, flight.id)
    else:
        atomic_write_text(workspace.thermal_overrides(flight.id), overrides.model_dump_json(indent=2))
    previous = load_record(workspace, flight.id) if reuse else {}
    captures = [c for c in flight.captures if c.kind == FileKind.THERMAL_FRAME and c.usable]
    result = ThermalStageResult({}, {}, overrides, {}, {}, ())
    reused: list[str] = []
    signatures: dict[str, str] = {}
    tasks: list[ThermalTask] = []
    stage_only = executor is None or executor.name in SAME_MACHINE
    for capture in captures:
        distance = (distances or {}).get(capture.path, distance_from_capture(capture))
        signatures[capture.path] = frame_signature(capture, overrides, distance)
        old = previous.get("frames", {}).get(capture.path)
        dst = workspace.thermal_frame(flight.id, capture.path)
        old_signature = previous.get("signatures", {}).get(capture.path)
        if old is not None and old_signature == signatures[capture.path] and dst.exists():
            reused.append(capture.path)
            continue
        tasks.append(ThermalTask(root=str(workspace.root), flight=flight.id, relpath=capture.path,
                                 capture=capture, overrides=overrides, distance_m=distance,
                                 stage_only=stage_only, compression=compression))  # fmt: skip

    def frames_done(done: int, _total: int) -> None:
        if progress is not None:
            progress(len(reused) + done, len(captures))

    done = run_frames(convert_thermal_frame, tasks, executor, frames_done)
    commit_frames([
        StagedFrame(Path(r.staged), workspace.thermal_frame(flight.id, r.relpath)) for r in done if r.staged
    ])  # fmt: skip
    _collect(workspace, flight.id, captures, {r.relpath: r for r in done}, previous, signatures, result)
    if progress is not None and reused and not tasks:
        progress(len(captures), len(captures))
    summary = {
        "overrides": overrides.model_dump(),
        "frames": result.measurements,
        "signatures": result.signatures,
        "failed": result.failed,
    }
    atomic_write_text(workspace.thermal_record(flight.id), json.dumps(summary, indent=2, default=str))
    return result._replace(reused=tuple(reused))


def _collect(
    workspace: Workspace,
    flight: str,
    captures: Sequence[Capture],
    converted: Mapping[str, ThermalFrameResult],
    previous: Mapping[str, Any],
    signatures: Mapping[str, str],
    result: ThermalStageResult,
) -> None:
    """Fill ``result`` in capture order from the converted frames and the reused ones."""
    for capture in captures:
        outcome = converted.get(capture.path)
        if outcome is None:
            result.measurements[capture.path] = previous["frames"][capture.path]
        elif outcome.measurement is None:
            log.error("%s: thermal conversion failed: %s", capture.path, outcome.error)
            result.failed[capture.path] = outcome.error or "conversion failed"
            continue
        else:
            result.measurements[capture.path] = outcome.measurement
        result.written[capture.path] = workspace.thermal_frame(flight, capture.path)
        result.signatures[capture.path] = signatures[capture.path]
