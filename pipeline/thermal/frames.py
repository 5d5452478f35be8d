"""Per-frame °C GeoTIFFs: tags, compression, the atomic write, and frames in parallel.

- :func:`write_thermal_frame` writes one float32 °C GeoTIFF, atomically. **Nodata is
  NaN** (a float NaN cannot be mistaken for a temperature, unlike -9999 or
  dji-thermal-cli's -273.15). Capture time, GPS, pose and the measurement parameters
  are kept as GDAL metadata tags (names in :data:`TAG_PREFIX`…), so the georeferencing
  stage can place thermal frames exactly like RGB ones.
- Compression (:data:`FRAME_COMPRESSIONS`, default :data:`DEFAULT_COMPRESSION`): **none**,
  in strips — the plain float32 TIFF every reader takes, bit for bit. Chosen by measurement
  over the nine FLIR samples (``benchmarks/thermal_bench.py``, the compression table in
  ``benchmarks/RESULTS.md``) for issue 20's target of 50× flirimageextractor per frame
  with the write included: writing a frame costs 1.3 ms of CPU uncompressed against 3.7 ms
  with ZSTD level 1 (the earlier choice), 3.4 ms lossless LERC, 3.8 ms LERC with a
  0.001 °C max error and 11.7 ms Deflate with the floating-point predictor (the first
  choice); with ZSTD the process stage stayed at 41× and ``dronegis thermal`` spent a third
  of its per-frame CPU compressing. The price is size: about 0.9 MB a frame against 0.4 MB
  (ZSTD) — these rasters are the workspace's intermediate frames, rendered again by the
  ``process`` stage. ``compression="zstd"`` (``dronegis thermal --compress zstd``) keeps
  the lossless ZSTD level 1, tiled, for frames to hand on: half the size, bit for bit,
  read by any GDAL ≥ 2.3 (QGIS, gdal-bin 3.6). LERC with a max error is not offered: it
  is not bit-exact, and the temperatures must be.
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
FRAME_COMPRESSIONS: dict[str, dict[str, Any]] = {
    "none": {},  # strips
    "zstd": {"compress": "zstd", "zstd_level": 1},  # tiled (256 px) when both sides are >= 256
}
DEFAULT_COMPRESSION = "none"


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
    compression: str = DEFAULT_COMPRESSION,
) -> Path:
    """Write a float32 °C GeoTIFF (nodata NaN, ``compression``) with the frame's tags, atomically.

    Without ``crs``/``transform`` the raster is in pixel space (the georeferencing
    stage places it later from the tags). ``compression`` names an entry of
    :data:`FRAME_COMPRESSIONS`. Many frames at once: :func:`stage_thermal_frame` each,
    then one :func:`commit_frames`.
    """
    commit_frames([stage_thermal_frame(celsius, dst, capture=capture, measurement=measurement, crs=crs,
                                       transform=transform, compression=compression)])  # fmt: skip
    return Path(dst)


def stage_thermal_frame(
    celsius: np.ndarray,
    dst: Path,
    *,
    capture: Capture | None = None,
    measurement: Mapping[str, Any] | None = None,
    crs: str | None = None,
    transform: Any = None,
    compression: str = DEFAULT_COMPRESSION,
) -> StagedFrame:
    """Write the frame GeoTIFF of :func:`write_thermal_frame` to a temporary file beside ``dst``.

    It is neither flushed nor renamed: :func:`commit_frames` does that for many frames at
    once. On failure the temporary file is removed and the error raised.

    Raises:
        UsageError: the frame is not 2-D, or ``compression`` is not in :data:`FRAME_COMPRESSIONS`.
    """
    celsius = np.asarray(celsius, dtype=np.float32)
    if celsius.ndim != 2:
        raise UsageError(f"{dst}: a thermal frame must be 2-D, got shape {celsius.shape}")
    options = FRAME_COMPRESSIONS.get(compression)
    if options is None:
        known = ", ".join(FRAME_COMPRESSIONS)
        raise UsageError(f"{dst}: unknown frame compression {compression!r} (one of {known})")
    height, width = celsius.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "nodata": NODATA,
        **options,
        "tiled": bool(options) and width >= 256 and height >= 256,
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
            out.write(celsius[np.newaxis])  # a (1, h, w) view: write(celsius, 1) would copy it (np.stack)
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
