"""The pixels of polygons: windowed reads of a raster band and the centre-inside masks.

A cell belongs to a polygon when its centre lies inside it (GDAL rasterize with
``all_touched=False``). A cell has data when it is not the band's nodata, not masked by
a per-dataset mask or alpha band, and finite. The raster is never read whole: polygons are
grouped into chunks (:func:`pipeline.zonal.windows.plan_chunks`) and each chunk is read once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import MaskFlags
from rasterio.features import geometry_mask
from rasterio.io import DatasetReader
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from core.errors import PolygonLayerError
from core.models import Frozen
from pipeline.zonal.windows import box_pixels, clip_boxes, pixel_boxes, plan_chunks, split_box

Box = tuple[int, int, int, int]
MAX_COUNTED_CELLS = 1 << 31
"""Above this many cells a polygon's pixel count is taken from its area (see count_centres)."""


class ZonalSettings(Frozen):
    """How zonal statistics read the raster."""

    band: int = 1
    """Band to read (1-based)."""
    chunk_size: int = 2048
    """Side of the read chunks in cells; polygons are grouped by the chunk holding their centre."""
    max_window_pixels: int = 1 << 25
    """Polygons whose box is larger are read in row strips (zonal_stats only)."""
    read_threads: str = "ALL_CPUS"
    """GDAL ``NUM_THREADS`` open option: compressed blocks are decoded on this many threads ("1" = one)."""


@dataclass(frozen=True, slots=True, eq=False)
class PolygonPixels:
    """The cells of one polygon: a window of the raster around it and its masks.

    ``values``, ``inside`` and ``valid`` share the window's shape; the window is the
    polygon's pixel box cut to the raster.
    """

    index: int
    """Position of the polygon in the input sequence."""
    row_off: int
    col_off: int
    transform: Affine
    """Affine transform of the window (cell → CRS coordinates)."""
    values: NDArray[np.generic]
    """Raw band values of the window (any dtype)."""
    inside: NDArray[np.bool_]
    """Cells whose centre lies inside the polygon."""
    valid: NDArray[np.bool_]
    """Cells inside the polygon that hold data."""
    pixel_count: int
    """Cells of the extended grid inside the polygon, including those past the raster's edges."""

    @property
    def window(self) -> Window:
        """The window in the raster."""
        return Window(self.col_off, self.row_off, self.values.shape[1], self.values.shape[0])

    @property
    def valid_count(self) -> int:
        """Number of cells with data inside the polygon."""
        return int(np.count_nonzero(self.valid))

    def valid_values(self) -> NDArray[np.generic]:
        """The values of the cells with data inside the polygon (1-D, row-major)."""
        return self.values[self.valid]

    def cell_ids(self, raster_width: int) -> NDArray[np.int64]:
        """Row-major ids (``row · width + col``, exactextract's ``cell_id``) of the cells with data."""
        rows, cols = np.nonzero(self.valid)
        return (rows + self.row_off).astype(np.int64) * raster_width + cols + self.col_off


def box_transform(transform: Affine, box: Box) -> Affine:
    """Transform of the window starting at the box's upper-left cell."""
    return transform * Affine.translation(box[2], box[0])


def centre_mask(geom: BaseGeometry, box: Box, transform: Affine) -> NDArray[np.bool_]:
    """Cells of ``box`` whose centre lies inside ``geom`` (GDAL rasterize, all_touched=False)."""
    shape = (box[1] - box[0], box[3] - box[2])
    if shape[0] <= 0 or shape[1] <= 0:
        return np.zeros((max(shape[0], 0), max(shape[1], 0)), dtype=bool)
    mask: NDArray[np.bool_] = geometry_mask(
        [geom], out_shape=shape, transform=box_transform(transform, box), all_touched=False, invert=True
    )
    return mask


