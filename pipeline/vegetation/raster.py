"""Window-by-window float rasters for the analysis rooms: scratch GeoTIFF, COG, running statistics.

Index and change rasters are computed block by block: a window of the input is read, turned
into float32 values and written into a tiled scratch GeoTIFF beside the product; the scratch is
then converted by :func:`pipeline.rasters.cog.write_cog` (overviews built outside the COG driver, memory
bounded by its GDAL cache). Memory therefore depends on the window size, not the raster size.

Float products share :data:`FLOAT_PROFILE`: float32, nodata −9999, DEFLATE (level 1) with the
floating-point predictor, average overviews — the codec of the DSM and thermal products.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.windows import Window

from core.atomic import TMP_SUFFIX
from flights.exif import DEFAULT_LOCAL_TZ
from flights.raster_time import CREATION, raster_time
from pipeline.rasters.cog import COG_PROFILES, CogProfile, write_cog

T = TypeVar("T")
R = TypeVar("R")

NODATA = -9999.0
#: Side of the square blocks read and computed at once (a multiple of the 512-pixel COG tiles).
WINDOW = 1024
#: Blocks computed at once in threads (GDAL and numpy release the GIL for the heavy parts).
WORKERS = 2
TIME_START_TAG, TIME_END_TAG = "DRONEGIS_TIME_START", "DRONEGIS_TIME_END"

FLOAT_PROFILE: CogProfile = COG_PROFILES.get("analysis_f32")  # VEGETATION_INDEX and CHANGE_MAP


def blocks(width: int, height: int, size: int = WINDOW) -> list[Window]:
    """Square windows of ``size`` pixels (smaller at the right and bottom edges), row by row."""
    return [
        Window(col, row, min(size, width - col), min(size, height - row))
        for row in range(0, height, size)
        for col in range(0, width, size)
    ]


def in_order[T, R](job: Callable[[T], R], items: Iterable[T], workers: int = WORKERS) -> Iterator[R]:
    """``job`` over ``items`` in ``workers`` threads, yielded in input order, at most ``workers`` + 1 held."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(job, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class PerThread[H]:
    """One handle per worker thread: GDAL datasets are never used by two threads at once.

    The handles are opened (and closed) by the thread that creates this object — rasterio keeps
    its GDAL environment per thread — and handed out, one per worker thread, on first use.
    """

    def __init__(self, open_handle: Callable[[], H], close_handle: Callable[[H], None], count: int) -> None:
        self._close = close_handle
        self._all = [open_handle() for _ in range(max(1, count))]
        self._free = list(self._all)
        self._local = threading.local()
        self._lock = threading.Lock()

    def get(self) -> H:
        """This thread's handle."""
        handle: H | None = getattr(self._local, "handle", None)
        if handle is None:
            with self._lock:
                handle = self._free.pop()
            self._local.handle = handle
        return handle

    def __enter__(self) -> PerThread[H]:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._all:
            self._close(handle)
        self._all.clear()


