"""Per-frame °C GeoTIFFs: tags, compression, the atomic write, and frames in parallel.

- :func:`write_thermal_frame` writes one float32 °C GeoTIFF, atomically. **Nodata is
  NaN** (a float NaN cannot be mistaken for a temperature, unlike -9999 or
  dji-thermal-cli's -273.15). Capture time, GPS, pose and the measurement parameters
  are kept as GDAL metadata tags (names in :data:`TAG_PREFIX`…), so the georeferencing
  stage can place thermal frames exactly like RGB ones.
- Compression (:data:`FRAME_COMPRESSION`): **ZSTD level 1, lossless** — the temperatures
  read back bit for bit, and any GDAL ≥ 2.3 reads it (QGIS, gdal-bin 3.6). Chosen by
  measurement over the nine FLIR samples (``benchmarks/thermal_bench.py``, the
  compression table in ``benchmarks/RESULTS.md``): ZSTD 1 costs about a third of the CPU
  of Deflate with the floating-point predictor (the earlier choice) for files of the same
  size or smaller; uncompressed is faster still but twice the size, lossless LERC
  larger; LERC with a max error (0.001 °C: about half the size) is not bit-exact, and
  ZSTD with the floating-point predictor was larger and no faster on these frames.
- :func:`run_frames` runs per-frame tasks (convert and write) in parallel: on threads of
  this process by default (:class:`~pipeline.executors.ThreadExecutor` — GDAL
  compresses and writes, OpenCV decodes and hashlib hashes with the GIL released), or on
  the caller's process pool or Dask cluster.
- Many frames at once: :func:`stage_thermal_frame` per frame, then one
  :func:`commit_frames` — one flush and one fsync per folder for the whole batch instead
  of two fsyncs per frame, still never a half-written file under a final name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import rasterio

from core.atomic import FILE_MODE, TMP_SUFFIX, fsync_dir
from core.errors import UsageError
from flights.hashcopy import make_durable
from flights.models import Capture
from pipeline.executors import Executor, SerialExecutor, ThreadExecutor, map_progress
from pipeline.thermal.tiff import quiet_rasterio

NODATA = float("nan")
TAG_PREFIX = "DRONEGIS_"
FRAME_COMPRESSION: dict[str, Any] = {"compress": "zstd", "zstd_level": 1}


def run_frames[T, R](
    fn: Callable[[T], R],
    items: Sequence[T],
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``fn`` over the frames in parallel; results in input order.

    Without an executor (or with the serial one) the frames run on a
    :class:`~pipeline.executors.ThreadExecutor` with one thread per CPU; a process pool
    or a Dask cluster is used as given. rasterio warns about frames in pixel space; that
    warning filter is held here around the whole map, because the filters are global to
    the process and a ``catch_warnings`` per thread would race.
    """
    runner = executor if executor is not None and executor.name != SerialExecutor.name else ThreadExecutor()
    with quiet_rasterio():
        return map_progress(runner, fn, items, progress)


def frame_tags(capture: Capture | None, measurement: Mapping[str, Any] | None) -> dict[str, str]:
    """GDAL metadata tags for a frame: capture time, GPS, pose, measurement parameters."""
    tags: dict[str, str] = {f"{TAG_PREFIX}UNITS": "°C", f"{TAG_PREFIX}NODATA": "NaN"}
    if measurement is not None:
        tags[f"{TAG_PREFIX}THERMAL_MEASUREMENT"] = json.dumps(measurement, sort_keys=True, default=str)
    if capture is None:
        return tags
    tags[f"{TAG_PREFIX}SOURCE_FILE"] = capture.path
    tags[f"{TAG_PREFIX}SOURCE_SHA256"] = capture.sha256
    if capture.time_utc is not None:
        tags[f"{TAG_PREFIX}CAPTURE_TIME_UTC"] = capture.time_utc.isoformat()
        tags["TIFFTAG_DATETIME"] = capture.time_utc.strftime("%Y:%m:%d %H:%M:%S")
    tags[f"{TAG_PREFIX}TIME_SOURCE"] = capture.time_source
    if capture.position is not None:
        for key, value in capture.position.model_dump().items():
            if value is not None:
                tags[f"{TAG_PREFIX}GPS_{key.upper()}"] = str(value)
    for key, value in capture.attitude.model_dump().items():
        if value is not None:
            tags[f"{TAG_PREFIX}{'ATTITUDE_SOURCE' if key == 'source' else key.upper()}"] = str(value)
    tags[f"{TAG_PREFIX}CAPTURE"] = capture.model_dump_json(exclude={"problems", "quality"})
    return tags