def count_centres(geom: BaseGeometry, box: Box, transform: Affine, max_pixels: int) -> int:
    """Cells of the (unclipped) box whose centre lies inside ``geom``, rasterized in strips.

    Boxes above :data:`MAX_COUNTED_CELLS` (a polygon of many km² at cm cells) are not
    rasterized: the count is the polygon's area in cells, rounded.
    """
    cells = (box[1] - box[0]) * (box[3] - box[2])
    if cells > MAX_COUNTED_CELLS:
        return int(round(geom.area / abs(transform.a * transform.e)))
    return sum(
        int(np.count_nonzero(centre_mask(geom, part, transform))) for part in split_box(box, max_pixels)
    )


def read_box(dataset: DatasetReader, band: int, box: Box) -> tuple[NDArray[np.generic], NDArray[np.bool_]]:
    """Values of a box inside the raster and where they hold data."""
    window = Window(box[2], box[0], box[3] - box[2], box[1] - box[0])
    values = dataset.read(band, window=window)
    valid = np.ones(values.shape, dtype=bool)
    flags = dataset.mask_flag_enums[band - 1]
    nodata = dataset.nodatavals[band - 1]
    if MaskFlags.nodata in flags and nodata is not None:
        valid &= ~np.isnan(values) if np.isnan(nodata) else values != nodata
    if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
        valid &= dataset.read_masks(band, window=window) != 0
    if np.issubdtype(values.dtype, np.floating):
        valid &= np.isfinite(values)
    return values, valid


def pixels_in(
    index: int,
    geom: BaseGeometry,
    boxes: tuple[Box, Box, Box],
    arrays: tuple[NDArray[np.generic], NDArray[np.bool_]],
    transform: Affine,
    max_pixels: int,
) -> PolygonPixels:
    """The PolygonPixels of one polygon cut from the arrays of a chunk read.

    ``boxes`` are the polygon's full box, that box cut to the raster, and the chunk's box.
    """
    full, sub, chunk = boxes
    values, valid = arrays
    rows = slice(sub[0] - chunk[0], sub[1] - chunk[0])
    cols = slice(sub[2] - chunk[2], sub[3] - chunk[2])
    inside = centre_mask(geom, sub, transform)
    pixel_count = (
        count_centres(geom, full, transform, max_pixels) if sub != full else int(np.count_nonzero(inside))
    )
    return PolygonPixels(
        index=index,
        row_off=sub[0],
        col_off=sub[2],
        transform=box_transform(transform, sub),
        values=values[rows, cols],
        inside=inside,
        valid=inside & valid[rows, cols],
        pixel_count=pixel_count,
    )


@dataclass(frozen=True, slots=True, eq=False)
class ReadPlan:
    """Which polygons are read from which chunk (see :func:`plan_reads`)."""

    geometries: dict[int, BaseGeometry]
    boxes: dict[int, Box]
    """Unclipped pixel box of every polygon."""
    chunks: list[tuple[Box, list[int]]]
    single: list[int]
    """Polygons read alone (box taller or wider than a chunk)."""
    outside: list[int]
    """Polygons with no cell inside the raster."""


