"""Where the work runs: in this process, a local process pool, or a Dask distributed cluster.

Every stage talks to an :class:`Executor`: ``map(fn, items)`` fans frames or raster
windows out as tasks and returns the results in input order; ``call(fn, ...)`` runs
one whole stage function where the executor runs work (inline for the local pool,
on a worker for Dask). Functions and items must be picklable (top-level functions,
plain values, paths) — on Dask the workers import them by module name, so the
workspace must live on storage every worker sees.

Results never depend on the executor: tasks are pure functions of their inputs, and
the one process that called ``map`` writes the outputs (and the catalog).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import cv2
import numpy as np
import rasterio
from rasterio.windows import Window

from core.atomic import atomic_path
from core.errors import DroneGisError, JobError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "DRONEGIS_DASK_SCHEDULER"
#: What a failing unit of work (one frame, one GCP fit) may raise and is reported as its reason: our
#: errors, I/O, and what numpy, OpenCV and GDAL raise on hostile input (a non-converging SVD, an
#: OpenCV assertion, an allocation that cannot be made), so that the rest of the flight goes on.
UNIT_FAILURES: tuple[type[Exception], ...] = (
    DroneGisError,
    OSError,
    ValueError,
    ArithmeticError,
    MemoryError,
    cv2.error,
)


class Executor(Protocol):
    """Runs tasks; the same results whatever runs them."""

    name: str

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply ``fn`` to each item as separate tasks; results in input order."""
        ...

    def call(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """Run one function call where this executor runs work, and return its result."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class SerialExecutor:
    """Everything in the calling thread (tests, tiny inputs, debugging)."""

    name = "serial"

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply ``fn`` to each item in turn."""
        return [fn(item) for item in items]

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply ``fn`` to each item in turn, yielding each result as it is ready."""
        return (fn(item) for item in items)

    def call(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """Call ``fn`` here."""
        return fn(*args, **kwargs)

    def close(self) -> None:
        """Nothing to release."""


class LocalExecutor:
    """A process pool over frames and windows (the default on one machine).

    The pool starts on first use with the ``spawn`` method (safe with GDAL and threads);
    code that uses it from a script needs the ``if __name__ == "__main__"`` guard.
    ``call`` runs in the calling process: only the fan-out of ``map`` goes to the pool.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply ``fn`` over the pool (inline when there is a single worker or item)."""
        batch = list(items)
        if self.workers == 1 or len(batch) <= 1:
            return [fn(item) for item in batch]
        return list(self.imap(fn, batch))

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Like :meth:`map`, yielding results in input order as they are ready."""
        batch = list(items)
        if self.workers == 1 or len(batch) <= 1:
            return (fn(item) for item in batch)
        chunksize = max(1, len(batch) // (self.workers * 4))
        return self._ensure_pool().map(fn, batch, chunksize=chunksize)

    def call(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """Call ``fn`` in this process."""
        return fn(*args, **kwargs)

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class ThreadExecutor:
    """Threads of this process, for tasks whose heavy parts release the GIL.

    GDAL reads, writes and compression (rasterio releases the GIL around them),
    OpenCV decoding, hashing and ``fsync`` run in parallel on threads without the
    start-up of a process pool (the thermal frames: a few milliseconds each). Tasks
    must be thread-safe: no shared datasets, and no ``warnings.catch_warnings`` of
    their own unless the caller holds the same filter around the whole ``map``
    (the filters are global to the process).
    """

    name = "threads"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply ``fn`` on the threads; results in input order."""
        return list(self.imap(fn, items))

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Like :meth:`map`, yielding results in input order as they are ready."""
        batch = list(items)
        if self.workers == 1 or len(batch) <= 1:
            yield from (fn(item) for item in batch)
            return
        with concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="dronegis") as pool:
            yield from pool.map(fn, batch)

    def call(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """Call ``fn`` in this thread."""
        return fn(*args, **kwargs)

    def close(self) -> None:
        """Nothing to release: each ``map`` starts and joins its own threads."""


class DaskExecutor:
    """Tasks on a dask.distributed cluster (``tcp://host:8786``).

    Args:
        address: scheduler address, or an existing ``distributed.Client``.
    """

    name = "dask"

    def __init__(self, address: Any) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
            raise JobError("the Dask scheduler needs the dronegis[dask] extra (dask, distributed)") from exc
        self._own_client = not isinstance(address, Client)
        try:
            self.client = Client(address, timeout="20s") if self._own_client else address  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise JobError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from exc
        self.address = str(self.client.scheduler.address)  # type: ignore[union-attr]

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """One task per item; gathered in input order."""
        batch = list(items)
        if not batch:
            return []
        futures = self.client.map(fn, batch, pure=False)
        results: list[R] = self.client.gather(futures)
        return results

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """One task per item, all submitted at once; results yielded in input order as they finish."""
        batch = list(items)
        futures = self.client.map(fn, batch, pure=False) if batch else []
        return (future.result() for future in futures)

    def call(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """Run one call on a worker and wait for its result."""
        # a partial keeps the function's own keywords (``workers``, ``resources``, ...) away from submit's
        result: R = self.client.submit(functools.partial(fn, *args, **kwargs), pure=False).result()
        return result

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._own_client:
            self.client.close()


def executor_for(scheduler: str | None = None, *, workers: int | None = None) -> Executor:
    """The executor to use: Dask when a scheduler is given (or ``$DRONEGIS_DASK_SCHEDULER``), else local.

    Args:
        scheduler: Dask scheduler address; ``None`` reads ``DRONEGIS_DASK_SCHEDULER``.
        workers: size of the local process pool (default: CPU count).
    """
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        log.info("running stages on the Dask cluster at %s", address)
        return DaskExecutor(address)
    return LocalExecutor(workers)


def map_progress[T, R](
    executor: Executor,
    fn: Callable[[T], R],
    items: Iterable[T],
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``executor.map`` with ``progress(done, total)`` as results arrive (in input order).

    Executors with an ``imap`` method report every result; others report once at the end.
    """
    batch = list(items)
    imap = getattr(executor, "imap", None)
    if imap is None:
        results = executor.map(fn, batch)
        if progress is not None and batch:
            progress(len(batch), len(batch))
        return results
    out: list[R] = []
    for result in imap(fn, batch):
        out.append(result)
        if progress is not None:
            progress(len(out), len(batch))
    return out


# -- raster windows as tasks -----------------------------------------------------------------


def block_windows(width: int, height: int, block: int) -> Iterator[tuple[int, int, int, int]]:
    """(col_off, row_off, width, height) of the blocks covering a raster, row by row."""
    for row in range(0, height, block):
        for col in range(0, width, block):
            yield col, row, min(block, width - col), min(block, height - row)


class WindowTask:
    """Picklable task: read one window of ``src``, apply ``fn``, return the array."""

    def __init__(self, src: str, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.src = src
        self.fn = fn

    def __call__(self, window: tuple[int, int, int, int]) -> np.ndarray:
        """Read ``window`` and transform it."""
        with rasterio.open(self.src) as dataset:
            data = dataset.read(window=Window(*window))
        return self.fn(data)


def map_windows(
    executor: Executor,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    fn: Callable[[np.ndarray], np.ndarray],
    *,
    block: int = 512,
    profile: dict[str, Any] | None = None,
    windows: Sequence[tuple[int, int, int, int]] | None = None,
) -> int:
    """Transform a raster window by window on ``executor``; this process writes ``dst`` atomically.

    Args:
        executor: where the windows are computed (tasks).
        src: input raster (a path every worker can read).
        dst: output GeoTIFF; same grid as ``src``.
        fn: picklable function from a (bands, rows, cols) array to an array of the same shape.
        block: window size in pixels.
        profile: overrides of the output profile (dtype, count, nodata, compression, ...).
        windows: explicit windows (default: ``block``-sized tiles).

    Returns:
        The number of windows computed.
    """
    with rasterio.open(src) as dataset:
        out_profile = {
            **dataset.profile,
            "driver": "GTiff",
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
            "compress": "deflate",
            **(profile or {}),
        }
        windows = list(windows or block_windows(dataset.width, dataset.height, block))
    results = executor.map(WindowTask(os.fspath(src), fn), windows)
    with atomic_path(Path(dst), suffix=".tif") as tmp, rasterio.open(tmp, "w", **out_profile) as out:
        for window, data in zip(windows, results, strict=True):
            out.write(data, window=Window(*window))
    return len(windows)