class StagedFrame(NamedTuple):
    """A frame GeoTIFF written to a temporary file beside ``dst``: not yet durable, not yet in place."""

    tmp: Path
    dst: Path


def write_thermal_frame(
    celsius: np.ndarray,
    dst: Path,
    *,
    capture: Capture | None = None,
    measurement: Mapping[str, Any] | None = None,
    crs: str | None = None,
    transform: Any = None,
) -> Path:
    """Write a float32 °C GeoTIFF (nodata NaN, :data:`FRAME_COMPRESSION`) with the frame's tags, atomically.

    Without ``crs``/``transform`` the raster is in pixel space (the georeferencing
    stage places it later from the tags). Many frames at once: :func:`stage_thermal_frame`
    each, then one :func:`commit_frames`.
    """
    commit_frames([stage_thermal_frame(celsius, dst, capture=capture, measurement=measurement, crs=crs,
                                       transform=transform)])  # fmt: skip
    return Path(dst)


def stage_thermal_frame(
    celsius: np.ndarray,
    dst: Path,
    *,
    capture: Capture | None = None,
    measurement: Mapping[str, Any] | None = None,
    crs: str | None = None,
    transform: Any = None,
) -> StagedFrame:
    """Write the frame GeoTIFF of :func:`write_thermal_frame` to a temporary file beside ``dst``.

    It is neither flushed nor renamed: :func:`commit_frames` does that for many frames at
    once. On failure the temporary file is removed and the error raised.
    """
    celsius = np.asarray(celsius, dtype=np.float32)
    if celsius.ndim != 2:
        raise UsageError(f"{dst}: a thermal frame must be 2-D, got shape {celsius.shape}")
    height, width = celsius.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "nodata": NODATA,
        **FRAME_COMPRESSION,
        "tiled": width >= 256 and height >= 256,
    }
    if crs is not None:
        profile.update(crs=crs, transform=transform)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=TMP_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        with quiet_rasterio(), rasterio.open(tmp, "w", **profile) as out:
            out.write(celsius, 1)
            out.update_tags(**frame_tags(capture, measurement))
            out.set_band_description(1, "temperature")
            out.units = ("°C",)
        tmp.chmod(FILE_MODE)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StagedFrame(tmp, dst)


def commit_frames(staged: Sequence[StagedFrame]) -> None:
    """Make staged frames durable together, then rename each into place.

    One flush for all of them (:func:`flights.hashcopy.make_durable`: a ``syncfs`` of the
    file system, an fsync for a single file) before any rename, so a crash never leaves a
    half-written frame under its final name; then one fsync per folder for the renames.
    Per frame, a file and a folder fsync cost 1–9 ms of waiting on this machine's shared
    disk. A crash before the renames leaves only ``.dronegis-tmp`` files
    (:func:`core.atomic.sweep_temporaries`). On failure the temporaries not yet renamed
    are removed.
    """
    try:
        make_durable([frame.tmp for frame in staged])
        for frame in staged:
            os.replace(frame.tmp, frame.dst)
    except BaseException:
        for frame in staged:
            frame.tmp.unlink(missing_ok=True)
        raise
    for folder in sorted({frame.dst.parent for frame in staged}):
        fsync_dir(folder)
