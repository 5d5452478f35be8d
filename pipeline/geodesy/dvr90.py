"""The DVR90 geoid: grids, ellipsoidal-to-DVR90 transformers and the height math (pure).

REFERENCE.md §2.6. The DVR90 geoid grids (``dk_sdfi_dvr90_*.tif``) ship with neither
PyPI nor Debian. Without them PROJ *silently* falls back to a ballpark step that
leaves heights unchanged (about 37-40 m wrong in Denmark). The only reliable test is
``TransformerGroup(...).best_available``; :func:`dvr90_transformer` makes that test and
returns None when it fails.

The grid folder is always a parameter (the CLI passes ``Settings.proj_grids``). It is
added to pyproj's search path with :func:`pyproj.datadir.append_data_dir`, which is
additive and process-wide; ``PROJ_DATA``/``PROJ_LIB`` are never touched (pointing them
at Debian's ``proj.db`` breaks rasterio, STACK.md §1). Height conversion runs in pyproj,
so GDAL never needs the grids.

Sign convention: the geoid height N is ellipsoidal minus DVR90 height (about 36-42 m in
Denmark); :func:`geoid_offsets` returns DVR90 minus ellipsoidal, i.e. −N.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pyproj
import pyproj.datadir
import rasterio
from numpy.typing import NDArray
from pyproj.crs import CompoundCRS
from pyproj.transformer import Transformer, TransformerGroup

from core.errors import UsageError

log = logging.getLogger(__name__)

DVR90 = "EPSG:5799"
#: ETRS89 geographic 3D: its third axis is the ellipsoidal height.
ETRS89_3D = "EPSG:4937"
#: ETRS89 geographic 2D: where geoid heights are looked up.
ETRS89_2D = "EPSG:4258"
#: Spacing (pixels) of the exact geoid-offset lattice of a DSM window.
HEIGHT_LATTICE_PX = 16


def register_grids(folder: Path) -> None:
    """Add ``folder`` (holding PROJ grid files) to pyproj's data search path.

    Raises:
        UsageError: the folder does not exist or holds no ``.tif`` grid.
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir() or not any(folder.glob("*.tif")):
        raise UsageError(f"PROJ grid folder {folder} does not exist or holds no .tif grids")
    current = pyproj.datadir.get_data_dir().split(os.pathsep)
    if str(folder) not in current:
        pyproj.datadir.append_data_dir(str(folder))
        log.info("added PROJ grid folder %s", folder)


def with_dvr90(horizontal_crs: str) -> pyproj.CRS:
    """``horizontal_crs`` + DVR90 height as one compound CRS (EPSG:25832 gives EPSG:7416)."""
    horizontal = pyproj.CRS.from_user_input(horizontal_crs)
    compound = CompoundCRS(
        name=f"{horizontal.name} + DVR90 height", components=[horizontal, pyproj.CRS.from_user_input(DVR90)]
    )
    code = compound.to_epsg()
    return pyproj.CRS.from_epsg(code) if code else compound


def dvr90_transformer(horizontal_crs: str, grids: Path | None) -> Transformer | None:
    """The best ellipsoidal-to-DVR90 transformer for heights given in ``horizontal_crs``.

    The source is ``horizontal_crs`` made 3D (ETRS89 ellipsoidal height), the target
    ``horizontal_crs + DVR90``. Returns None when the grid-based operation is not
    available (no ``grids`` folder, or the folder lacks the grid PROJ wants).
    """
    if grids is None:
        return None
    register_grids(grids)
    source = pyproj.CRS.from_user_input(horizontal_crs).to_3d()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyproj warns when the best op is missing
        group = TransformerGroup(source, with_dvr90(horizontal_crs), always_xy=True)
    if not group.best_available or not group.transformers:
        return None
    best = group.transformers[0]
    if "ballpark" in best.description.lower():
        return None
    return best