def plan_reads(
    dataset: DatasetReader, geometries: Sequence[BaseGeometry | None], settings: ZonalSettings
) -> ReadPlan:
    """Pixel boxes of the polygons (None and empty ones left out) and the chunks to read them from."""
    kept = [(i, g) for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    if not kept:
        return ReadPlan({}, {}, [], [], [])
    indices = np.array([i for i, _ in kept], dtype=np.int64)
    bounds = np.array([g.bounds for _, g in kept], dtype=np.float64)
    boxes = pixel_boxes(bounds, dataset.transform)
    clipped = clip_boxes(boxes, dataset.height, dataset.width)
    chunks, single = plan_chunks(clipped, settings.chunk_size)
    outside = np.flatnonzero(box_pixels(clipped) == 0)
    return ReadPlan(
        geometries={int(i): g for i, g in kept},
        boxes={int(i): tuple(int(v) for v in b) for i, b in zip(indices, boxes, strict=True)},  # type: ignore[misc]
        chunks=[(c.box, [int(indices[j]) for j in c.indices]) for c in chunks],
        single=[int(indices[j]) for j in single],
        outside=[int(indices[j]) for j in outside],
    )


def clip_box(box: Box, dataset: DatasetReader) -> Box:
    """A box cut to the raster."""
    return (max(box[0], 0), min(box[1], dataset.height), max(box[2], 0), min(box[3], dataset.width))


def polygon_pixels_from(
    dataset: DatasetReader,
    plan: ReadPlan,
    index: int,
    chunk: Box,
    arrays: tuple[NDArray[np.generic], NDArray[np.bool_]],
    max_pixels: int,
) -> PolygonPixels:
    """PolygonPixels of polygon ``index`` of the plan, cut from the arrays read for ``chunk``."""
    full = plan.boxes[index]
    sub = clip_box(full, dataset)
    return pixels_in(index, plan.geometries[index], (full, sub, chunk), arrays, dataset.transform, max_pixels)


def iter_polygon_pixels(
    dataset: DatasetReader,
    geometries: Sequence[BaseGeometry | None],
    settings: ZonalSettings | None = None,
    *,
    skip: frozenset[int] = frozenset(),
) -> Iterator[PolygonPixels]:
    """The PolygonPixels of every polygon (None and empty ones skipped), chunk by chunk.

    Polygons come in read order, not input order: use ``PolygonPixels.index``. Each chunk is
    read once; memory is one chunk (at most ``(2 · chunk_size)²`` cells) or, for a polygon
    larger than a chunk, its own box. A polygon entirely outside the raster comes with empty
    arrays and its ``pixel_count``.

    Args:
        dataset: an open raster; ``geometries`` must be in its CRS.
        geometries: polygons (None allowed, skipped).
        settings: band and chunking.
        skip: indices not to read (zonal_stats streams the very large ones itself).
    """
    settings = settings or ZonalSettings()
    plan = plan_reads(dataset, geometries, settings)
    for box, members in plan.chunks:
        arrays = read_box(dataset, settings.band, box)
        for index in members:
            yield polygon_pixels_from(dataset, plan, index, box, arrays, settings.max_window_pixels)
    for index in plan.single:
        if index not in skip:
            box = clip_box(plan.boxes[index], dataset)
            arrays = read_box(dataset, settings.band, box)
            yield polygon_pixels_from(dataset, plan, index, box, arrays, settings.max_window_pixels)
    for index in plan.outside:
        yield outside_pixels(dataset, plan, index, settings)


def outside_pixels(
    dataset: DatasetReader, plan: ReadPlan, index: int, settings: ZonalSettings
) -> PolygonPixels:
    """PolygonPixels of a polygon with no cell inside the raster: empty arrays, its pixel count."""
    box = plan.boxes[index]
    nothing = np.zeros((0, 0), dtype=bool)
    return PolygonPixels(
        index=index,
        row_off=0,
        col_off=0,
        transform=dataset.transform,
        values=np.zeros((0, 0), dtype=dataset.dtypes[settings.band - 1]),
        inside=nothing,
        valid=nothing,
        pixel_count=count_centres(plan.geometries[index], box, dataset.transform, settings.max_window_pixels),
    )


def polygon_pixels(raster: str | Path, geometry: BaseGeometry, band: int = 1) -> PolygonPixels:
    """The pixels of one polygon (in the raster's CRS): values, centre-inside mask, data mask."""
    settings = ZonalSettings(band=band)
    with rasterio.open(raster, NUM_THREADS=settings.read_threads) as dataset:
        found = list(iter_polygon_pixels(dataset, [geometry], settings))
    if not found:
        raise PolygonLayerError(f"polygon for {raster} is empty")
    return found[0]