@contextlib.contextmanager
def float_scratch(
    near: Path, *, width: int, height: int, transform: Affine, crs: str, count: int = 1
) -> Iterator[rasterio.io.DatasetWriter]:
    """A tiled float32 scratch GeoTIFF beside ``near`` (swept as a temporary), removed afterwards."""
    near.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=near.parent, prefix=f".{near.name}.scratch.", suffix=f".tif{TMP_SUFFIX}")
    os.close(fd)
    profile: dict[str, Any] = {
        "driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
        "width": width, "height": height, "count": count, "dtype": "float32", "crs": crs,
        "transform": transform, "nodata": NODATA, "compress": "ZSTD", "zstd_level": 1, "predictor": 3,
    }  # fmt: skip
    try:
        with rasterio.Env(GDAL_CACHEMAX=128 << 20), rasterio.open(name, "w", **profile) as sink:
            yield sink
    finally:
        for leftover in (Path(name), Path(f"{name}.aux.xml"), Path(f"{name}.ovr")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def to_nodata(values: NDArray[np.floating]) -> NDArray[np.float32]:
    """float32 values with NaN replaced by :data:`NODATA` (for writing)."""
    out = np.asarray(values, dtype=np.float32).copy()
    out[~np.isfinite(out)] = NODATA
    return out


def time_tags(start: datetime | None, end: datetime | None) -> dict[str, str]:
    """Capture-time tags (ISO 8601 UTC) of a product; empty when the time is unknown."""
    tags: dict[str, str] = {}
    if start is not None:
        tags[TIME_START_TAG] = start.astimezone(UTC).isoformat()
        tags["TIFFTAG_DATETIME"] = start.astimezone(UTC).strftime("%Y:%m:%d %H:%M:%S")
    if end is not None or start is not None:
        tags[TIME_END_TAG] = (end or start).astimezone(UTC).isoformat()  # type: ignore[union-attr]
    return tags


def capture_time(src: rasterio.io.DatasetReader, path: Path) -> tuple[datetime | None, datetime | None, str]:
    """The capture time span of a raster and where it came from.

    A dronegis product's ``DRONEGIS_TIME_START/END`` (or ``DRONEGIS_CAPTURE_TIME_UTC``) first;
    else what :func:`flights.raster_time.raster_time` reads (GDAL's acquisition time, XMP capture
    time, ODM's mean capture time in TIFF DateTime) — but never a file-creation time, which is the
    processing date, not the flight's.
    """
    tags = src.tags()
    start = tags.get(TIME_START_TAG) or tags.get("DRONEGIS_CAPTURE_TIME_UTC")
    if start:
        end = tags.get(TIME_END_TAG) or start
        return datetime.fromisoformat(start), datetime.fromisoformat(end), "DRONEGIS_TIME tags"
    xmp = src.tags(ns="xml:XMP").get("xml:XMP")
    when, source = raster_time(tags, src.tags(ns="IMAGERY"), xmp, path, DEFAULT_LOCAL_TZ)
    if when is None or CREATION in source:
        return None, None, "none"
    return when, when, source


def finish_cog(scratch: str, dst: Path, tags: dict[str, str], cache_mb: int = 256) -> Path:
    """Convert a finished scratch raster into the COG ``dst`` (atomic) with ``tags``."""
    return write_cog(scratch, dst, FLOAT_PROFILE, tags=tags, cache_mb=cache_mb)


class RunningStats:
    """Count, min, max, mean and approximate percentiles of values seen block by block.

    Percentiles come from a histogram of ``bins`` equal bins over [lo, hi] (values outside are
    counted in the end bins), so their resolution is (hi − lo)/bins.
    """

    def __init__(self, lo: float, hi: float, bins: int = 4000) -> None:
        self.lo, self.hi, self.bins = lo, hi, bins
        self.hist = np.zeros(bins, dtype=np.int64)
        self.count, self.total = 0, 0.0
        self.min, self.max = np.inf, -np.inf

    def add(self, values: NDArray[np.floating]) -> None:
        """Add the finite values of a block."""
        v = values[np.isfinite(values)]
        if v.size == 0:
            return
        self.count += int(v.size)
        self.total += float(v.sum(dtype=np.float64))
        self.min, self.max = min(self.min, float(v.min())), max(self.max, float(v.max()))
        idx = ((v - self.lo) * (self.bins / (self.hi - self.lo))).astype(np.int64)
        np.clip(idx, 0, self.bins - 1, out=idx)
        self.hist += np.bincount(idx, minlength=self.bins)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0–100), to within one bin; NaN when no value was seen."""
        if self.count == 0:
            return float("nan")
        cum = np.cumsum(self.hist)
        i = int(np.searchsorted(cum, q / 100.0 * self.count))
        return self.lo + (min(i, self.bins - 1) + 0.5) * (self.hi - self.lo) / self.bins

    def summary(self) -> dict[str, float | int]:
        """``count``, ``min``, ``max``, ``mean``, ``p2``, ``p50``, ``p98`` (NaN when empty)."""
        empty = self.count == 0
        nan = float("nan")
        return {
            "count": self.count,
            "min": nan if empty else self.min,
            "max": nan if empty else self.max,
            "mean": nan if empty else self.total / self.count,
            "p2": self.percentile(2),
            "p50": self.percentile(50),
            "p98": self.percentile(98),
        }
