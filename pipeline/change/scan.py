"""The full-resolution pass: difference, smoothing, classes and change regions, block by block.

Each block is read with a halo of 3 σ so that the smoothing at its edge is the smoothing of the
whole raster; the difference is written into the change-map scratch raster and the regions of
the block are collected for :func:`pipeline.change.detect.merge`. Memory is a few blocks,
whatever the size of the grid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.windows import Window

from pipeline.change.detect import Part, block_parts, classify, halo, smooth
from pipeline.change.grid import GridReader
from pipeline.change.inputs import full_scale, value
from pipeline.change.models import ChangeKind, Grid
from pipeline.vegetation.raster import WORKERS, PerThread, RunningStats, blocks, in_order, to_nodata


class ScanSettings(NamedTuple):
    """What the pass computes."""

    kind: ChangeKind
    index_name: str
    bias: float
    sigma_px: float
    threshold: float
    window: int


class ScanResult(NamedTuple):
    """Regions of every block, the overlap and the distribution of the difference."""

    parts: list[Part]
    overlap_px: int
    delta: RunningStats


def _block(
    before: GridReader, after: GridReader, grid: Grid, window: Window, s: ScanSettings
) -> tuple[Window, NDArray[np.float32], list[Part]]:
    h = halo(s.sigma_px)
    outer = Window(window.col_off - h, window.row_off - h, window.width + 2 * h, window.height + 2 * h)
    delta = (
        value(s.kind, after.read(outer), s.index_name, full_scale(after.info))
        - value(s.kind, before.read(outer), s.index_name, full_scale(before.info))
        - np.float32(s.bias)
    )
    smoothed = smooth(delta, s.sigma_px)
    inner = (slice(h, h + int(window.height)), slice(h, h + int(window.width)))
    delta, smoothed = delta[inner], smoothed[inner]
    classes = classify(np.where(np.isfinite(delta), smoothed, np.nan).astype(np.float32), s.threshold)
    seams = (
        window.col_off > 0,
        window.row_off > 0,
        window.col_off + window.width < grid.width,
        window.row_off + window.height < grid.height,
    )
    return window, delta, block_parts(classes, delta, grid.window_transform(window), seams)


def scan(
    pair: Callable[[], tuple[GridReader, GridReader]],
    grid: Grid,
    settings: ScanSettings,
    sink: rasterio.io.DatasetWriter,
    workers: int = WORKERS,
) -> ScanResult:
    """Run the pass over every block of ``grid`` in ``workers`` threads, writing Δ (nodata −9999) to ``sink``.

    Args:
        pair: opens the BEFORE and AFTER readers; called once per worker thread (GDAL handles are
            not shared between threads).
    """
    parts: list[Part] = []
    overlap = 0
    stats = RunningStats(-10.0, 10.0) if settings.kind is ChangeKind.DSM else RunningStats(-2.0, 2.0)
    with PerThread(pair, _close_pair, workers) as readers:

        def job(window: Window) -> tuple[Window, NDArray[np.float32], list[Part]]:
            before, after = readers.get()
            return _block(before, after, grid, window, settings)

        for window, delta, found in in_order(job, blocks(grid.width, grid.height, settings.window), workers):
            sink.write(to_nodata(delta), 1, window=window)
            overlap += int(np.isfinite(delta).sum())
            stats.add(delta)
            parts.extend(found)
    return ScanResult(parts, overlap, stats)


def _close_pair(pair: tuple[GridReader, GridReader]) -> None:
    for reader in pair:
        reader.close()
