"""The common grid of two rasters, and reading either of them on it (GDAL warped VRTs, windowed).

The grid covers the *intersection* of the two footprints in the target CRS, with the pixel
size of the *coarser* raster (the finer one is averaged down, never the coarser one invented
up), snapped to multiples of that size. Each raster is read through a ``WarpedVRT`` onto the
grid: a raster in another CRS is reprojected (bilinear), a finer one resampled (average). A
co-registration correction of AFTER is applied by giving its VRT a corrected source transform,
so the pixels are resampled once.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import cv2
import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform, transform_bounds
from rasterio.windows import Window

from core.errors import NoOverlapError
from pipeline.change.models import Grid
from pipeline.rasters.area import crs_string
from pipeline.rasters.inputs import RasterInfo

#: From this decimation on, a coarse grid is read with source offsets rounded to whole pixels.
COARSE_K = 4
#: Drivers that decode from the start of the file (no tiles): a window read may restart decoding.
SEQUENTIAL_DRIVERS = frozenset({"PNG", "JPEG"})
#: Such rasters up to this size are decoded once into a tiled in-memory GeoTIFF.
IN_MEMORY_PIXELS = 64_000_000
#: A raster finer than the grid by more than this factor is averaged down; otherwise bilinear.
AVERAGE_ABOVE = 1.01


def native_resolution(info: RasterInfo, crs: str) -> float:
    """The pixel size ``info`` would have in ``crs`` (GDAL's suggested warp resolution)."""
    if crs_string(info.crs) == crs_string(crs):
        return float(max(info.resolution))
    transform, _, _ = calculate_default_transform(info.crs, crs, info.width, info.height, *info.bounds)
    return float(abs(transform.a))


def footprint(info: RasterInfo, crs: str) -> tuple[float, float, float, float]:
    """Bounds of ``info`` in ``crs`` (densified edges)."""
    if crs_string(info.crs) == crs_string(crs):
        return info.bounds
    left, bottom, right, top = transform_bounds(info.crs, crs, *info.bounds, densify_pts=21)
    return float(left), float(bottom), float(right), float(top)


def common_grid(before: RasterInfo, after: RasterInfo, crs: str) -> Grid:
    """The grid over the overlap of both rasters in ``crs``, at the coarser resolution.

    Raises:
        NoOverlapError: the footprints do not overlap (names both files and their bounds).
    """
    res_b, res_a = native_resolution(before, crs), native_resolution(after, crs)
    res = max(res_b, res_a)
    b, a = footprint(before, crs), footprint(after, crs)
    left, bottom, right, top = max(b[0], a[0]), max(b[1], a[1]), min(b[2], a[2]), min(b[3], a[3])
    if right - left < res or top - bottom < res:
        raise NoOverlapError(
            f"{before.path.name} og {after.path.name} dækker ikke det samme område / "
            f"{before.path.name} and {after.path.name} do not overlap in {crs}: "
            f"bounds {_fmt(b)} and {_fmt(a)}"
        )
    x0, y0 = _origin(before if res_b >= res_a else after, crs, res)
    left, top = x0 + math.floor((left - x0) / res + 1e-9) * res, y0 + math.ceil((top - y0) / res - 1e-9) * res
    width, height = math.ceil((right - left) / res - 1e-9), math.ceil((top - bottom) / res - 1e-9)
    return Grid(crs=crs, transform=(res, 0.0, left, 0.0, -res, top), width=width, height=height)


def _origin(info: RasterInfo, crs: str, res: float) -> tuple[float, float]:
    """Where the grid's pixel edges fall: on the coarser raster's own edges when it is north-up in
    ``crs`` at ``res`` (it is then read without resampling), else on multiples of ``res``."""
    t = info.transform
    same = crs_string(info.crs) == crs_string(crs) and t.b == 0 and t.d == 0
    if same and math.isclose(abs(t.a), res, rel_tol=1e-9) and math.isclose(abs(t.e), res, rel_tol=1e-9):
        return t.c, t.f
    return 0.0, 0.0


def _fmt(bounds: tuple[float, float, float, float]) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in bounds) + ")"


def resampling_for(info: RasterInfo, grid: Grid) -> Resampling:
    """``average`` when the raster is finer than the grid, else ``bilinear``."""
    finer = grid.resolution / native_resolution(info, grid.crs) > AVERAGE_ABOVE
    return Resampling.average if finer else Resampling.bilinear


def corrected_transform(grid: Grid, motion: tuple[float, ...], source: Affine) -> Affine:
    """Source transform that makes a VRT on ``grid`` show ``after(M p)`` at grid pixel p.

    ``source`` maps the raster's pixels to the grid's CRS; the result is G · M⁻¹ · G⁻¹ · source.
    """
    g = grid.affine
    corrected: Affine = g * ~Affine(*motion) * ~g * source
    return corrected