def to_dvr90(
    transformer: Transformer,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    heights: NDArray[np.floating],
) -> NDArray[np.float64]:
    """Ellipsoidal heights at (xs, ys) converted with ``transformer`` (pure computation).

    Raises:
        UsageError: a height falls outside the grid (PROJ returns inf there).
    """
    _, _, out = transformer.transform(xs, ys, np.asarray(heights, dtype=np.float64))
    result = np.asarray(out, dtype=np.float64)
    if not np.all(np.isfinite(result[np.isfinite(heights)])):
        raise UsageError("some heights lie outside the DVR90 grid (Denmark); cannot convert them")
    return result


def geoid_offsets(
    transformer: Transformer, xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> NDArray[np.float64]:
    """DVR90 minus ellipsoidal height at (xs, ys): the value to add to each height (−N)."""
    zeros = np.zeros(np.broadcast(xs, ys).shape, dtype=np.float64)
    return to_dvr90(transformer, xs, ys, zeros)


def geoid_heights(
    grids: Path | None, crs: str, xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """The DVR90 geoid height N at (xs, ys) given in ``crs``; NaN outside the grid.

    Returns None when the grid is not available (no folder, or not the grid PROJ wants).
    """
    transformer = dvr90_transformer(ETRS89_2D, grids)
    if transformer is None:
        return None
    horizontal = pyproj.CRS.from_user_input(crs)
    if horizontal.is_compound:
        horizontal = horizontal.sub_crs_list[0]
    lon, lat = Transformer.from_crs(horizontal, ETRS89_2D, always_xy=True).transform(xs, ys)
    _, _, out = transformer.transform(lon, lat, np.zeros(np.shape(lon), dtype=np.float64))
    offsets = np.asarray(out, dtype=np.float64)
    return np.where(np.isfinite(offsets), -offsets, np.nan)


def offset_field(transformer: Transformer, transform: rasterio.Affine, shape: tuple[int, ...]) -> np.ndarray:
    """Geoid offsets (DVR90 − ellipsoidal) at every pixel centre of a window.

    The offset is evaluated exactly by PROJ on a lattice every ``HEIGHT_LATTICE_PX``
    pixels and interpolated bilinearly in between. PROJ itself interpolates the DVR90
    grid bilinearly over cells of about 1 km, so the lattice adds far less than a
    millimetre while keeping memory and time per strip small.
    """
    rows, cols = shape
    lat_rows = np.unique(np.append(np.arange(0, rows, HEIGHT_LATTICE_PX), rows - 1))
    lat_cols = np.unique(np.append(np.arange(0, cols, HEIGHT_LATTICE_PX), cols - 1))
    rr, cc = np.meshgrid(lat_rows + 0.5, lat_cols + 0.5, indexing="ij")
    xs = transform.a * cc + transform.b * rr + transform.c
    ys = transform.d * cc + transform.e * rr + transform.f
    lattice = geoid_offsets(transformer, xs.ravel(), ys.ravel()).reshape(rr.shape)
    along = np.stack([np.interp(np.arange(cols), lat_cols, row) for row in lattice])  # (lat rows, cols)
    k = np.clip(np.searchsorted(lat_rows, np.arange(rows), side="right") - 1, 0, max(len(lat_rows) - 2, 0))
    if len(lat_rows) == 1:
        return np.repeat(along, rows, axis=0)
    span = (lat_rows[k + 1] - lat_rows[k]).astype(np.float64)
    weight = ((np.arange(rows) - lat_rows[k]) / span)[:, None]
    return np.asarray((1 - weight) * along[k] + weight * along[k + 1])


def convert_heights(
    data: np.ndarray, transform: rasterio.Affine, transformer: Transformer, nodata: float | None
) -> np.ndarray:
    """Ellipsoidal heights of one window (bands, rows, cols) to DVR90; band 1 only, nodata kept."""
    band = data[0].astype(np.float32)
    valid = np.isfinite(band) if nodata is None else (band != nodata) & np.isfinite(band)
    if valid.any():
        offsets = offset_field(transformer, transform, band.shape)
        band[valid] = (band[valid].astype(np.float64) + offsets[valid]).astype(np.float32)
    out = data.astype(np.float32)
    out[0] = band
    return out
