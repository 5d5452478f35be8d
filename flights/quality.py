"""Cheap image-quality figures from a reduced decode: blur, brightness, black frames.

JPEGs are decoded at half resolution by libjpeg's DCT scaling
(``cv2.IMREAD_REDUCED_GRAYSCALE_2``), so a 12 MP frame costs about as much as a
3 MP one; frames under 1600 px on the long side are decoded at full size. Blur is
the variance of the Laplacian (``CV_32F`` + ``meanStdDev``, STACK.md §4), which is
scale-dependent: the thresholds below hold for this decode only. The file is read by Python and
decoded from memory (``cv2.imdecode``): OpenCV never sees its name, which may be any bytes the
file system holds (a Latin-1 name given to ``cv2.imread`` as a str crashes the decoder). Ingest
only assesses frames whose header passed the pixel cap (:data:`flights.exif.MAX_FRAME_PIXELS`).
A 1/4 decode was tried and rejected: it separates the agung POOR_SHARPNESS frame (61) from the soft
but usable odm_data_copr kite frames (102) by a factor of only 1.7, the 1/2 decode
by 2.9 (8.1 against 23.1; brighton_beach frames score 1259 and more).

The blur test is meant for RGB frames: thermal frames have little contrast and
score low when sharp (thermal_parser DJI_XT2: 15); ingest skips thermal and
multispectral frames. OpenCV's log is silenced while it decodes a TIFF (libtiff
warns on stderr about every unknown maker tag).

Thresholds (measured, see benchmarks/RESULTS.md "ingest: image quality"):

- ``DEFAULT_BLUR_THRESHOLD``: variance of the Laplacian below which a frame is blurry.
- ``BLACK_MEAN`` / ``BLACK_DARK_FRACTION``: a lens-cap frame.
- ``UNDER_MEAN``/``OVER_MEAN`` and the clipped fractions: strongly under- or
  over-exposed frames.

``assess_many`` runs a process pool (``forkserver``: safe with the threads of
OpenCV and progress bars) with a bounded number of tasks in flight, so memory does
not grow with the number of frames. Like any ``forkserver``/``spawn`` pool, a
script that calls it needs an ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import cv2
import numpy as np

from core.errors import ImageDecodeError
from core.names import printable
from flights.models import ImageQuality

log = logging.getLogger(__name__)

DEFAULT_BLUR_THRESHOLD = 15.0
BLACK_MEAN = 12.0
BLACK_DARK_FRACTION = 0.9
UNDER_MEAN = 35.0
OVER_MEAN = 225.0
CLIPPED_FRACTION = 0.5
DARK_LEVEL = 10
SATURATED_LEVEL = 250
#: Frames smaller than this (pixels on the long side) are decoded at full size.
REDUCE_FROM = 1600
TIFF_SUFFIXES = frozenset({".tif", ".tiff"})


def assess(path: Path) -> ImageQuality:
    """Blur score, brightness and dark/saturated shares of one frame.

    Raises:
        ImageDecodeError: OpenCV cannot decode the file.
    """
    data = np.fromfile(path, np.uint8)
    with _quiet_decoder(path):
        grey = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_2)
        if grey is not None and max(grey.shape) * 2 < REDUCE_FROM:
            grey = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    del data
    if grey is None or grey.size == 0:
        raise ImageDecodeError(f"{printable(str(path))}: OpenCV cannot decode the image")
    if grey.dtype != np.uint8:  # 16-bit TIFF: scale to 8 bits for comparable figures
        lo, hi = float(grey.min()), float(grey.max())
        grey = ((grey.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1e-9))).astype(np.uint8)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    _, std = cv2.meanStdDev(lap)
    n = float(grey.size)
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    mean = float((hist * np.arange(256)).sum() / n)
    return ImageQuality(
        blur_score=float(std[0, 0]) ** 2,
        mean_brightness=mean,
        dark_fraction=float(hist[:DARK_LEVEL].sum() / n),
        saturated_fraction=float(hist[SATURATED_LEVEL + 1 :].sum() / n),
        decoded_width=int(grey.shape[1]),
        decoded_height=int(grey.shape[0]),
    )


@contextlib.contextmanager
def _quiet_decoder(path: Path) -> Iterator[None]:
    """Silence OpenCV's log while it decodes a TIFF: libtiff warns on stderr about every
    maker tag it does not know (MicaSense, DJI), which says nothing about the frame."""
    if path.suffix.lower() not in TIFF_SUFFIXES:
        yield
        return
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def is_black(q: ImageQuality) -> bool:
    """A lens-cap or otherwise black frame."""
    return q.mean_brightness < BLACK_MEAN and q.dark_fraction > BLACK_DARK_FRACTION


def is_blurry(q: ImageQuality, threshold: float = DEFAULT_BLUR_THRESHOLD) -> bool:
    """Variance of the Laplacian below ``threshold`` (black frames are reported as black instead)."""
    return q.blur_score < threshold and not is_black(q)


def exposure(q: ImageQuality) -> str | None:
    """``"under"``, ``"over"`` or None for a frame that is not black."""
    if is_black(q):
        return None
    if q.mean_brightness < UNDER_MEAN or q.dark_fraction > CLIPPED_FRACTION:
        return "under"
    if q.mean_brightness > OVER_MEAN or q.saturated_fraction > CLIPPED_FRACTION:
        return "over"
    return None


def _assess_safe(path: Path) -> ImageQuality | Exception:
    try:
        return assess(path)
    except ImageDecodeError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a worker must hand every failure back
        return ImageDecodeError(printable(f"{path}: {type(exc).__name__}: {exc}"))


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core; no oversubscription


def iter_assess(
    paths: Sequence[Path],
    workers: int = 2,
    *,
    in_flight: int = 8,
    task: Callable[[Path], ImageQuality | Exception] | None = None,
) -> Iterator[tuple[Path, ImageQuality | Exception]]:
    """Assess frames in a process pool, yielding results in input order.

    At most ``workers * in_flight`` tasks are queued at any time, so memory stays
    flat however many frames there are. ``workers <= 1`` runs in this process. A
    worker that dies (a decoder crash) breaks the pool: the frame that kills a worker
    on its own gets an :class:`ImageDecodeError`, the others are retried in a fresh pool.

    Args:
        paths: Frames to assess.
        workers: Processes (the decode itself is single-threaded per frame).
        in_flight: Tasks queued per worker.
        task: The per-frame function (default: :func:`assess`, errors returned);
            tests swap it. It must be importable by the worker processes.
    """
    run = task or _assess_safe
    if workers <= 1 or len(paths) <= 1:
        for p in paths:
            yield p, run(p)
        return
    done = 0
    while done < len(paths):
        try:
            for result in _pooled(paths[done:], workers, workers * in_flight, run):
                yield paths[done], result
                done += 1
        except BrokenProcessPool:
            # every queued task failed with the pool; run the next frame alone to find out
            # whether it is the one that kills the decoder, then go on in a fresh pool
            yield paths[done], _alone(paths[done], run)
            done += 1


def _alone(path: Path, run: Callable[[Path], ImageQuality | Exception]) -> ImageQuality | Exception:
    try:
        return list(_pooled([path], 1, 1, run))[0]
    except BrokenProcessPool:
        log.warning("%s: the image decoder process died on this frame", printable(str(path)))
        return ImageDecodeError(f"{printable(str(path))}: the image decoder process died on this frame")


def _pooled(
    paths: Sequence[Path], workers: int, window_size: int, run: Callable[[Path], ImageQuality | Exception]
) -> Iterator[ImageQuality | Exception]:
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        window: deque[Future[ImageQuality | Exception]] = deque()
        for p in paths:
            window.append(pool.submit(run, p))
            if len(window) >= window_size:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def assess_many(paths: Sequence[Path], workers: int = 2) -> list[ImageQuality | Exception]:
    """:func:`assess` for many frames on ``workers`` processes; failures are returned, not raised."""
    return [result for _, result in iter_assess(paths, workers)]