class GridReader:
    """One raster read on a grid: bands as float32 with NaN where it has no data.

    Three ways, fastest first: ``direct`` — the raster's pixels are the grid's, up to an integer
    offset (and, on a coarse grid, an integer decimation, averaged): plain windowed reads;
    ``affine`` — same CRS and no downsampling, but a sub-pixel or affine correction: the needed
    window is read and resampled bilinearly with OpenCV (``warpAffine``; positions to 1/32 px);
    ``warp`` — another CRS or a finer raster averaged down: a GDAL warped VRT.
    """

    def __init__(
        self,
        info: RasterInfo,
        grid: Grid,
        bands: list[int],
        *,
        motion: tuple[float, ...] | None = None,
        motion_grid: Grid | None = None,
    ) -> None:
        """Open ``info`` on ``grid``; ``motion`` (pixels of ``motion_grid``, default ``grid``) corrects it."""
        self.info, self.grid, self.bands = info, grid, bands
        self.resampling = resampling_for(info, grid)
        self._stack = contextlib.ExitStack()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = self._stack.enter_context(rasterio.open(info.path))
            if src.driver in SEQUENTIAL_DRIVERS and src.width * src.height <= IN_MEMORY_PIXELS:
                src = self._stack.enter_context(_in_memory(src, self._stack))
        self.src = src
        alpha = [i + 1 for i, c in enumerate(src.colorinterp) if c == ColorInterp.alpha]
        self._src_alpha: list[int] = alpha[-1:]
        self.mode, self.mapping = _mode(info, src, grid, motion, motion_grid or grid)
        if self.mode == "warp":
            self.vrt = _warped(self._stack, info, src, grid, motion, motion_grid or grid, self.resampling)
            alpha = [i + 1 for i, c in enumerate(self.vrt.colorinterp) if c == ColorInterp.alpha]
            self._alpha: list[int] = alpha[-1:]

    def read(self, window: Window | None = None) -> NDArray[np.float32]:
        """The bands (bands, rows, cols) of ``window`` (all of the grid when None), NaN where no data.

        Parts of the window outside the grid or the raster are NaN.
        """
        if window is None:
            window = Window(0, 0, self.grid.width, self.grid.height)
        out = np.full((len(self.bands), int(window.height), int(window.width)), np.nan, dtype=np.float32)
        c0, r0 = max(0, int(window.col_off)), max(0, int(window.row_off))
        c1 = min(self.grid.width, int(window.col_off + window.width))
        r1 = min(self.grid.height, int(window.row_off + window.height))
        if c1 <= c0 or r1 <= r0:
            return out
        inside = Window(c0, r0, c1 - c0, r1 - r0)
        reader = {"direct": self._direct, "affine": self._affine, "warp": self._warp}[self.mode]
        rows = slice(r0 - int(window.row_off), r1 - int(window.row_off))
        cols = slice(c0 - int(window.col_off), c1 - int(window.col_off))
        out[:, rows, cols] = reader(inside)
        return out

    def _masked(self, data: NDArray[np.float32], nodata: float | None, alpha: bool) -> NDArray[np.float32]:
        """Bands with NaN where the alpha (last row of ``data`` when ``alpha``) or nodata says no data."""
        if alpha:
            data, mask = data[:-1], data[-1]
            data[:, ~(mask >= 254.5)] = np.nan
        elif nodata is not None and not np.isnan(nodata):
            data[:, (data == np.float32(nodata)).any(axis=0)] = np.nan
        return data

    def _warp(self, window: Window) -> NDArray[np.float32]:
        data = self.vrt.read([*self.bands, *self._alpha], window=window, out_dtype="float32")
        return self._masked(data, self.vrt.nodata, bool(self._alpha))

    def _direct(self, window: Window) -> NDArray[np.float32]:
        m = self.mapping
        k = round(m.a)
        out = np.full((len(self.bands), int(window.height), int(window.width)), np.nan, dtype=np.float32)
        # the part of the window whose (k × k) source cells all lie inside the raster
        col0 = max(int(window.col_off), math.ceil(-m.c / k))
        row0 = max(int(window.row_off), math.ceil(-m.f / k))
        col1 = min(int(window.col_off + window.width), math.floor((self.src.width - m.c) / k))
        row1 = min(int(window.row_off + window.height), math.floor((self.src.height - m.f) / k))
        if col1 <= col0 or row1 <= row0:
            return out
        source = Window(round(m.c) + col0 * k, round(m.f) + row0 * k, (col1 - col0) * k, (row1 - row0) * k)
        indexes = [*self.bands, *self._src_alpha]
        shape = (len(indexes), row1 - row0, col1 - col0)
        data = self.src.read(
            indexes, window=source, out_shape=shape, out_dtype="float32", resampling=Resampling.average
        )
        rows = slice(row0 - int(window.row_off), row1 - int(window.row_off))
        cols = slice(col0 - int(window.col_off), col1 - int(window.col_off))
        out[:, rows, cols] = self._masked(data, self.src.nodata, bool(self._src_alpha))
        return out

    def _affine(self, window: Window) -> NDArray[np.float32]:
        m = self.mapping
        cols = (window.col_off, window.col_off + window.width)
        rows = (window.row_off, window.row_off + window.height)
        xs, ys = zip(*(m * (c, r) for c in cols for r in rows), strict=True)
        bx, by = max(0, math.floor(min(xs)) - 2), max(0, math.floor(min(ys)) - 2)
        ex, ey = min(self.src.width, math.ceil(max(xs)) + 2), min(self.src.height, math.ceil(max(ys)) + 2)
        out = np.full((len(self.bands), int(window.height), int(window.width)), np.nan, dtype=np.float32)
        if ex <= bx or ey <= by:
            return out
        indexes = [*self.bands, *self._src_alpha]
        data = self.src.read(indexes, window=Window(bx, by, ex - bx, ey - by), out_dtype="float32")
        data = self._masked(data, self.src.nodata, bool(self._src_alpha))  # NaN spreads to what it touches
        # grid pixel centre (x + 0.5 + col_off, …) -> source pixel centre, in OpenCV's integer-centre pixels
        ox, oy = m * (window.col_off + 0.5, window.row_off + 0.5)
        matrix = np.array([[m.a, m.b, ox - 0.5 - bx], [m.d, m.e, oy - 0.5 - by]], dtype=np.float64)
        size, flags = (int(window.width), int(window.height)), cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        for i, band in enumerate(data):
            out[i] = cv2.warpAffine(
                band, matrix, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan
            )
        return out

    def close(self) -> None:
        """Close the VRTs and the file."""
        self._stack.close()

    def __enter__(self) -> GridReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mode(
    info: RasterInfo,
    src: rasterio.io.DatasetReader,
    grid: Grid,
    motion: tuple[float, ...] | None,
    mgrid: Grid,
) -> tuple[str, Affine]:
    """How to read ``src`` on ``grid``, and the grid-pixel → source-pixel mapping when it is affine."""
    if crs_string(info.crs) != crs_string(grid.crs) or src.transform.b != 0 or src.transform.d != 0:
        return "warp", Affine.identity()
    mapping: Affine = ~src.transform * grid.affine
    if motion is not None:
        mapping = ~src.transform * mgrid.affine * Affine(*motion) * ~mgrid.affine * grid.affine
    k = mapping.a
    whole = abs(k - round(k)) < 1e-6 and round(k) >= 1 and abs(mapping.e - k) < 1e-6
    # on a coarse level (k ≥ COARSE_K) a fraction of a source pixel is below an eighth of a grid pixel
    aligned = round(k) >= COARSE_K or all(abs(v - round(v)) < 1e-6 for v in (mapping.c, mapping.f))
    if whole and aligned and mapping.b == 0 and mapping.d == 0:
        return "direct", mapping
    if resampling_for(info, grid) is Resampling.bilinear:
        return "affine", mapping
    return "warp", mapping


def _warped(
    stack: contextlib.ExitStack,
    info: RasterInfo,
    src: rasterio.io.DatasetReader,
    grid: Grid,
    motion: tuple[float, ...] | None,
    mgrid: Grid,
    resampling: Resampling,
) -> WarpedVRT:
    """A warped VRT of ``src`` on ``grid`` (corrected by ``motion``)."""
    source_crs = info.crs
    source: rasterio.io.DatasetReader | WarpedVRT = src
    if motion is not None and crs_string(info.crs) != crs_string(grid.crs):
        # bring it into the grid's CRS first (native resolution), so the correction is affine
        source = stack.enter_context(WarpedVRT(src, src_crs=info.crs, crs=grid.crs))
        source_crs = grid.crs
    src_transform = (
        source.transform if motion is None else corrected_transform(mgrid, motion, source.transform)
    )
    return stack.enter_context(
        WarpedVRT(
            source, src_crs=source_crs, src_transform=src_transform, crs=grid.crs, transform=grid.affine,
            width=grid.width, height=grid.height, resampling=resampling, warp_mem_limit=64,
            **_nodata_options(src),
        )
    )  # fmt: skip


def _in_memory(src: rasterio.io.DatasetReader, stack: contextlib.ExitStack) -> rasterio.io.DatasetReader:
    """A tiled in-memory GeoTIFF copy of a PNG/JPEG (world file included), decoded once."""
    profile = {
        "driver": "GTiff", "width": src.width, "height": src.height, "count": src.count,
        "dtype": src.dtypes[0], "transform": src.transform, "nodata": src.nodata, "tiled": True,
        "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip
    memfile = stack.enter_context(MemoryFile())
    with memfile.open(**profile) as copy:
        copy.write(src.read())
        copy.colorinterp = src.colorinterp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return memfile.open()


def _nodata_options(src: rasterio.io.DatasetReader) -> dict[str, object]:
    """Make the VRT mask what the source masks: its alpha band, nodata, or (if neither) add an alpha."""
    if ColorInterp.alpha in src.colorinterp:
        return {}
    if src.nodata is not None:
        return {"src_nodata": src.nodata, "nodata": src.nodata}
    return {"add_alpha": True}
